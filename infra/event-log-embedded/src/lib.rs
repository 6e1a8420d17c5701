//! Quire's embedded event log: a durable, crash-safe, single-node log on
//! local disk, implementing the [`EventLog`] port.
//!
//! Events live in segment files of checksummed frames, one frame per append
//! (see [`format`]). A single writer thread group-commits: every append
//! waiting when it wakes is written with one write and one `fdatasync`, and
//! acknowledged only after that sync. The whole index (positions, streams,
//! event ids) lives in memory and is rebuilt by scanning the segments at
//! open; the newest events also stay decoded in a tail cache.
//!
//! # Layout
//! - [`config`] — [`EmbeddedLogConfig`].
//! - [`format`] — the bytes on disk, and their codec.
//! - `segment`: segment files and the active segment.
//! - `recovery`: opening a directory, rebuilding the index, torn-tail repair.
//! - `index`: the in-memory index and tail cache.
//! - `writer`: the group-commit writer thread.
//! - `reader`: loading events from the cache or the disk.
//! - `subscription`: catch-up-then-live subscriptions.

#![forbid(unsafe_code)]

mod admission;
pub mod config;
pub mod format;
mod index;
mod reader;
mod recovery;
mod segment;
mod subscription;
mod writer;

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use parking_lot::{Mutex, RwLock};
use quire_domain::{NewEvent, Position, RecordedEvent, StreamId, Timestamp};
use quire_event_log::{
    AppendResult, Direction, EventFilter, EventLog, EventStream, ExpectedVersion, LogError,
};
use tokio::sync::{mpsc, oneshot, watch};

pub use config::EmbeddedLogConfig;

use crate::index::{Index, Slot};
use crate::writer::{AppendReply, AppendRequest, Writer, WriterMessage};

/// Handle to an open embedded log. Cheap to clone; every clone shares the
/// same writer and index.
#[derive(Debug, Clone)]
pub struct EmbeddedLog {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: EmbeddedLogConfig,
    index: Arc<RwLock<Index>>,
    requests: mpsc::UnboundedSender<WriterMessage>,
    head: watch::Receiver<Position>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

impl EmbeddedLog {
    /// Opens the log in `config.dir`, creating it if needed, recovering from
    /// a torn tail if the last run crashed. Blocking: it scans every segment.
    pub fn open(config: EmbeddedLogConfig) -> Result<EmbeddedLog, LogError> {
        config
            .validate()
            .map_err(|reason| LogError::InvalidAppend(format!("invalid log configuration: {reason}")))?;
        let opened = recovery::open(&config)?;
        let index = Arc::new(RwLock::new(opened.index));
        warm_tail_cache(&index, config.tail_cache_events)?;
        let head_position = index.read().head();
        let (head_tx, head_rx) = watch::channel(head_position);
        let (requests, receiver) = mpsc::unbounded_channel();
        let writer = Writer {
            dir: config.dir.clone(),
            segment_bytes: config.segment_bytes,
            max_group_bytes: config.max_group_bytes,
            index: Arc::clone(&index),
            event_ids: opened.event_ids,
            active: opened.active,
            head: head_tx,
            _lock: opened.lock,
            failed: None,
            group: admission::GroupState::default(),
        };
        let thread = std::thread::Builder::new()
            .name("quire-log-writer".to_owned())
            .spawn(move || writer.run(receiver))
            .map_err(|source| LogError::Storage {
                context: "starting the log writer thread".to_owned(),
                source,
            })?;
        let inner = Inner {
            config,
            index,
            requests,
            head: head_rx,
            writer: Mutex::new(Some(thread)),
        };
        Ok(EmbeddedLog {
            inner: Arc::new(inner),
        })
    }

    /// Finishes queued appends, stops the writer and releases the directory
    /// lock. Later appends fail with [`LogError::Unavailable`]; live
    /// subscriptions end. Blocking.
    pub fn close(&self) {
        let _ = self.inner.requests.send(WriterMessage::Shutdown);
        if let Some(thread) = self.inner.writer.lock().take() {
            let _ = thread.join();
        }
    }

    pub fn config(&self) -> &EmbeddedLogConfig {
        &self.inner.config
    }

    /// Reads `limit` events from `from` on; disk reads run off the async
    /// executor.
    pub(crate) async fn read_from(
        &self,
        from: Position,
        limit: usize,
    ) -> Result<Vec<Arc<RecordedEvent>>, LogError> {
        let slots = self.inner.index.read().plan_read_all(from, limit);
        load_slots(slots).await
    }

    fn check_append(&self, events: &[NewEvent], encoded_len: usize) -> Result<(), LogError> {
        quire_event_log::check_events(events)?;
        if encoded_len > self.inner.config.max_append_bytes {
            return Err(LogError::InvalidAppend(format!(
                "the append encodes to {encoded_len} bytes, more than the maximum of {}",
                self.inner.config.max_append_bytes
            )));
        }
        Ok(())
    }

    fn check_event_sizes(
        &self,
        encoded: &format::EncodedAppend,
        events: &[NewEvent],
    ) -> Result<(), LogError> {
        let max = self.inner.config.max_event_bytes;
        let offsets = &encoded.record_offsets;
        for (i, event) in events.iter().enumerate() {
            let end = offsets.get(i + 1).map_or(encoded.body.len(), |o| *o as usize);
            let size = end - offsets[i] as usize;
            if size > max {
                return Err(LogError::EventTooLarge {
                    event_id: event.event_id,
                    size,
                    max,
                });
            }
        }
        Ok(())
    }
}

/// Loads planned slots, moving disk reads to the blocking pool.
async fn load_slots(slots: Vec<Slot>) -> Result<Vec<Arc<RecordedEvent>>, LogError> {
    if slots.iter().all(|slot| matches!(slot, Slot::Cached(_))) {
        return reader::load(slots);
    }
    tokio::task::spawn_blocking(move || reader::load(slots))
        .await
        .map_err(|e| LogError::Unavailable(format!("read task failed: {e}")))?
}

/// Fills the tail cache with the newest events after open.
fn warm_tail_cache(index: &RwLock<Index>, capacity: usize) -> Result<(), LogError> {
    let head = index.read().head();
    let from = Position(head.0.saturating_sub(capacity as u64) + 1);
    let slots = index.read().plan_read_all(from, capacity);
    let events = reader::load(slots)?;
    let mut index = index.write();
    for event in events {
        let _ = index.cache(event);
    }
    Ok(())
}

/// The recorded form of an append's events, built here so that the writer
/// thread only stamps in their version and position.
fn to_recorded(stream: &StreamId, events: Vec<NewEvent>, recorded_at: Timestamp) -> Vec<Arc<RecordedEvent>> {
    events
        .into_iter()
        .map(|event| {
            Arc::new(RecordedEvent {
                event_id: event.event_id,
                stream_id: stream.clone(),
                stream_version: 0,
                position: Position::ZERO,
                event_type: event.event_type,
                schema_version: event.schema_version,
                recorded_at,
                metadata: event.metadata,
                payload: event.payload,
            })
        })
        .collect()
}

fn now() -> Timestamp {
    let micros = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64);
    Timestamp::from_unix_micros(micros)
}

#[async_trait]
impl EventLog for EmbeddedLog {
    async fn append(
        &self,
        stream: &StreamId,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendResult, LogError> {
        let recorded_at = now();
        let encoded = format::encode_append(stream, &events, recorded_at)
            .map_err(|e| LogError::InvalidAppend(format!("events cannot be encoded: {e}")))?;
        self.check_append(&events, encoded.body.len())?;
        self.check_event_sizes(&encoded, &events)?;
        let (reply, answer) = oneshot::channel();
        let request = AppendRequest {
            stream: stream.clone(),
            expected,
            events: to_recorded(stream, events, recorded_at),
            encoded,
            reply,
        };
        self.inner
            .requests
            .send(WriterMessage::Append(request))
            .map_err(|_| LogError::Unavailable("the event log is closed".to_owned()))?;
        let AppendReply { result, evicted } = answer
            .await
            .map_err(|_| LogError::Unavailable("the event log writer stopped".to_owned()))?;
        // Freed here, on the appending task, not on the writer thread.
        drop(evicted);
        result
    }

    async fn read_stream(
        &self,
        stream: &StreamId,
        from_version: u64,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<Arc<RecordedEvent>>, LogError> {
        let slots = self
            .inner
            .index
            .read()
            .plan_read_stream(stream.as_str(), from_version, direction, limit);
        load_slots(slots).await
    }

    async fn read_all(&self, from: Position, limit: usize) -> Result<Vec<Arc<RecordedEvent>>, LogError> {
        self.read_from(from, limit).await
    }

    async fn head(&self) -> Result<Position, LogError> {
        Ok(self.inner.index.read().head())
    }

    async fn stream_version(&self, stream: &StreamId) -> Result<Option<u64>, LogError> {
        Ok(self.inner.index.read().stream_version(stream.as_str()))
    }

    fn subscribe(&self, from: Position, filter: EventFilter) -> EventStream {
        subscription::subscribe(self.clone(), from, filter, self.inner.head.clone())
    }
}
