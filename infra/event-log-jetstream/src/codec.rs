//! The payload of one JetStream message: every event of one append.
//!
//! ```text
//! payload : format u8 (= 1) | header (postcard) | event (postcard) × header.count
//! header  : stream id, first version, first position, previous subject
//!           sequence, recorded_at, event count
//! event   : id, type, schema version, metadata, JSON payload
//! ```
//!
//! The caller encodes the events ([`encode_events`]) before the writer knows
//! their versions and positions; the writer then puts the small header in
//! front ([`encode_message`]). Decoding yields the recorded events with their
//! payloads sliced out of the message, without copying.

use std::borrow::Cow;
use std::sync::Arc;

use bytes::Bytes;
use quire_domain::{Actor, EventMetadata, NewEvent, Position, RecordedEvent, StreamId, Timestamp};
use quire_event_log::{AppendResult, LogError};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The payload format this crate writes and reads.
pub const FORMAT: u8 = 1;

/// Where one append lands: everything the header holds but the count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub stream_id: StreamId,
    pub first_version: u64,
    pub first_position: Position,
    /// JetStream sequence of the stream's previous message (0: none).
    pub previous: u64,
    pub recorded_at: Timestamp,
}

/// The events of one append, encoded, without a header.
#[derive(Debug, Clone)]
pub struct EncodedEvents {
    bytes: Vec<u8>,
    count: u32,
}

/// One decoded message: an append with its stream versions and positions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendMessage {
    pub placement: Placement,
    pub events: Vec<Arc<RecordedEvent>>,
}

impl AppendMessage {
    pub fn count(&self) -> u64 {
        self.events.len() as u64
    }

    pub fn stream_id(&self) -> &StreamId {
        &self.placement.stream_id
    }

    pub fn first_version(&self) -> u64 {
        self.placement.first_version
    }

    pub fn last_version(&self) -> u64 {
        self.placement.first_version + self.count() - 1
    }

    pub fn first_position(&self) -> Position {
        self.placement.first_position
    }

    pub fn last_position(&self) -> Position {
        Position(self.placement.first_position.0 + self.count() - 1)
    }

    /// The message id (`Nats-Msg-Id`) the append was published with.
    pub fn first_event_id(&self) -> Uuid {
        self.events.first().map_or(Uuid::nil(), |e| e.event_id)
    }

    /// What `append` returned (or returns to a retry) for this message.
    pub fn result(&self) -> AppendResult {
        AppendResult {
            stream_id: self.placement.stream_id.clone(),
            first_version: self.first_version(),
            last_version: self.last_version(),
            first_position: self.first_position(),
            last_position: self.last_position(),
        }
    }
}

/// A payload this crate cannot read.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("empty payload")]
    Empty,
    #[error("payload format {0} is not supported (expected {FORMAT})")]
    Format(u8),
    #[error("undecodable payload: {0}")]
    Postcard(#[from] postcard::Error),
    #[error("the message holds no events")]
    NoEvents,
    #[error("{0} bytes follow the last event")]
    Trailing(usize),
    #[error("bad stream id: {0}")]
    StreamId(#[from] quire_domain::InvalidStreamId),
    #[error("bad actor: {0}")]
    Actor(#[from] quire_domain::envelope::InvalidActor),
    #[error("version or position overflows")]
    Overflow,
}

#[derive(Serialize, Deserialize)]
struct WireHeader<'a> {
    #[serde(borrow)]
    stream_id: Cow<'a, str>,
    first_version: u64,
    first_position: u64,
    previous: u64,
    recorded_at: i64,
    count: u32,
}

#[derive(Serialize, Deserialize)]
struct WireEvent<'a> {
    event_id: Uuid,
    event_type: &'a str,
    schema_version: u16,
    correlation_id: Uuid,
    causation_id: Option<Uuid>,
    #[serde(borrow)]
    actor: Cow<'a, str>,
    #[serde(borrow)]
    traceparent: Option<&'a str>,
    #[serde(borrow)]
    command_id: Option<&'a str>,
    #[serde(with = "serde_bytes")]
    payload: &'a [u8],
}

/// Encodes the events of one append; refuses one larger than
/// `max_event_bytes` encoded.
pub fn encode_events(events: &[NewEvent], max_event_bytes: usize) -> Result<EncodedEvents, LogError> {
    let mut bytes = Vec::with_capacity(events.iter().map(|e| e.payload.len() + 128).sum());
    for event in events {
        let start = bytes.len();
        bytes = postcard::to_extend(&wire_event(event), bytes).map_err(|e| {
            LogError::InvalidAppend(format!("event {} cannot be encoded: {e}", event.event_id))
        })?;
        let size = bytes.len() - start;
        if size > max_event_bytes {
            return Err(LogError::EventTooLarge {
                event_id: event.event_id,
                size,
                max: max_event_bytes,
            });
        }
    }
    let count = u32::try_from(events.len())
        .map_err(|_| LogError::InvalidAppend(format!("{} events in one append", events.len())))?;
    Ok(EncodedEvents { bytes, count })
}

fn wire_event(event: &NewEvent) -> WireEvent<'_> {
    let metadata = &event.metadata;
    WireEvent {
        event_id: event.event_id,
        event_type: &event.event_type,
        schema_version: event.schema_version,
        correlation_id: metadata.correlation_id,
        causation_id: metadata.causation_id,
        actor: Cow::Owned(metadata.actor.to_string()),
        traceparent: metadata.traceparent.as_deref(),
        command_id: metadata.command_id.as_deref(),
        payload: &event.payload,
    }
}

/// The message payload: format byte, header, then the encoded events.
pub fn encode_message(placement: &Placement, events: &EncodedEvents) -> Result<Bytes, LogError> {
    let header = WireHeader {
        stream_id: Cow::Borrowed(placement.stream_id.as_str()),
        first_version: placement.first_version,
        first_position: placement.first_position.0,
        previous: placement.previous,
        recorded_at: placement.recorded_at.unix_micros(),
        count: events.count,
    };
    let mut out = Vec::with_capacity(events.bytes.len() + placement.stream_id.as_str().len() + 48);
    out.push(FORMAT);
    out = postcard::to_extend(&header, out)
        .map_err(|e| LogError::InvalidAppend(format!("the append header cannot be encoded: {e}")))?;
    out.extend_from_slice(&events.bytes);
    Ok(Bytes::from(out))
}

/// Decodes one message payload.
pub fn decode_message(payload: &Bytes) -> Result<AppendMessage, CodecError> {
    let (&format, rest) = payload.split_first().ok_or(CodecError::Empty)?;
    if format != FORMAT {
        return Err(CodecError::Format(format));
    }
    let (header, mut rest) = postcard::take_from_bytes::<WireHeader<'_>>(rest)?;
    if header.count == 0 {
        return Err(CodecError::NoEvents);
    }
    let placement = placement(&header)?;
    let mut events = Vec::with_capacity(header.count as usize);
    for i in 0..u64::from(header.count) {
        let (wire, tail) = postcard::take_from_bytes::<WireEvent<'_>>(rest)?;
        events.push(Arc::new(recorded(payload, &placement, i, wire)?));
        rest = tail;
    }
    if !rest.is_empty() {
        return Err(CodecError::Trailing(rest.len()));
    }
    Ok(AppendMessage { placement, events })
}

fn placement(header: &WireHeader<'_>) -> Result<Placement, CodecError> {
    let count = u64::from(header.count);
    if header.first_version.checked_add(count).is_none() || header.first_position.checked_add(count).is_none()
    {
        return Err(CodecError::Overflow);
    }
    Ok(Placement {
        stream_id: StreamId::parse(&header.stream_id)?,
        first_version: header.first_version,
        first_position: Position(header.first_position),
        previous: header.previous,
        recorded_at: Timestamp::from_unix_micros(header.recorded_at),
    })
}

fn recorded(
    message: &Bytes,
    placement: &Placement,
    index: u64,
    wire: WireEvent<'_>,
) -> Result<RecordedEvent, CodecError> {
    Ok(RecordedEvent {
        event_id: wire.event_id,
        stream_id: placement.stream_id.clone(),
        stream_version: placement.first_version + index,
        position: Position(placement.first_position.0 + index),
        event_type: wire.event_type.to_owned(),
        schema_version: wire.schema_version,
        recorded_at: placement.recorded_at,
        metadata: EventMetadata {
            correlation_id: wire.correlation_id,
            causation_id: wire.causation_id,
            actor: Actor::parse(&wire.actor)?,
            traceparent: wire.traceparent.map(str::to_owned),
            command_id: wire.command_id.map(str::to_owned),
        },
        payload: if wire.payload.is_empty() {
            Bytes::new()
        } else {
            message.slice_ref(wire.payload)
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn arb_event() -> impl Strategy<Value = NewEvent> {
        (
            "[a-z]{1,8}\\.[a-z_]{1,12}",
            any::<u16>(),
            proptest::collection::vec(any::<u8>(), 0..64),
            prop_oneof![Just(Actor::user("u1")), "[a-z0-9]{1,10}".prop_map(Actor::service)],
            proptest::option::of("\\PC{0,40}"),
            proptest::option::of("\\PC{0,20}"),
            any::<bool>(),
        )
            .prop_map(|(event_type, schema, payload, actor, trace, command, caused)| {
                let mut metadata = EventMetadata::new(actor);
                metadata.traceparent = trace;
                metadata.command_id = command;
                metadata.causation_id = caused.then(Uuid::now_v7);
                NewEvent {
                    event_id: Uuid::now_v7(),
                    event_type,
                    schema_version: schema,
                    payload: Bytes::from(payload),
                    metadata,
                }
            })
    }

    fn placement(stream: &str, version: u64, position: u64) -> Placement {
        Placement {
            stream_id: StreamId::parse(stream).unwrap(),
            first_version: version,
            first_position: Position(position),
            previous: 17,
            recorded_at: Timestamp::from_unix_micros(1_700_000_000_000_000),
        }
    }

    proptest! {
        #[test]
        fn messages_round_trip(
            events in proptest::collection::vec(arb_event(), 1..6),
            version in 0u64..1 << 40,
            position in 1u64..1 << 40,
            stream in "[a-z]{1,8}-[a-zA-Z0-9.*>%é-]{1,30}",
        ) {
            let placement = placement(&stream, version, position);
            let encoded = encode_events(&events, 1 << 20).unwrap();
            let decoded = decode_message(&encode_message(&placement, &encoded).unwrap()).unwrap();
            prop_assert_eq!(&decoded.placement, &placement);
            prop_assert_eq!(decoded.count(), events.len() as u64);
            for (i, (recorded, sent)) in decoded.events.iter().zip(&events).enumerate() {
                prop_assert_eq!(recorded.event_id, sent.event_id);
                prop_assert_eq!(&recorded.event_type, &sent.event_type);
                prop_assert_eq!(recorded.schema_version, sent.schema_version);
                prop_assert_eq!(&recorded.payload, &sent.payload);
                prop_assert_eq!(&recorded.metadata, &sent.metadata);
                prop_assert_eq!(recorded.stream_version, version + i as u64);
                prop_assert_eq!(recorded.position, Position(position + i as u64));
                prop_assert_eq!(recorded.recorded_at, placement.recorded_at);
            }
            prop_assert_eq!(decoded.last_position(), Position(position + events.len() as u64 - 1));
        }

        #[test]
        fn damaged_payloads_fail_cleanly(
            events in proptest::collection::vec(arb_event(), 1..3),
            cut in 0usize..200,
        ) {
            let bytes = encode_message(&placement("doc-1", 0, 1), &encode_events(&events, 1 << 20).unwrap()).unwrap();
            let cut = cut.min(bytes.len() - 1);
            prop_assert!(decode_message(&bytes.slice(..cut)).is_err());
        }
    }

    #[test]
    fn result_and_ids_describe_the_append() {
        let events = vec![NewEvent {
            event_id: Uuid::now_v7(),
            event_type: "doc.made".to_owned(),
            schema_version: 1,
            payload: Bytes::from_static(b"{}"),
            metadata: EventMetadata::new(Actor::user("u")),
        }];
        let encoded = encode_events(&events, 1 << 20).unwrap();
        let message = decode_message(&encode_message(&placement("doc-1", 4, 9), &encoded).unwrap()).unwrap();
        assert_eq!(message.first_event_id(), events[0].event_id);
        let result = message.result();
        assert_eq!((result.first_version, result.last_version), (4, 4));
        assert_eq!(
            (result.first_position, result.last_position),
            (Position(9), Position(9))
        );
    }

    #[test]
    fn oversized_events_and_foreign_formats_are_refused() {
        let mut event = NewEvent {
            event_id: Uuid::now_v7(),
            event_type: "doc.made".to_owned(),
            schema_version: 1,
            payload: Bytes::from(vec![b'x'; 600]),
            metadata: EventMetadata::new(Actor::user("u")),
        };
        assert!(matches!(
            encode_events(std::slice::from_ref(&event), 512),
            Err(LogError::EventTooLarge { size, max: 512, .. }) if size > 600
        ));
        event.payload = Bytes::new();
        let mut bytes = encode_message(&placement("doc-1", 0, 1), &encode_events(&[event], 512).unwrap())
            .unwrap()
            .to_vec();
        bytes[0] = 9;
        assert!(matches!(
            decode_message(&Bytes::from(bytes)),
            Err(CodecError::Format(9))
        ));
        assert!(matches!(decode_message(&Bytes::new()), Err(CodecError::Empty)));
    }
}
