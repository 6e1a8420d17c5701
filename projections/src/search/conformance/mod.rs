//! The conformance suite of the [`SearchIndex`](crate::search::SearchIndex)
//! port, written once and run against every backend.
//!
//! Most cases drive the real [`SearchProjector`](crate::search::SearchProjector)
//! with domain events, so they check the projector and the index together;
//! the `store` cases talk to the port directly. A backend's test file
//! instantiates the suite with a factory that opens a fresh, empty index:
//!
//! ```ignore
//! quire_projections::search_index_conformance!(|| async {
//!     Fixture::new(TantivySearchIndex::in_ram()?, ())
//! });
//! ```
//!
//! # Layout
//! - [`fixture`] — the [`Fixture`] a factory returns and the [`Harness`]
//!   (projector, scripted events, search shortcuts) the cases use.
//! - [`permissions`] — owners, shares, channel participants.
//! - [`lifecycle`] — deletes, restores, edits, idempotent replay, failed
//!   batches.
//! - [`queries`] — paging, kind filters, snippets, malformed queries.
//! - [`store`] — guards, tombstones, commit and rollback, checkpoints,
//!   batched writes.

pub mod fixture;
pub mod lifecycle;
pub mod permissions;
pub mod queries;
pub mod store;

use std::sync::Arc;

pub use fixture::{Fixture, Harness};

use crate::search::SearchIndex;

/// Every case, by name.
pub const CASES: &[&str] = &[
    "owners_only",
    "share_then_unshare",
    "channel_participants_at_query_time",
    "delete_hides_restore_reveals",
    "renames_and_extracted_text",
    "edits_replace_message_text",
    "replay_is_idempotent",
    "failed_batch_leaves_nothing",
    "paging",
    "bad_queries",
    "kinds_and_snippets",
    "position_guards",
    "commit_and_rollback",
    "checkpoints_and_reset",
    "batched_writes",
];

/// Generates one `#[tokio::test]` per conformance case; `$factory` is a
/// closure returning a future of a [`Fixture`] holding a fresh, empty index.
#[macro_export]
macro_rules! search_index_conformance {
    ($factory:expr) => {
        $crate::search_index_conformance!(@cases $factory;
            owners_only,
            share_then_unshare,
            channel_participants_at_query_time,
            delete_hides_restore_reveals,
            renames_and_extracted_text,
            edits_replace_message_text,
            replay_is_idempotent,
            failed_batch_leaves_nothing,
            paging,
            bad_queries,
            kinds_and_snippets,
            position_guards,
            commit_and_rollback,
            checkpoints_and_reset,
            batched_writes,
        );
    };
    (@cases $factory:expr; $($case:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let fixture: $crate::search::conformance::Fixture = ($factory)().await;
                $crate::search::conformance::run_case(stringify!($case), fixture.index()).await;
                drop(fixture);
            }
        )+
    };
}

/// Runs the named case against `index`.
pub async fn run_case(case: &str, index: Arc<dyn SearchIndex>) {
    match case {
        "owners_only" => permissions::owners_only(index).await,
        "share_then_unshare" => permissions::share_then_unshare(index).await,
        "channel_participants_at_query_time" => permissions::channel_participants_at_query_time(index).await,
        "delete_hides_restore_reveals" => lifecycle::delete_hides_restore_reveals(index).await,
        "renames_and_extracted_text" => lifecycle::renames_and_extracted_text(index).await,
        "edits_replace_message_text" => lifecycle::edits_replace_message_text(index).await,
        "replay_is_idempotent" => lifecycle::replay_is_idempotent(index).await,
        "failed_batch_leaves_nothing" => lifecycle::failed_batch_leaves_nothing(index).await,
        "paging" => queries::paging(index).await,
        "bad_queries" => queries::bad_queries(index).await,
        "kinds_and_snippets" => queries::kinds_and_snippets(index).await,
        "position_guards" => store::position_guards(index).await,
        "commit_and_rollback" => store::commit_and_rollback(index).await,
        "checkpoints_and_reset" => store::checkpoints_and_reset(index).await,
        "batched_writes" => store::batched_writes(index).await,
        other => panic!("unknown search index conformance case {other}"),
    }
}
