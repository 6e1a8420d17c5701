//! The channel's state as its events left it, how each event changes it, and
//! the pure queries other layers ask of it.
//!
//! Channels may hold very many messages, so per message the state keeps only
//! what the rules read: its order, its author (as an index into a table of
//! authors) and whether it is deleted. Bodies, mentions and attachments live
//! in the events and the read models.

use std::collections::{BTreeMap, BTreeSet};

use crate::values::{ChannelId, MessageId, UserId};

use super::events::{ChannelEvent, MessageSent};

/// Whether a channel is a fixed pair or an open group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChannelKind {
    /// Exactly two users; membership never changes.
    Direct,
    /// Named, with participants added and removed over time.
    Group,
}

/// The channel aggregate: empty until created.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Channel {
    pub(super) state: Option<ChannelState>,
}

/// The facts the channel's rules need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ChannelState {
    /// Compared with every command's id, so a misrouted command is refused.
    pub(super) id: ChannelId,
    /// Direct channels refuse membership changes.
    pub(super) kind: ChannelKind,
    /// Only participants read, send, add and remove.
    pub(super) participants: BTreeSet<UserId>,
    /// Per message: what edits, deletes, threads and read markers check.
    pub(super) messages: BTreeMap<MessageId, MessageFacts>,
    /// Every author, once, so each message stores a 4-byte index instead of
    /// a copy of the user id.
    pub(super) authors: Authors,
    /// `seq` of the last message sent; the next one gets `last_seq + 1`.
    pub(super) last_seq: u64,
    /// Per participant, the `seq` of the last message they have read; it
    /// only moves forward. Dropped when the participant leaves.
    pub(super) read_markers: BTreeMap<UserId, u64>,
}

/// What the rules know of one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct MessageFacts {
    /// Order in the channel, for read markers.
    pub(super) seq: u64,
    /// Index into [`Authors`]: only the author edits or deletes.
    pub(super) author: u32,
    /// Deleted messages cannot be edited, deleted again or answered.
    pub(super) deleted: bool,
}

/// An interning table of message authors.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Authors {
    /// Author ids by index.
    ids: Vec<UserId>,
    /// Index of each author id.
    index: BTreeMap<UserId, u32>,
}

impl Authors {
    /// The index of `user`, adding them if new.
    fn intern(&mut self, user: &UserId) -> u32 {
        if let Some(&index) = self.index.get(user) {
            return index;
        }
        let index = u32::try_from(self.ids.len()).unwrap_or(u32::MAX);
        self.ids.push(user.clone());
        self.index.insert(user.clone(), index);
        index
    }

    /// The index of `user`, if they ever wrote here.
    pub(super) fn find(&self, user: &UserId) -> Option<u32> {
        self.index.get(user).copied()
    }

    /// The author with this index.
    pub(super) fn get(&self, index: u32) -> Option<&UserId> {
        self.ids.get(usize::try_from(index).ok()?)
    }
}

impl Channel {
    pub fn id(&self) -> Option<&ChannelId> {
        self.state.as_ref().map(|s| &s.id)
    }

    pub fn kind(&self) -> Option<ChannelKind> {
        self.state.as_ref().map(|s| s.kind)
    }

    /// Current participants, in sorted order (empty before creation).
    pub fn participants(&self) -> impl Iterator<Item = &UserId> {
        self.state.iter().flat_map(|s| s.participants.iter())
    }

    pub fn is_participant(&self, user: &UserId) -> bool {
        self.state.as_ref().is_some_and(|s| s.participants.contains(user))
    }

    /// Whether `user` may read the channel's messages: only participants may.
    pub fn can_read(&self, user: &UserId) -> bool {
        self.is_participant(user)
    }

    /// Number of messages ever sent, deleted ones included.
    pub fn message_count(&self) -> usize {
        self.state.as_ref().map_or(0, |s| s.messages.len())
    }

    /// The author of a message, if it exists.
    pub fn author_of(&self, message: &MessageId) -> Option<&UserId> {
        let state = self.state.as_ref()?;
        state.authors.get(state.messages.get(message)?.author)
    }

    /// Whether a message exists and is not deleted.
    pub fn is_live_message(&self, message: &MessageId) -> bool {
        self.state
            .as_ref()
            .and_then(|s| s.messages.get(message))
            .is_some_and(|m| !m.deleted)
    }

    /// The `seq` of the last message `user` has read, if they marked any.
    pub fn read_marker(&self, user: &UserId) -> Option<u64> {
        self.state.as_ref()?.read_markers.get(user).copied()
    }

    /// Folds one event; events before creation are ignored.
    pub(super) fn apply_event(&mut self, event: &ChannelEvent) {
        match event {
            ChannelEvent::DirectCreated(e) => {
                self.state = Some(ChannelState::new(
                    &e.channel_id,
                    ChannelKind::Direct,
                    &e.participants,
                ));
            }
            ChannelEvent::GroupCreated(e) => {
                self.state = Some(ChannelState::new(
                    &e.channel_id,
                    ChannelKind::Group,
                    &e.participants,
                ));
            }
            _ => {
                if let Some(state) = self.state.as_mut() {
                    state.apply(event);
                }
            }
        }
    }
}

impl ChannelState {
    fn new(id: &ChannelId, kind: ChannelKind, participants: &[UserId]) -> ChannelState {
        ChannelState {
            id: id.clone(),
            kind,
            participants: participants.iter().cloned().collect(),
            messages: BTreeMap::new(),
            authors: Authors::default(),
            last_seq: 0,
            read_markers: BTreeMap::new(),
        }
    }

    fn apply(&mut self, event: &ChannelEvent) {
        match event {
            ChannelEvent::DirectCreated(_) | ChannelEvent::GroupCreated(_) => {}
            ChannelEvent::ParticipantAdded(e) => {
                self.participants.insert(e.user.clone());
            }
            ChannelEvent::ParticipantRemoved(e) => {
                self.participants.remove(&e.user);
                self.read_markers.remove(&e.user);
            }
            ChannelEvent::MessageSent(e) => self.record_message(e),
            // Bodies are not kept: an edit changes nothing the rules read.
            ChannelEvent::MessageEdited(_) => {}
            ChannelEvent::MessageDeleted(e) => {
                if let Some(message) = self.messages.get_mut(&e.message_id) {
                    message.deleted = true;
                }
            }
            ChannelEvent::ReadMarkerMoved(e) => {
                let marker = self.read_markers.entry(e.user.clone()).or_default();
                *marker = (*marker).max(e.up_to_seq);
            }
        }
    }

    fn record_message(&mut self, e: &MessageSent) {
        let author = self.authors.intern(&e.author);
        let facts = MessageFacts {
            seq: e.seq,
            author,
            deleted: false,
        };
        self.messages.insert(e.message_id.clone(), facts);
        self.last_seq = self.last_seq.max(e.seq);
    }

    /// The facts of a message of this channel.
    pub(super) fn message(&self, id: &MessageId) -> Option<&MessageFacts> {
        self.messages.get(id)
    }
}
