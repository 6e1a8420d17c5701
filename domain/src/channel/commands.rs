//! What callers may ask of a channel. The actor and time come from the
//! [`Issued`](crate::values::Issued) wrapper.

use std::collections::BTreeSet;

use crate::values::{ChannelId, DocumentId, MessageId, Name, UserId};

/// Every command the channel aggregate decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelCommand {
    CreateDirect(CreateDirect),
    CreateGroup(CreateGroup),
    AddParticipant(AddParticipant),
    RemoveParticipant(RemoveParticipant),
    SendMessage(SendMessage),
    EditMessage(EditMessage),
    DeleteMessage(DeleteMessage),
    MarkRead(MarkRead),
}

impl ChannelCommand {
    /// The channel the command is for: the handler loads `channel-<id>`.
    pub fn channel_id(&self) -> &ChannelId {
        match self {
            ChannelCommand::CreateDirect(c) => &c.channel_id,
            ChannelCommand::CreateGroup(c) => &c.channel_id,
            ChannelCommand::AddParticipant(c) => &c.channel_id,
            ChannelCommand::RemoveParticipant(c) => &c.channel_id,
            ChannelCommand::SendMessage(c) => &c.channel_id,
            ChannelCommand::EditMessage(c) => &c.channel_id,
            ChannelCommand::DeleteMessage(c) => &c.channel_id,
            ChannelCommand::MarkRead(c) => &c.channel_id,
        }
    }
}

/// Opens a conversation between exactly two users, one of them the actor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateDirect {
    /// New id, chosen by the handler (which may derive it from the pair, to
    /// keep one direct channel per pair).
    pub channel_id: ChannelId,
    /// Both users, the actor included.
    pub participants: Vec<UserId>,
}

/// Opens a named channel; the actor joins with the given members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateGroup {
    /// New id, chosen by the handler.
    pub channel_id: ChannelId,
    pub name: Name,
    /// Other participants; the actor may be listed or not, duplicates count
    /// once.
    pub members: Vec<UserId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddParticipant {
    pub channel_id: ChannelId,
    pub user: UserId,
}

/// Removes a participant, or lets the actor leave when `user` is the actor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoveParticipant {
    pub channel_id: ChannelId,
    pub user: UserId,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendMessage {
    pub channel_id: ChannelId,
    /// New id, chosen by the handler; unique within the channel.
    pub message_id: MessageId,
    /// Text; not blank, at most [`MAX_BODY_BYTES`](super::MAX_BODY_BYTES).
    pub body: String,
    /// The message this one answers; it must exist here and not be deleted.
    pub thread_parent: Option<MessageId>,
    /// Users to notify; each must be a participant. Duplicates count once.
    pub mentions: Vec<UserId>,
    /// Documents to attach. Duplicates count once.
    pub attachments: Vec<DocumentId>,
    /// The documents among `attachments` that the handler verified, against
    /// the document read model, the sender may read. The aggregate cannot see
    /// documents, so any attachment outside this set is refused.
    pub readable_documents: BTreeSet<DocumentId>,
}

/// Replaces the body of one of the actor's own messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditMessage {
    pub channel_id: ChannelId,
    pub message_id: MessageId,
    pub body: String,
}

/// Deletes one of the actor's own messages (soft: it keeps its place).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteMessage {
    pub channel_id: ChannelId,
    pub message_id: MessageId,
}

/// Records that the actor has read everything up to and including a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkRead {
    pub channel_id: ChannelId,
    pub up_to: MessageId,
}
