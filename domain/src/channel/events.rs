//! What happened in a channel: one payload struct per stored event type.

use serde::{Deserialize, Serialize};

use crate::envelope::Timestamp;
use crate::values::{ChannelId, DocumentId, MessageId, Name, UserId};

/// Every event of a `channel-<id>` stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelEvent {
    DirectCreated(DirectCreated),
    GroupCreated(GroupCreated),
    ParticipantAdded(ParticipantAdded),
    ParticipantRemoved(ParticipantRemoved),
    MessageSent(MessageSent),
    MessageEdited(MessageEdited),
    MessageDeleted(MessageDeleted),
    ReadMarkerMoved(ReadMarkerMoved),
}

crate::domain_events!(ChannelEvent {
    DirectCreated(DirectCreated) => "channel.direct_created" v1,
    GroupCreated(GroupCreated) => "channel.group_created" v1,
    ParticipantAdded(ParticipantAdded) => "channel.participant_added" v1,
    ParticipantRemoved(ParticipantRemoved) => "channel.participant_removed" v1,
    MessageSent(MessageSent) => "channel.message_sent" v1,
    MessageEdited(MessageEdited) => "channel.message_edited" v1,
    MessageDeleted(MessageDeleted) => "channel.message_deleted" v1,
    ReadMarkerMoved(ReadMarkerMoved) => "channel.read_marker_moved" v1,
});

/// A direct channel between two users opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectCreated {
    pub channel_id: ChannelId,
    /// The two users, in sorted order.
    pub participants: Vec<UserId>,
    pub by: UserId,
    pub at: Timestamp,
}

/// A named group channel opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupCreated {
    pub channel_id: ChannelId,
    pub name: Name,
    /// Everyone in it from the start, the creator included, in sorted order.
    pub participants: Vec<UserId>,
    pub by: UserId,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParticipantAdded {
    pub channel_id: ChannelId,
    pub user: UserId,
    pub by: UserId,
    pub at: Timestamp,
}

/// A participant left (`by == user`) or was removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParticipantRemoved {
    pub channel_id: ChannelId,
    pub user: UserId,
    pub by: UserId,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageSent {
    pub channel_id: ChannelId,
    pub message_id: MessageId,
    /// 1-based order of the message in its channel. Read markers and unread
    /// counts compare these numbers.
    pub seq: u64,
    pub author: UserId,
    pub body: String,
    pub thread_parent: Option<MessageId>,
    /// Mentioned participants, without duplicates, in the order given.
    pub mentions: Vec<UserId>,
    /// Attached documents, without duplicates, in the order given.
    pub attachments: Vec<DocumentId>,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageEdited {
    pub channel_id: ChannelId,
    pub message_id: MessageId,
    pub body: String,
    pub by: UserId,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageDeleted {
    pub channel_id: ChannelId,
    pub message_id: MessageId,
    pub by: UserId,
    pub at: Timestamp,
}

/// `user` has read everything up to and including `up_to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadMarkerMoved {
    pub channel_id: ChannelId,
    pub user: UserId,
    pub up_to: MessageId,
    /// The `seq` of `up_to`, so unread counts need no lookup.
    pub up_to_seq: u64,
    pub at: Timestamp,
}
