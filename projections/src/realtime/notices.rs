//! [`NoticePublisher`]: the projector that turns the log's message events
//! into [`MessageNotice`]s on the [`MessageFanout`], so every gateway
//! streaming a channel learns of its messages without following the log
//! itself.
//!
//! Notices are hints for live streams. The publisher keeps a checkpoint
//! (so a successor resumes where it stopped and a restart repeats at most
//! one batch, which subscribers drop by position), but does not publish
//! events recorded longer than [`STALE_AFTER`] ago: nobody streams them any
//! more, and a rebuild or a first start on a long log would otherwise flood
//! the fan-out with history.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use quire_domain::{ChannelId, MessageId, Position, RecordedEvent, Timestamp, UserId};
use quire_event_log::EventFilter;
use serde::Deserialize;

use super::{MessageFanout, MessageNotice, NoticeKind, RealtimeError};
use crate::checkpoint::CheckpointStore;
use crate::error::ProjectionError;
use crate::projector::Projector;

/// Events older than this are not announced.
pub const STALE_AFTER: Duration = Duration::from_secs(60);

/// The message events a notice is published for.
pub const MESSAGE_EVENTS: [&str; 3] = [
    "channel.message_sent",
    "channel.message_edited",
    "channel.message_deleted",
];

/// Publishes a notice per message event.
#[derive(Debug)]
pub struct NoticePublisher {
    fanout: Arc<dyn MessageFanout>,
    checkpoints: Arc<dyn CheckpointStore>,
}

impl NoticePublisher {
    pub const NAME: &'static str = "notices";

    pub fn new(fanout: Arc<dyn MessageFanout>, checkpoints: Arc<dyn CheckpointStore>) -> NoticePublisher {
        NoticePublisher { fanout, checkpoints }
    }
}

/// The fields every message event carries: `author` when sent, `by` when
/// edited or deleted.
#[derive(Deserialize)]
struct MessageIds {
    channel_id: ChannelId,
    message_id: MessageId,
    #[serde(alias = "by")]
    author: UserId,
}

/// The notice for a message event; `None` for any other event.
pub fn notice_for(event: &RecordedEvent) -> Result<Option<MessageNotice>, ProjectionError> {
    let kind = match event.event_type.as_str() {
        "channel.message_sent" => NoticeKind::Sent,
        "channel.message_edited" => NoticeKind::Edited,
        "channel.message_deleted" => NoticeKind::Deleted,
        _ => return Ok(None),
    };
    let ids: MessageIds = serde_json::from_slice(&event.payload)
        .map_err(|e| ProjectionError::apply(format!("{} at {}: {e}", event.event_type, event.position)))?;
    Ok(Some(MessageNotice {
        channel: ids.channel_id,
        message: ids.message_id,
        position: event.position,
        author: ids.author,
        kind,
    }))
}

fn now() -> Timestamp {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
    Timestamp::from_unix_micros(micros)
}

fn is_stale(event: &RecordedEvent, now: Timestamp) -> bool {
    let age = now.unix_micros().saturating_sub(event.recorded_at.unix_micros());
    age > i64::try_from(STALE_AFTER.as_micros()).unwrap_or(i64::MAX)
}

fn unavailable(error: RealtimeError) -> ProjectionError {
    ProjectionError::unavailable(format!("publishing a message notice: {error}"))
}

#[async_trait]
impl Projector for NoticePublisher {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn version(&self) -> u32 {
        1
    }

    fn filter(&self) -> EventFilter {
        EventFilter::categories(["channel"]).with_event_types(MESSAGE_EVENTS)
    }

    async fn load_checkpoint(&self) -> Result<Position, ProjectionError> {
        self.checkpoints.load(&self.id()).await
    }

    async fn apply(
        &self,
        events: &[Arc<RecordedEvent>],
        checkpoint: Position,
    ) -> Result<(), ProjectionError> {
        let now = now();
        for event in events.iter().filter(|event| !is_stale(event, now)) {
            if let Some(notice) = notice_for(event)? {
                self.fanout.publish(&notice).await.map_err(unavailable)?;
            }
        }
        self.checkpoints.save(&self.id(), checkpoint).await
    }

    async fn reset(&self) -> Result<(), ProjectionError> {
        self.checkpoints.reset(&self.id()).await
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use futures::StreamExt;
    use quire_domain::{Actor, EventMetadata, StreamId};

    use super::*;
    use crate::checkpoint::InMemoryCheckpointStore;
    use crate::realtime::{Delivery, InMemoryFanout};

    fn event(
        position: u64,
        event_type: &str,
        payload: serde_json::Value,
        age: Duration,
    ) -> Arc<RecordedEvent> {
        let recorded = now().unix_micros() - i64::try_from(age.as_micros()).expect("age");
        Arc::new(RecordedEvent {
            event_id: uuid::Uuid::now_v7(),
            stream_id: StreamId::parse("channel-c1").expect("stream"),
            stream_version: position,
            position: Position(position),
            event_type: event_type.to_owned(),
            schema_version: 1,
            recorded_at: Timestamp::from_unix_micros(recorded),
            metadata: EventMetadata::new(Actor::service("test")),
            payload: Bytes::from(payload.to_string()),
        })
    }

    #[test]
    fn each_message_event_becomes_its_notice() {
        let sent = event(
            3,
            "channel.message_sent",
            serde_json::json!({"channel_id": "c1", "message_id": "m1", "seq": 1, "author": "ann", "body": "hi"}),
            Duration::ZERO,
        );
        let notice = notice_for(&sent).expect("decodes").expect("a notice");
        assert_eq!(
            (notice.kind, notice.author.as_str(), notice.position),
            (NoticeKind::Sent, "ann", Position(3))
        );
        let edited = event(
            4,
            "channel.message_edited",
            serde_json::json!({"channel_id": "c1", "message_id": "m1", "body": "hey", "by": "ann", "at": 0}),
            Duration::ZERO,
        );
        assert_eq!(
            notice_for(&edited).expect("decodes").expect("notice").kind,
            NoticeKind::Edited
        );
        let other = event(
            5,
            "channel.read_marker_moved",
            serde_json::json!({}),
            Duration::ZERO,
        );
        assert_eq!(notice_for(&other).expect("ignored"), None);
        let broken = event(
            6,
            "channel.message_deleted",
            serde_json::json!({"channel_id": 1}),
            Duration::ZERO,
        );
        assert!(notice_for(&broken).is_err());
    }

    #[tokio::test]
    async fn publishes_fresh_events_only_and_saves_the_checkpoint() {
        let fanout = InMemoryFanout::new();
        let checkpoints = Arc::new(InMemoryCheckpointStore::new());
        let publisher = NoticePublisher::new(Arc::new(fanout.clone()), checkpoints.clone());
        let mut stream = fanout
            .subscribe(&[ChannelId::parse("c1").expect("id")])
            .await
            .expect("subscribe");
        let payload = |m: &str| serde_json::json!({"channel_id": "c1", "message_id": m, "author": "ann"});
        let events = [
            event(7, "channel.message_sent", payload("old"), STALE_AFTER * 2),
            event(8, "channel.message_sent", payload("new"), Duration::ZERO),
        ];
        publisher.apply(&events, Position(9)).await.expect("apply");
        match stream.next().await {
            Some(Delivery::Notice(notice)) => assert_eq!(notice.message.as_str(), "new"),
            other => panic!("expected the fresh notice, got {other:?}"),
        }
        assert_eq!(
            publisher.load_checkpoint().await.expect("checkpoint"),
            Position(9)
        );
    }
}
