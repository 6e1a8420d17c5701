//! Failures: isolation and retry with backoff, dead letters after N attempts,
//! re-drive and discard, outages that never dead-letter, durable dead
//! letters, and stopping in the middle of a backoff.

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use quire_domain::Position;
use quire_event_log::EventFilter;
use quire_projections::{
    ControlError, DeadLetterStore, FileCheckpointStore, FileDeadLetterStore, InMemoryDeadLetterStore,
    ProjectorRunner, RetryPolicy, RunnerConfig,
};

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_batch_is_isolated_and_the_event_retried_until_it_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    let head = append(&log, "doc-1", "doc.edited", 5).await;
    let projector = Arc::new(TestProjector::new("docs", EventFilter::all()));
    projector.fail(Position(3), 2, FailKind::Event);
    let handle = ProjectorRunner::new(dyn_log(&log), projector.clone())
        .config(fast_config())
        .spawn();
    handle.wait_for(head, WAIT).await.unwrap();
    handle.stop().await;

    let calls = projector.calls();
    // The whole batch first, then one event at a time.
    assert_eq!(calls[0].positions, (1..=5).map(Position).collect::<Vec<_>>());
    let singles: Vec<(u64, u64)> = calls[1..]
        .iter()
        .map(|c| {
            assert_eq!(c.positions.len(), 1);
            (c.positions[0].0, c.checkpoint.0)
        })
        .collect();
    assert_eq!(singles, [(1, 1), (2, 2), (3, 3), (3, 3), (4, 4), (5, 5)]);
    assert_eq!(projector.single_attempts(Position(3)), 2);
    assert!(handle.dead_letters().await.unwrap().is_empty());
    assert_eq!(
        projector.model().positions(),
        (1..=5).map(Position).collect::<Vec<_>>()
    );
    assert_eq!(projector.model().effects, 5);
    log.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_failing_every_attempt_is_dead_lettered_then_redriven() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    let head = append(&log, "doc-1", "doc.edited", 3).await;
    let projector = Arc::new(TestProjector::new("docs", EventFilter::all()));
    projector.fail(Position(2), u32::MAX, FailKind::Event);
    let handle = ProjectorRunner::new(dyn_log(&log), projector.clone())
        .config(fast_config())
        .spawn();
    handle.wait_for(head, WAIT).await.unwrap();

    // Five attempts (the default), then the dead-letter list; the runner
    // moved on to event 3.
    assert_eq!(projector.single_attempts(Position(2)), 5);
    let letters = handle.dead_letters().await.unwrap();
    assert_eq!(letters.len(), 1);
    let letter = &letters[0];
    assert_eq!(letter.position, Position(2));
    assert_eq!(letter.attempts, 5);
    assert_eq!(letter.event_type, "doc.edited");
    assert_eq!(letter.stream_id.as_str(), "doc-1");
    assert!(letter.error.starts_with("boom at 2"), "{}", letter.error);
    assert!(letter.first_failed_at.unix_micros() > 0);
    let status = handle.status().await;
    assert_eq!(status.dead_letters, 1);
    assert_eq!(status.checkpoint, head);
    assert_eq!(projector.model().positions(), [Position(1), Position(3)].to_vec());

    // A re-drive that fails again keeps the letter, with the new error.
    let error = handle.redrive(Position(2)).await.unwrap_err();
    assert!(
        matches!(
            error,
            ControlError::RedriveFailed {
                position: Position(2),
                ..
            }
        ),
        "{error}"
    );
    let again = &handle.dead_letters().await.unwrap()[0];
    assert_eq!(again.attempts, 6);
    assert_ne!(again.error, letter.error);
    assert!(again.last_failed_at >= letter.last_failed_at);

    // Once the cause is fixed, a re-drive applies it and clears the letter.
    projector.heal(Position(2));
    handle.redrive(Position(2)).await.unwrap();
    assert!(handle.dead_letters().await.unwrap().is_empty());
    assert_eq!(handle.status().await.dead_letters, 0);
    assert_eq!(
        projector.model().positions(),
        (1..=3).map(Position).collect::<Vec<_>>()
    );
    // The re-drive came alone, with the unchanged checkpoint.
    let last = projector.calls().last().cloned().unwrap();
    assert_eq!(last.positions, [Position(2)].to_vec());
    assert_eq!(last.checkpoint, head);

    assert!(matches!(
        handle.redrive(Position(2)).await,
        Err(ControlError::NoDeadLetter(Position(2)))
    ));
    handle.stop().await;
    assert!(matches!(
        handle.redrive(Position(2)).await,
        Err(ControlError::Stopped(_))
    ));
    log.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_back_off_exponentially_and_a_lone_batch_counts_as_an_attempt() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    let projector = Arc::new(TestProjector::new("docs", EventFilter::all()));
    projector.fail(Position(1), u32::MAX, FailKind::Event);
    let config = RunnerConfig {
        retry: RetryPolicy {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(10),
            multiplier: 2,
            max_backoff: Duration::from_secs(1),
        },
        ..fast_config()
    };
    let handle = ProjectorRunner::new(dyn_log(&log), projector.clone())
        .config(config)
        .spawn();
    let started = tokio::time::Instant::now();
    let head = append(&log, "doc-1", "doc.edited", 1).await;
    handle.wait_for(head, WAIT).await.unwrap();
    // Waits of 10, 20 and 40 ms before attempts 2, 3 and 4.
    assert!(
        started.elapsed() >= Duration::from_millis(70),
        "gave up after {:?}",
        started.elapsed()
    );
    assert_eq!(projector.single_attempts(Position(1)), 4);
    assert_eq!(handle.dead_letters().await.unwrap()[0].attempts, 4);
    handle.stop().await;
    log.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unavailable_store_is_retried_without_dead_lettering() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    let head = append(&log, "doc-1", "doc.edited", 2).await;
    let projector = Arc::new(TestProjector::new("docs", EventFilter::all()));
    // More failures than max_attempts, but the store is at fault.
    projector.fail(Position(1), 8, FailKind::Transient);
    let config = RunnerConfig {
        retry: RetryPolicy {
            max_attempts: 3,
            ..fast_config().retry
        },
        ..fast_config()
    };
    let handle = ProjectorRunner::new(dyn_log(&log), projector.clone())
        .config(config)
        .spawn();
    handle.wait_for(head, WAIT).await.unwrap();
    assert!(handle.dead_letters().await.unwrap().is_empty());
    assert_eq!(projector.model().positions(), [Position(1), Position(2)].to_vec());
    assert_eq!(projector.calls().len(), 9);
    assert_eq!(handle.status().await.last_error, None);
    handle.stop().await;
    log.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_in_a_file_survive_a_restart_and_are_not_retried() {
    let log_dir = tempfile::tempdir().unwrap();
    let store_dir = tempfile::tempdir().unwrap();
    let letters_path = store_dir.path().join("dead-letters.json");
    let checkpoints_path = store_dir.path().join("checkpoints");
    let log = open_log(log_dir.path());
    let head = append(&log, "doc-1", "doc.edited", 3).await;

    let projector = Arc::new(TestProjector::with_stores(
        "docs",
        EventFilter::all(),
        Arc::new(Mutex::new(Model::default())),
        Arc::new(FileCheckpointStore::open(&checkpoints_path).unwrap()),
    ));
    projector.fail(Position(2), u32::MAX, FailKind::Event);
    let handle = ProjectorRunner::new(dyn_log(&log), projector)
        .config(fast_config())
        .dead_letters(Arc::new(FileDeadLetterStore::open(&letters_path).unwrap()))
        .spawn();
    handle.wait_for(head, WAIT).await.unwrap();
    handle.stop().await;

    // Restart with the same files and a healthy projector.
    let model = Arc::new(Mutex::new(Model::default()));
    let projector = Arc::new(TestProjector::with_stores(
        "docs",
        EventFilter::all(),
        Arc::clone(&model),
        Arc::new(FileCheckpointStore::open(&checkpoints_path).unwrap()),
    ));
    let letters = Arc::new(FileDeadLetterStore::open(&letters_path).unwrap());
    assert_eq!(letters.list(&id("docs")).await.unwrap().len(), 1);
    let handle = ProjectorRunner::new(dyn_log(&log), projector.clone())
        .config(fast_config())
        .dead_letters(letters)
        .spawn();
    let next = append(&log, "doc-1", "doc.edited", 1).await;
    handle.wait_for(next, WAIT).await.unwrap();
    // The checkpoint had moved past the dead letter: nothing before 4 ran.
    assert_eq!(projector.batches().concat(), [Position(4)].to_vec());
    assert_eq!(handle.status().await.dead_letters, 1);

    handle.redrive(Position(2)).await.unwrap();
    assert_eq!(model.lock().positions(), [Position(2), Position(4)].to_vec());
    handle.stop().await;
    let reopened = FileDeadLetterStore::open(&letters_path).unwrap();
    assert!(reopened.list(&id("docs")).await.unwrap().is_empty());
    log.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_letter_can_be_discarded() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    let head = append(&log, "doc-1", "doc.edited", 2).await;
    let projector = Arc::new(TestProjector::new("docs", EventFilter::all()));
    projector.fail(Position(1), u32::MAX, FailKind::Event);
    let dead_letters = Arc::new(InMemoryDeadLetterStore::new());
    let handle = ProjectorRunner::new(dyn_log(&log), projector.clone())
        .config(fast_config())
        .dead_letters(dead_letters.clone())
        .spawn();
    handle.wait_for(head, WAIT).await.unwrap();
    assert_eq!(dead_letters.list(&id("docs")).await.unwrap().len(), 1);
    assert!(handle.discard(Position(1)).await.unwrap());
    assert!(!handle.discard(Position(1)).await.unwrap());
    assert_eq!(handle.status().await.dead_letters, 0);
    assert_eq!(projector.model().positions(), [Position(2)].to_vec());
    handle.stop().await;
    log.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_interrupts_a_long_backoff() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    append(&log, "doc-1", "doc.edited", 1).await;
    let projector = Arc::new(TestProjector::new("docs", EventFilter::all()));
    projector.fail(Position(1), u32::MAX, FailKind::Event);
    let config = RunnerConfig {
        retry: RetryPolicy {
            initial_backoff: Duration::from_secs(600),
            max_backoff: Duration::from_secs(600),
            ..fast_config().retry
        },
        ..fast_config()
    };
    let handle = ProjectorRunner::new(dyn_log(&log), projector.clone())
        .config(config)
        .spawn();
    eventually("the first attempt", || {
        projector.single_attempts(Position(1)) == 1
    })
    .await;
    let started = tokio::time::Instant::now();
    tokio::time::timeout(Duration::from_secs(5), handle.stop())
        .await
        .expect("stop returned during the backoff");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(!handle.is_running());
    // Nothing was skipped: the failing event is still ahead of the checkpoint.
    assert_eq!(handle.checkpoint(), Position::ZERO);
    log.close();
}
