//! The contract between typed domain events and their stored form.
//!
//! A stored event is `(event_type, schema_version, JSON payload)`. Each
//! aggregate's event enum implements [`DomainEvent`], usually through
//! [`domain_events!`](crate::domain_events), which keeps the name, version and
//! payload struct of every event in one table.

/// A typed domain event that knows its stored name and schema version.
pub trait DomainEvent: Sized + Send + Sync + 'static {
    /// Stable dotted name, e.g. `channel.message_sent`.
    fn event_type(&self) -> &'static str;
    /// Version of the payload's schema; bumped on incompatible change.
    fn schema_version(&self) -> u16;
    /// JSON text of the payload.
    fn encode_payload(&self) -> Vec<u8>;
    /// Rebuilds the typed event from its stored form.
    fn decode_payload(
        event_type: &str,
        schema_version: u16,
        payload: &[u8],
    ) -> Result<Self, EventDecodeError>;
    /// Every `(event_type, schema_version)` this enum writes.
    fn catalog() -> &'static [(&'static str, u16)];
}

/// A stored event that cannot become a typed domain event.
#[derive(Debug, thiserror::Error)]
pub enum EventDecodeError {
    #[error("unknown event type `{0}`")]
    UnknownType(String),
    #[error("event type `{event_type}` has no schema version {version}")]
    UnknownVersion { event_type: String, version: u16 },
    #[error("payload of `{event_type}` is not valid: {source}")]
    BadPayload {
        event_type: String,
        #[source]
        source: serde_json::Error,
    },
}

/// Implements [`DomainEvent`] for an enum whose variants each wrap one payload
/// struct, from a table of `Variant(Payload) => "name" v<version>` rows.
///
/// ```
/// use serde::{Deserialize, Serialize};
/// #[derive(Debug, Serialize, Deserialize)]
/// pub struct Opened { pub by: String }
/// #[derive(Debug)]
/// pub enum DoorEvent { Opened(Opened) }
/// quire_domain::domain_events!(DoorEvent { Opened(Opened) => "door.opened" v1 });
/// ```
#[macro_export]
macro_rules! domain_events {
    ($enum:ident { $($variant:ident($payload:ty) => $name:literal v$version:literal),+ $(,)? }) => {
        impl $crate::event::DomainEvent for $enum {
            fn event_type(&self) -> &'static str {
                match self { $($enum::$variant(_) => $name),+ }
            }

            fn schema_version(&self) -> u16 {
                match self { $($enum::$variant(_) => $version),+ }
            }

            fn encode_payload(&self) -> Vec<u8> {
                let encoded = match self { $($enum::$variant(payload) => ::serde_json::to_vec(payload)),+ };
                // Payload structs hold only strings, numbers, booleans and
                // collections of them, which always serialise.
                encoded.unwrap_or_else(|_| b"null".to_vec())
            }

            fn decode_payload(
                event_type: &str,
                schema_version: u16,
                payload: &[u8],
            ) -> Result<Self, $crate::event::EventDecodeError> {
                match event_type {
                    $($name => {
                        if schema_version != $version {
                            return Err($crate::event::EventDecodeError::UnknownVersion {
                                event_type: event_type.to_owned(),
                                version: schema_version,
                            });
                        }
                        ::serde_json::from_slice::<$payload>(payload)
                            .map($enum::$variant)
                            .map_err(|source| $crate::event::EventDecodeError::BadPayload {
                                event_type: event_type.to_owned(),
                                source,
                            })
                    })+
                    other => Err($crate::event::EventDecodeError::UnknownType(other.to_owned())),
                }
            }

            fn catalog() -> &'static [(&'static str, u16)] {
                &[$(($name, $version)),+]
            }
        }
    };
}
