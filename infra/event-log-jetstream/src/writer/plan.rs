//! Planning an append: the expected-version check against the cached (or
//! re-read) state of its stream, and the message that carries it.
//!
//! A request refused by the check is answered at once, with two
//! exceptions. A retry of the stream's newest append gets that append's
//! result. A request whose earlier attempt may have been stored (its
//! acknowledgement was lost) is sent as a *probe*: a message with its id
//! that the server can never store (it expects the log and the stream to be
//! empty, which they are not), so the server answers either "duplicate"
//! (the earlier attempt was stored: its result is returned) or "wrong last
//! sequence" (it was not: the conflict is reported).

use std::time::{SystemTime, UNIX_EPOCH};

use async_nats::jetstream::message::PublishMessage;
use async_nats::{HeaderMap, header};
use bytes::Bytes;
use quire_domain::{Position, StreamId, Timestamp};
use quire_event_log::{AppendResult, LogError};
use uuid::Uuid;

use super::{AppendRequest, StreamTail, Tail, Writer};
use crate::codec::{AppendMessage, Placement, encode_message};
use crate::store::Stored;

/// Header with the position of the message's first event (informational).
pub const POSITION_HEADER: &str = "Quire-Position";
/// Header with the stream version of the message's first event.
pub const VERSION_HEADER: &str = "Quire-Version";
/// Header with the number of events in the message.
pub const COUNT_HEADER: &str = "Quire-Events";

/// What planning made of a request.
pub(super) enum Planned {
    Publish(AppendRequest, Plan, PublishMessage),
    /// Answered without publishing (conflict, retry of the newest append,
    /// bad input).
    Answered,
    /// Try again in a later batch.
    Later(AppendRequest),
}

/// What a published message is for.
#[derive(Debug)]
pub(super) enum Plan {
    /// A new append, expected to be stored at sequence `seq`.
    Append { seq: u64, result: AppendResult },
    /// A message that cannot be stored, asking whether the append already
    /// is; `actual` is the stream's version for the conflict otherwise.
    Probe { actual: Option<u64> },
}

/// The expected-version check of one request.
enum Checked {
    Accepted(StreamTail),
    /// Refused against fresh state; the stream's newest message, if any.
    Refused(StreamTail, Option<Stored>),
}

impl Writer {
    /// Checks the expected version and builds the message.
    pub(super) async fn plan(&mut self, request: AppendRequest) -> Planned {
        let state = match self.checked_state(&request).await {
            Ok(Checked::Accepted(state)) => state,
            Ok(Checked::Refused(state, last)) => return self.refused(request, state, last),
            Err(error) => {
                self.note_failure(error.to_string());
                return Planned::Later(request);
            }
        };
        match self.build(&request, state) {
            Ok(Some((plan, message))) => Planned::Publish(request, plan, message),
            Ok(None) => Planned::Later(request),
            Err(error) => {
                request.answer(Err(error));
                Planned::Answered
            }
        }
    }

    /// The stream's state if it meets the expectation; re-read from the
    /// server when the cached state does not.
    async fn checked_state(&mut self, request: &AppendRequest) -> Result<Checked, LogError> {
        if let Some(state) = self.streams.get(&request.stream)
            && request.expected.accepts(state.last_version)
        {
            return Ok(Checked::Accepted(*state));
        }
        let last = self.store.last(&request.subject).await?;
        let state = self.remember(request.stream.clone(), StreamTail::of(last.as_ref()));
        if request.expected.accepts(state.last_version) {
            return Ok(Checked::Accepted(state));
        }
        Ok(Checked::Refused(state, last))
    }

    fn refused(&self, request: AppendRequest, state: StreamTail, last: Option<Stored>) -> Planned {
        if let Some(last) = last.filter(|m| m.message.first_event_id() == request.message_id()) {
            let answer = judge(&last.message, &request.stream, &request.event_ids);
            request.answer(answer);
            return Planned::Answered;
        }
        if request.uncertain && state.subject_seq > 0 {
            let headers = probe_headers(&self.store.config.stream_name, &request.message_id().to_string());
            let message = PublishMessage::build().headers(headers).payload(Bytes::new());
            let plan = Plan::Probe {
                actual: state.last_version,
            };
            return Planned::Publish(request, plan, message);
        }
        let conflict = conflict(&request, state.last_version);
        request.answer(Err(conflict));
        Planned::Answered
    }

    /// The message for `request` on top of the current tail; `None` if the
    /// tail is unknown.
    fn build(
        &mut self,
        request: &AppendRequest,
        state: StreamTail,
    ) -> Result<Option<(Plan, PublishMessage)>, LogError> {
        let Some(tail) = self.tail.clone() else {
            return Ok(None);
        };
        let count = request.event_ids.len() as u64;
        let placement = Placement {
            stream_id: request.stream.clone(),
            first_version: state.last_version.map_or(0, |v| v + 1),
            first_position: Position(tail.next_position),
            previous: state.subject_seq,
            recorded_at: now(),
        };
        let payload = encode_message(&placement, &request.encoded)?;
        self.check_size(payload.len())?;
        let message_id = request.message_id().to_string();
        // Only a view of the stream from an older epoch needs the server's
        // own check (see the module doc of `writer`).
        let subject_check = (state.epoch != self.epoch).then_some(state.subject_seq);
        let headers = headers(
            &self.store.config.stream_name,
            &message_id,
            &tail,
            subject_check,
            &placement,
            count,
        );
        let message = PublishMessage::build().headers(headers).payload(payload);
        let result = result_of(&placement, count);
        self.advance(&request.stream, tail.seq + 1, &result, message_id);
        Ok(Some((
            Plan::Append {
                seq: tail.seq + 1,
                result,
            },
            message,
        )))
    }

    fn check_size(&self, payload: usize) -> Result<(), LogError> {
        let max = self.store.max_payload();
        // Headers take a few hundred bytes at most.
        if payload + 1024 > max {
            return Err(LogError::InvalidAppend(format!(
                "the append encodes to {payload} bytes, more than the server's max_payload of {max} allows"
            )));
        }
        Ok(())
    }

    /// Moves the predicted tail and stream state past a published append.
    fn advance(&mut self, stream: &StreamId, seq: u64, result: &AppendResult, message_id: String) {
        self.tail = Some(Tail {
            seq,
            next_position: result.last_position.0 + 1,
            pending_id: Some(message_id),
        });
        self.remember(stream.clone(), StreamTail::new(seq, Some(result.last_version)));
    }
}

/// What an append of `count` events at `placement` returns.
fn result_of(placement: &Placement, count: u64) -> AppendResult {
    AppendResult {
        stream_id: placement.stream_id.clone(),
        first_version: placement.first_version,
        last_version: placement.first_version + count - 1,
        first_position: placement.first_position,
        last_position: Position(placement.first_position.0 + count - 1),
    }
}

/// The conflict a refused request gets.
pub(super) fn conflict(request: &AppendRequest, actual: Option<u64>) -> LogError {
    LogError::WrongExpectedVersion {
        stream: request.stream.clone(),
        expected: request.expected,
        actual,
    }
}

/// A retry of `original` (same stream, same event ids) gets its result;
/// any other reuse of its id is a conflict.
pub fn judge(original: &AppendMessage, stream: &StreamId, ids: &[Uuid]) -> Result<AppendResult, LogError> {
    let event_id = ids.first().copied().unwrap_or_default();
    if original.stream_id() != stream {
        return Err(LogError::IdempotencyConflict {
            event_id,
            reason: format!("it was appended to stream {}", original.stream_id()),
        });
    }
    let same = original.events.len() == ids.len()
        && original.events.iter().zip(ids).all(|(e, id)| e.event_id == *id);
    if !same {
        return Err(LogError::IdempotencyConflict {
            event_id,
            reason: "it was appended together with other events".to_owned(),
        });
    }
    Ok(original.result())
}

/// The headers of a message with id `message_id` on top of `tail`; with
/// `subject_check`, the event stream's last subject sequence the server
/// must find.
fn headers(
    stream_name: &str,
    message_id: &str,
    tail: &Tail,
    subject_check: Option<u64>,
    placement: &Placement,
    count: u64,
) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(header::NATS_MESSAGE_ID, message_id);
    headers.insert(header::NATS_EXPECTED_STREAM, stream_name);
    headers.insert(header::NATS_EXPECTED_LAST_SEQUENCE, tail.seq.to_string().as_str());
    if let Some(subject_seq) = subject_check {
        let subject_seq = subject_seq.to_string();
        headers.insert(header::NATS_EXPECTED_LAST_SUBJECT_SEQUENCE, subject_seq.as_str());
    }
    if let Some(previous) = &tail.pending_id {
        headers.insert(header::NATS_EXPECTED_LAST_MESSAGE_ID, previous.as_str());
    }
    headers.insert(POSITION_HEADER, placement.first_position.0.to_string().as_str());
    headers.insert(VERSION_HEADER, placement.first_version.to_string().as_str());
    headers.insert(COUNT_HEADER, count.to_string().as_str());
    headers
}

/// A probe expects an empty log and an empty stream, which a stream with a
/// message never is again (sequences only grow).
fn probe_headers(stream_name: &str, message_id: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(header::NATS_MESSAGE_ID, message_id);
    headers.insert(header::NATS_EXPECTED_STREAM, stream_name);
    headers.insert(header::NATS_EXPECTED_LAST_SEQUENCE, "0");
    headers.insert(header::NATS_EXPECTED_LAST_SUBJECT_SEQUENCE, "0");
    headers
}

pub(crate) fn now() -> Timestamp {
    let micros = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
    Timestamp::from_unix_micros(micros)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{decode_message, encode_events};
    use quire_domain::{Actor, EventMetadata, NewEvent};

    fn message(stream: &str, ids: &[Uuid]) -> AppendMessage {
        let events: Vec<NewEvent> = ids
            .iter()
            .map(|id| NewEvent {
                event_id: *id,
                event_type: "doc.made".to_owned(),
                schema_version: 1,
                payload: Bytes::from_static(b"{}"),
                metadata: EventMetadata::new(Actor::user("u")),
            })
            .collect();
        let placement = Placement {
            stream_id: StreamId::parse(stream).unwrap(),
            first_version: 3,
            first_position: Position(40),
            previous: 7,
            recorded_at: now(),
        };
        let encoded = encode_events(&events, 1 << 20).unwrap();
        decode_message(&encode_message(&placement, &encoded).unwrap()).unwrap()
    }

    fn value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
        headers.get(name).map(|v| v.as_str())
    }

    #[test]
    fn a_retry_gets_the_original_result_and_other_reuse_conflicts() {
        let ids = [Uuid::now_v7(), Uuid::now_v7()];
        let original = message("doc-1", &ids);
        let stream = StreamId::parse("doc-1").unwrap();
        let result = judge(&original, &stream, &ids).unwrap();
        assert_eq!((result.first_version, result.last_version), (3, 4));
        assert_eq!(
            (result.first_position, result.last_position),
            (Position(40), Position(41))
        );
        assert!(matches!(
            judge(&original, &stream, &[ids[0], Uuid::now_v7()]),
            Err(LogError::IdempotencyConflict { .. })
        ));
        assert!(matches!(
            judge(&original, &stream, &ids[..1]),
            Err(LogError::IdempotencyConflict { .. })
        ));
        let other = StreamId::parse("doc-2").unwrap();
        assert!(matches!(
            judge(&original, &other, &ids),
            Err(LogError::IdempotencyConflict { reason, .. }) if reason.contains("doc-1")
        ));
    }

    #[test]
    fn pipelined_messages_name_their_predecessor() {
        let placement = message("doc-1", &[Uuid::now_v7()]).placement;
        let mut tail = Tail {
            seq: 9,
            next_position: 40,
            pending_id: None,
        };
        let first = headers("S", "m1", &tail, Some(5), &placement, 1);
        assert_eq!(value(&first, "Nats-Expected-Last-Sequence"), Some("9"));
        assert_eq!(value(&first, "Nats-Expected-Last-Subject-Sequence"), Some("5"));
        assert_eq!(value(&first, "Nats-Expected-Stream"), Some("S"));
        assert_eq!(value(&first, "Nats-Msg-Id"), Some("m1"));
        assert_eq!(value(&first, "Nats-Expected-Last-Msg-Id"), None);
        tail.pending_id = Some("m1".to_owned());
        let next = headers("S", "m2", &tail, None, &placement, 1);
        assert_eq!(value(&next, "Nats-Expected-Last-Msg-Id"), Some("m1"));
        assert_eq!(value(&next, "Nats-Expected-Last-Sequence"), Some("9"));
        assert_eq!(value(&next, "Nats-Expected-Last-Subject-Sequence"), None);
        assert_eq!(value(&next, POSITION_HEADER), Some("40"));
        assert_eq!(value(&next, VERSION_HEADER), Some("3"));
    }

    #[test]
    fn probes_expect_an_empty_log() {
        let probe = probe_headers("S", "m1");
        assert_eq!(value(&probe, "Nats-Msg-Id"), Some("m1"));
        assert_eq!(value(&probe, "Nats-Expected-Last-Sequence"), Some("0"));
        assert_eq!(value(&probe, "Nats-Expected-Last-Subject-Sequence"), Some("0"));
    }
}
