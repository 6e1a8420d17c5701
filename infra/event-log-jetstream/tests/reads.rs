//! Reads that the conformance suite does not reach: positions in the
//! middle of a multi-event message, and stream reads far from the
//! stream's end (which scan instead of walking back).

mod common;

use std::time::Duration;

use common::{DeleteOnDrop, LOCAL_NATS, fresh_stream, open_or_fail, unique_config};
use futures::StreamExt;
use quire_domain::{Position, StreamId};
use quire_event_log::{Direction, EventFilter, EventLog, ExpectedVersion, LAST_VERSION};
use quire_event_log_conformance::new_event;
use quire_event_log_jetstream::JetStreamLog;

/// A log with one stream of 40 appends of 3 events: positions 1..=120.
async fn log_with_long_stream() -> (JetStreamLog, DeleteOnDrop, StreamId) {
    let log = open_or_fail(unique_config(LOCAL_NATS)).await;
    let guard = DeleteOnDrop(log.clone());
    let stream = fresh_stream("document");
    for append in 0..40 {
        let events = (0..3)
            .map(|i| new_event("doc.changed", &format!("{append}-{i}")))
            .collect();
        log.append(&stream, ExpectedVersion::Any, events)
            .await
            .expect("append");
    }
    (log, guard, stream)
}

fn positions(events: &[std::sync::Arc<quire_domain::RecordedEvent>]) -> Vec<u64> {
    events.iter().map(|e| e.position.0).collect()
}

fn versions(events: &[std::sync::Arc<quire_domain::RecordedEvent>]) -> Vec<u64> {
    events.iter().map(|e| e.stream_version).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn positions_inside_a_message() {
    let (log, _guard, _) = log_with_long_stream().await;
    assert_eq!(log.head().await.expect("head"), Position(120));
    let page = log.read_all(Position(50), 4).await.expect("read");
    assert_eq!(positions(&page), vec![50, 51, 52, 53]);
    let rest = log.read_all(Position(50), 1000).await.expect("read");
    assert_eq!(positions(&rest), (50..=120).collect::<Vec<_>>());
    assert!(log.read_all(Position(121), 10).await.expect("read").is_empty());

    let mut subscription = log.subscribe(Position(50), EventFilter::all());
    for expected in 50..=52 {
        let event = tokio::time::timeout(Duration::from_secs(10), subscription.next())
            .await
            .expect("delivered")
            .expect("open")
            .expect("event");
        assert_eq!(event.position, Position(expected));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_reads_far_from_the_end() {
    let (log, _guard, stream) = log_with_long_stream().await;
    let read = |from, direction, limit| log.read_stream(&stream, from, direction, limit);
    assert_eq!(
        versions(&read(5, Direction::Backward, 3).await.expect("read")),
        vec![5, 4, 3]
    );
    assert_eq!(
        versions(&read(1, Direction::Backward, 5).await.expect("read")),
        vec![1, 0]
    );
    assert_eq!(
        versions(&read(50, Direction::Forward, 4).await.expect("read")),
        vec![50, 51, 52, 53]
    );
    assert_eq!(
        versions(&read(0, Direction::Forward, 200).await.expect("read")),
        (0..120).collect::<Vec<_>>()
    );
    assert_eq!(
        versions(&read(LAST_VERSION, Direction::Backward, 4).await.expect("read")),
        vec![119, 118, 117, 116]
    );
    assert_eq!(
        versions(&read(110, Direction::Forward, 100).await.expect("read")),
        (110..120).collect::<Vec<_>>()
    );
}
