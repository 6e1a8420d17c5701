//! The relational read models of the embedded stack and their query ports:
//! documents (with versions, projects and shares) and channels (with
//! messages, read markers and unread counts).
//!
//! Each read model has a **port** (an `async_trait` of queries, owned here,
//! that gateways and command handlers call) and an **in-memory backend**
//! that is both the port's implementation and the [`Projector`](crate::Projector)
//! that builds it. Every query names its reader and answers only what that
//! reader may see: what they may not see is `QueryError::NotFound`, never a
//! different error, so existence does not leak.
//!
//! # Rebuilt at start, not persisted
//!
//! The in-memory backends keep their rows and their checkpoint in memory:
//! the embedded stack replays the log into them at every start (their
//! checkpoint starts at zero). Replay is fast because the log is local and
//! the stores are plain maps. A Postgres backend of the same ports will
//! persist its rows and write its checkpoint in the same transaction, and
//! must pass the same `conformance` suites.
//!
//! # Idempotent writes
//!
//! Every aggregate row (a document, a project, a channel) remembers the
//! position of the last event applied to it, and an event at or below it is
//! skipped, so replays and redeliveries are no-ops. The guard is per row, as
//! the [`Projector`](crate::Projector) contract asks: a re-driven dead letter
//! is applied when its row has not moved past it. One whose row has since
//! applied a later event is skipped (applying it out of order could undo
//! that event); the replay at the next start applies it in order. A batch
//! is decoded in full before the store is locked, then applied under one
//! write lock, so a batch with an undecodable event changes nothing.
//!
//! # Layout
//! - [`documents`] — the [`DocumentQueries`](documents::DocumentQueries)
//!   port, its views, and the [`InMemoryDocuments`](documents::InMemoryDocuments)
//!   backend over `document.*` and `project.*` events.
//! - [`channels`] — the [`ChannelQueries`](channels::ChannelQueries) port,
//!   its views, and the [`InMemoryChannels`](channels::InMemoryChannels)
//!   backend over `channel.*` events.
//! - [`unread`] — the [`UnreadQueries`](unread::UnreadQueries) port (unread
//!   counts by channel), answered by the channels backends here and by
//!   [`UnreadCounts`](crate::realtime::UnreadCounts) over Redis.
//! - `conformance` (feature `conformance`) — each port's suite, written once
//!   for every backend, with the `document_queries_conformance!` and
//!   `channel_queries_conformance!` macros that instantiate it.
//! - `paging` and `users` (private) — cursor paging and the user-id
//!   interning table the backends share.
//! - [`decode`] and [`event_types`] — payload decoding that blames the
//!   event, and projector filters; every backend (Postgres too) uses them.

pub mod channels;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod documents;
mod paging;
pub mod unread;
mod users;

use quire_domain::{DomainEvent, RecordedEvent};

use crate::error::ProjectionError;

/// Decodes an event's payload, or fails the event (it is then retried and
/// dead-lettered by the runtime). Shared by every read-model backend.
pub fn decode<E: DomainEvent>(event: &RecordedEvent) -> Result<E, ProjectionError> {
    event.decode::<E>().map_err(|error| {
        ProjectionError::apply(format!(
            "event {} ({} at position {}) does not decode: {error}",
            event.event_id, event.event_type, event.position
        ))
    })
}

/// The event types of `catalog` minus `ignored`, once each: a projector's
/// filter, so events it has no use for are not even decoded. Shared by
/// every read-model backend.
pub fn event_types(catalog: &[(&'static str, u16)], ignored: &[&str]) -> Vec<String> {
    let mut types: Vec<String> = catalog
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| !ignored.contains(name))
        .map(str::to_owned)
        .collect();
    types.sort();
    types.dedup();
    types
}
