//! Checkpoint resume across restarts, and convergence after a crash that
//! lost a checkpoint write.

use std::sync::Arc;

use parking_lot::Mutex;
use quire_domain::Position;
use quire_event_log::EventFilter;
use quire_projections::{CheckpointStore, FileCheckpointStore, ProjectorRunner};

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resumes_from_its_checkpoint_after_a_restart_without_duplicates() {
    let log_dir = tempfile::tempdir().unwrap();
    let checkpoint_dir = tempfile::tempdir().unwrap();
    // The read model outlives the runner, as a database would.
    let model = Arc::new(Mutex::new(Model::default()));

    let log = open_log(log_dir.path());
    let first_head = append_many(&log, "doc", "doc.edited", 5, 50).await;
    let projector = Arc::new(TestProjector::with_stores(
        "docs",
        EventFilter::all(),
        Arc::clone(&model),
        Arc::new(FileCheckpointStore::open(checkpoint_dir.path()).unwrap()),
    ));
    let handle = ProjectorRunner::new(dyn_log(&log), projector.clone())
        .config(fast_config())
        .spawn();
    handle.wait_for(first_head, WAIT).await.unwrap();
    handle.stop().await;
    assert_eq!(
        handle.status().await.state,
        quire_projections::ProjectorState::Stopped
    );
    drop(handle);
    log.close();
    drop(log);

    // Restart: reopen the log and the checkpoint directory.
    let log = open_log(log_dir.path());
    let second_head = append_many(&log, "doc", "doc.edited", 5, 30).await;
    let checkpoints = Arc::new(FileCheckpointStore::open(checkpoint_dir.path()).unwrap());
    assert_eq!(checkpoints.load(&id("docs")).await.unwrap(), first_head);
    let projector = Arc::new(TestProjector::with_stores(
        "docs",
        EventFilter::all(),
        Arc::clone(&model),
        checkpoints,
    ));
    let handle = ProjectorRunner::new(dyn_log(&log), projector.clone())
        .config(fast_config())
        .spawn();
    handle.wait_for(second_head, WAIT).await.unwrap();
    handle.stop().await;

    // The second run started right after the first run's checkpoint.
    let first_batch = &projector.batches()[0];
    assert_eq!(first_batch[0], first_head.next());
    let model = model.lock().clone();
    assert_eq!(model.positions(), (1..=80).map(Position).collect::<Vec<_>>());
    assert_eq!(model.effects, 80);
    assert!(
        model.deliveries.values().all(|n| *n == 1),
        "an event was delivered twice"
    );
    log.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_checkpoint_write_replays_into_the_same_read_model() {
    let log_dir = tempfile::tempdir().unwrap();
    let checkpoint_dir = tempfile::tempdir().unwrap();
    let model = Arc::new(Mutex::new(Model::default()));
    let log = open_log(log_dir.path());
    let head = append_many(&log, "doc", "doc.edited", 4, 40).await;

    let checkpoints = Arc::new(FileCheckpointStore::open(checkpoint_dir.path()).unwrap());
    let projector = Arc::new(TestProjector::with_stores(
        "docs",
        EventFilter::all(),
        Arc::clone(&model),
        checkpoints.clone(),
    ));
    let handle = ProjectorRunner::new(dyn_log(&log), projector)
        .config(fast_config())
        .spawn();
    handle.wait_for(head, WAIT).await.unwrap();
    handle.stop().await;

    // A crash after the model was written but before the checkpoint was:
    // the durable checkpoint is older than the model.
    checkpoints.reset(&id("docs")).await.unwrap();
    checkpoints.save(&id("docs"), Position(15)).await.unwrap();

    let projector = Arc::new(TestProjector::with_stores(
        "docs",
        EventFilter::all(),
        Arc::clone(&model),
        checkpoints.clone(),
    ));
    let handle = ProjectorRunner::new(dyn_log(&log), projector.clone())
        .config(fast_config())
        .spawn();
    handle.wait_for(head, WAIT).await.unwrap();
    handle.stop().await;

    // Events 16..=40 were delivered again, but the guarded writes made the
    // replay a no-op.
    let replayed = model.lock().clone();
    assert_eq!(replayed.deliveries[&Position(16)], 2);
    assert_eq!(replayed.deliveries[&Position(15)], 1);
    assert_eq!(replayed.effects, 40);

    // And it equals a clean build from scratch.
    let clean = Arc::new(TestProjector::new("clean", EventFilter::all()));
    let handle = ProjectorRunner::new(dyn_log(&log), clean.clone())
        .config(fast_config())
        .spawn();
    handle.wait_for(head, WAIT).await.unwrap();
    handle.stop().await;
    assert_eq!(clean.model().rows(), replayed.rows());
    assert_eq!(checkpoints.load(&id("docs")).await.unwrap(), head);
    log.close();
}
