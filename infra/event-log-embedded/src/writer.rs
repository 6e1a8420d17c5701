//! The single writer thread: group commit.
//!
//! Appending tasks encode their events and build their recorded form
//! themselves, and send both here. The writer takes every request waiting in
//! its queue, admits each (idempotency, expected version; see
//! [`admission`](crate::admission)), writes all frames with one write and one
//! `fdatasync`, and only then publishes the events to the index and wakes
//! subscribers. One durable write thus serves many concurrent appends, and
//! the writer thread does as little per event as it can.
//!
//! A failed write is undone by cutting the segment back; a failed `fdatasync`
//! cannot be undone (the kernel may have dropped the dirty pages), so the log
//! then refuses further writes until it is reopened, which re-reads the disk.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::Arc;

use parking_lot::RwLock;
use quire_domain::{Position, RecordedEvent, StreamId};
use quire_event_log::{AppendResult, ExpectedVersion, LogError};
use rustc_hash::FxHashMap;
use tokio::sync::{mpsc, oneshot, watch};
use tracing::{debug, error};
use uuid::Uuid;

use crate::admission::{Admission, GroupState, admit};
use crate::format::{EncodedAppend, FRAME_HEADER_LEN, SEGMENT_HEADER_LEN};
use crate::index::{Index, Location};
use crate::segment::ActiveSegment;

/// One append on its way to the writer.
#[derive(Debug)]
pub struct AppendRequest {
    pub stream: StreamId,
    pub expected: ExpectedVersion,
    /// The events as they will be recorded; the writer fills in their
    /// stream version and position.
    pub events: Vec<Arc<RecordedEvent>>,
    pub encoded: EncodedAppend,
    pub reply: oneshot::Sender<AppendReply>,
}

/// The writer's answer to one append.
#[derive(Debug)]
pub struct AppendReply {
    pub result: Result<AppendResult, LogError>,
    /// Events the append pushed out of the tail cache, handed back so that
    /// the appending task frees them rather than the writer thread.
    pub evicted: Vec<Arc<RecordedEvent>>,
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
    /// Every event id in the log, with its position: only the writer reads
    /// it, to make appends idempotent.
    pub event_ids: FxHashMap<Uuid, Position>,
    pub active: ActiveSegment,
    pub head: watch::Sender<Position>,
    /// Held until the writer stops: one process per log directory.
    pub _lock: File,
    /// Set after a failed `fdatasync`: the log accepts no more writes.
    pub failed: Option<String>,
    pub group: GroupState,
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
            let (group, stop) = self.gather(first, &mut requests);
            self.commit_group(group, &mut buffer);
            if stop {
                break;
            }
        }
        debug!(dir = %self.dir.display(), "event log writer stopped");
    }

    /// Takes every request already waiting, up to the group size limit;
    /// also says whether a shutdown came in.
    fn gather(
        &self,
        first: AppendRequest,
        requests: &mut mpsc::UnboundedReceiver<WriterMessage>,
    ) -> (Vec<AppendRequest>, bool) {
        let mut bytes = first.encoded.body.len();
        let mut group = vec![first];
        while bytes < self.max_group_bytes {
            match requests.try_recv() {
                Ok(WriterMessage::Append(request)) => {
                    bytes += request.encoded.body.len();
                    group.push(request);
                }
                Ok(WriterMessage::Shutdown) => return (group, true),
                Err(_) => break,
            }
        }
        (group, false)
    }

    fn commit_group(&mut self, mut group: Vec<AppendRequest>, buffer: &mut Vec<u8>) {
        if let Some(reason) = &self.failed {
            for request in group {
                let result = Err(LogError::Unavailable(reason.clone()));
                let _ = request.reply.send(AppendReply {
                    result,
                    evicted: Vec::new(),
                });
            }
            return;
        }
        buffer.clear();
        let admissions = self.admit_all(&mut group, buffer);
        let writes = admissions.iter().any(|a| matches!(a, Admission::Write { .. }));
        let outcome = if writes {
            self.write_durably(buffer).map(Some)
        } else {
            Ok(None)
        };
        match outcome {
            Ok(at) => self.publish(group, admissions, at),
            Err(error) => {
                self.group.abandon(&mut self.event_ids);
                reply_failed(group, admissions, &error);
            }
        }
    }

    /// Checks every request and lays out the frames of those to write.
    fn admit_all(&mut self, group: &mut [AppendRequest], buffer: &mut Vec<u8>) -> Vec<Admission> {
        let index = self.index.read();
        self.group.start(index.head());
        group
            .iter_mut()
            .map(|request| admit(&index, &mut self.event_ids, &mut self.group, request, buffer))
            .collect()
    }

    /// Writes the group buffer and syncs it; returns the file offset it was
    /// written at.
    fn write_durably(&mut self, buffer: &[u8]) -> Result<u64, String> {
        if self.active.len > SEGMENT_HEADER_LEN as u64
            && self.active.len + buffer.len() as u64 > self.segment_bytes
        {
            let first_position = self.index.read().head().next();
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
        Ok(at)
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
    fn publish(&mut self, group: Vec<AppendRequest>, admissions: Vec<Admission>, written_at: Option<u64>) {
        let segment = self.active.number;
        let mut evicted = Vec::new();
        let mut replies = Vec::with_capacity(group.len());
        let mut index = self.index.write();
        for (request, admission) in group.into_iter().zip(admissions) {
            let result = match admission {
                Admission::Write { result, frame_offset } => {
                    let body_at = written_at.unwrap_or(0) + (frame_offset + FRAME_HEADER_LEN) as u64;
                    index_request(
                        &mut index,
                        request.events,
                        &request.encoded,
                        &result,
                        segment,
                        body_at,
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
        let mut evicted = Some(evicted);
        for (reply, result) in replies {
            let evicted = evicted.take().unwrap_or_default();
            let _ = reply.send(AppendReply { result, evicted });
        }
    }
}

fn reply_failed(group: Vec<AppendRequest>, admissions: Vec<Admission>, error: &str) {
    for (request, admission) in group.into_iter().zip(admissions) {
        let result = match admission {
            Admission::Rejected(error) => Err(error),
            // Nothing of this group is durable, retries within it included.
            Admission::Write { .. } | Admission::Duplicate(_) => Err(LogError::Storage {
                context: "appending to the event log".to_owned(),
                source: std::io::Error::other(error.to_owned()),
            }),
        };
        let _ = request.reply.send(AppendReply {
            result,
            evicted: Vec::new(),
        });
    }
}

/// Stamps the request's events with their version and position and adds
/// them to the index.
fn index_request(
    index: &mut Index,
    events: Vec<Arc<RecordedEvent>>,
    encoded: &EncodedAppend,
    result: &AppendResult,
    segment: u32,
    body_at: u64,
    evicted: &mut Vec<Arc<RecordedEvent>>,
) {
    let offsets = &encoded.record_offsets;
    for (i, mut event) in events.into_iter().enumerate() {
        let start = offsets[i] as usize;
        let end = offsets.get(i + 1).map_or(encoded.body.len(), |o| *o as usize);
        let location = Location {
            segment,
            offset: (body_at + start as u64) as u32,
            len: (end - start) as u32,
        };
        // Unshared until now: this writes in place without copying.
        let recorded = Arc::make_mut(&mut event);
        recorded.stream_version = result.first_version + i as u64;
        recorded.position = Position(result.first_position.0 + i as u64);
        evicted.extend(index.insert_committed(event, location));
    }
}
