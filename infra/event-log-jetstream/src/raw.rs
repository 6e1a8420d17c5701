//! [`RawPublisher`]: plain JetStream publishes of the messages the log
//! would send, without its concurrency headers, position stamping or
//! writer task. It is the baseline `quire bench append --backend
//! jetstream` measures the log against, in the same run, on a stream made
//! with the same settings.

use async_nats::HeaderMap;
use async_nats::header;
use async_nats::jetstream::message::PublishMessage;
use quire_domain::{NewEvent, Position, StreamId};
use quire_event_log::LogError;

use crate::codec::{Placement, encode_events, encode_message};
use crate::config::JetStreamLogConfig;
use crate::error::OpenError;
use crate::store::Store;
use crate::writer::now;

/// Publishes appends as bare JetStream messages and waits for their acks.
#[derive(Debug)]
pub struct RawPublisher {
    store: Store,
}

impl RawPublisher {
    /// Connects and opens (or creates) the stream of `config`, exactly as
    /// [`JetStreamLog::open`](crate::JetStreamLog::open) would.
    pub async fn open(config: JetStreamLogConfig) -> Result<RawPublisher, OpenError> {
        Ok(RawPublisher {
            store: Store::open(config).await?,
        })
    }

    /// Publishes `events` as one message on `stream`'s subject, encoded as
    /// the log encodes an append at `first_version`, with the first event
    /// id as `Nats-Msg-Id` and no other header, and waits for the ack.
    pub async fn publish(
        &self,
        stream: &StreamId,
        first_version: u64,
        events: &[NewEvent],
    ) -> Result<(), LogError> {
        let encoded = encode_events(events, self.store.config.max_event_bytes)?;
        let placement = Placement {
            stream_id: stream.clone(),
            first_version,
            first_position: Position::FIRST,
            previous: 0,
            recorded_at: now(),
        };
        let mut headers = HeaderMap::new();
        if let Some(first) = events.first() {
            headers.insert(header::NATS_MESSAGE_ID, first.event_id.to_string().as_str());
        }
        let message = PublishMessage::build()
            .headers(headers)
            .payload(encode_message(&placement, &encoded)?);
        let ack = self
            .store
            .publish(self.store.subjects.stream(stream), message)
            .await
            .map_err(|e| self.store.unavailable("publishing", e))?;
        ack.await
            .map_err(|e| self.store.unavailable("waiting for a publish ack", e))?;
        Ok(())
    }

    /// Deletes the stream with everything in it.
    pub async fn delete_stream(&self) -> Result<(), LogError> {
        self.store.delete_stream().await
    }
}
