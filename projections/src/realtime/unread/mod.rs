//! The [`UnreadCounters`] port: per (user, channel) unread counts kept
//! outside the relational read models (Redis in a fleet), written by the
//! [`UnreadCounts`] projector and read by gateways through the
//! [`UnreadQueries`](crate::read_models::unread::UnreadQueries) port.
//!
//! # Semantics
//! The same as the channels read model's: a participant's unread count in
//! a channel is the number of live (not deleted) messages by others whose
//! `seq` is above their read marker. A participant who joins has no marker,
//! so every live message by others is unread; one who leaves loses the
//! channel and their marker. Markers only move forward.
//!
//! A backend keeps, per channel, the newest [`UNREAD_WINDOW`] live
//! messages (id, `seq`, author), the participants with their markers, and
//! per user the channels they take part in. A count is worked out when read,
//! so a message costs one write however many participants the channel has.
//! Counts are exact while a reader's unread messages are among the
//! channel's newest [`UNREAD_WINDOW`] live messages; a reader further
//! behind gets the count of those (a lower bound, at most the window):
//! clients show such counts as "999+".
//!
//! # Idempotent, atomic writes
//! [`apply`](UnreadCounters::apply) takes a batch of [`ChannelChange`]s
//! and the projector's checkpoint and applies them as one atomic step (one
//! Lua script in Redis). Every channel remembers the log position of the
//! last change applied to it and skips changes at or below it, so a
//! redelivered batch, an overlapping replay or a re-driven old event
//! changes nothing. The checkpoint lives beside the counters, so flushing
//! the store also forgets the checkpoint and the projector rebuilds it from
//! the log.
//!
//! # Lost state
//! The saved checkpoint only moves forward, and each instance remembers the
//! newest checkpoint it read or saved. When the store's is behind that (a
//! Redis restarted without persistence, an older snapshot restored, a reset
//! through another instance), `apply` applies nothing and fails with
//! [`RealtimeError::Rewound`]; the projector runtime then starts again from
//! the store's checkpoint and rebuilds what was lost from the log.
//!
//! # Layout
//! - [`memory`] — [`InMemoryUnreadCounters`], the in-process backend.
//! - [`projector`] — [`UnreadCounts`]: channel events → changes, and the
//!   query port over the counters.

pub mod memory;
pub mod projector;

use std::fmt::Debug;

use async_trait::async_trait;
use quire_domain::{ChannelId, MessageId, Position, Timestamp, UserId};

use super::RealtimeError;

pub use memory::InMemoryUnreadCounters;
pub use projector::UnreadCounts;

/// The newest live messages a backend keeps per channel; unread counts are
/// exact up to this many.
pub const UNREAD_WINDOW: usize = 1_000;

/// What one channel event changes in unread counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnreadChange {
    /// The channel was created with these participants; channels are
    /// listed newest `created_at` first.
    Opened {
        created_at: Timestamp,
        participants: Vec<UserId>,
    },
    /// `user` joined (no marker yet); a participant already in stays as is.
    Joined { user: UserId },
    /// `user` left or was removed: the channel and their marker are gone.
    Left { user: UserId },
    /// A message was sent.
    Sent {
        message: MessageId,
        seq: u64,
        author: UserId,
    },
    /// A message was deleted by its author (only authors delete).
    Deleted { message: MessageId, author: UserId },
    /// `user` has read up to and including the message numbered `seq`.
    ReadUpTo { user: UserId, seq: u64 },
}

/// A change to one channel, at the log position of the event behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelChange {
    pub channel: ChannelId,
    pub position: Position,
    pub change: UnreadChange,
}

/// A user's unread count in one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelUnread {
    pub channel: ChannelId,
    pub unread: u64,
}

/// Unread counters, shared by every instance that holds a handle.
#[async_trait]
pub trait UnreadCounters: Send + Sync + Debug {
    /// Applies `changes` in order, skipping each one whose channel has
    /// already applied a change at the same or a later position, and saves
    /// `checkpoint` unless a later one is saved: all of it or, on error,
    /// none of it. Fails with [`RealtimeError::Rewound`] when the saved
    /// checkpoint is behind the newest one this instance read or saved.
    async fn apply(&self, changes: &[ChannelChange], checkpoint: Position) -> Result<(), RealtimeError>;

    /// The newest checkpoint saved by [`apply`](UnreadCounters::apply), or
    /// zero for a fresh or flushed store. This instance's next `apply`
    /// checks against it.
    async fn checkpoint(&self) -> Result<Position, RealtimeError>;

    /// Forgets every channel, count and the checkpoint.
    async fn reset(&self) -> Result<(), RealtimeError>;

    /// The user's channels with unread messages and their counts, newest
    /// channel first (creation time, then id descending), as channel lists
    /// are ordered.
    async fn counts(&self, user: &UserId) -> Result<Vec<ChannelUnread>, RealtimeError>;
}
