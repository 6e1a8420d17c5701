//! [`InMemoryUnreadCounters`]: the port's semantics in maps behind one
//! lock, for one process and for tests. Clones are the same instance;
//! [`instance`](InMemoryUnreadCounters::instance) gives another one over the
//! same state, as a second process would be.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use parking_lot::Mutex;
use quire_domain::{ChannelId, MessageId, Position, Timestamp, UserId};

use super::{ChannelChange, ChannelUnread, UNREAD_WINDOW, UnreadChange, UnreadCounters};
use crate::realtime::RealtimeError;

/// One channel's unread state.
#[derive(Debug, Default)]
struct ChannelState {
    /// Position of the last change applied.
    applied: Position,
    created_at: Timestamp,
    /// Participant → read marker (`seq`, 0 for none).
    members: BTreeMap<UserId, u64>,
    /// The newest live messages: `seq` → (id, author).
    live: BTreeMap<u64, (MessageId, UserId)>,
}

impl ChannelState {
    fn send(&mut self, message: MessageId, seq: u64, author: UserId) {
        self.live.insert(seq, (message, author));
        while self.live.len() > UNREAD_WINDOW {
            self.live.pop_first();
        }
    }

    fn delete(&mut self, message: &MessageId) {
        self.live.retain(|_, (id, _)| id != message);
    }

    fn read_up_to(&mut self, user: &UserId, seq: u64) {
        if let Some(marker) = self.members.get_mut(user) {
            *marker = (*marker).max(seq);
        }
    }

    /// Live messages by others above `user`'s marker (0 for a non-member).
    fn unread(&self, user: &UserId) -> u64 {
        let Some(marker) = self.members.get(user) else {
            return 0;
        };
        let above = self.live.range(marker.saturating_add(1)..);
        above.filter(|(_, (_, author))| author != user).count() as u64
    }
}

#[derive(Debug, Default)]
struct State {
    checkpoint: Position,
    channels: HashMap<ChannelId, ChannelState>,
    /// User → their channels, as (created at, id): iterated backwards,
    /// newest first.
    listed: HashMap<UserId, BTreeSet<(Timestamp, ChannelId)>>,
}

impl State {
    fn apply(&mut self, change: &ChannelChange) {
        let channel = self.channels.entry(change.channel.clone()).or_default();
        if change.position <= channel.applied {
            return;
        }
        channel.applied = change.position;
        let created_at = channel.created_at;
        match &change.change {
            UnreadChange::Opened {
                created_at: opened_at,
                participants,
            } => {
                channel.created_at = *opened_at;
                let key = (*opened_at, change.channel.clone());
                for user in participants {
                    channel.members.entry(user.clone()).or_insert(0);
                    self.listed.entry(user.clone()).or_default().insert(key.clone());
                }
            }
            UnreadChange::Joined { user } => {
                channel.members.entry(user.clone()).or_insert(0);
                self.listed
                    .entry(user.clone())
                    .or_default()
                    .insert((created_at, change.channel.clone()));
            }
            UnreadChange::Left { user } => {
                channel.members.remove(user);
                if let Some(listed) = self.listed.get_mut(user) {
                    listed.remove(&(created_at, change.channel.clone()));
                }
            }
            UnreadChange::Sent { message, seq, author } => {
                channel.send(message.clone(), *seq, author.clone());
            }
            UnreadChange::Deleted { message, .. } => channel.delete(message),
            UnreadChange::ReadUpTo { user, seq } => channel.read_up_to(user, *seq),
        }
    }
}

/// Unread counters in memory.
#[derive(Debug, Clone, Default)]
pub struct InMemoryUnreadCounters {
    state: Arc<Mutex<State>>,
    /// The newest checkpoint this instance read or saved.
    seen: Arc<AtomicU64>,
}

impl InMemoryUnreadCounters {
    /// New counters, all zero.
    pub fn new() -> InMemoryUnreadCounters {
        InMemoryUnreadCounters::default()
    }

    /// Another instance over the same state, with a checkpoint history of
    /// its own.
    pub fn instance(&self) -> InMemoryUnreadCounters {
        InMemoryUnreadCounters {
            state: Arc::clone(&self.state),
            seen: Arc::default(),
        }
    }
}

#[async_trait]
impl UnreadCounters for InMemoryUnreadCounters {
    async fn apply(&self, changes: &[ChannelChange], checkpoint: Position) -> Result<(), RealtimeError> {
        let mut state = self.state.lock();
        let seen = Position(self.seen.load(Ordering::Acquire));
        if state.checkpoint < seen {
            return Err(RealtimeError::Rewound {
                stored: state.checkpoint,
                seen,
            });
        }
        for change in changes {
            state.apply(change);
        }
        state.checkpoint = state.checkpoint.max(checkpoint);
        self.seen.fetch_max(checkpoint.0, Ordering::AcqRel);
        Ok(())
    }

    async fn checkpoint(&self) -> Result<Position, RealtimeError> {
        let checkpoint = self.state.lock().checkpoint;
        self.seen.store(checkpoint.0, Ordering::Release);
        Ok(checkpoint)
    }

    async fn reset(&self) -> Result<(), RealtimeError> {
        *self.state.lock() = State::default();
        self.seen.store(0, Ordering::Release);
        Ok(())
    }

    async fn counts(&self, user: &UserId) -> Result<Vec<ChannelUnread>, RealtimeError> {
        let state = self.state.lock();
        let Some(listed) = state.listed.get(user) else {
            return Ok(Vec::new());
        };
        Ok(listed
            .iter()
            .rev()
            .filter_map(|(_, id)| {
                let unread = state.channels.get(id)?.unread(user);
                (unread > 0).then(|| ChannelUnread {
                    channel: id.clone(),
                    unread,
                })
            })
            .collect())
    }
}
