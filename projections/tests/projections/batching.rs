//! Batching: batches are bounded, ordered and complete, and an event on an
//! idle log is applied at once, whatever the batch wait.

use std::sync::Arc;
use std::time::Duration;

use quire_domain::Position;
use quire_event_log::EventFilter;
use quire_event_log_embedded::EmbeddedLog;
use quire_projections::{ProjectorRunner, RunnerConfig};

use crate::common::*;

/// A projector of every event, run over `log` with `config` until it has
/// applied `head`.
async fn catch_up(log: &EmbeddedLog, config: RunnerConfig, head: Position) -> Arc<TestProjector> {
    let projector = Arc::new(TestProjector::new("docs", EventFilter::all()));
    let handle = ProjectorRunner::new(dyn_log(log), projector.clone())
        .config(config)
        .spawn();
    handle
        .wait_for(head, WAIT)
        .await
        .expect("the projector catches up");
    handle.stop().await;
    projector
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catch_up_is_applied_in_bounded_ordered_batches() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    let mut head = Position::ZERO;
    for n in 0..10 {
        head = append(&log, &format!("doc-{n}"), "doc.edited", 100).await;
    }
    let config = RunnerConfig {
        max_batch_size: 100,
        // Generous, so only the size bounds batches here.
        max_batch_wait: Duration::from_secs(1),
        ..fast_config()
    };
    let projector = catch_up(&log, config, head).await;

    let batches = projector.batches();
    assert!(batches.iter().all(|b| b.len() <= 100), "a batch exceeds 100");
    assert!(
        batches.iter().any(|b| b.len() == 100),
        "catch-up never filled a batch: {:?}",
        batches.iter().map(Vec::len).collect::<Vec<_>>()
    );
    let flat: Vec<Position> = batches.concat();
    assert_eq!(flat, (1..=1000).map(Position).collect::<Vec<_>>());
    // Each batch carried a checkpoint at least as far as its last event.
    for call in projector.calls() {
        if let Some(last) = call.positions.last() {
            assert!(call.checkpoint >= *last);
        }
    }
    log.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_on_an_idle_log_is_not_held_for_the_batch_wait() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    let projector = Arc::new(TestProjector::new("docs", EventFilter::all()));
    let config = RunnerConfig {
        max_batch_wait: Duration::from_secs(30),
        ..fast_config()
    };
    let handle = ProjectorRunner::new(dyn_log(&log), projector.clone())
        .config(config)
        .spawn();

    for n in 0..3 {
        let started = tokio::time::Instant::now();
        let position = append(&log, "doc-1", "doc.edited", 1).await;
        handle.wait_for(position, Duration::from_secs(5)).await.unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "event {n} waited {:?}",
            started.elapsed()
        );
    }
    assert_eq!(projector.batches().concat().len(), 3);
    handle.stop().await;
    log.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_while_live_are_all_applied_once_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    let projector = Arc::new(TestProjector::new("docs", EventFilter::all()));
    let config = RunnerConfig {
        max_batch_size: 16,
        ..fast_config()
    };
    let handle = ProjectorRunner::new(dyn_log(&log), projector.clone())
        .config(config)
        .spawn();
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let log = log.clone();
            tokio::spawn(async move { append_many(&log, &format!("w{w}"), "x.y", 3, 50).await })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    let head = quire_event_log::EventLog::head(&log).await.unwrap();
    assert_eq!(head, Position(200));
    handle.wait_for(head, WAIT).await.unwrap();
    handle.stop().await;
    let flat = projector.batches().concat();
    assert_eq!(flat, (1..=200).map(Position).collect::<Vec<_>>());
    assert!(projector.batches().iter().all(|b| b.len() <= 16));
    log.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paced_projector_gathers_events_between_applies() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    let projector = Arc::new(TestProjector::new("docs", EventFilter::all()));
    let config = RunnerConfig {
        min_apply_interval: Duration::from_millis(200),
        ..fast_config()
    };
    let handle = ProjectorRunner::new(dyn_log(&log), projector.clone())
        .config(config)
        .spawn();

    // After a quiet spell, the first event is applied at once.
    let started = tokio::time::Instant::now();
    let position = append(&log, "doc-0", "doc.edited", 1).await;
    handle.wait_for(position, WAIT).await.unwrap();
    assert!(
        started.elapsed() < Duration::from_millis(150),
        "first event waited {:?}",
        started.elapsed()
    );

    // A steady trickle for about a second is applied in few batches.
    let trickle_started = tokio::time::Instant::now();
    let mut head = position;
    for n in 0..100 {
        head = append(&log, &format!("doc-{n}"), "doc.edited", 1).await;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let trickle = trickle_started.elapsed();
    handle.wait_for(head, WAIT).await.unwrap();
    handle.stop().await;

    let batches = projector.batches();
    let flat: Vec<Position> = batches.concat();
    assert_eq!(flat, (1..=101).map(Position).collect::<Vec<_>>());
    // One apply per 200 ms at most, plus the first and the last.
    let allowed = (trickle.as_millis() / 200) as usize + 3;
    assert!(
        batches.len() <= allowed,
        "{} batches in {trickle:?} (at most {allowed} allowed): {:?}",
        batches.len(),
        batches.iter().map(Vec::len).collect::<Vec<_>>()
    );
    log.close();
}

/// A log reopened before the runner starts, so that catching up reads it
/// from disk a page (512 events) at a time.
async fn reopened_log_of(dir: &std::path::Path, events: usize) -> (EmbeddedLog, Position) {
    let log = open_log(dir);
    let mut head = Position::ZERO;
    for n in 0..events / 100 {
        head = append(&log, &format!("doc-{n}"), "doc.edited", 100).await;
    }
    log.close();
    (open_log(dir), head)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catch_up_batches_span_the_pages_the_log_reads() {
    for read_ahead in [0, 4096] {
        let dir = tempfile::tempdir().unwrap();
        let (log, head) = reopened_log_of(dir.path(), 3_000).await;
        let config = RunnerConfig {
            max_batch_size: 2_048,
            max_batch_wait: Duration::from_secs(5),
            read_ahead,
            ..fast_config()
        };
        let projector = catch_up(&log, config, head).await;

        let sizes: Vec<usize> = projector.batches().iter().map(Vec::len).collect();
        assert_eq!(
            sizes.first(),
            Some(&2_048),
            "read ahead {read_ahead}: batches {sizes:?}"
        );
        let flat: Vec<Position> = projector.batches().concat();
        assert_eq!(flat, (1..=3_000).map(Position).collect::<Vec<_>>());
        log.close();
    }
}
