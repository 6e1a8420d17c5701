//! Admission of the appends of one group commit: idempotency, expected
//! version, and the assignment of stream versions and global positions.
//!
//! The writer alone owns the event-id index, so checking an id and claiming
//! it for a new event is one hash-map probe. Ids claimed by an append that is
//! then refused, or by a group whose write fails, are released again.

use std::collections::hash_map::Entry;

use quire_domain::{Position, StreamId};
use quire_event_log::{AppendResult, LogError};
use rustc_hash::FxHashMap;
use uuid::Uuid;

use crate::format::{patch_record, write_frame};
use crate::index::Index;
use crate::writer::AppendRequest;

/// How one request of a group turned out before the write.
#[derive(Debug)]
pub enum Admission {
    /// New events to write; the frame starts at `frame_offset` in the group
    /// buffer.
    Write {
        result: AppendResult,
        frame_offset: usize,
    },
    /// A retry of events already in the log (or earlier in this group).
    Duplicate(AppendResult),
    Rejected(LogError),
}

/// An append of the group being built, for retries within the same group.
#[derive(Debug)]
struct Pending {
    stream: StreamId,
    first_position: u64,
    first_version: u64,
    count: u64,
}

/// The writer's scratch state for one group; kept between groups so that
/// its collections keep their capacity.
#[derive(Debug, Default)]
pub struct GroupState {
    stream_versions: FxHashMap<StreamId, u64>,
    pending: Vec<Pending>,
    /// Ids this group claimed in the id index, released if it fails.
    claimed: Vec<Uuid>,
    first_position: u64,
    next_position: u64,
}

impl GroupState {
    /// Starts a group whose first event will get position `head + 1`.
    pub fn start(&mut self, head: Position) {
        self.stream_versions.clear();
        self.pending.clear();
        self.claimed.clear();
        self.first_position = head.0 + 1;
        self.next_position = head.0 + 1;
    }

    /// Releases every id the group claimed: its write failed.
    pub fn abandon(&mut self, ids: &mut FxHashMap<Uuid, Position>) {
        release(ids, &mut self.claimed, 0);
    }
}

fn release(ids: &mut FxHashMap<Uuid, Position>, claimed: &mut Vec<Uuid>, from: usize) {
    for id in claimed.drain(from..) {
        ids.remove(&id);
    }
}

/// Decides one request: duplicate, rejected, or framed into `buffer` with
/// its versions and positions patched in.
pub fn admit(
    index: &Index,
    ids: &mut FxHashMap<Uuid, Position>,
    group: &mut GroupState,
    request: &mut AppendRequest,
    buffer: &mut Vec<u8>,
) -> Admission {
    let claimed_from = group.claimed.len();
    let first_position = group.next_position;
    let mut found = Vec::new();
    for (i, event) in request.events.iter().enumerate() {
        match ids.entry(event.event_id) {
            Entry::Vacant(slot) => {
                slot.insert(Position(first_position + i as u64));
                group.claimed.push(event.event_id);
            }
            Entry::Occupied(slot) => found.push((event.event_id, *slot.get())),
        }
    }
    if !found.is_empty() {
        release(ids, &mut group.claimed, claimed_from);
        return previous_append(index, group, request, &found);
    }
    let stream = request.stream.as_str();
    let current = group
        .stream_versions
        .get(stream)
        .copied()
        .or_else(|| index.stream_version(stream));
    if !request.expected.accepts(current) {
        release(ids, &mut group.claimed, claimed_from);
        return Admission::Rejected(LogError::WrongExpectedVersion {
            stream: request.stream.clone(),
            expected: request.expected,
            actual: current,
        });
    }
    let first_version = current.map_or(0, |v| v + 1);
    let count = request.events.len() as u64;
    for (i, offset) in request.encoded.record_offsets.iter().enumerate() {
        let at = i as u64;
        patch_record(
            &mut request.encoded.body,
            *offset as usize,
            Position(first_position + at),
            first_version + at,
        );
    }
    group.next_position += count;
    group
        .stream_versions
        .insert(request.stream.clone(), first_version + count - 1);
    group.pending.push(Pending {
        stream: request.stream.clone(),
        first_position,
        first_version,
        count,
    });
    let frame_offset = buffer.len();
    write_frame(buffer, &request.encoded.body);
    let result = AppendResult {
        stream_id: request.stream.clone(),
        first_version,
        last_version: first_version + count - 1,
        first_position: Position(first_position),
        last_position: Position(first_position + count - 1),
    };
    Admission::Write { result, frame_offset }
}

/// Every event id of `request` was appended before: the result of that
/// append if this is a faithful retry of it, a conflict otherwise.
fn previous_append(
    index: &Index,
    group: &GroupState,
    request: &AppendRequest,
    found: &[(Uuid, Position)],
) -> Admission {
    let conflict = |event_id: Uuid, reason: String| {
        Admission::Rejected(LogError::IdempotencyConflict { event_id, reason })
    };
    let stream = request.stream.as_str();
    if found.len() != request.events.len() {
        return conflict(found[0].0, "other events of the same append were not".to_owned());
    }
    let mut versions = Vec::with_capacity(found.len());
    for (id, position) in found {
        match version_of(index, group, stream, *position) {
            Some(version) => versions.push(version),
            None => return conflict(*id, format!("to another stream than {stream}")),
        }
    }
    let in_order = versions.windows(2).all(|v| v[1] == v[0] + 1) && found.windows(2).all(|f| f[0].1 < f[1].1);
    if !in_order {
        return conflict(found[0].0, "not as one append, in the same order".to_owned());
    }
    Admission::Duplicate(AppendResult {
        stream_id: request.stream.clone(),
        first_version: versions[0],
        last_version: versions[versions.len() - 1],
        first_position: found[0].1,
        last_position: found[found.len() - 1].1,
    })
}

/// The version within `stream` of the event at `position`, committed or
/// pending in this group; `None` if it belongs to another stream.
fn version_of(index: &Index, group: &GroupState, stream: &str, position: Position) -> Option<u64> {
    if position.0 < group.first_position {
        return index.version_in_stream(stream, position);
    }
    let pending = group
        .pending
        .iter()
        .find(|p| (p.first_position..p.first_position + p.count).contains(&position.0))?;
    (pending.stream.as_str() == stream).then(|| pending.first_version + (position.0 - pending.first_position))
}
