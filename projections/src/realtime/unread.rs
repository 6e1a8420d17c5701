//! The [`UnreadCounters`] port: per (user, channel) unread counts, driven by
//! a projector that follows the log and read by gateways.
//!
//! # Semantics
//! A backend keeps, per (user, channel), the set of unread message positions
//! and a guard position: messages at or below the guard never count. So:
//! - [`apply_message`](UnreadCounters::apply_message) at position P adds P
//!   unless it is at or below the guard, or already there: applying the same
//!   message twice (redelivery, replay from an older checkpoint) counts once,
//!   and messages may be applied in any order;
//! - [`mark_read`](UnreadCounters::mark_read) up to P raises the guard to P
//!   and drops the positions at or below it (a stale, lower marker does
//!   nothing), so messages after P stay unread;
//! - at most [`UNREAD_CAP`] positions are kept; past that the oldest are
//!   dropped and the guard raised over them, so the count saturates at the
//!   cap ("999+") and memory stays bounded.
//!
//! Each operation is atomic per (user, channel) (a Lua script in Redis).

use std::collections::BTreeMap;
use std::fmt::Debug;

use async_trait::async_trait;
use quire_domain::{ChannelId, Position, UserId};

use super::RealtimeError;

/// The most unread messages counted per (user, channel).
pub const UNREAD_CAP: u64 = 1_000;

/// Per (user, channel) unread counters.
#[async_trait]
pub trait UnreadCounters: Send + Sync + Debug {
    /// Counts the message at `position` in `channel` as unread for `user`;
    /// returns whether it was newly counted (`false` for a redelivery or a
    /// message at or below the read marker).
    async fn apply_message(
        &self,
        user: &UserId,
        channel: &ChannelId,
        position: Position,
    ) -> Result<bool, RealtimeError>;

    /// `user` has read `channel` up to `position`.
    async fn mark_read(
        &self,
        user: &UserId,
        channel: &ChannelId,
        position: Position,
    ) -> Result<(), RealtimeError>;

    /// The user's non-zero unread counts by channel.
    async fn counts(&self, user: &UserId) -> Result<BTreeMap<ChannelId, u64>, RealtimeError>;
}
