//! The conformance suite of the [`BlobStore`] port, written once and run
//! against every backend (the local disk now, S3 later).
//!
//! A backend's test file instantiates it with a factory that opens a fresh,
//! empty store:
//!
//! ```ignore
//! quire_command_handlers::blob_store_conformance!(|| async {
//!     let dir = tempfile::tempdir().unwrap();
//!     let store = LocalBlobStore::open(dir.path()).unwrap();
//!     MyHarness { store: Arc::new(store), dir }
//! });
//! ```
//!
//! Test support, not part of the API: hidden from the docs, and it panics
//! on failure like any test.

mod cases;
mod streams;

use std::sync::Arc;

use async_trait::async_trait;

use crate::blobs::BlobStore;

pub use streams::{aborted_after, chunked, stalled_after};

/// What a backend's test hands the suite: a fresh, empty store, and a view
/// of everything the backend holds.
#[async_trait]
pub trait BlobHarness: Send + Sync + 'static {
    fn store(&self) -> Arc<dyn BlobStore>;

    /// Every entry the backend holds, committed or not (files on a disk,
    /// objects and unfinished multipart uploads in S3), sorted. The suite
    /// checks that failed puts add nothing to it.
    async fn raw_entries(&self) -> Vec<String>;
}

/// Generates one `#[tokio::test]` per conformance case; `$factory` is a
/// closure returning a future of a [`BlobHarness`] over a fresh store.
#[macro_export]
macro_rules! blob_store_conformance {
    ($factory:expr) => {
        $crate::blob_store_conformance!(@cases $factory;
            round_trip_small,
            round_trip_large_with_ranges,
            empty_blob,
            overwrite_replaces,
            size_limit_leaves_nothing,
            aborted_stream_leaves_nothing,
            dropped_put_leaves_nothing,
            invalid_keys,
            not_found,
            delete_removes,
            concurrent_puts,
        );
    };
    (@cases $factory:expr; $($case:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let harness = ($factory)().await;
                $crate::blob_conformance::run_case(stringify!($case), &harness).await;
                drop(harness);
            }
        )+
    };
}

/// Runs the named case against the harness's store.
pub async fn run_case(case: &str, harness: &dyn BlobHarness) {
    match case {
        "round_trip_small" => cases::round_trip_small(harness).await,
        "round_trip_large_with_ranges" => cases::round_trip_large_with_ranges(harness).await,
        "empty_blob" => cases::empty_blob(harness).await,
        "overwrite_replaces" => cases::overwrite_replaces(harness).await,
        "size_limit_leaves_nothing" => cases::size_limit_leaves_nothing(harness).await,
        "aborted_stream_leaves_nothing" => cases::aborted_stream_leaves_nothing(harness).await,
        "dropped_put_leaves_nothing" => cases::dropped_put_leaves_nothing(harness).await,
        "invalid_keys" => cases::invalid_keys(),
        "not_found" => cases::not_found(harness).await,
        "delete_removes" => cases::delete_removes(harness).await,
        "concurrent_puts" => cases::concurrent_puts(harness).await,
        other => panic!("unknown blob store conformance case {other}"),
    }
}
