//! The on-disk format of the embedded log: segment headers, commit frames and
//! event records.
//!
//! A segment file is a 16-byte header followed by frames. One frame is one
//! append call: all of its events or none of them are in the log, because a
//! frame only counts when its checksum matches.
//!
//! ```text
//! segment header : b"QUIRELOG" | format u32 | reserved u32
//! frame          : magic u32 | body_len u32 | crc32c(body) u32 | body
//! body           : event_count u32 | record*
//! record         : rest_len u32 | position u64 | stream_version u64 | event (postcard)
//! ```
//!
//! All integers are little-endian. Position and stream version sit at fixed
//! offsets so that the caller can encode an append while the single writer
//! only patches them in when it assigns them.

use bytes::Bytes;
use quire_domain::{Actor, EventMetadata, NewEvent, Position, RecordedEvent, StreamId, Timestamp};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const SEGMENT_MAGIC: &[u8; 8] = b"QUIRELOG";
pub const FORMAT_VERSION: u32 = 1;
pub const SEGMENT_HEADER_LEN: usize = 16;
pub const FRAME_MAGIC: u32 = 0x5146_524D; // "QFRM"
pub const FRAME_HEADER_LEN: usize = 12;
/// Bytes of a record before its postcard body: rest_len, position, version.
pub const RECORD_HEADER_LEN: usize = 20;

/// The segment header for a new segment file.
pub fn segment_header() -> [u8; SEGMENT_HEADER_LEN] {
    let mut header = [0u8; SEGMENT_HEADER_LEN];
    header[..8].copy_from_slice(SEGMENT_MAGIC);
    header[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    header
}

/// Checks a segment header; `Err` says what is wrong with it.
pub fn check_segment_header(bytes: &[u8]) -> Result<(), String> {
    if bytes.len() < SEGMENT_HEADER_LEN {
        return Err(format!(
            "segment header is {} bytes, expected {SEGMENT_HEADER_LEN}",
            bytes.len()
        ));
    }
    if &bytes[..8] != SEGMENT_MAGIC {
        return Err("not a quire log segment (bad magic)".to_owned());
    }
    let version = read_u32(bytes, 8);
    if version != FORMAT_VERSION {
        return Err(format!(
            "segment format version {version} is not supported (expected {FORMAT_VERSION})"
        ));
    }
    Ok(())
}

/// The stored event body. Borrowed on decode so that scanning a segment at
/// start-up allocates nothing per event.
#[derive(Serialize, Deserialize)]
struct StoredEvent<'a> {
    event_id: Uuid,
    stream_id: &'a str,
    event_type: &'a str,
    schema_version: u16,
    recorded_at: i64,
    correlation_id: Uuid,
    causation_id: Option<Uuid>,
    actor: &'a str,
    #[serde(borrow)]
    traceparent: Option<&'a str>,
    #[serde(borrow)]
    command_id: Option<&'a str>,
    #[serde(with = "serde_bytes")]
    payload: &'a [u8],
}

/// An append encoded by its caller: a frame body whose records still lack
/// their position and stream version.
#[derive(Debug)]
pub struct EncodedAppend {
    /// `event_count u32 | record*`.
    pub body: Vec<u8>,
    /// Offset of each record within `body`.
    pub record_offsets: Vec<u32>,
}

/// Encodes the events of one append as a frame body.
pub fn encode_append(
    stream: &StreamId,
    events: &[NewEvent],
    recorded_at: Timestamp,
) -> Result<EncodedAppend, postcard::Error> {
    let estimate: usize = events.iter().map(|e| e.payload.len() + 160).sum();
    let mut body = Vec::with_capacity(4 + estimate);
    body.extend_from_slice(&(events.len() as u32).to_le_bytes());
    let mut record_offsets = Vec::with_capacity(events.len());
    // Events of one append nearly always share their actor: render it once.
    let mut actor_text: Option<(&Actor, String)> = None;
    for event in events {
        let start = body.len();
        record_offsets.push(start as u32);
        body.resize(start + RECORD_HEADER_LEN, 0);
        let actor = &event.metadata.actor;
        if actor_text.as_ref().is_none_or(|(cached, _)| *cached != actor) {
            actor_text = Some((actor, actor.to_string()));
        }
        let actor = actor_text.as_ref().map_or("", |(_, text)| text.as_str());
        let stored = StoredEvent {
            event_id: event.event_id,
            stream_id: stream.as_str(),
            event_type: &event.event_type,
            schema_version: event.schema_version,
            recorded_at: recorded_at.unix_micros(),
            correlation_id: event.metadata.correlation_id,
            causation_id: event.metadata.causation_id,
            actor,
            traceparent: event.metadata.traceparent.as_deref(),
            command_id: event.metadata.command_id.as_deref(),
            payload: &event.payload,
        };
        body = postcard::to_extend(&stored, body)?;
        let rest_len = (body.len() - start - 4) as u32;
        body[start..start + 4].copy_from_slice(&rest_len.to_le_bytes());
    }
    Ok(EncodedAppend { body, record_offsets })
}

/// Writes the position and stream version into an encoded record.
pub fn patch_record(body: &mut [u8], record_offset: usize, position: Position, version: u64) {
    body[record_offset + 4..record_offset + 12].copy_from_slice(&position.0.to_le_bytes());
    body[record_offset + 12..record_offset + 20].copy_from_slice(&version.to_le_bytes());
}

/// Appends `header | body` of a frame to `out`.
pub fn write_frame(out: &mut Vec<u8>, body: &[u8]) {
    out.extend_from_slice(&FRAME_MAGIC.to_le_bytes());
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32c::crc32c(body).to_le_bytes());
    out.extend_from_slice(body);
}

/// A parsed frame header.
#[derive(Debug, Clone, Copy)]
pub struct FrameHeader {
    pub body_len: u32,
    pub crc: u32,
}

pub fn parse_frame_header(bytes: &[u8]) -> Result<FrameHeader, String> {
    if bytes.len() < FRAME_HEADER_LEN {
        return Err("frame header is cut short".to_owned());
    }
    if read_u32(bytes, 0) != FRAME_MAGIC {
        return Err("no frame magic".to_owned());
    }
    Ok(FrameHeader {
        body_len: read_u32(bytes, 4),
        crc: read_u32(bytes, 8),
    })
}

/// What start-up needs of one record, borrowed from the frame.
#[derive(Debug)]
pub struct RecordSummary<'a> {
    /// Offset of the record within the frame body.
    pub offset: usize,
    pub len: usize,
    pub position: Position,
    pub stream_version: u64,
    pub event_id: Uuid,
    pub stream_id: &'a str,
}

/// Splits a checksummed frame body into its records.
pub fn parse_frame_body(body: &[u8]) -> Result<Vec<RecordSummary<'_>>, String> {
    if body.len() < 4 {
        return Err("frame body has no event count".to_owned());
    }
    let count = read_u32(body, 0) as usize;
    let mut records = Vec::with_capacity(count.min(body.len() / RECORD_HEADER_LEN));
    let mut offset = 4;
    for index in 0..count {
        let record = record_at(body, offset).ok_or_else(|| format!("record {index} overruns its frame"))?;
        let (header, stored) = split_record(record).map_err(|e| format!("record {index}: {e}"))?;
        records.push(RecordSummary {
            offset,
            len: record.len(),
            position: header.0,
            stream_version: header.1,
            event_id: stored.event_id,
            stream_id: stored.stream_id,
        });
        offset += record.len();
    }
    if offset != body.len() {
        return Err(format!(
            "{} stray bytes after the last record",
            body.len() - offset
        ));
    }
    Ok(records)
}

fn record_at(body: &[u8], offset: usize) -> Option<&[u8]> {
    let rest_len = read_u32_checked(body, offset)? as usize;
    let end = offset.checked_add(4)?.checked_add(rest_len)?;
    if rest_len < RECORD_HEADER_LEN - 4 || end > body.len() {
        return None;
    }
    Some(&body[offset..end])
}

fn split_record(record: &[u8]) -> Result<((Position, u64), StoredEvent<'_>), String> {
    let position = Position(read_u64(record, 4));
    let version = read_u64(record, 12);
    let stored: StoredEvent<'_> =
        postcard::from_bytes(&record[RECORD_HEADER_LEN..]).map_err(|e| format!("undecodable event: {e}"))?;
    Ok(((position, version), stored))
}

/// Decodes one whole record (as stored, header included) into an event.
pub fn decode_record(record: &[u8]) -> Result<RecordedEvent, String> {
    if record.len() < RECORD_HEADER_LEN {
        return Err("record is cut short".to_owned());
    }
    let ((position, stream_version), stored) = split_record(record)?;
    let stream_id = StreamId::parse(stored.stream_id).map_err(|e| e.to_string())?;
    let actor = Actor::parse(stored.actor).map_err(|e| e.to_string())?;
    Ok(RecordedEvent {
        event_id: stored.event_id,
        stream_id,
        stream_version,
        position,
        event_type: stored.event_type.to_owned(),
        schema_version: stored.schema_version,
        recorded_at: Timestamp(stored.recorded_at),
        metadata: EventMetadata {
            correlation_id: stored.correlation_id,
            causation_id: stored.causation_id,
            actor,
            traceparent: stored.traceparent.map(str::to_owned),
            command_id: stored.command_id.map(str::to_owned),
        },
        payload: Bytes::copy_from_slice(stored.payload),
    })
}

fn read_u32(bytes: &[u8], at: usize) -> u32 {
    let mut raw = [0u8; 4];
    raw.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(raw)
}

fn read_u32_checked(bytes: &[u8], at: usize) -> Option<u32> {
    let raw: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(raw))
}

fn read_u64(bytes: &[u8], at: usize) -> u64 {
    let mut raw = [0u8; 8];
    raw.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(raw)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn new_event(
        event_type: String,
        payload: Vec<u8>,
        traceparent: Option<String>,
        command: Option<String>,
    ) -> NewEvent {
        let mut metadata = EventMetadata::new(Actor::user("u1"));
        metadata.traceparent = traceparent;
        metadata.command_id = command;
        metadata.causation_id = Some(Uuid::now_v7());
        NewEvent {
            event_id: Uuid::now_v7(),
            event_type,
            schema_version: 3,
            payload: Bytes::from(payload),
            metadata,
        }
    }

    proptest! {
        #[test]
        fn records_round_trip(
            types in proptest::collection::vec("[a-z._]{1,40}", 1..8),
            payload in proptest::collection::vec(any::<u8>(), 0..300),
            traceparent in proptest::option::of("[0-9a-f-]{10,55}"),
            command in proptest::option::of(".{0,40}"),
            first_position in 1u64..1_000_000,
        ) {
            let stream = StreamId::parse("channel-abc").unwrap();
            let events: Vec<NewEvent> = types
                .into_iter()
                .map(|t| new_event(t, payload.clone(), traceparent.clone(), command.clone()))
                .collect();
            let mut encoded = encode_append(&stream, &events, Timestamp(42)).unwrap();
            for (i, offset) in encoded.record_offsets.iter().enumerate() {
                patch_record(&mut encoded.body, *offset as usize, Position(first_position + i as u64), 7 + i as u64);
            }
            let mut frame = Vec::new();
            write_frame(&mut frame, &encoded.body);
            let header = parse_frame_header(&frame).unwrap();
            let body = &frame[FRAME_HEADER_LEN..];
            prop_assert_eq!(header.body_len as usize, body.len());
            prop_assert_eq!(header.crc, crc32c::crc32c(body));
            let summaries = parse_frame_body(body).unwrap();
            prop_assert_eq!(summaries.len(), events.len());
            for (i, (summary, event)) in summaries.iter().zip(&events).enumerate() {
                let decoded = decode_record(&body[summary.offset..summary.offset + summary.len]).unwrap();
                prop_assert_eq!(decoded.position, Position(first_position + i as u64));
                prop_assert_eq!(decoded.stream_version, 7 + i as u64);
                prop_assert_eq!(&decoded.event_id, &event.event_id);
                prop_assert_eq!(&decoded.event_type, &event.event_type);
                prop_assert_eq!(&decoded.payload, &event.payload);
                prop_assert_eq!(&decoded.metadata, &event.metadata);
                prop_assert_eq!(decoded.recorded_at, Timestamp(42));
            }
        }

        #[test]
        fn garbage_bodies_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_frame_body(&body);
            let _ = decode_record(&body);
            let _ = parse_frame_header(&body);
        }
    }
}
