//! Status, read-your-writes waits, metrics and the projection set.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use metrics::atomics::AtomicU64;
use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use parking_lot::Mutex;
use quire_domain::Position;
use quire_event_log::EventFilter;
use quire_projections::{
    DuplicateProjector, FileCheckpointStore, ProjectionSet, ProjectorRunner, ProjectorState,
};

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_for_resolves_once_applied_and_times_out_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    let projector = Arc::new(TestProjector::new("docs", EventFilter::all()));
    let handle = ProjectorRunner::new(dyn_log(&log), projector.clone())
        .config(fast_config())
        .spawn();

    // Held back by the gate, the wait does not resolve before the apply.
    projector.set_gate(false);
    let position = append(&log, "doc-1", "doc.edited", 1).await;
    let waiter = {
        let handle = handle.clone();
        tokio::spawn(async move { handle.wait_for(position, WAIT).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!waiter.is_finished());
    projector.set_gate(true);
    waiter.await.unwrap().unwrap();
    assert_eq!(projector.model().positions(), [position].to_vec());

    // A position already reached resolves at once.
    handle.wait_for(Position(1), Duration::ZERO).await.unwrap();

    // One not reached times out.
    let started = tokio::time::Instant::now();
    let timeout = handle
        .wait_for(Position(9), Duration::from_millis(50))
        .await
        .unwrap_err();
    assert!(started.elapsed() >= Duration::from_millis(50));
    assert_eq!(timeout.wanted, Position(9));
    assert_eq!(timeout.reached, position);
    assert!(!timeout.stopped);

    // On a stopped projector it fails at once.
    handle.stop().await;
    let started = tokio::time::Instant::now();
    let stopped = handle.wait_for(Position(9), WAIT).await.unwrap_err();
    assert!(stopped.stopped);
    assert!(started.elapsed() < Duration::from_secs(1));
    handle.wait_for(position, WAIT).await.unwrap();
    log.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_reports_lag_state_throughput_and_counts() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    let head = append(&log, "doc-1", "doc.edited", 10).await;
    let projector = Arc::new(TestProjector::new("docs", EventFilter::all()));
    projector.set_gate(false);
    let handle = ProjectorRunner::new(dyn_log(&log), projector.clone())
        .config(fast_config())
        .spawn();

    let status = handle.status().await;
    assert_eq!(status.projector, id("docs"));
    assert_eq!(status.state, ProjectorState::CatchingUp);
    assert_eq!(status.checkpoint, Position::ZERO);
    assert_eq!(status.head, head);
    assert_eq!(status.lag, 10);
    assert_eq!(status.events_applied, 0);

    projector.set_gate(true);
    handle.wait_for(head, WAIT).await.unwrap();
    eventually("live", || {
        handle.status_with_head(None).state == ProjectorState::Live
    })
    .await;
    let status = handle.status().await;
    assert_eq!(status.checkpoint, head);
    assert_eq!(status.persisted_checkpoint, head);
    assert_eq!(status.head, head);
    assert_eq!(status.lag, 0);
    assert_eq!(status.events_applied, 10);
    assert_eq!(status.events_scanned, 10);
    assert!(status.throughput > 0.0, "throughput {}", status.throughput);
    assert_eq!(status.dead_letters, 0);
    assert_eq!(status.last_error, None);

    let head = append(&log, "doc-2", "doc.edited", 5).await;
    handle.wait_for(head, WAIT).await.unwrap();
    let status = handle.status().await;
    assert_eq!((status.checkpoint, status.lag), (head, 0));
    assert_eq!(status.state, ProjectorState::Live);

    handle.stop().await;
    let status = handle.status().await;
    assert_eq!(status.state, ProjectorState::Stopped);
    log.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_projector_that_cannot_load_its_checkpoint_fails() {
    let log_dir = tempfile::tempdir().unwrap();
    let store_dir = tempfile::tempdir().unwrap();
    std::fs::write(store_dir.path().join("docs.v1.checkpoint.json"), b"garbage").unwrap();
    let log = open_log(log_dir.path());
    let projector = Arc::new(TestProjector::with_stores(
        "docs",
        EventFilter::all(),
        Arc::new(Mutex::new(Model::default())),
        Arc::new(FileCheckpointStore::open(store_dir.path()).unwrap()),
    ));
    let handle = ProjectorRunner::new(dyn_log(&log), projector)
        .config(fast_config())
        .spawn();
    let error = handle.wait_for(Position(1), WAIT).await.unwrap_err();
    assert!(error.stopped);
    let status = handle.status().await;
    assert_eq!(status.state, ProjectorState::Failed);
    let last_error = status.last_error.unwrap_or_default();
    assert!(last_error.contains("checkpoint"), "{last_error}");
    log.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_exported_with_the_projector_label() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    let head = append(&log, "doc-1", "doc.edited", 4).await;
    let projector = Arc::new(TestProjector::new("docs", EventFilter::all()));
    projector.fail(Position(3), u32::MAX, FailKind::Event);
    let recorder = TestRecorder::default();
    let handle = metrics::with_local_recorder(&recorder, || {
        ProjectorRunner::new(dyn_log(&log), projector.clone())
            .config(fast_config())
            .spawn()
    });
    handle.wait_for(head, WAIT).await.unwrap();
    let labels = "{projector=docs,version=1}";
    let gauge = |name: &str| recorder.gauge(&format!("{name}{labels}"));
    eventually("gauges to settle", || {
        gauge("quire_projector_state") == Some(1.0) && gauge("quire_projector_checkpoint") == Some(4.0)
    })
    .await;
    assert_eq!(gauge("quire_projector_head"), Some(4.0));
    assert_eq!(gauge("quire_projector_lag"), Some(0.0));
    assert_eq!(gauge("quire_projector_dead_letters"), Some(1.0));
    assert!(gauge("quire_projector_throughput").unwrap_or_default() > 0.0);
    let counter = |name: &str| recorder.counter(&format!("{name}{labels}"));
    assert_eq!(counter("quire_projector_events_applied_total"), Some(3));
    assert_eq!(counter("quire_projector_events_scanned_total"), Some(4));
    assert_eq!(counter("quire_projector_dead_lettered_total"), Some(1));
    // The failed batch, then five failed attempts at event 3.
    assert_eq!(counter("quire_projector_apply_failures_total"), Some(6));
    handle.stop().await;
    assert_eq!(gauge("quire_projector_state"), Some(2.0));
    log.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_projection_set_runs_lists_and_stops_its_projectors() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    append_many(&log, "doc", "doc.edited", 2, 6).await;
    let head = append_many(&log, "chat", "chat.sent", 2, 4).await;
    let mut set = ProjectionSet::new(dyn_log(&log)).with_config(fast_config());
    let docs = Arc::new(TestProjector::new("docs", EventFilter::categories(["doc"])));
    let chat = Arc::new(TestProjector::new("chat", EventFilter::categories(["chat"])));
    set.spawn(docs.clone()).unwrap();
    set.spawn(chat.clone()).unwrap();
    let again = Arc::new(TestProjector::new("docs", EventFilter::all()));
    assert_eq!(set.spawn(again).unwrap_err(), DuplicateProjector(id("docs")));

    for handle in set.handles() {
        handle.wait_for(head, WAIT).await.unwrap();
    }
    assert_eq!(docs.model().positions().len(), 6);
    assert_eq!(chat.model().positions().len(), 4);
    let statuses = set.statuses().await;
    let names: Vec<&str> = statuses.iter().map(|s| s.projector.name.as_str()).collect();
    assert_eq!(names, ["docs", "chat"]);
    assert!(statuses.iter().all(|s| s.checkpoint == head && s.lag == 0));
    assert_eq!(set.get("chat").map(|h| h.name()), Some("chat"));

    set.run_until(async {}).await;
    assert!(
        set.statuses()
            .await
            .iter()
            .all(|s| s.state == ProjectorState::Stopped)
    );
    log.close();
}

/// A recorder keeping each series' value by `name{label=value,...}`.
#[derive(Debug, Default)]
struct TestRecorder {
    gauges: Mutex<HashMap<String, Arc<AtomicU64>>>,
    counters: Mutex<HashMap<String, Arc<AtomicU64>>>,
}

impl TestRecorder {
    fn series(key: &Key) -> String {
        let labels: Vec<String> = key
            .labels()
            .map(|l| format!("{}={}", l.key(), l.value()))
            .collect();
        format!("{}{{{}}}", key.name(), labels.join(","))
    }

    fn gauge(&self, series: &str) -> Option<f64> {
        let gauges = self.gauges.lock();
        let value = gauges.get(series)?;
        Some(f64::from_bits(value.load(Ordering::Relaxed)))
    }

    fn counter(&self, series: &str) -> Option<u64> {
        let counters = self.counters.lock();
        Some(counters.get(series)?.load(Ordering::Relaxed))
    }
}

impl Recorder for TestRecorder {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        let atomic = Arc::clone(self.counters.lock().entry(Self::series(key)).or_default());
        Counter::from_arc(atomic)
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        let atomic = Arc::clone(self.gauges.lock().entry(Self::series(key)).or_default());
        Gauge::from_arc(atomic)
    }

    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::noop()
    }
}
