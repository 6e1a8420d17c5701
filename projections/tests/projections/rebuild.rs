//! Rebuild: replay from position 0 through the runner yields the same read
//! model, and is visible as catching up while it runs; a store that loses
//! its state under a running projector is rebuilt from the log by itself.

use std::sync::Arc;

use quire_domain::Position;
use quire_event_log::EventFilter;
use quire_projections::{ProjectorHandle, ProjectorRunner, ProjectorState, RunnerConfig};

use crate::common::*;

/// Waits until the runner is live and has written `head` as its checkpoint.
async fn live_with_checkpoint_written(handle: &ProjectorHandle, head: Position) {
    eventually("live with its checkpoint written", || {
        let status = handle.status_with_head(None);
        status.state == ProjectorState::Live && status.persisted_checkpoint == head
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rebuild_from_zero_equals_the_original_read_model() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    append_many(&log, "doc", "doc.edited", 7, 150).await;
    let head = append_many(&log, "chat", "chat.sent", 3, 50).await;
    let projector = Arc::new(TestProjector::new("docs", EventFilter::categories(["doc"])));
    let config = RunnerConfig {
        max_batch_size: 32,
        ..fast_config()
    };
    let handle = ProjectorRunner::new(dyn_log(&log), projector.clone())
        .config(config)
        .spawn();
    handle.wait_for(head, WAIT).await.unwrap();
    let original = projector.model().rows();
    assert_eq!(original.values().map(|r| r.len()).sum::<usize>(), 150);
    live_with_checkpoint_written(&handle, head).await;

    // Hold applies back so the catch-up can be observed.
    projector.set_gate(false);
    handle.rebuild().await.unwrap();
    assert!(projector.model().rows().is_empty(), "the store was not reset");
    let status = handle.status().await;
    assert_eq!(status.state, ProjectorState::CatchingUp);
    assert_eq!(status.checkpoint, Position::ZERO);
    assert_eq!(status.lag, head.0);
    assert!(
        handle
            .wait_for(head, std::time::Duration::from_millis(20))
            .await
            .is_err()
    );

    projector.set_gate(true);
    handle.wait_for(head, WAIT).await.unwrap();
    assert_eq!(projector.model().rows(), original);
    // Replayed from the first event.
    let calls = projector.calls();
    let replay_start = calls
        .iter()
        .rposition(|c| c.positions.first() == Some(&Position(1)))
        .unwrap();
    assert!(replay_start > 0);
    let replayed: Vec<Position> = calls[replay_start..]
        .iter()
        .flat_map(|c| c.positions.clone())
        .collect();
    assert_eq!(replayed.len(), 150);
    eventually("live again", || {
        handle.status_with_head(None).state == ProjectorState::Live
    })
    .await;
    handle.stop().await;
    log.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rebuild_forgets_dead_letters_and_retries_their_events() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    let head = append(&log, "doc-1", "doc.edited", 3).await;
    let projector = Arc::new(TestProjector::new("docs", EventFilter::all()));
    projector.fail(Position(2), u32::MAX, FailKind::Event);
    let handle = ProjectorRunner::new(dyn_log(&log), projector.clone())
        .config(fast_config())
        .spawn();
    handle.wait_for(head, WAIT).await.unwrap();
    assert_eq!(handle.dead_letters().await.unwrap().len(), 1);

    projector.heal(Position(2));
    handle.rebuild().await.unwrap();
    assert!(handle.dead_letters().await.unwrap().is_empty());
    handle.wait_for(head, WAIT).await.unwrap();
    assert_eq!(
        projector.model().positions(),
        (1..=3).map(Position).collect::<Vec<_>>()
    );
    assert_eq!(handle.status().await.dead_letters, 0);
    handle.stop().await;
    log.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_loses_its_state_is_rebuilt_from_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    append_many(&log, "doc", "doc.edited", 5, 120).await;
    let projector = Arc::new(TestProjector::new("docs", EventFilter::categories(["doc"])).detecting_loss());
    let config = RunnerConfig {
        max_batch_size: 16,
        ..fast_config()
    };
    let handle = ProjectorRunner::new(dyn_log(&log), projector.clone())
        .config(config)
        .spawn();
    handle.wait_for(Position(120), WAIT).await.unwrap();
    live_with_checkpoint_written(&handle, Position(120)).await;

    // The store forgets everything (a Redis restart without persistence);
    // the runner learns of it from its next apply.
    projector.lose_state().await;
    let head = append_many(&log, "doc", "doc.edited", 5, 30).await;
    handle.wait_for(head, WAIT).await.unwrap();

    let model = projector.model();
    let expected: Vec<Position> = (1..=head.0).map(Position).collect();
    assert_eq!(model.positions(), expected, "the lost events were not rebuilt");
    assert_eq!(model.effects, head.0, "an event took effect twice");
    let calls = projector.calls();
    let rewound = calls
        .iter()
        .rposition(|c| c.positions.first() == Some(&Position(1)))
        .expect("a replay from the first event");
    assert!(rewound > 0, "the replay started after the loss");
    let status = handle.status().await;
    assert_eq!(status.dead_letters, 0);
    eventually("live again", || {
        handle.status_with_head(None).state == ProjectorState::Live
    })
    .await;
    handle.stop().await;
    log.close();
}
