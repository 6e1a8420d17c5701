//! Quire's command side: load an aggregate, decide, append its events.
//!
//! [`CommandPipeline::execute`] runs one command against one aggregate
//! instance: it loads the aggregate's stream (through a cache that catches
//! up on whatever other processes appended), answers a retried command from
//! the events its first run wrote, lets the aggregate decide, and appends the
//! events with the version it decided on. A version conflict reloads and
//! decides again, a bounded number of times.
//!
//! # Layout
//! - [`context`] — [`CommandContext`], who asks and why (metadata of events).
//! - [`pipeline`] — [`CommandPipeline`] and its configuration.
//! - [`loaded`] — an aggregate's state as loaded from its stream, with the
//!   outcomes of its recent commands.
//! - [`cache`] — the aggregate cache.
//! - [`error`] — [`CommandError`].
//! - [`blobs`] — the [`BlobStore`](blobs::BlobStore) port (object storage
//!   for document contents: streamed, size-limited, atomic puts) and
//!   [`BlobKey`](blobs::BlobKey); adapters live in `infra/`.
//! - `blob_conformance` (hidden) — the `BlobStore` conformance suite,
//!   instantiated by every adapter's tests with `blob_store_conformance!`.
//! - [`extraction`] — pure text extraction from plain text, Markdown and
//!   HTML, for search.
//! - [`process_managers`] — followers of the log that issue commands:
//!   [`TextExtraction`](process_managers::TextExtraction).

#![forbid(unsafe_code)]

#[doc(hidden)]
pub mod blob_conformance;
pub mod blobs;
pub mod cache;
pub mod context;
pub mod error;
pub mod extraction;
pub mod loaded;
pub mod pipeline;
pub mod process_managers;

pub use context::CommandContext;
pub use error::CommandError;
pub use pipeline::{CommandOutcome, CommandPipeline, PipelineConfig};
