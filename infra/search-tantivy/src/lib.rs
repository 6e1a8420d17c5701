//! Quire's embedded full-text search: the
//! [`SearchIndex`](quire_projections::search::SearchIndex) port on tantivy,
//! in a local directory or in RAM.
//!
//! One tantivy index holds every record: document and message entries,
//! tombstones of deleted ones, and channel memberships, each as its JSON
//! (stored) plus the indexed fields queries need. Writes go through one
//! `IndexWriter` with a bounded memory budget; the writer keeps an overlay
//! of its uncommitted records so position guards and `get` see its own
//! writes. A commit carries the projector's checkpoint in the commit
//! payload (`meta.json`), so the index and its checkpoint are always from
//! the same commit, and reloads the reader before returning, so a query
//! sees a commit as soon as `apply` returns.
//!
//! A query is the user's query (title and body, title boosted, terms
//! joined by AND) intersected with non-scoring filters: status `live`, the
//! requested kinds, and `readers` holding `user:<caller>` or
//! `channel:<id>` for every channel the caller is in (read from the
//! membership records at query time).
//!
//! # Layout
//! - [`index`] — [`TantivySearchIndex`], [`TantivyConfig`]: open, writer,
//!   guarded writes, commit with payload, rollback, reset.
//! - `port` — the `SearchIndex` implementation.
//! - `search` — principals, the filtered query, paging, snippets.
//! - `record` — what one tantivy document holds.
//! - `schema` — the tantivy schema.
//! - [`error`] — [`OpenError`] and the mapping of tantivy errors.

#![forbid(unsafe_code)]

pub mod error;
pub mod index;
mod port;
mod record;
mod schema;
mod search;

pub use error::OpenError;
pub use index::{TantivyConfig, TantivySearchIndex};
pub use search::{MAX_QUERY_BYTES, MAX_RESULT_WINDOW};
