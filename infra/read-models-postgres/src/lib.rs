//! Quire's relational read models on PostgreSQL (ADR 0009): the
//! [`DocumentQueries`](quire_projections::read_models::documents::DocumentQueries)
//! and [`ChannelQueries`](quire_projections::read_models::channels::ChannelQueries)
//! ports, each backend also being the
//! [`Projector`](quire_projections::Projector) that builds it, exactly like
//! the in-memory backends of `quire-projections`, whose behaviour they
//! follow and whose conformance suites they pass.
//!
//! It also holds the projector runtime's own stores for the distributed
//! deployment, where a projector runs in whichever process holds its lease:
//! [`PgDeadLetterStore`] and [`PgCheckpointStore`] (for projectors whose
//! store cannot hold their checkpoint), which pass the
//! [`DeadLetterStore`](quire_projections::DeadLetterStore) and
//! [`CheckpointStore`](quire_projections::CheckpointStore) suites.
//!
//! # Writes
//!
//! A batch is decoded in full first, so an undecodable event changes
//! nothing. Then one transaction loads the rows the batch touches, applies
//! the events to them in memory with the same per-row position guards as the
//! in-memory models (an event at or below a row's `applied` position is
//! skipped), writes every changed row back with a few multi-row statements
//! (`UNNEST` of arrays; new messages by a binary `COPY`), and writes the
//! checkpoint. A crash anywhere leaves
//! either the whole batch and its checkpoint or neither, so replay from the
//! stored checkpoint converges to what a clean replay gives. A long channels
//! batch is split by channel into partitions, each its own transaction with
//! its own checkpoint row, applied side by side (ADR 0013): the same holds
//! per partition, and the projector resumes from the lowest row.
//!
//! # Queries
//!
//! Every statement is checked at compile time (`sqlx::query!`) against the
//! offline metadata in the crate's `.sqlx/`; `scripts/sqlx-check` verifies it
//! is current.
//!
//! # Layout
//! - [`config`] — [`PgConfig`]: address, schema, pool size.
//! - [`store`] — [`PgStore`]: the pool, schema creation, migrations,
//!   transactions and checkpoints shared by both read models.
//! - [`checkpoints`] — the `checkpoints` table's statements (run in batch
//!   transactions or alone) and [`PgCheckpointStore`] on the same table.
//! - [`dead_letters`] — [`PgDeadLetterStore`]: dead letters by projector
//!   and position.
//! - `copy` — rows in the binary `COPY` format, for bulk inserts.
//! - [`error`] — [`PgError`] and the mapping of database errors onto the
//!   runtime's errors (transient ones become `Unavailable`).
//! - [`documents`] — [`PgDocuments`]: documents, versions, shares, projects.
//! - [`channels`] — [`PgChannels`]: channels, members, messages, unread
//!   counts.
//! - `testing` (feature `testing`) — the test server and a fresh schema
//!   per test, for this crate's tests and the search index's.
//! - `convert` (private) — conversions between domain values and columns.
//! - `paging` (private) — cursor paging shared by both query ports.

#![forbid(unsafe_code)]

pub mod channels;
pub mod checkpoints;
mod committed;
pub mod config;
mod convert;
mod copy;
pub mod dead_letters;
pub mod documents;
pub mod error;
mod paging;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;

pub use channels::PgChannels;
pub use checkpoints::PgCheckpointStore;
pub use config::PgConfig;
pub use dead_letters::PgDeadLetterStore;
pub use documents::PgDocuments;
pub use error::PgError;
pub use store::PgStore;
