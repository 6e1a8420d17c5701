//! The [`UnreadQueries`] port: a reader's unread counts by channel, the
//! cheap call behind badges. The embedded channels read model and the
//! Postgres one answer it from their participants' rows; a fleet answers it
//! from Redis through [`UnreadCounts`](crate::realtime::UnreadCounts).

use async_trait::async_trait;
use quire_domain::UserId;

use super::channels::UnreadCount;
use crate::query::QueryError;

/// A reader's unread counts.
///
/// A count is the number of live messages by others after the reader's
/// read marker in a channel they take part in.
#[async_trait]
pub trait UnreadQueries: Send + Sync + 'static {
    /// The reader's channels that have unread messages, with their counts,
    /// in channel list order (newest first by creation time, then by id
    /// descending). Channels with nothing unread are left out.
    async fn unread_counts(&self, reader: &UserId) -> Result<Vec<UnreadCount>, QueryError>;
}
