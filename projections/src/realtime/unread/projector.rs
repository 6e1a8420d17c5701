//! [`UnreadCounts`]: the projector that turns `channel.*` events into
//! [`ChannelChange`]s on an [`UnreadCounters`] backend, and the
//! [`UnreadQueries`] port answered from it.
//!
//! Its checkpoint is saved by the backend together with the changes, so a
//! crash at any point replays at most the last batch, which the backend's
//! per-channel guard makes a no-op.

use std::sync::Arc;

use async_trait::async_trait;
use quire_domain::channel::ChannelEvent;
use quire_domain::{DomainEvent, Position, RecordedEvent, UserId};
use quire_event_log::EventFilter;

use super::{ChannelChange, UnreadChange, UnreadCounters};
use crate::config::RunnerConfig;
use crate::error::ProjectionError;
use crate::projector::Projector;
use crate::query::QueryError;
use crate::read_models::channels::UnreadCount;
use crate::read_models::unread::UnreadQueries;
use crate::read_models::{decode, event_types};
use crate::realtime::RealtimeError;

/// Unread counts on an [`UnreadCounters`] backend.
#[derive(Debug, Clone)]
pub struct UnreadCounts {
    counters: Arc<dyn UnreadCounters>,
}

impl UnreadCounts {
    pub const NAME: &'static str = "unread-counts";

    pub fn new(counters: Arc<dyn UnreadCounters>) -> UnreadCounts {
        UnreadCounts { counters }
    }

    /// Batches of at most 256 events. A batch is one script call on Redis,
    /// which serves no other client meanwhile: 256 message events take
    /// about 3 ms there on the development machine (docs/benchmarks.md).
    pub fn runner_config() -> RunnerConfig {
        RunnerConfig {
            max_batch_size: 256,
            ..RunnerConfig::default()
        }
    }
}

/// The events that change unread counts (edits do not).
const IGNORED: [&str; 1] = ["channel.message_edited"];

/// The change an event makes; `None` for one that changes no count.
pub fn change_for(event: &RecordedEvent) -> Result<Option<ChannelChange>, ProjectionError> {
    if event.stream_id.category() != "channel" {
        return Ok(None);
    }
    let (channel, change) = match decode::<ChannelEvent>(event)? {
        ChannelEvent::DirectCreated(e) => (e.channel_id, opened(e.at, e.participants)),
        ChannelEvent::GroupCreated(e) => (e.channel_id, opened(e.at, e.participants)),
        ChannelEvent::ParticipantAdded(e) => (e.channel_id, UnreadChange::Joined { user: e.user }),
        ChannelEvent::ParticipantRemoved(e) => (e.channel_id, UnreadChange::Left { user: e.user }),
        ChannelEvent::MessageSent(e) => (
            e.channel_id,
            UnreadChange::Sent {
                message: e.message_id,
                seq: e.seq,
                author: e.author,
            },
        ),
        ChannelEvent::MessageDeleted(e) => (
            e.channel_id,
            UnreadChange::Deleted {
                message: e.message_id,
                author: e.by,
            },
        ),
        ChannelEvent::ReadMarkerMoved(e) => (
            e.channel_id,
            UnreadChange::ReadUpTo {
                user: e.user,
                seq: e.up_to_seq,
            },
        ),
        ChannelEvent::MessageEdited(_) => return Ok(None),
    };
    Ok(Some(ChannelChange {
        channel,
        position: event.position,
        change,
    }))
}

fn opened(created_at: quire_domain::Timestamp, participants: Vec<UserId>) -> UnreadChange {
    UnreadChange::Opened {
        created_at,
        participants,
    }
}

fn unavailable(error: RealtimeError) -> ProjectionError {
    match error {
        RealtimeError::Rewound { stored, seen } => ProjectionError::Rewound { stored, seen },
        error => ProjectionError::unavailable(format!("unread counters: {error}")),
    }
}

#[async_trait]
impl Projector for UnreadCounts {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn version(&self) -> u32 {
        1
    }

    fn filter(&self) -> EventFilter {
        EventFilter::categories(["channel"]).with_event_types(event_types(ChannelEvent::catalog(), &IGNORED))
    }

    async fn load_checkpoint(&self) -> Result<Position, ProjectionError> {
        self.counters.checkpoint().await.map_err(unavailable)
    }

    async fn apply(
        &self,
        events: &[Arc<RecordedEvent>],
        checkpoint: Position,
    ) -> Result<(), ProjectionError> {
        let mut changes = Vec::with_capacity(events.len());
        for event in events {
            changes.extend(change_for(event)?);
        }
        self.counters
            .apply(&changes, checkpoint)
            .await
            .map_err(unavailable)
    }

    async fn reset(&self) -> Result<(), ProjectionError> {
        self.counters.reset().await.map_err(unavailable)
    }
}

#[async_trait]
impl UnreadQueries for UnreadCounts {
    async fn unread_counts(&self, reader: &UserId) -> Result<Vec<UnreadCount>, QueryError> {
        let counts = self
            .counters
            .counts(reader)
            .await
            .map_err(|error| QueryError::Unavailable(error.to_string()))?;
        Ok(counts
            .into_iter()
            .map(|count| UnreadCount {
                channel: count.channel,
                unread: u32::try_from(count.unread).unwrap_or(u32::MAX),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use quire_domain::channel::{MessageEdited, MessageSent};
    use quire_domain::{ChannelId, EventMetadata, MessageId, NewEvent, StreamId, Timestamp};

    use super::*;

    fn recorded(stream: &str, event: NewEvent) -> RecordedEvent {
        RecordedEvent {
            event_id: event.event_id,
            stream_id: StreamId::parse(stream).expect("stream"),
            stream_version: 1,
            position: Position(7),
            event_type: event.event_type,
            schema_version: event.schema_version,
            recorded_at: Timestamp::from_unix_micros(1),
            metadata: event.metadata,
            payload: event.payload,
        }
    }

    fn metadata() -> EventMetadata {
        EventMetadata::new(quire_domain::Actor::user("ann"))
    }

    /// Message `m1` of channel `c1`, numbered `seq`, as recorded at position 7.
    fn sent(seq: u64) -> RecordedEvent {
        let sent = ChannelEvent::MessageSent(MessageSent {
            channel_id: ChannelId::parse("c1").expect("id"),
            message_id: MessageId::parse("m1").expect("id"),
            seq,
            author: UserId::parse("ann").expect("id"),
            body: "hi".into(),
            thread_parent: None,
            mentions: vec![],
            attachments: vec![],
            at: Timestamp::from_unix_micros(5),
        });
        recorded("channel-c1", NewEvent::from_domain(&sent, metadata()))
    }

    #[test]
    fn a_sent_message_is_a_change_and_an_edit_is_none() {
        let channel = ChannelId::parse("c1").expect("id");
        let change = change_for(&sent(3)).expect("decodes").expect("a change");
        assert_eq!(change.channel, channel);
        assert_eq!(change.position, Position(7));
        assert!(matches!(change.change, UnreadChange::Sent { seq: 3, .. }));

        let edited = ChannelEvent::MessageEdited(MessageEdited {
            channel_id: channel,
            message_id: MessageId::parse("m1").expect("id"),
            body: "edited".into(),
            by: UserId::parse("ann").expect("id"),
            at: Timestamp::from_unix_micros(6),
        });
        let event = recorded("channel-c1", NewEvent::from_domain(&edited, metadata()));
        assert_eq!(change_for(&event).expect("decodes"), None);
    }

    #[test]
    fn a_payload_that_does_not_decode_fails_the_event() {
        let mut event = sent(1);
        event.payload = bytes::Bytes::from_static(b"{}");
        assert!(change_for(&event).is_err());
    }
}
