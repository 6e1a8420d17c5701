//! The [`MessageFanout`] port: "new message in channel C at position P"
//! notices, published by whoever learns of the message (the projector that
//! follows the log) and delivered to every gateway instance streaming that
//! channel to its clients.
//!
//! # Guarantees
//! A subscription delivers every notice published after `subscribe`
//! returned, at least once, while the backend stays connected; notices from
//! one publisher to one channel arrive in publication order. Pub/sub keeps
//! nothing: notices published while a subscriber is disconnected (or while
//! it lags too far behind) are lost. The stream survives such interruptions
//! (it resubscribes by itself) and reports each with a [`Delivery::Gap`];
//! the consumer then reads the read model for the messages after the last
//! position it delivered, and in general uses positions to drop duplicates
//! and detect holes. A notice is a hint to look, never the message itself.

use std::fmt::Debug;
use std::pin::Pin;

use async_trait::async_trait;
use futures::Stream;
use quire_domain::{ChannelId, MessageId, Position, UserId};
use serde::{Deserialize, Serialize};

use super::RealtimeError;

/// A message was posted, edited or deleted: small enough to publish for
/// every message event.
///
/// Its JSON form (`{"channel":…,"message":…,"position":…,"author":…}`, plus
/// `"kind":"edited"|"deleted"` for those) is what crosses the wire between
/// gateway instances.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MessageNotice {
    /// The channel the message was posted in.
    pub channel: ChannelId,
    /// The message, unique within its channel.
    pub message: MessageId,
    /// Log position of the event.
    pub position: Position,
    /// Who posted (or edited, or deleted) it.
    pub author: UserId,
    /// What happened to the message.
    #[serde(default, skip_serializing_if = "NoticeKind::is_sent")]
    pub kind: NoticeKind,
}

/// What a [`MessageNotice`] announces.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    #[default]
    Sent,
    Edited,
    Deleted,
}

impl NoticeKind {
    fn is_sent(&self) -> bool {
        *self == NoticeKind::Sent
    }
}

impl MessageNotice {
    /// The notice as JSON bytes.
    pub fn to_json(&self) -> Result<Vec<u8>, RealtimeError> {
        serde_json::to_vec(self).map_err(|e| RealtimeError::Malformed(e.to_string()))
    }

    /// Reads a notice from JSON bytes.
    pub fn from_json(bytes: &[u8]) -> Result<MessageNotice, RealtimeError> {
        serde_json::from_slice(bytes).map_err(|e| RealtimeError::Malformed(e.to_string()))
    }
}

/// One item of a subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// A notice for one of the subscribed channels.
    Notice(MessageNotice),
    /// Notices may have been lost just before this point (the backend
    /// reconnected, or this subscriber fell behind): fill the gap from the
    /// read model, from the last position delivered.
    Gap,
}

/// A live subscription; it ends only when the backend is dropped for good.
pub type DeliveryStream = Pin<Box<dyn Stream<Item = Delivery> + Send>>;

/// Fan-out of new-message notices across gateway instances.
#[async_trait]
pub trait MessageFanout: Send + Sync + Debug {
    /// Publishes a notice to every current subscriber of its channel.
    async fn publish(&self, notice: &MessageNotice) -> Result<(), RealtimeError>;

    /// Subscribes to the notices of `channels`. Every notice published after
    /// this returns is delivered (see the module doc for what a
    /// disconnection loses). Dropping the stream unsubscribes.
    async fn subscribe(&self, channels: &[ChannelId]) -> Result<DeliveryStream, RealtimeError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shape_is_small_and_round_trips() {
        let notice = MessageNotice {
            channel: ChannelId::parse("c1").expect("id"),
            message: MessageId::parse("m1").expect("id"),
            position: Position(42),
            author: UserId::parse("ann").expect("id"),
            kind: NoticeKind::Sent,
        };
        let json = notice.to_json().expect("json");
        assert_eq!(
            json,
            br#"{"channel":"c1","message":"m1","position":42,"author":"ann"}"#
        );
        assert_eq!(MessageNotice::from_json(&json).expect("read"), notice);
        let edited = MessageNotice {
            kind: NoticeKind::Edited,
            ..notice
        };
        let json = edited.to_json().expect("json");
        assert!(json.ends_with(br#","kind":"edited"}"#));
        assert_eq!(MessageNotice::from_json(&json).expect("read"), edited);
        assert!(MessageNotice::from_json(b"{}").is_err());
    }
}
