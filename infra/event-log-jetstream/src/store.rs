//! The JetStream side of the log: the connection, the stream, and the few
//! operations everything else is built from (get a message by sequence,
//! the last or next message of a subject, scan with an ordered consumer,
//! publish).
//!
//! Reads go to the stream leader (`STREAM.MSG.GET`, not direct gets from
//! replicas) so that a read after an acknowledged append sees it.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_nats::jetstream::consumer::{DeliverPolicy, ReplayPolicy, pull};
use async_nats::jetstream::context::{PublishAckFuture, PublishError};
use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::stream::{self, DiscardPolicy, RawMessageErrorKind, RetentionPolicy, StorageType};
use async_nats::jetstream::{self, Context};
use async_nats::{ConnectOptions, Event, ServerAddr};
use futures::StreamExt;
use quire_domain::Position;
use quire_event_log::LogError;
use tokio::sync::watch;
use tracing::{debug, info, warn};

use crate::codec::{AppendMessage, decode_message};
use crate::config::{InvalidConfig, JetStreamLogConfig, Storage};
use crate::error::{OpenError, corrupt, unavailable};
use crate::position::{PositionHints, Span, locate};
use crate::subject::Subjects;

/// Messages remembered for position lookups.
const HINT_CAPACITY: usize = 16_384;

/// One decoded message and its JetStream sequence.
#[derive(Debug, Clone)]
pub struct Stored {
    pub seq: u64,
    pub message: Arc<AppendMessage>,
}

impl Stored {
    pub fn span(&self) -> Span {
        Span {
            seq: self.seq,
            first: self.message.first_position().0,
            count: self.message.count(),
        }
    }
}

/// The connection and the stream handle, shared by the writer, readers and
/// subscriptions.
#[derive(Debug)]
pub struct Store {
    pub config: JetStreamLogConfig,
    pub subjects: Subjects,
    pub servers: String,
    client: async_nats::Client,
    context: Context,
    stream: stream::Stream,
    hints: Mutex<PositionHints>,
    reconnects: watch::Receiver<u64>,
}

impl Store {
    /// Connects and opens (or creates) the stream.
    pub async fn open(config: JetStreamLogConfig) -> Result<Store, OpenError> {
        config.validate()?;
        let servers = config.servers_text();
        let (connected, reconnects) = watch::channel(0);
        let client = connect(&config, connected).await?;
        let context = jetstream::ContextBuilder::new()
            .timeout(config.request_timeout)
            .build(client.clone());
        let subjects = Subjects::new(&config.subject_prefix);
        let stream = open_stream(&context, &config, &subjects).await?;
        info!(servers = %servers, stream = %config.stream_name, "JetStream event log open");
        Ok(Store {
            config,
            subjects,
            servers,
            client,
            context,
            stream,
            hints: Mutex::new(PositionHints::new(HINT_CAPACITY)),
            reconnects,
        })
    }

    /// Changes each time the client (re)connects: consumers on a server
    /// that restarted are gone and must be recreated.
    pub fn reconnects(&self) -> watch::Receiver<u64> {
        self.reconnects.clone()
    }

    /// The server's limit on one message (payload and headers).
    pub fn max_payload(&self) -> usize {
        self.client.server_info().max_payload
    }

    pub fn unavailable(&self, what: &str, error: impl std::fmt::Display) -> LogError {
        unavailable(&self.servers, what, error)
    }

    /// The message at `seq`, if the stream holds it.
    pub async fn get(&self, seq: u64) -> Result<Option<Stored>, LogError> {
        self.fetch(self.stream.raw_message_builder().sequence(seq)).await
    }

    /// The newest message on `subject` (wildcards allowed).
    pub async fn last(&self, subject: &str) -> Result<Option<Stored>, LogError> {
        self.fetch(self.stream.raw_message_builder().last_by_subject(subject))
            .await
    }

    /// The first message on `subject` at or after sequence `seq`.
    pub async fn next_from(&self, seq: u64, subject: &str) -> Result<Option<Stored>, LogError> {
        let request = self
            .stream
            .raw_message_builder()
            .sequence(seq)
            .next_by_subject(subject);
        self.fetch(request).await
    }

    /// The newest message of the whole log.
    pub async fn head(&self) -> Result<Option<Stored>, LogError> {
        self.last(&self.subjects.all()).await
    }

    /// The stream's last sequence, also when it holds no message.
    pub async fn last_sequence(&self) -> Result<u64, LogError> {
        let info = self
            .stream
            .get_info()
            .await
            .map_err(|e| self.unavailable("stream info", e))?;
        Ok(info.state.last_sequence)
    }

    async fn fetch(&self, request: stream::RawMessageBuilder) -> Result<Option<Stored>, LogError> {
        match request.send().await {
            Ok(raw) => self.decode(raw.sequence, &raw.payload).map(Some),
            Err(error) if error.kind() == RawMessageErrorKind::NoMessageFound => Ok(None),
            Err(error) => Err(self.unavailable("reading a message", error)),
        }
    }

    /// Decodes a message and remembers where it sits.
    pub fn decode(&self, seq: u64, payload: &bytes::Bytes) -> Result<Stored, LogError> {
        let message = decode_message(payload).map_err(|e| corrupt(&self.config.stream_name, seq, e))?;
        let stored = Stored {
            seq,
            message: Arc::new(message),
        };
        self.hints
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .record(stored.span());
        Ok(stored)
    }

    /// The first message whose last position is at least `position`, given
    /// the log's newest message `head`.
    pub async fn locate(&self, position: Position, head: &Stored) -> Result<Option<Stored>, LogError> {
        let hi = head.seq.min(position.0.max(1));
        let narrowed = self
            .hints
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .narrow(position.0, 1, hi);
        let (lo, hi) = match narrowed {
            Ok(span) => return self.get(span.seq).await,
            Err(range) => range,
        };
        let all = self.subjects.all();
        let found = Mutex::new(None::<Stored>);
        let probe = |seq: u64| {
            let (all, found) = (&all, &found);
            async move {
                let stored = self.next_from(seq, all).await?;
                let span = stored.as_ref().map(Stored::span);
                *found.lock().unwrap_or_else(PoisonError::into_inner) = stored;
                Ok(span)
            }
        };
        let Some(span) = locate(position.0, lo, hi, probe).await? else {
            return Ok(None);
        };
        let last = found.into_inner().unwrap_or_else(PoisonError::into_inner);
        match last {
            Some(stored) if stored.seq == span.seq => Ok(Some(stored)),
            _ => self.get(span.seq).await,
        }
    }

    /// An ordered consumer from sequence `start` on `filter`, and its name.
    pub async fn consumer(&self, start: u64, filter: String) -> Result<(String, pull::Ordered), LogError> {
        let config = pull::OrderedConfig {
            filter_subject: filter,
            deliver_policy: DeliverPolicy::ByStartSequence {
                start_sequence: start.max(1),
            },
            replay_policy: ReplayPolicy::Instant,
            ..Default::default()
        };
        let consumer = self
            .stream
            .create_consumer(config)
            .await
            .map_err(|e| self.unavailable("creating a consumer", e))?;
        let name = consumer.cached_info().name.clone();
        let messages = consumer
            .messages()
            .await
            .map_err(|e| self.unavailable("starting a consumer", e))?;
        Ok((name, messages))
    }

    /// Deletes a consumer in the background; without a runtime it is left
    /// to expire (ordered consumers go after 30 s without a reader).
    pub fn drop_consumer(&self, name: String) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let stream = self.stream.clone();
        runtime.spawn(async move {
            let _ = stream.delete_consumer(&name).await;
        });
    }

    /// Visits the messages on `filter` from sequence `start` until `visit`
    /// returns false, sequence `end` is reached or no message is pending.
    pub async fn scan(
        &self,
        start: u64,
        filter: String,
        end: u64,
        mut visit: impl FnMut(Stored) -> bool + Send,
    ) -> Result<(), LogError> {
        if start > end {
            return Ok(());
        }
        let (name, mut messages) = self.consumer(start, filter).await?;
        let result = async {
            loop {
                let (seq, pending, stored) = self.next_scanned(&mut messages).await?;
                if !visit(stored) || seq >= end || pending == 0 {
                    return Ok(());
                }
            }
        }
        .await;
        drop(messages);
        self.drop_consumer(name);
        result
    }

    async fn next_scanned(&self, messages: &mut pull::Ordered) -> Result<(u64, u64, Stored), LogError> {
        let wait = self.config.request_timeout;
        let message = tokio::time::timeout(wait, messages.next())
            .await
            .map_err(|_| self.unavailable("reading", format!("no message within {wait:?}")))?
            .ok_or_else(|| self.unavailable("reading", "the consumer ended"))?
            .map_err(|e| self.unavailable("reading", e))?;
        let info = message.info().map_err(|e| self.unavailable("reading", e))?;
        let (seq, pending) = (info.stream_sequence, info.pending);
        Ok((seq, pending, self.decode(seq, &message.payload)?))
    }

    /// Publishes one message; the returned future resolves to its ack.
    pub async fn publish(
        &self,
        subject: String,
        message: PublishMessage,
    ) -> Result<PublishAckFuture, PublishError> {
        self.context.send_publish(subject, message).await
    }

    /// Deletes the whole stream with every event in it.
    pub async fn delete_stream(&self) -> Result<(), LogError> {
        self.context
            .delete_stream(&self.config.stream_name)
            .await
            .map(drop)
            .map_err(|e| self.unavailable("deleting the stream", e))
    }
}

async fn connect(
    config: &JetStreamLogConfig,
    connected: watch::Sender<u64>,
) -> Result<async_nats::Client, OpenError> {
    let addresses = config
        .servers
        .iter()
        .map(|s| s.parse::<ServerAddr>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| InvalidConfig(format!("servers: {e}")))?;
    let max_delay = config.max_reconnect_delay;
    let servers = config.servers_text();
    let connected = Arc::new(connected);
    ConnectOptions::new()
        .name(&config.client_name)
        .connection_timeout(config.connect_timeout)
        .request_timeout(Some(config.request_timeout))
        .max_reconnects(None)
        .reconnect_delay_callback(move |attempts| reconnect_delay(attempts, max_delay))
        .event_callback(move |event| {
            if matches!(event, Event::Connected) {
                connected.send_modify(|count| *count += 1);
            }
            let servers = servers.clone();
            async move { log_event(&servers, &event) }
        })
        .connect(addresses)
        .await
        .map_err(|source| OpenError::Connect {
            servers: config.servers_text(),
            source,
        })
}

/// 0 ms, then doubling from 10 ms up to `max`.
fn reconnect_delay(attempts: usize, max: Duration) -> Duration {
    if attempts <= 1 {
        return Duration::ZERO;
    }
    let exponent = u32::try_from(attempts - 2).unwrap_or(u32::MAX).min(16);
    Duration::from_millis(10u64 << exponent).min(max)
}

fn log_event(servers: &str, event: &Event) {
    match event {
        Event::Connected => info!(servers, "event log reconnected to NATS"),
        Event::Disconnected => warn!(servers, "event log lost its NATS connection; reconnecting"),
        // The client closing (the log was dropped) is expected, not a fault.
        Event::Closed => debug!(servers, "NATS connection closed"),
        // Every failed reconnect attempt reports one; the disconnection
        // was already logged once.
        Event::ClientError(error) => debug!(servers, %error, "NATS client error"),
        other => warn!(servers, event = %other, "NATS connection event"),
    }
}

async fn open_stream(
    context: &Context,
    config: &JetStreamLogConfig,
    subjects: &Subjects,
) -> Result<stream::Stream, OpenError> {
    let failed = |reason: String| OpenError::Stream {
        servers: config.servers_text(),
        stream: config.stream_name.clone(),
        reason,
    };
    let stream = context
        .get_or_create_stream(stream_config(config, subjects))
        .await
        .map_err(|e| failed(e.to_string()))?;
    let existing = &stream.cached_info().config;
    if !existing.subjects.contains(&subjects.all()) {
        return Err(failed(format!(
            "it exists with subjects {:?}, without {}",
            existing.subjects,
            subjects.all()
        )));
    }
    if existing.num_replicas != config.replicas || existing.duplicate_window != config.duplicate_window {
        warn!(
            stream = %config.stream_name,
            replicas = existing.num_replicas,
            duplicate_window = ?existing.duplicate_window,
            "the existing JetStream stream differs from the configuration; it is used as it is"
        );
    }
    Ok(stream)
}

/// The stream the log creates when there is none.
fn stream_config(config: &JetStreamLogConfig, subjects: &Subjects) -> stream::Config {
    stream::Config {
        name: config.stream_name.clone(),
        description: Some("Quire event log: one message per append".to_owned()),
        subjects: vec![subjects.all()],
        retention: RetentionPolicy::Limits,
        discard: DiscardPolicy::Old,
        max_age: config.max_age.unwrap_or(Duration::ZERO),
        storage: match config.storage {
            Storage::File => StorageType::File,
            Storage::Memory => StorageType::Memory,
        },
        num_replicas: config.replicas,
        duplicate_window: config.duplicate_window,
        deny_delete: true,
        deny_purge: true,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconnect_delays_grow_to_the_maximum() {
        let max = Duration::from_secs(2);
        let delays: Vec<u128> = (1..=12).map(|a| reconnect_delay(a, max).as_millis()).collect();
        assert_eq!(delays, [0, 10, 20, 40, 80, 160, 320, 640, 1280, 2000, 2000, 2000]);
        assert_eq!(reconnect_delay(usize::MAX, max), max);
    }

    #[test]
    fn created_streams_keep_every_event() {
        let mut config = JetStreamLogConfig::new(["nats://127.0.0.1:4222"]);
        config.replicas = 3;
        let created = stream_config(&config, &Subjects::new("quire.events"));
        assert_eq!(created.subjects, vec!["quire.events.>".to_owned()]);
        assert_eq!(created.num_replicas, 3);
        assert_eq!(created.max_age, Duration::ZERO);
        assert!(created.deny_delete && created.deny_purge);
    }
}
