//! Quire's domain model: the event envelope, the aggregate contract and the
//! aggregates themselves.
//!
//! This crate is pure. It performs no I/O, reads no clock and spawns nothing:
//! every input a decision needs (the actor, the time, new identifiers) arrives
//! inside the command. That is what lets every business rule be tested as
//! "given these events, when this command, then these events".
//!
//! # Layout
//! - [`ids`]: stream identifiers, global positions and stream versions.
//! - [`envelope`]: the recorded event as the log stores it, and its metadata.
//! - [`event`]: the [`DomainEvent`] contract that maps typed events to
//!   `(event_type, schema_version, JSON payload)` and back.
//! - [`aggregate`]: the [`Aggregate`] contract separating `decide` from `apply`.
//! - [`testing`]: the given/when/then harness used for every rule.
//! - [`channel`]: the first aggregate, chat channels and their messages.

#![forbid(unsafe_code)]

pub mod aggregate;
pub mod envelope;
pub mod event;
pub mod ids;
pub mod testing;

pub use aggregate::Aggregate;
pub use envelope::{Actor, EventMetadata, NewEvent, RecordedEvent, Timestamp};
pub use event::{DomainEvent, EventDecodeError};
pub use ids::{InvalidStreamId, Position, StreamId};
