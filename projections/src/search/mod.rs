//! Full-text search over documents and messages, filtered by what the
//! caller may see: the [`SearchIndex`] port (owned here, implemented in
//! `infra/`, e.g. `quire-search-tantivy`) and the [`SearchProjector`] that
//! keeps it up to date from `document.*` and `channel.*` events.
//!
//! # Permissions
//!
//! Every entry lists its readers as [`Principal`]s. A document's are its
//! owner and the users it is shared with; a message's is its channel
//! (`channel:<id>`), which the index resolves **at query time** against
//! the channel memberships the projector records. A new participant thus
//! finds the channel's history, and a removed one stops finding it, without
//! re-indexing a single message.
//!
//! # Consistency
//!
//! The projector commits each batch and its checkpoint in one index commit,
//! and every write is position-guarded, so a crash or a replay converges to
//! the same index.
//!
//! # Layout
//! - [`model`] — [`SearchEntry`], [`EntryKey`], [`Principal`],
//!   [`SearchFilter`], [`SearchHit`].
//! - [`port`] — the [`SearchIndex`] trait and [`SearchIndexError`].
//! - [`changes`] — the pure decoding of events into index changes.
//! - [`projector`] — the [`SearchProjector`].
//! - `conformance` (hidden, with the `conformance` feature) — the port's
//!   conformance suite, instantiated by every backend with
//!   `search_index_conformance!`.

pub mod changes;
pub mod model;
pub mod port;
pub mod projector;

#[cfg(any(test, feature = "conformance"))]
#[doc(hidden)]
pub mod conformance;

pub use changes::TEXT_EXTRACTED;
pub use model::{Container, EntryKey, Principal, SearchEntry, SearchFilter, SearchHit, SearchKind};
pub use port::{SearchIndex, SearchIndexError, SearchWrite};
pub use projector::SearchProjector;
