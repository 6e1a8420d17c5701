//! Why a channel command is rejected, and how a caller should treat it.

use crate::error_kind::ErrorKind;
use crate::values::{ChannelId, DocumentId, MessageId, UserId};

/// A rejected channel command. [`ChannelError::kind`] says how to handle it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChannelError {
    #[error("channel `{0}` does not exist")]
    NotFound(ChannelId),
    #[error("channel `{0}` already exists")]
    AlreadyExists(ChannelId),
    #[error("permission denied: {reason}")]
    PermissionDenied { reason: &'static str },
    #[error("invalid {field}: {reason}")]
    InvalidArgument { field: &'static str, reason: String },
    #[error("message `{0}` does not exist in this channel")]
    MessageNotFound(MessageId),
    #[error("message `{0}` already exists in this channel")]
    MessageExists(MessageId),
    #[error("message `{0}` is deleted")]
    MessageDeleted(MessageId),
    #[error("the participants of a direct channel cannot change")]
    DirectChannel,
    #[error("the channel already has the maximum of {max} participants")]
    ChannelFull { max: usize },
    #[error("mentioned user `{0}` is not a participant")]
    MentionNotParticipant(UserId),
    #[error("the sender may not read attached document `{0}`")]
    AttachmentNotReadable(DocumentId),
}

impl ChannelError {
    /// The class of the error, for mapping to a transport status.
    pub fn kind(&self) -> ErrorKind {
        match self {
            ChannelError::NotFound(_) | ChannelError::MessageNotFound(_) => ErrorKind::NotFound,
            ChannelError::AlreadyExists(_) | ChannelError::MessageExists(_) => ErrorKind::AlreadyExists,
            ChannelError::PermissionDenied { .. } | ChannelError::AttachmentNotReadable(_) => {
                ErrorKind::PermissionDenied
            }
            ChannelError::InvalidArgument { .. } => ErrorKind::InvalidArgument,
            ChannelError::MessageDeleted(_)
            | ChannelError::DirectChannel
            | ChannelError::ChannelFull { .. }
            | ChannelError::MentionNotParticipant(_) => ErrorKind::FailedPrecondition,
        }
    }

    pub(super) fn denied(reason: &'static str) -> ChannelError {
        ChannelError::PermissionDenied { reason }
    }

    pub(super) fn invalid(field: &'static str, reason: impl Into<String>) -> ChannelError {
        ChannelError::InvalidArgument {
            field,
            reason: reason.into(),
        }
    }
}
