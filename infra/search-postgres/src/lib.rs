//! Quire's shared full-text search for the distributed deployment: the
//! [`SearchIndex`](quire_projections::search::SearchIndex) port on
//! PostgreSQL full-text search (ADR 0011), so every gateway process queries
//! the index the one projector process writes. It passes the same
//! conformance suite as the embedded tantivy index.
//!
//! # Writes
//!
//! Writes are buffered in an in-memory overlay, so position guards and
//! `get` see the writer's own uncommitted writes; the stored guards a batch
//! needs are loaded in one statement per kind of key. `commit` sends every
//! pending entry, tombstone and membership with multi-row `UNNEST`
//! statements and raises the checkpoint, all in one transaction holding the
//! index's advisory lock; the database guards every row again, so a second
//! writer with a stale overlay cannot move a row back. `rollback` drops the
//! overlay. A crash leaves the whole commit and its checkpoint, or neither.
//!
//! # Queries
//!
//! Two statements per page: the reader's channels, then the page. The
//! port's query syntax is parsed in Rust and bound as the text of a
//! `tsquery` (no user input is spliced into SQL), matched against a
//! generated `tsvector` (title weighted A, body B, configuration `simple`)
//! under a GIN index, filtered by readers (a GIN index on `text[]`)
//! against the reader's user and current channels, ranked with `ts_rank`,
//! paged by keyset, and snippeted with `ts_headline`. Every statement is
//! checked at compile time against the offline metadata in the crate's
//! `.sqlx/` (`scripts/sqlx-check`).
//!
//! # Layout
//! - [`config`] — [`PgSearchConfig`]: the read models' connection settings
//!   with the index's own schema (default `quire_search`).
//! - [`index`] — [`PgSearchIndex`]: open (pool, schema, migrations).
//! - `port` — the `SearchIndex` implementation.
//! - `store` — guarded writes into the overlay, `get`, commit, reset.
//! - `overlay` — the uncommitted writes and their guards.
//! - `rows` — entries and memberships as columns and back.
//! - `search` — the query statements, paging, snippets.
//! - `syntax` — the query syntax, translated into `tsquery` text.
//! - `error` — database errors mapped onto the port's.

#![forbid(unsafe_code)]

pub mod config;
mod error;
pub mod index;
mod overlay;
mod port;
mod rows;
mod search;
mod store;
mod syntax;

pub use config::PgSearchConfig;
pub use index::PgSearchIndex;
pub use quire_read_models_postgres::{PgConfig, PgError};
pub use search::{HEADLINE_CHARS, SNIPPET_CHARS};
pub use syntax::{MAX_DEPTH, MAX_QUERY_BYTES};
