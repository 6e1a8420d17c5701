//! Quire's event log on NATS JetStream (nats-server 2.9), implementing the
//! [`EventLog`] port for the distributed deployment.
//!
//! The whole log is one JetStream stream (`QUIRE_EVENTS` by default). Every
//! append is one message on the subject `<prefix>.<category>.<stream id>`
//! whose payload holds all of its events, so an append is atomic. The
//! writer stamps each message with the stream version and the global
//! position of its first event, and publishes it with
//! `Nats-Expected-Last-Sequence` (the log's last message it computed the
//! positions from), `Nats-Expected-Last-Subject-Sequence` (the event
//! stream's last message) and `Nats-Msg-Id` (the first event id): the
//! server stores it only if nothing was appended in between, so positions
//! are dense and increase strictly across every process, a stream's
//! versions never fork, and a retried append is recognised. See
//! `docs/jetstream.md` and ADR 0008.
//!
//! # Layout
//! - [`config`] — [`JetStreamLogConfig`].
//! - [`codec`] — the message payload and its codec.
//! - [`subject`] — subjects and the escaping of stream ids into them.
//! - [`position`] — from positions to JetStream sequences.
//! - [`error`] — [`OpenError`] and the mapping of NATS failures.
//! - `store`: the connection, the stream, gets, scans and publishes.
//! - `writer`: the writer task (concurrency headers, pipelining, retries).
//! - `reader`: stream and global reads.
//! - `subscription`: catch-up-then-live subscriptions.
//! - [`RawPublisher`]: bare publishes of the same messages, the benchmark's
//!   baseline.

#![forbid(unsafe_code)]

pub mod codec;
pub mod config;
pub mod error;
pub mod position;
mod raw;
mod reader;
mod store;
pub mod subject;
mod subscription;
mod writer;

use std::sync::Arc;

use async_trait::async_trait;
use quire_domain::{NewEvent, Position, RecordedEvent, StreamId};
use quire_event_log::{
    AppendResult, Direction, EventFilter, EventLog, EventStream, ExpectedVersion, LogError,
};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

pub use config::{JetStreamLogConfig, Storage};
pub use error::OpenError;
pub use raw::RawPublisher;
pub use writer::{COUNT_HEADER, POSITION_HEADER, VERSION_HEADER};

use crate::store::Store;
use crate::writer::{AppendRequest, Writer};

/// Appends waiting for the writer before callers wait to hand theirs over.
const QUEUE_CAPACITY: usize = 4096;

/// Handle to the JetStream log. Cheap to clone; clones share the
/// connection and the writer task, which stops when the last clone goes.
#[derive(Debug, Clone)]
pub struct JetStreamLog {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Arc<Store>,
    requests: mpsc::Sender<AppendRequest>,
}

impl JetStreamLog {
    /// Connects to NATS, creates the stream if it does not exist, and
    /// starts the writer task. Fails with an error naming the servers when
    /// NATS cannot be reached.
    pub async fn open(config: JetStreamLogConfig) -> Result<JetStreamLog, OpenError> {
        let store = Arc::new(Store::open(config).await?);
        let (requests, receiver) = mpsc::channel(QUEUE_CAPACITY);
        tokio::spawn(Writer::new(Arc::clone(&store)).run(receiver));
        Ok(JetStreamLog {
            inner: Arc::new(Inner { store, requests }),
        })
    }

    pub fn config(&self) -> &JetStreamLogConfig {
        &self.inner.store.config
    }

    /// Deletes the JetStream stream and every event in it (tests, tools).
    pub async fn delete_stream(&self) -> Result<(), LogError> {
        self.inner.store.delete_stream().await
    }

    /// Appends again what an earlier `append` call may have stored before
    /// it failed (with [`LogError::Unavailable`]). Unlike `append`, a
    /// version conflict is reported only after the server confirmed it does
    /// not hold these events (within the duplicate window); if it does, the
    /// earlier call's result is returned.
    pub async fn append_retry(
        &self,
        stream: &StreamId,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendResult, LogError> {
        self.send(stream, expected, &events, true).await
    }

    async fn send(
        &self,
        stream: &StreamId,
        expected: ExpectedVersion,
        events: &[NewEvent],
        uncertain: bool,
    ) -> Result<AppendResult, LogError> {
        let (request, answer) = self.prepare(stream, expected, events, uncertain)?;
        let stopped = || LogError::Unavailable("the JetStream event log writer has stopped".to_owned());
        self.inner.requests.send(request).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// Validates and encodes an append for the writer.
    fn prepare(
        &self,
        stream: &StreamId,
        expected: ExpectedVersion,
        events: &[NewEvent],
        uncertain: bool,
    ) -> Result<(AppendRequest, oneshot::Receiver<Result<AppendResult, LogError>>), LogError> {
        quire_event_log::check_events(events)?;
        let store = &self.inner.store;
        let encoded = codec::encode_events(events, store.config.max_event_bytes)?;
        let (reply, answer) = oneshot::channel();
        let request = AppendRequest {
            stream: stream.clone(),
            subject: store.subjects.stream(stream),
            expected,
            event_ids: events.iter().map(|e| e.event_id).collect(),
            encoded,
            reply,
            deadline: Instant::now() + store.config.append_timeout,
            uncertain,
        };
        Ok((request, answer))
    }
}

#[async_trait]
impl EventLog for JetStreamLog {
    async fn append(
        &self,
        stream: &StreamId,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendResult, LogError> {
        self.send(stream, expected, &events, false).await
    }

    async fn read_stream(
        &self,
        stream: &StreamId,
        from_version: u64,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<Arc<RecordedEvent>>, LogError> {
        reader::read_stream(&self.inner.store, stream, from_version, direction, limit).await
    }

    async fn read_all(&self, from: Position, limit: usize) -> Result<Vec<Arc<RecordedEvent>>, LogError> {
        reader::read_all(&self.inner.store, from, limit).await
    }

    async fn head(&self) -> Result<Position, LogError> {
        reader::head(&self.inner.store).await
    }

    async fn stream_version(&self, stream: &StreamId) -> Result<Option<u64>, LogError> {
        reader::stream_version(&self.inner.store, stream).await
    }

    fn subscribe(&self, from: Position, filter: EventFilter) -> EventStream {
        subscription::subscribe(Arc::clone(&self.inner.store), from, filter)
    }
}
