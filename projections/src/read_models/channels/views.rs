//! What the channels read model answers: channels with the reader's unread
//! count, and messages.

use quire_domain::channel::ChannelKind;
use quire_domain::{ChannelId, DocumentId, MessageId, Name, Timestamp, UserId};

/// A channel as one of its participants sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelView {
    pub id: ChannelId,
    pub kind: ChannelKind,
    /// Group channels only.
    pub name: Option<Name>,
    pub created_at: Timestamp,
    /// Current participants, sorted.
    pub participants: Vec<UserId>,
    /// `seq` of the newest message (0 when there is none).
    pub last_seq: u64,
    /// When the newest message was sent.
    pub last_message_at: Option<Timestamp>,
    /// `seq` of the last message the reader marked read (0: none).
    pub read_up_to: u64,
    /// Messages by others after the reader's read marker, deleted ones not
    /// counted.
    pub unread: u32,
}

/// One message. A deleted message keeps its place, author and times but
/// loses its body, mentions and attachments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageView {
    pub id: MessageId,
    pub channel: ChannelId,
    /// 1-based order in the channel.
    pub seq: u64,
    pub author: UserId,
    /// `None` once deleted.
    pub body: Option<String>,
    /// The message this one answers.
    pub thread_parent: Option<MessageId>,
    /// Number of messages that answer this one.
    pub replies: u32,
    pub mentions: Vec<UserId>,
    pub attachments: Vec<DocumentId>,
    pub sent_at: Timestamp,
    /// When the body last changed.
    pub edited_at: Option<Timestamp>,
    pub deleted: bool,
}

/// The reader's unread count in one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadCount {
    pub channel: ChannelId,
    pub unread: u32,
}
