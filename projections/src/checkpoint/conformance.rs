//! The [`CheckpointStore`] conformance suite, written once and run against
//! every backend: an unknown projector is at zero, a checkpoint only moves
//! forward, a reset takes it back to zero, projectors (and their versions)
//! are independent, concurrent saves end at the highest.
//!
//! A backend's test file instantiates it with a factory: a closure
//! returning a future of a fresh, empty store (in an `Arc`) and a guard that
//! lives as long as the case (a temporary directory, a database schema):
//!
//! ```ignore
//! quire_projections::checkpoint_store_conformance!(|| async {
//!     (std::sync::Arc::new(InMemoryCheckpointStore::new()), ())
//! });
//! ```
//!
//! Every case is also a `pub async fn` taking the store, for a backend that
//! wants to run one by hand.

use std::sync::Arc;

use quire_domain::Position;

use crate::checkpoint::CheckpointStore;
use crate::projector::ProjectorId;

/// A store as the cases take it.
pub type Store = Arc<dyn CheckpointStore>;

/// Generates one `#[tokio::test]` per case of the [`CheckpointStore`]
/// suite; `$factory` is a closure returning a future of
/// `(Arc<impl CheckpointStore>, guard)` for a fresh, empty store.
///
/// [`CheckpointStore`]: crate::CheckpointStore
#[macro_export]
macro_rules! checkpoint_store_conformance {
    ($factory:expr) => {
        $crate::checkpoint_store_conformance!(@cases $factory;
            unknown_projector_is_at_zero,
            save_only_moves_forward,
            reset_goes_back_to_zero,
            projectors_and_versions_are_independent,
            concurrent_saves_end_at_the_highest,
        );
    };
    (@cases $factory:expr; $($case:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let (store, _guard) = ($factory)().await;
                let store: $crate::checkpoint::conformance::Store = store;
                $crate::checkpoint::conformance::$case(store).await;
            }
        )+
    };
}

async fn load(store: &Store, projector: &ProjectorId) -> u64 {
    store.load(projector).await.expect("load checkpoint").0
}

async fn save(store: &Store, projector: &ProjectorId, position: u64) {
    store
        .save(projector, Position(position))
        .await
        .expect("save checkpoint");
}

async fn reset(store: &Store, projector: &ProjectorId) {
    store.reset(projector).await.expect("reset checkpoint");
}

/// A projector that never saved is at `Position::ZERO`, and loading does not
/// create anything.
pub async fn unknown_projector_is_at_zero(store: Store) {
    let id = ProjectorId::new("search", 1);
    assert_eq!(store.load(&id).await.expect("load"), Position::ZERO);
    assert_eq!(load(&store, &id).await, 0, "a second load");
    save(&store, &ProjectorId::new("search", 2), 4).await;
    assert_eq!(load(&store, &id).await, 0);
}

/// A save raises the checkpoint; a lower or equal save changes nothing
/// (numerically: beyond 32 bits is above anything below).
pub async fn save_only_moves_forward(store: Store) {
    let id = ProjectorId::new("search", 1);
    save(&store, &id, 5).await;
    assert_eq!(load(&store, &id).await, 5);
    save(&store, &id, 3).await;
    assert_eq!(load(&store, &id).await, 5, "a lower save is a no-op");
    save(&store, &id, 5).await;
    save(&store, &id, 0).await;
    assert_eq!(load(&store, &id).await, 5);
    save(&store, &id, 10).await;
    assert_eq!(load(&store, &id).await, 10);
    let beyond = (1 << 32) + 9;
    save(&store, &id, beyond).await;
    save(&store, &id, 11).await;
    assert_eq!(load(&store, &id).await, beyond);
}

/// A reset forgets the checkpoint: the projector loads zero and any save,
/// even a lower one than before, counts again.
pub async fn reset_goes_back_to_zero(store: Store) {
    let id = ProjectorId::new("search", 1);
    save(&store, &id, 40).await;
    reset(&store, &id).await;
    assert_eq!(load(&store, &id).await, 0);
    save(&store, &id, 7).await;
    assert_eq!(load(&store, &id).await, 7, "saves count again after a reset");
    reset(&store, &id).await;
    reset(&store, &id).await;
    reset(&store, &ProjectorId::new("nobody", 1)).await;
    assert_eq!(load(&store, &id).await, 0);
}

/// Projectors are keyed by name and version: saving or resetting one
/// leaves the others alone.
pub async fn projectors_and_versions_are_independent(store: Store) {
    let (v1, v2, other) = (
        ProjectorId::new("search", 1),
        ProjectorId::new("search", 2),
        ProjectorId::new("unread", 1),
    );
    save(&store, &v1, 30).await;
    save(&store, &v2, 4).await;
    save(&store, &other, 17).await;
    assert_eq!(load(&store, &v1).await, 30);
    assert_eq!(load(&store, &v2).await, 4, "a new version starts on its own");
    assert_eq!(load(&store, &other).await, 17);
    save(&store, &v2, 12).await;
    reset(&store, &v1).await;
    assert_eq!(load(&store, &v1).await, 0);
    assert_eq!(load(&store, &v2).await, 12);
    assert_eq!(load(&store, &other).await, 17);
}

/// Saves racing from several tasks, each in its own order, end at the
/// highest position any of them saved.
pub async fn concurrent_saves_end_at_the_highest(store: Store) {
    const TASKS: u64 = 8;
    const EACH: u64 = 25;
    let (a, b) = (ProjectorId::new("search", 1), ProjectorId::new("unread", 1));
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let (store, a, b) = (store.clone(), a.clone(), b.clone());
            tokio::spawn(async move {
                for i in 0..EACH {
                    // Odd tasks save downwards, even ones upwards.
                    let step = if task.is_multiple_of(2) { i } else { EACH - 1 - i };
                    save(&store, &a, 1 + step * TASKS + task).await;
                    save(&store, &b, 1_000 - step * TASKS - task).await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("save task");
    }
    assert_eq!(load(&store, &a).await, TASKS * EACH);
    assert_eq!(load(&store, &b).await, 1_000);
}
