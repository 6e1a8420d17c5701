//! The [`DeadLetterStore`] conformance suite, written once and run against
//! every backend: round trips, replacement at the same projector and
//! position, position order, projectors (and their versions) kept apart,
//! removal, clearing one projector, concurrent puts.
//!
//! A backend's test file instantiates it with a factory: a closure
//! returning a future of a fresh, empty store (in an `Arc`) and a guard that
//! lives as long as the case (a temporary directory, a database schema):
//!
//! ```ignore
//! quire_projections::dead_letter_store_conformance!(|| async {
//!     (std::sync::Arc::new(InMemoryDeadLetterStore::new()), ())
//! });
//! ```
//!
//! Every case is also a `pub async fn` taking the store, for a backend that
//! wants to run one by hand.

use std::sync::Arc;

use quire_domain::{Position, StreamId, Timestamp};
use uuid::Uuid;

use crate::dead_letter::{DeadLetter, DeadLetterStore};
use crate::projector::ProjectorId;

/// A store as the cases take it.
pub type Store = Arc<dyn DeadLetterStore>;

/// Generates one `#[tokio::test]` per case of the [`DeadLetterStore`]
/// suite; `$factory` is a closure returning a future of
/// `(Arc<impl DeadLetterStore>, guard)` for a fresh, empty store.
///
/// [`DeadLetterStore`]: crate::DeadLetterStore
#[macro_export]
macro_rules! dead_letter_store_conformance {
    ($factory:expr) => {
        $crate::dead_letter_store_conformance!(@cases $factory;
            put_then_get_round_trips,
            unknown_letters_are_absent,
            put_replaces_the_letter_at_the_same_position,
            list_is_in_position_order,
            projectors_and_versions_are_kept_apart,
            remove_reports_whether_there_was_a_letter,
            clear_only_touches_that_projector,
            concurrent_puts_are_all_kept,
        );
    };
    (@cases $factory:expr; $($case:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let (store, _guard) = ($factory)().await;
                let store: $crate::dead_letter::conformance::Store = store;
                $crate::dead_letter::conformance::$case(store).await;
            }
        )+
    };
}

/// A letter of `projector` at `position` whose every field derives from
/// both, so letters of different projectors or positions differ.
pub fn letter(projector: &ProjectorId, position: u64) -> DeadLetter {
    let first = Timestamp::from_unix_micros(1_700_000_000_000_000 + i64::from(projector.version));
    DeadLetter {
        projector: projector.clone(),
        position: Position(position),
        event_id: Uuid::from_u64_pair(position, u64::from(projector.version)),
        stream_id: StreamId::parse(&format!("doc-{}-{position}", projector.name)).expect("valid stream id"),
        event_type: "document.renamed".to_owned(),
        error: format!("{projector} failed at {position}"),
        attempts: 5,
        first_failed_at: first,
        last_failed_at: Timestamp::from_unix_micros(first.0 + 1_000),
    }
}

async fn put(store: &Store, letter: DeadLetter) {
    store.put(letter).await.expect("put dead letter");
}

async fn list(store: &Store, projector: &ProjectorId) -> Vec<DeadLetter> {
    store.list(projector).await.expect("list dead letters")
}

async fn get(store: &Store, projector: &ProjectorId, position: u64) -> Option<DeadLetter> {
    store
        .get(projector, Position(position))
        .await
        .expect("get dead letter")
}

async fn positions(store: &Store, projector: &ProjectorId) -> Vec<u64> {
    list(store, projector)
        .await
        .iter()
        .map(|l| l.position.0)
        .collect()
}

/// Every field comes back as it was put, whatever the error text and event
/// type hold (a NUL, a line break, non-ASCII), at the extremes of their
/// ranges.
pub async fn put_then_get_round_trips(store: Store) {
    let id = ProjectorId::new("search", 3);
    let mut odd = letter(&id, (1 << 40) + 7);
    odd.error = "decode failed:\n\u{0}byte 0 \u{00e9}t\u{00e9} \u{1f4a5}".to_owned();
    odd.event_type = "chat.message\u{0}.sent\u{00e9}".to_owned();
    odd.attempts = u32::MAX;
    odd.first_failed_at = Timestamp::from_unix_micros(-5);
    odd.last_failed_at = Timestamp::from_unix_micros(i64::MAX);
    let plain = letter(&id, 1);
    put(&store, odd.clone()).await;
    put(&store, plain.clone()).await;
    assert_eq!(get(&store, &id, odd.position.0).await.as_ref(), Some(&odd));
    assert_eq!(get(&store, &id, 1).await.as_ref(), Some(&plain));
    assert_eq!(list(&store, &id).await, [plain, odd]);
}

/// An unknown projector has no letters; a known one none at other
/// positions.
pub async fn unknown_letters_are_absent(store: Store) {
    let id = ProjectorId::new("docs", 1);
    assert!(list(&store, &id).await.is_empty());
    assert_eq!(get(&store, &id, 4).await, None);
    put(&store, letter(&id, 4)).await;
    assert_eq!(get(&store, &id, 5).await, None);
    assert_eq!(get(&store, &id, 3).await, None);
    assert_eq!(get(&store, &ProjectorId::new("docs", 2), 4).await, None);
    assert!(list(&store, &ProjectorId::new("other", 1)).await.is_empty());
}

/// A second put at the same projector and position replaces the first
/// (a failed re-drive updates its letter).
pub async fn put_replaces_the_letter_at_the_same_position(store: Store) {
    let id = ProjectorId::new("docs", 1);
    let first = letter(&id, 7);
    put(&store, first.clone()).await;
    put(&store, letter(&id, 8)).await;
    let mut again = first.clone();
    again.attempts = 6;
    again.error = "still failing".to_owned();
    again.last_failed_at = Timestamp::from_unix_micros(first.last_failed_at.0 + 60_000_000);
    put(&store, again.clone()).await;
    assert_eq!(get(&store, &id, 7).await, Some(again.clone()));
    assert_eq!(list(&store, &id).await, [again, letter(&id, 8)]);
}

/// Letters list in position order, whatever order they were put in
/// (numeric order: 9 before 10, small before beyond 32 bits).
pub async fn list_is_in_position_order(store: Store) {
    let id = ProjectorId::new("docs", 1);
    let beyond = 1 << 33;
    for position in [10, 9, beyond, 100, 1, 2, beyond - 1] {
        put(&store, letter(&id, position)).await;
    }
    assert_eq!(
        positions(&store, &id).await,
        [1, 2, 9, 10, 100, beyond - 1, beyond]
    );
}

/// Projectors are keyed by name and version: the same name with another
/// version is another projector, and the same position of two projectors
/// holds two letters.
pub async fn projectors_and_versions_are_kept_apart(store: Store) {
    let (v1, v2, other) = (
        ProjectorId::new("docs", 1),
        ProjectorId::new("docs", 2),
        ProjectorId::new("chat", 1),
    );
    put(&store, letter(&v1, 5)).await;
    put(&store, letter(&v2, 5)).await;
    put(&store, letter(&v2, 6)).await;
    put(&store, letter(&other, 5)).await;
    assert_eq!(list(&store, &v1).await, [letter(&v1, 5)]);
    assert_eq!(list(&store, &v2).await, [letter(&v2, 5), letter(&v2, 6)]);
    assert_eq!(list(&store, &other).await, [letter(&other, 5)]);
    assert_eq!(get(&store, &v2, 5).await, Some(letter(&v2, 5)));
    assert_eq!(get(&store, &v1, 6).await, None);
}

/// `remove` is `true` when it removed a letter and `false` when there was
/// none, and removes only that projector's letter at that position.
pub async fn remove_reports_whether_there_was_a_letter(store: Store) {
    let (v1, v2) = (ProjectorId::new("docs", 1), ProjectorId::new("docs", 2));
    for position in [3, 4] {
        put(&store, letter(&v1, position)).await;
    }
    put(&store, letter(&v2, 3)).await;
    assert!(store.remove(&v1, Position(3)).await.expect("remove"));
    assert!(!store.remove(&v1, Position(3)).await.expect("remove again"));
    assert!(!store.remove(&v1, Position(99)).await.expect("remove missing"));
    assert!(
        !store
            .remove(&ProjectorId::new("nobody", 1), Position(4))
            .await
            .expect("remove unknown")
    );
    assert_eq!(positions(&store, &v1).await, [4]);
    assert_eq!(list(&store, &v2).await, [letter(&v2, 3)]);
    assert!(store.remove(&v1, Position(4)).await.expect("remove last"));
    assert!(list(&store, &v1).await.is_empty());
    put(&store, letter(&v1, 3)).await;
    assert_eq!(
        positions(&store, &v1).await,
        [3],
        "a removed position can be dead-lettered again"
    );
}

/// `clear` removes every letter of one projector (one name and version)
/// and nothing else; clearing a projector without letters is fine.
pub async fn clear_only_touches_that_projector(store: Store) {
    let (v1, v2, other) = (
        ProjectorId::new("docs", 1),
        ProjectorId::new("docs", 2),
        ProjectorId::new("chat", 1),
    );
    for position in [1, 2, 3] {
        put(&store, letter(&v1, position)).await;
    }
    put(&store, letter(&v2, 2)).await;
    put(&store, letter(&other, 2)).await;
    store.clear(&v1).await.expect("clear");
    assert!(list(&store, &v1).await.is_empty());
    assert_eq!(get(&store, &v1, 2).await, None);
    assert_eq!(list(&store, &v2).await, [letter(&v2, 2)]);
    assert_eq!(list(&store, &other).await, [letter(&other, 2)]);
    store.clear(&v1).await.expect("clear again");
    store
        .clear(&ProjectorId::new("nobody", 1))
        .await
        .expect("clear unknown");
    put(&store, letter(&v1, 9)).await;
    assert_eq!(positions(&store, &v1).await, [9]);
}

/// Puts from several tasks at once, interleaved over two projectors, are
/// all kept.
pub async fn concurrent_puts_are_all_kept(store: Store) {
    const TASKS: u64 = 8;
    const EACH: u64 = 12;
    let (a, b) = (ProjectorId::new("docs", 1), ProjectorId::new("chat", 1));
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let (store, a, b) = (store.clone(), a.clone(), b.clone());
            tokio::spawn(async move {
                for i in 0..EACH {
                    let position = 1 + i * TASKS + task;
                    let projector = if position.is_multiple_of(3) { &b } else { &a };
                    put(&store, letter(projector, position)).await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("put task");
    }
    let all = 1..=TASKS * EACH;
    let expected_a: Vec<u64> = all.clone().filter(|p| !p.is_multiple_of(3)).collect();
    let expected_b: Vec<u64> = all.filter(|p| p.is_multiple_of(3)).collect();
    assert_eq!(positions(&store, &a).await, expected_a);
    assert_eq!(positions(&store, &b).await, expected_b);
    assert_eq!(get(&store, &b, 3).await, Some(letter(&b, 3)));
}
