//! Filters: a projector sees only what its filter matches, while its
//! checkpoint follows everything scanned, written at a limited rate.

use std::sync::Arc;
use std::time::Duration;

use quire_domain::Position;
use quire_event_log::EventFilter;
use quire_projections::{ProjectorRunner, RunnerConfig};

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projectors_see_only_what_their_filters_match() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    append(&log, "doc-1", "doc.created", 2).await;
    append(&log, "chat-1", "chat.sent", 3).await;
    append(&log, "doc-2", "doc.renamed", 1).await;
    let head = append(&log, "chat-2", "chat.edited", 2).await;

    let docs = Arc::new(TestProjector::new("docs", EventFilter::categories(["doc"])));
    let sent = Arc::new(TestProjector::new(
        "sent",
        EventFilter::all().with_event_types(["chat.sent", "doc.renamed"]),
    ));
    let both = Arc::new(TestProjector::new(
        "both",
        EventFilter::categories(["chat"]).with_event_types(["chat.edited"]),
    ));
    let mut handles = Vec::new();
    for projector in [&docs, &sent, &both] {
        let handle = ProjectorRunner::new(dyn_log(&log), projector.clone())
            .config(fast_config())
            .spawn();
        handles.push(handle);
    }
    for handle in &handles {
        handle.wait_for(head, WAIT).await.unwrap();
        assert_eq!(handle.checkpoint(), head);
    }
    let positions = |p: &TestProjector| p.batches().concat();
    assert_eq!(
        positions(&docs),
        [1, 2, 6].map(Position).to_vec(),
        "category filter"
    );
    assert_eq!(
        positions(&sent),
        [3, 4, 5, 6].map(Position).to_vec(),
        "event type filter"
    );
    assert_eq!(positions(&both), [7, 8].map(Position).to_vec(), "both");
    for handle in &handles {
        handle.stop().await;
    }
    log.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_checkpoint_crosses_unmatched_events_at_a_limited_rate() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    let projector = Arc::new(TestProjector::new("rare", EventFilter::categories(["rare"])));
    let config = RunnerConfig {
        checkpoint_interval: Duration::from_millis(200),
        ..fast_config()
    };
    let handle = ProjectorRunner::new(dyn_log(&log), projector.clone())
        .config(config)
        .spawn();

    // A stretch of events the projector ignores, in many small commits.
    let started = tokio::time::Instant::now();
    let head = append_many(&log, "noise", "noise.made", 4, 100).await;
    let writing = started.elapsed();
    handle.wait_for(head, WAIT).await.unwrap();
    assert!(projector.batches().is_empty());

    // The persisted checkpoint follows, in empty applies no more often than
    // the interval allows, the last one once the log is idle.
    eventually("persisted checkpoint", || {
        projector.calls().last().map(|c| c.checkpoint) == Some(head)
    })
    .await;
    let empty_applies = projector.calls().len() as u128;
    let bound = writing.as_millis() / 200 + 2;
    assert!(
        empty_applies <= bound,
        "{empty_applies} checkpoint writes in {writing:?}"
    );
    assert_eq!(handle.status().await.persisted_checkpoint, head);

    // A matching event after the stretch is applied with its checkpoint.
    let rare = append(&log, "rare-1", "rare.seen", 1).await;
    handle.wait_for(rare, WAIT).await.unwrap();
    assert_eq!(projector.batches(), [[rare].to_vec()].to_vec());
    handle.stop().await;
    log.close();
}
