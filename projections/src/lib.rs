//! Quire's projector runtime: it follows the event log and keeps read models
//! up to date, with checkpoints, batching, retries, dead letters, rebuilds,
//! read-your-writes waits, status and metrics.
//!
//! A read model implements [`Projector`] (name, version, filter, and a store
//! that applies batches together with their checkpoint).
//! [`ProjectorRunner`] spawns one tokio task per projector, which reads the
//! whole log through `subscribe`, applies the projector's filter itself (so
//! it knows how far it has scanned), batches what matches and hands it to the
//! projector. The returned [`ProjectorHandle`] reports status, waits for a
//! position, lists and re-drives dead letters, rebuilds and stops.
//! [`ProjectionSet`] runs several projectors together.
//!
//! # Layout
//! - [`projector`] — the [`Projector`] contract and [`ProjectorId`].
//! - [`query`] — paging, page tokens and [`QueryError`](query::QueryError), shared by every query port.
//! - [`read_models`] — the embedded relational read models and their query
//!   ports: documents, versions, projects and shares
//!   ([`DocumentQueries`](read_models::documents::DocumentQueries)), channels,
//!   messages and unread counts
//!   ([`ChannelQueries`](read_models::channels::ChannelQueries)), with their
//!   in-memory backends and conformance suites (feature `conformance`).
//! - [`checkpoint`] — the [`CheckpointStore`] port for projectors whose store
//!   cannot hold their checkpoint; in-memory and local-file backends and its
//!   conformance suite (feature `conformance`).
//! - [`dead_letter`] — [`DeadLetter`], the [`DeadLetterStore`] port;
//!   in-memory and local-file backends and its conformance suite (feature
//!   `conformance`).
//! - [`config`] — [`RunnerConfig`] and [`RetryPolicy`].
//! - [`runner`] — [`ProjectorRunner`] and the runner task (subscription,
//!   batching, checkpoint pacing, status); its private `runner::apply`
//!   (retries, isolation, dead-lettering) and `runner::control` (re-drive,
//!   discard, rebuild requests) submodules.
//! - [`handle`] — the cloneable [`ProjectorHandle`].
//! - [`status`] — [`ProjectorStatus`] and [`ProjectorState`].
//! - [`metrics`] — the series exported through the `metrics` facade.
//! - [`set`] — the [`ProjectionSet`] that runs several projectors.
//! - [`fleet`] — the [`Projectors`](fleet::Projectors) port: waits, status
//!   and control of projectors wherever they run.
//! - [`lease`] — the [`LeaseStore`](lease::LeaseStore) port and
//!   [`LeasedProjector`](lease::LeasedProjector): one process per projector
//!   across a fleet, with failover.
//! - [`search`] — full-text search: the [`SearchIndex`](search::SearchIndex)
//!   port with permission filters, and the
//!   [`SearchProjector`](search::SearchProjector) that feeds it.
//! - [`realtime`] — the real-time ports (message fan-out across gateways,
//!   presence, unread counters), their in-memory backends and conformance
//!   suites (feature `conformance`).
//! - [`error`] — [`ProjectionError`], [`ControlError`], [`WaitTimeout`].
//! - `atomic_file` (private): crash-safe file replacement for the file
//!   stores.

#![forbid(unsafe_code)]

mod atomic_file;
pub mod checkpoint;
pub mod config;
pub mod dead_letter;
pub mod error;
pub mod fleet;
pub mod handle;
pub mod lease;
pub mod metrics;
pub mod projector;
pub mod query;
pub mod read_models;
pub mod realtime;
pub mod runner;
pub mod search;
pub mod set;
pub mod status;

pub use checkpoint::{CheckpointStore, FileCheckpointStore, InMemoryCheckpointStore};
pub use config::{RetryPolicy, RunnerConfig};
pub use dead_letter::{DeadLetter, DeadLetterStore, FileDeadLetterStore, InMemoryDeadLetterStore};
pub use error::{ControlError, ProjectionError, WaitTimeout};
pub use handle::ProjectorHandle;
pub use projector::{Projector, ProjectorId};
pub use runner::ProjectorRunner;
pub use set::{DuplicateProjector, ProjectionSet};
pub use status::{ProjectorState, ProjectorStatus};
