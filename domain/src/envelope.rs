//! The event envelope: what a writer hands the log ([`NewEvent`]) and what the
//! log hands back to readers ([`RecordedEvent`]).

use std::fmt;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::event::{DomainEvent, EventDecodeError};
use crate::ids::{Position, StreamId};

/// Microseconds since the Unix epoch, UTC.
///
/// The domain never reads a clock; timestamps arrive in commands and are
/// stamped on recorded events by the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn from_unix_micros(micros: i64) -> Timestamp {
        Timestamp(micros)
    }

    pub fn unix_micros(self) -> i64 {
        self.0
    }
}

/// Who caused an event: a signed-in user or an internal service.
///
/// Its text form is `user:<id>` or `service:<name>`.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Actor {
    User(String),
    Service(String),
}

/// Text that is not of the form `user:<id>` or `service:<name>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("actor `{0}` is neither `user:<id>` nor `service:<name>`")]
pub struct InvalidActor(pub String);

impl Actor {
    pub fn user(id: impl Into<String>) -> Actor {
        Actor::User(id.into())
    }

    pub fn service(name: impl Into<String>) -> Actor {
        Actor::Service(name.into())
    }

    /// Parses the text form written by [`Actor`]'s `Display`.
    pub fn parse(text: &str) -> Result<Actor, InvalidActor> {
        match text.split_once(':') {
            Some(("user", id)) if !id.is_empty() => Ok(Actor::User(id.to_owned())),
            Some(("service", name)) if !name.is_empty() => Ok(Actor::Service(name.to_owned())),
            _ => Err(InvalidActor(text.to_owned())),
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::User(id) => write!(f, "user:{id}"),
            Actor::Service(name) => write!(f, "service:{name}"),
        }
    }
}

impl fmt::Debug for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl TryFrom<String> for Actor {
    type Error = InvalidActor;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Actor::parse(&value)
    }
}

impl From<Actor> for String {
    fn from(value: Actor) -> Self {
        value.to_string()
    }
}

/// Why and by whom an event was written. Every event of one command shares it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventMetadata {
    /// Ties together everything that one user action set off, across commands
    /// issued by process managers.
    pub correlation_id: Uuid,
    /// The event (or command) that directly caused this one, when known.
    pub causation_id: Option<Uuid>,
    /// Who asked for the change.
    pub actor: Actor,
    /// W3C trace context of the request, so traces span the log.
    pub traceparent: Option<String>,
    /// The idempotency key of the command that wrote the event; a retried
    /// command with the same key is answered from the events it wrote.
    pub command_id: Option<String>,
}

impl EventMetadata {
    /// Metadata for an action with no wider context (tests, tools).
    pub fn new(actor: Actor) -> EventMetadata {
        EventMetadata {
            correlation_id: Uuid::now_v7(),
            causation_id: None,
            actor,
            traceparent: None,
            command_id: None,
        }
    }
}

/// An event a writer asks the log to append. The log assigns its stream
/// version, global position and `recorded_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// Unique id (UUIDv7); appending the same ids again is a no-op that
    /// returns the first result.
    pub event_id: Uuid,
    pub event_type: String,
    pub schema_version: u16,
    /// JSON text of the event's payload.
    pub payload: Bytes,
    pub metadata: EventMetadata,
}

impl NewEvent {
    /// Encodes a typed domain event with a fresh UUIDv7 id.
    pub fn from_domain<E: DomainEvent>(event: &E, metadata: EventMetadata) -> NewEvent {
        NewEvent {
            event_id: Uuid::now_v7(),
            event_type: event.event_type().to_owned(),
            schema_version: event.schema_version(),
            payload: Bytes::from(event.encode_payload()),
            metadata,
        }
    }
}

/// An event as committed to the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedEvent {
    pub event_id: Uuid,
    pub stream_id: StreamId,
    /// 0-based, dense within the stream.
    pub stream_version: u64,
    /// Global commit order, strictly increasing.
    pub position: Position,
    pub event_type: String,
    pub schema_version: u16,
    pub recorded_at: Timestamp,
    pub metadata: EventMetadata,
    /// JSON text of the payload.
    pub payload: Bytes,
}

impl RecordedEvent {
    /// Decodes the payload into a typed domain event.
    pub fn decode<E: DomainEvent>(&self) -> Result<E, EventDecodeError> {
        E::decode_payload(&self.event_type, self.schema_version, &self.payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actor_text_round_trips() {
        for actor in [Actor::user("alice"), Actor::service("mailer")] {
            assert_eq!(Actor::parse(&actor.to_string()), Ok(actor));
        }
        assert!(Actor::parse("robot:x").is_err());
        assert!(Actor::parse("user:").is_err());
    }
}
