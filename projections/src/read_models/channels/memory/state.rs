//! The rows of the in-memory channels read model, laid out for a million
//! messages and more.
//!
//! Per message the store keeps one [`MessageRow`] (72 bytes) in its
//! channel's `messages` vector, in `seq` order, plus one entry of the
//! channel's id index (a 24-byte [`MessageKey`] and a 4-byte position).
//! The body is stored once, as a `Box<str>`; users are 4-byte keys into a
//! shared [`Users`] table; what few messages have (a thread parent,
//! mentions, attachments, an edit time) lives in one optional box. A page
//! of messages is a binary search for the cursor's `seq` and a walk of the
//! page.

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap};

use quire_domain::channel::ChannelKind;
use quire_domain::{ChannelId, DocumentId, Name, Position, Timestamp};

use super::message_key::MessageKey;
use crate::read_models::users::{UserKey, Users};

/// Everything the read model holds, behind one lock.
#[derive(Debug, Default)]
pub(super) struct ChannelsState {
    /// The last checkpoint `apply` was given: what `load_checkpoint` answers.
    pub(super) checkpoint: Position,
    /// Every user named by a participant, author or mention, once.
    pub(super) users: Users,
    pub(super) channels: HashMap<ChannelId, ChannelRow>,
    /// Per user, the channels they take part in, in list order: listing a
    /// reader's channels (and their unread counts) touches only theirs.
    pub(super) by_user: HashMap<UserKey, BTreeSet<ChannelOrder>>,
}

/// One channel with its members and messages.
#[derive(Debug)]
pub(super) struct ChannelRow {
    /// Position of the last event applied to this channel: the idempotency
    /// guard.
    pub(super) applied: Position,
    pub(super) id: ChannelId,
    pub(super) kind: ChannelKind,
    pub(super) name: Option<Name>,
    pub(super) created_at: Timestamp,
    /// Current participants, sorted by key, with their read state.
    pub(super) members: Vec<Member>,
    /// Every message, deleted ones included, by `seq` ascending.
    pub(super) messages: Vec<MessageRow>,
    /// Position in `messages` of each message id, for edits, deletes,
    /// thread parents and `get_message`.
    pub(super) by_id: HashMap<MessageKey, u32>,
    /// Positions in `messages` of the direct replies to a message, in `seq`
    /// order; only messages that have replies have an entry.
    pub(super) replies: HashMap<u32, Vec<u32>>,
    /// Messages not deleted, so a new participant's unread count needs no
    /// scan.
    pub(super) live: u32,
    /// Messages not deleted, per author (the other half of that count).
    pub(super) live_by_author: HashMap<UserKey, u32>,
}

/// A participant's read state in one channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Member {
    pub(super) user: UserKey,
    /// `seq` of the last message they marked read; 0 for none.
    pub(super) read_seq: u64,
    /// Messages by others after `read_seq` and not deleted, kept current
    /// on every send, delete and marker move.
    pub(super) unread: u32,
}

/// One message.
#[derive(Debug)]
pub(super) struct MessageRow {
    pub(super) id: MessageKey,
    /// Stored once; emptied (freed) when the message is deleted.
    pub(super) body: Box<str>,
    /// What most messages lack, boxed so they pay one pointer for it.
    pub(super) extra: Option<Box<MessageExtra>>,
    pub(super) seq: u64,
    pub(super) sent_at: Timestamp,
    pub(super) author: UserKey,
    pub(super) deleted: bool,
}

/// The rarer parts of a message.
#[derive(Debug, Default)]
pub(super) struct MessageExtra {
    /// Position in `messages` of the message this one answers.
    pub(super) thread_parent: Option<u32>,
    pub(super) edited_at: Option<Timestamp>,
    /// Cleared when the message is deleted.
    pub(super) mentions: Box<[UserKey]>,
    /// Cleared when the message is deleted.
    pub(super) attachments: Box<[DocumentId]>,
}

/// A channel's place in a user's list: newest first, then id descending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ChannelOrder {
    pub(super) created_at: Timestamp,
    pub(super) id: ChannelId,
}

impl Ord for ChannelOrder {
    fn cmp(&self, other: &ChannelOrder) -> Ordering {
        other
            .created_at
            .cmp(&self.created_at)
            .then_with(|| other.id.cmp(&self.id))
    }
}

impl PartialOrd for ChannelOrder {
    fn partial_cmp(&self, other: &ChannelOrder) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl ChannelRow {
    pub(super) fn order(&self) -> ChannelOrder {
        ChannelOrder {
            created_at: self.created_at,
            id: self.id.clone(),
        }
    }

    /// The member with this key, if they take part.
    pub(super) fn member(&self, user: UserKey) -> Option<&Member> {
        let at = self.members.binary_search_by_key(&user, |m| m.user).ok()?;
        self.members.get(at)
    }

    /// Number of messages in `range` of `messages` that `user` did not
    /// write and that are not deleted: what counts as unread.
    pub(super) fn unread_in(&self, range: std::ops::Range<usize>, user: UserKey) -> u32 {
        let count = self.messages[range]
            .iter()
            .filter(|m| !m.deleted && m.author != user)
            .count();
        u32::try_from(count).unwrap_or(u32::MAX)
    }

    /// Index in `messages` of the first message with a `seq` above `seq`.
    pub(super) fn after_seq(&self, seq: u64) -> usize {
        self.messages.partition_point(|m| m.seq <= seq)
    }
}

/// The `users` table and the channel list index, borrowed apart from the
/// channel rows so one row can change while both are updated.
#[derive(Debug)]
pub(super) struct Shared<'a> {
    pub(super) users: &'a mut Users,
    pub(super) by_user: &'a mut HashMap<UserKey, BTreeSet<ChannelOrder>>,
}

impl Shared<'_> {
    pub(super) fn list(&mut self, user: UserKey, order: ChannelOrder) {
        self.by_user.entry(user).or_default().insert(order);
    }

    pub(super) fn unlist(&mut self, user: UserKey, order: &ChannelOrder) {
        if let Some(set) = self.by_user.get_mut(&user) {
            set.remove(order);
            if set.is_empty() {
                self.by_user.remove(&user);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_row_stays_small() {
        assert_eq!(std::mem::size_of::<MessageRow>(), 72);
    }
}
