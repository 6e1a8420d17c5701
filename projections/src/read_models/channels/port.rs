//! The [`ChannelQueries`] port: channels (with the reader's unread count),
//! messages and read markers, answered for a given reader. Unread counts
//! alone are the [`UnreadQueries`](crate::read_models::unread::UnreadQueries)
//! port, which channel backends answer too.

use async_trait::async_trait;
use quire_domain::{ChannelId, MessageId, UserId};

use super::views::{ChannelView, MessageView};
use crate::query::{Page, PageRequest, QueryError};

/// Which messages [`ChannelQueries::list_messages`] lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageFilter {
    /// `None`: every message of the channel, replies included (each names
    /// its `thread_parent`). `Some(m)`: only the direct replies to `m`.
    pub thread: Option<MessageId>,
}

/// Queries over channels and their messages.
///
/// # Visibility
///
/// Only a channel's current participants see it and its messages; for
/// anyone else (including former participants) the channel is
/// [`QueryError::NotFound`], exactly as if it did not exist.
///
/// # Order and paging
///
/// Messages are listed **newest first** by their `seq`; the page token
/// holds the `seq` of the last message returned, so a page of a channel of
/// any size costs O(page). Channels are listed newest first by creation
/// time, then by id descending. A malformed page token or page size is
/// [`QueryError::InvalidArgument`]; the last page has no `next_page_token`.
#[async_trait]
pub trait ChannelQueries: Send + Sync + 'static {
    /// One channel the reader takes part in, with their unread count.
    async fn get_channel(&self, reader: &UserId, id: &ChannelId) -> Result<ChannelView, QueryError>;

    /// The reader's channels, with their unread count each.
    async fn list_channels(
        &self,
        reader: &UserId,
        page: PageRequest,
    ) -> Result<Page<ChannelView>, QueryError>;

    /// A channel's messages (or one thread's replies), newest first. A
    /// thread parent that is not a message of the channel is `NotFound`.
    async fn list_messages(
        &self,
        reader: &UserId,
        channel: &ChannelId,
        filter: MessageFilter,
        page: PageRequest,
    ) -> Result<Page<MessageView>, QueryError>;

    /// One message of a channel the reader takes part in.
    async fn get_message(
        &self,
        reader: &UserId,
        channel: &ChannelId,
        message: &MessageId,
    ) -> Result<MessageView, QueryError>;

    /// Whether the reader currently takes part in the channel (`false` for
    /// a channel that does not exist).
    async fn is_participant(&self, reader: &UserId, channel: &ChannelId) -> Result<bool, QueryError>;
}
