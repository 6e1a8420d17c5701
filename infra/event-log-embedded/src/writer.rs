//! The single writer thread: group commit.
//!
//! Appending tasks encode their events themselves and send the encoded frame
//! here. The writer takes every request waiting in its queue, checks each
//! against the index (idempotency, expected version), assigns stream
//! versions and global positions, writes all frames with one write and one
//! `fdatasync`, and only then publishes the events to the index and wakes
//! subscribers. One durable write thus serves many concurrent appends.
//!
//! A failed write is undone by cutting the segment back; a failed `fdatasync`
//! cannot be undone (the kernel may have dropped the dirty pages), so the log
//! then refuses further writes until it is reopened, which re-reads the disk.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::Arc;

use parking_lot::RwLock;
use quire_domain::{NewEvent, Position, RecordedEvent, StreamId, Timestamp};
use quire_event_log::{AppendResult, ExpectedVersion, LogError};
use rustc_hash::FxHashMap;
use tokio::sync::{mpsc, oneshot, watch};
use tracing::{debug, error};
use uuid::Uuid;

use crate::format::{EncodedAppend, FRAME_HEADER_LEN, patch_record, write_frame};
use crate::index::{Index, Location};
use crate::segment::ActiveSegment;

/// One append on its way to the writer.
#[derive(Debug)]
pub struct AppendRequest {
    pub stream: StreamId,
    pub expected: ExpectedVersion,
    pub events: Vec<NewEvent>,
    pub encoded: EncodedAppend,
    pub recorded_at: Timestamp,
    pub reply: oneshot::Sender<Result<AppendResult, LogError>>,
}

#[derive(Debug)]
pub enum WriterMessage {
    Append(AppendRequest),
    /// Finish what is queued before this message, then stop.
    Shutdown,
}

/// What the writer owns.
#[derive(Debug)]
pub struct Writer {
    pub dir: PathBuf,
    pub segment_bytes: u64,
    pub max_group_bytes: usize,
    pub index: Arc<RwLock<Index>>,
    pub active: ActiveSegment,
    pub head: watch::Sender<Position>,
    /// Held until the writer stops: one process per log directory.
    pub _lock: File,
    /// Set after a failed `fdatasync`: the log accepts no more writes.
    pub failed: Option<String>,
    /// Scratch state of the group being built, kept between groups so that
    /// its maps keep their capacity.
    pub group: GroupState,
}

/// How one request of a group turned out before the write.
enum Admission {
    /// New events to write: the frame starts at `frame_offset` in the group
    /// buffer.
    Write {
        result: AppendResult,
        frame_offset: usize,
    },
    /// A retry of events already in the log (or earlier in this group).
    Duplicate(AppendResult),
    Rejected(LogError),
}

/// Versions and ids claimed by earlier requests of the group being built.
#[derive(Debug, Default)]
pub struct GroupState {
    stream_versions: FxHashMap<StreamId, u64>,
    event_ids: FxHashMap<Uuid, (StreamId, Position, u64)>,
    next_position: u64,
    /// Whether later requests of this group need `event_ids`.
    track_ids: bool,
}

impl Writer {
    /// Runs until shutdown or until every log handle is gone.
    pub fn run(mut self, mut requests: mpsc::UnboundedReceiver<WriterMessage>) {
        let mut buffer = Vec::with_capacity(1 << 20);
        loop {
            let first = match requests.blocking_recv() {
                Some(WriterMessage::Append(request)) => request,
                Some(WriterMessage::Shutdown) | None => break,
            };
            let mut group = vec![first];
            let mut bytes = group[0].encoded.body.len();
            let mut stop = false;
            while bytes < self.max_group_bytes {
                match requests.try_recv() {
                    Ok(WriterMessage::Append(request)) => {
                        bytes += request.encoded.body.len();
                        group.push(request);
                    }
                    Ok(WriterMessage::Shutdown) => {
                        stop = true;
                        break;
                    }
                    Err(_) => break,
                }
            }
            self.commit_group(group, &mut buffer);
            if stop {
                break;
            }
        }
        debug!(dir = %self.dir.display(), "event log writer stopped");
    }

    fn commit_group(&mut self, mut group: Vec<AppendRequest>, buffer: &mut Vec<u8>) {
        if let Some(reason) = &self.failed {
            for request in group {
                let _ = request.reply.send(Err(LogError::Unavailable(reason.clone())));
            }
            return;
        }
        buffer.clear();
        let admissions = self.admit_all(&mut group, buffer);
        let writes = admissions.iter().any(|a| matches!(a, Admission::Write { .. }));
        let outcome = if writes {
            self.write_durably(buffer)
        } else {
            Ok(None)
        };
        match outcome {
            Ok(base) => self.publish(group, admissions, base),
            Err(error) => reply_failed(group, admissions, &error),
        }
    }

    /// Checks every request and lays out the frames of those to write.
    fn admit_all(&mut self, group: &mut [AppendRequest], buffer: &mut Vec<u8>) -> Vec<Admission> {
        let index = self.index.read();
        let state = &mut self.group;
        state.stream_versions.clear();
        state.event_ids.clear();
        state.next_position = index.head().0 + 1;
        // A lone request cannot repeat ids of another in its group.
        state.track_ids = group.len() > 1;
        group
            .iter_mut()
            .map(|request| admit(&index, state, request, buffer))
            .collect()
    }

    /// Writes the group buffer and syncs it. Returns the file offset the
    /// buffer starts at and, if a new segment was started, its read handle.
    fn write_durably(&mut self, buffer: &[u8]) -> Result<Option<u64>, String> {
        let first_position = self.index.read().head().next();
        if self.active.len > crate::format::SEGMENT_HEADER_LEN as u64
            && self.active.len + buffer.len() as u64 > self.segment_bytes
        {
            self.roll(first_position)?;
        }
        let at = self.active.len;
        if let Err(error) = self.active.file.write_all_at(buffer, at) {
            let message = format!("writing to {}: {error}", self.active.path.display());
            if let Err(undo) = self.active.file.set_len(at) {
                self.fail(format!(
                    "{message}; cutting back the partial write failed too: {undo}"
                ));
            }
            return Err(message);
        }
        if let Err(error) = self.active.file.sync_data() {
            let message = format!("fdatasync of {} failed: {error}", self.active.path.display());
            self.fail(message.clone());
            return Err(message);
        }
        self.active.len += buffer.len() as u64;
        Ok(Some(at))
    }

    /// Starts a new segment; its (empty) read handle joins the index at once
    /// so that segment numbers and read handles never disagree.
    fn roll(&mut self, first: Position) -> Result<(), String> {
        let number = self.active.number + 1;
        let next = ActiveSegment::create(&self.dir, number, first)
            .map_err(|e| format!("starting a new segment in {}: {e}", self.dir.display()))?;
        let read = next
            .reopen_for_reading()
            .map_err(|e| format!("opening {}: {e}", next.path.display()))?;
        debug!(segment = %next.path.display(), "started new segment");
        self.index.write().add_segment(Arc::new(read));
        self.active = next;
        Ok(())
    }

    fn fail(&mut self, reason: String) {
        error!(dir = %self.dir.display(), reason, "event log stops accepting writes; reopen it to recover");
        self.failed = Some(format!(
            "the log stopped accepting writes after a storage failure ({reason}); restart to recover"
        ));
    }

    /// Adds the durable events to the index, wakes subscribers, replies.
    fn publish(&mut self, group: Vec<AppendRequest>, admissions: Vec<Admission>, base: Option<u64>) {
        let mut index = self.index.write();
        let file_offset = base.unwrap_or(0);
        let segment = self.active.number;
        let mut evicted = Vec::new();
        let mut replies = Vec::with_capacity(group.len());
        for (request, admission) in group.into_iter().zip(admissions) {
            let result = match admission {
                Admission::Write { result, frame_offset } => {
                    let body_at = file_offset + (frame_offset + FRAME_HEADER_LEN) as u64;
                    let placed = Placement {
                        segment,
                        body_at,
                        recorded_at: request.recorded_at,
                    };
                    index_request(
                        &mut index,
                        request.stream,
                        request.events,
                        &request.encoded,
                        &result,
                        placed,
                        &mut evicted,
                    );
                    Ok(result)
                }
                Admission::Duplicate(result) => Ok(result),
                Admission::Rejected(error) => Err(error),
            };
            replies.push((request.reply, result));
        }
        let head = index.head();
        drop(index);
        self.head.send_replace(head);
        for (reply, result) in replies {
            let _ = reply.send(result);
        }
        // Freed only now: readers and appenders need not wait for it.
        drop(evicted);
    }
}

fn reply_failed(group: Vec<AppendRequest>, admissions: Vec<Admission>, error: &str) {
    for (request, admission) in group.into_iter().zip(admissions) {
        let result = match admission {
            Admission::Rejected(error) => Err(error),
            // Nothing of this group is durable, retries of it included.
            Admission::Write { .. } | Admission::Duplicate(_) => Err(LogError::Storage {
                context: "appending to the event log".to_owned(),
                source: std::io::Error::other(error.to_owned()),
            }),
        };
        let _ = request.reply.send(result);
    }
}

/// Where a written frame body lies, and when it was recorded.
#[derive(Clone, Copy)]
struct Placement {
    segment: u32,
    body_at: u64,
    recorded_at: Timestamp,
}

fn index_request(
    index: &mut Index,
    stream: StreamId,
    events: Vec<NewEvent>,
    encoded: &EncodedAppend,
    result: &AppendResult,
    placed: Placement,
    evicted: &mut Vec<Arc<RecordedEvent>>,
) {
    let Placement {
        segment,
        body_at,
        recorded_at,
    } = placed;
    let offsets = &encoded.record_offsets;
    for (i, event) in events.into_iter().enumerate() {
        let start = offsets[i] as usize;
        let end = offsets.get(i + 1).map_or(encoded.body.len(), |o| *o as usize);
        let location = Location {
            segment,
            offset: (body_at + start as u64) as u32,
            len: (end - start) as u32,
        };
        let recorded = RecordedEvent {
            event_id: event.event_id,
            stream_id: stream.clone(),
            stream_version: result.first_version + i as u64,
            position: Position(result.first_position.0 + i as u64),
            event_type: event.event_type,
            schema_version: event.schema_version,
            recorded_at,
            metadata: event.metadata,
            payload: event.payload,
        };
        evicted.extend(index.insert_committed(Arc::new(recorded), location));
    }
}

/// Decides one request: duplicate, rejected, or written into `buffer`.
fn admit(
    index: &Index,
    state: &mut GroupState,
    request: &mut AppendRequest,
    buffer: &mut Vec<u8>,
) -> Admission {
    match find_previous_append(index, state, request) {
        Ok(Some(result)) => return Admission::Duplicate(result),
        Ok(None) => {}
        Err(error) => return Admission::Rejected(error),
    }
    let current = match state.stream_versions.get(request.stream.as_str()) {
        Some(version) => Some(*version),
        None => index.stream_version(request.stream.as_str()),
    };
    if !request.expected.accepts(current) {
        return Admission::Rejected(LogError::WrongExpectedVersion {
            stream: request.stream.clone(),
            expected: request.expected,
            actual: current,
        });
    }
    let first_version = current.map_or(0, |v| v + 1);
    let count = request.events.len() as u64;
    let first_position = Position(state.next_position);
    for (i, offset) in request.encoded.record_offsets.iter().enumerate() {
        let position = Position(first_position.0 + i as u64);
        let version = first_version + i as u64;
        patch_record(&mut request.encoded.body, *offset as usize, position, version);
        if state.track_ids {
            state.event_ids.insert(
                request.events[i].event_id,
                (request.stream.clone(), position, version),
            );
        }
    }
    state.next_position += count;
    state
        .stream_versions
        .insert(request.stream.clone(), first_version + count - 1);
    let frame_offset = buffer.len();
    write_frame(buffer, &request.encoded.body);
    let result = AppendResult {
        stream_id: request.stream.clone(),
        first_version,
        last_version: first_version + count - 1,
        first_position,
        last_position: Position(first_position.0 + count - 1),
    };
    Admission::Write { result, frame_offset }
}

/// If the request's event ids were appended before (a retry), the result of
/// that append; an error if they were only partly appended or elsewhere.
fn find_previous_append(
    index: &Index,
    state: &GroupState,
    request: &AppendRequest,
) -> Result<Option<AppendResult>, LogError> {
    let stream = request.stream.as_str();
    let lookup = |id: &Uuid| -> Option<(Position, Option<u64>)> {
        if let Some((s, position, version)) = state.event_ids.get(id) {
            return Some((*position, (s.as_str() == stream).then_some(*version)));
        }
        index
            .position_of(id)
            .map(|position| (position, index.version_in_stream(stream, position)))
    };
    let mut found = Vec::with_capacity(request.events.len());
    for event in &request.events {
        match lookup(&event.event_id) {
            Some(hit) => found.push((event.event_id, hit)),
            None if found.is_empty() => {}
            None => {
                return Err(LogError::IdempotencyConflict {
                    event_id: found[0].0,
                    reason: "other events of the same append were not".to_owned(),
                });
            }
        }
    }
    let Some(&(first_id, (first_position, first_version))) = found.first() else {
        return Ok(None);
    };
    if found.len() != request.events.len() {
        return Err(LogError::IdempotencyConflict {
            event_id: first_id,
            reason: "other events of the same append were not".to_owned(),
        });
    }
    let Some(first_version) = first_version else {
        return Err(LogError::IdempotencyConflict {
            event_id: first_id,
            reason: format!("to another stream than {stream}"),
        });
    };
    for (i, (id, (position, version))) in found.iter().enumerate() {
        let in_order =
            *version == Some(first_version + i as u64) && position.0 >= first_position.0 + i as u64;
        if !in_order {
            return Err(LogError::IdempotencyConflict {
                event_id: *id,
                reason: "not as part of the same append, in the same order".to_owned(),
            });
        }
    }
    let (_, (last_position, _)) = found[found.len() - 1];
    Ok(Some(AppendResult {
        stream_id: request.stream.clone(),
        first_version,
        last_version: first_version + found.len() as u64 - 1,
        first_position,
        last_position,
    }))
}
