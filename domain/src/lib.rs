//! Quire's domain model: the event envelope, the aggregate contract and the
//! aggregates themselves.
//!
//! This crate is pure. It performs no I/O, reads no clock and spawns nothing:
//! every input a decision needs (the actor, the time, new identifiers) arrives
//! inside the command. That is what lets every business rule be tested as
//! "given these events, when this command, then these events".
//!
//! # Layout
//! - [`ids`] — stream identifiers, global positions and stream versions.
//! - [`envelope`] — the recorded event as the log stores it, and its metadata.
//! - [`event`] — the [`DomainEvent`] contract that maps typed events to
//!   `(event_type, schema_version, JSON payload)` and back.
//! - [`aggregate`] — the [`Aggregate`] contract separating `decide` from `apply`.
//! - [`testing`] — the given/when/then harness used for every rule.
//! - [`error_kind`] — [`ErrorKind`], the class of every aggregate error, which
//!   gateways map to transport status codes.
//! - [`values`] — validated value types shared by the aggregates (ids, names,
//!   content types, digests) and [`Issued`], the actor-and-time wrapper of
//!   every command.
//! - [`document`] — documents: uploads, versions, names, projects, shares, soft
//!   deletion.
//! - [`project`] — projects (folders) nested without cycles.
//! - [`channel`] — chat channels, their participants and messages.

#![forbid(unsafe_code)]

pub mod aggregate;
pub mod channel;
pub mod document;
pub mod envelope;
pub mod error_kind;
pub mod event;
pub mod ids;
pub mod project;
pub mod testing;
pub mod values;

#[cfg(test)]
mod strategies;

pub use aggregate::Aggregate;
pub use envelope::{Actor, EventMetadata, NewEvent, RecordedEvent, Timestamp};
pub use error_kind::ErrorKind;
pub use event::{DomainEvent, EventDecodeError};
pub use ids::{InvalidStreamId, Position, StreamId};
pub use values::{
    ChannelId, ContentType, DocumentId, InvalidValue, Issued, MessageId, Name, ProjectId, Sha256, UserId,
};
