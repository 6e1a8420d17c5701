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

/// Reads the number of a `v<N>` schema-version token of [`domain_events!`]
/// (`v1` is a single identifier token, so the macro takes it whole and this
/// function, evaluated at compile time, checks and parses it).
#[doc(hidden)]
pub const fn schema_version(token: &str) -> u16 {
    let bytes = token.as_bytes();
    assert!(
        bytes.len() >= 2 && bytes[0] == b'v',
        "a schema version is written `v<N>`, e.g. `v1`"
    );
    let mut value: u32 = 0;
    let mut index = 1;
    while index < bytes.len() {
        let digit = bytes[index];
        assert!(digit.is_ascii_digit(), "a schema version is written `v<N>`");
        value = value * 10 + (digit - b'0') as u32;
        assert!(value <= u16::MAX as u32, "a schema version fits in a u16");
        index += 1;
    }
    assert!(value >= 1, "schema versions start at 1");
    value as u16
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
///
/// use quire_domain::DomainEvent;
/// let event = DoorEvent::Opened(Opened { by: "ann".into() });
/// assert_eq!((event.event_type(), event.schema_version()), ("door.opened", 1));
/// assert_eq!(DoorEvent::catalog(), &[("door.opened", 1)]);
/// ```
#[macro_export]
macro_rules! domain_events {
    ($enum:ident { $($variant:ident($payload:ty) => $name:literal $version:ident),+ $(,)? }) => {
        impl $crate::event::DomainEvent for $enum {
            fn event_type(&self) -> &'static str {
                match self { $($enum::$variant(_) => $name),+ }
            }

            fn schema_version(&self) -> u16 {
                match self {
                    $($enum::$variant(_) => const { $crate::event::schema_version(stringify!($version)) }),+
                }
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
                        if schema_version != const { $crate::event::schema_version(stringify!($version)) } {
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
                const CATALOG: &[(&str, u16)] =
                    &[$(($name, $crate::event::schema_version(stringify!($version)))),+];
                CATALOG
            }
        }
    };
}
