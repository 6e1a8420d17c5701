//! The working set of one channels batch: the channels its events name,
//! the participant rows whose membership or read marker they change, and
//! the messages they refer to, loaded from the store and changed in memory
//! by the events in order, with the same rules and per-channel position
//! guards as the in-memory model (`InMemoryChannels`), then written back by
//! `write`.
//!
//! # Unread counts without touching every participant
//!
//! A participant's unread count is `unread_offset + channel.sent -
//! sent_by_user` (see the migration). A message raises the channel's `sent`
//! and its author's `sent_by_user` (a relative update, `author_sends`), so
//! everyone else's count goes up by one while only the channel row and the
//! author's row change. Only differences of `sent_by_user` matter, because
//! two things set `unread_offset` outright:
//! - a join or a read-marker move marks the participant for a **recount**,
//!   done by `write` from the final rows of the batch (messages by others
//!   after the marker, deleted ones excluded);
//! - a deletion of a live message lowers the offset of the participants
//!   other than its author whose marker is below it (`deleted_live`).
//!
//! # Sends are not looked up
//!
//! Message ids are unique in a channel, so a batch normally loads only the
//! messages its edits, deletions and replies name, and `write` inserts the
//! sent ones with one `COPY`. Should an id already be stored, the `COPY`
//! fails on the unique key and the batch is rolled back and applied again
//! with every sent id loaded (`Wanted::of(events, true)`), which ignores the
//! duplicate as the in-memory model does.

use std::collections::{HashMap, HashSet};

use quire_domain::channel::{self as ch, ChannelEvent, ChannelKind};
use quire_domain::{ChannelId, DocumentId, MessageId, Name, Position, Timestamp, UserId};
use tracing::warn;

/// An event of the batch, decoded.
#[derive(Debug, Clone)]
pub(super) struct Decoded {
    pub(super) position: Position,
    pub(super) event: ChannelEvent,
}

/// One channel as stored.
#[derive(Debug, Clone)]
pub(super) struct ChannelRow {
    /// Position of the last event applied: the idempotency guard.
    pub(super) applied: Position,
    pub(super) kind: ChannelKind,
    pub(super) name: Option<Name>,
    pub(super) created_at: Timestamp,
    /// Messages accepted so far.
    pub(super) sent: u64,
    pub(super) last_seq: u64,
    /// `last_seq` as stored when the batch began: every stored message has
    /// a `seq` at most this.
    pub(super) stored_last_seq: u64,
    /// `None` while the channel has no message.
    pub(super) last_message_at: Option<Timestamp>,
}

/// A participant slot of the working set: whether the store had the row
/// when the batch began, and the read marker now.
#[derive(Debug, Clone, Default)]
pub(super) struct MemberSlot {
    pub(super) stored: bool,
    /// The read marker's `seq`; `None`: not a participant (never was, or
    /// left).
    pub(super) read_seq: Option<u64>,
    pub(super) changed: bool,
    /// Recount the unread offset from the final rows (every participant
    /// the batch adds or whose marker it moves).
    pub(super) recount: bool,
}

/// What the batch knows about one message of a channel.
#[derive(Debug, Clone)]
pub(super) struct MessageSlot {
    pub(super) seq: u64,
    pub(super) author: UserId,
    pub(super) deleted: bool,
    /// Index in `new_messages` if the batch sent it; `None` if stored.
    pub(super) new: Option<usize>,
}

impl MessageSlot {
    /// The index in `new_messages` of a message the batch sent and has not
    /// yet flushed (`flushed` of them are).
    fn unflushed(&self, flushed: usize) -> Option<usize> {
        self.new.filter(|index| *index >= flushed)
    }
}

/// A message the batch sends.
#[derive(Debug, Clone)]
pub(super) struct NewMessage {
    pub(super) channel: ChannelId,
    pub(super) seq: u64,
    pub(super) id: MessageId,
    pub(super) author: UserId,
    pub(super) body: String,
    pub(super) thread_parent: Option<MessageId>,
    pub(super) mentions: Vec<UserId>,
    pub(super) attachments: Vec<DocumentId>,
    pub(super) sent_at: Timestamp,
    pub(super) edited_at: Option<Timestamp>,
    pub(super) deleted: bool,
}

/// The final change of a stored message: a new body, or a deletion.
#[derive(Debug, Clone, Default)]
pub(super) struct MessageChange {
    pub(super) body: Option<String>,
    pub(super) edited_at: Option<Timestamp>,
    pub(super) deleted: bool,
}

/// Everything one batch reads and changes.
#[derive(Debug, Default)]
pub(super) struct Working {
    pub(super) channels: HashMap<ChannelId, ChannelRow>,
    pub(super) changed_channels: HashSet<ChannelId>,
    /// Channels the batch creates (not stored before).
    pub(super) new_channels: HashSet<ChannelId>,
    /// Messages each author sent in each channel, by this batch.
    pub(super) author_sends: HashMap<(ChannelId, UserId), u64>,
    pub(super) members: HashMap<(ChannelId, UserId), MemberSlot>,
    pub(super) messages: HashMap<(ChannelId, MessageId), MessageSlot>,
    pub(super) new_messages: Vec<NewMessage>,
    /// How many of `new_messages` are already on their way to the server
    /// (see `write::apply_and_copy`): a later change to one of them is
    /// written as a change of a stored message.
    pub(super) flushed: usize,
    /// Stored messages changed, by channel and `seq`.
    pub(super) changed_messages: HashMap<(ChannelId, u64), MessageChange>,
    /// Live messages the batch deleted: channel, `seq`, author.
    pub(super) deleted_live: Vec<(ChannelId, u64, UserId)>,
}

/// The keys a batch must load before it is applied.
#[derive(Debug, Default)]
pub(super) struct Wanted {
    pub(super) channels: Vec<String>,
    /// `(channel, user)` of every participant an event names.
    pub(super) members: (Vec<String>, Vec<String>),
    /// `(channel, message)` of every message an event names.
    pub(super) messages: (Vec<String>, Vec<String>),
}

impl Wanted {
    /// What `events` need; `sent` adds the ids of sent messages.
    pub(super) fn of(events: &[Decoded], sent: bool) -> Wanted {
        let mut wanted = Wanted::default();
        let mut channels = HashSet::new();
        for Decoded { event, .. } in events {
            let channel = channel_id(event);
            if channels.insert(channel) {
                wanted.channels.push(channel.to_string());
            }
            let mut member = |user: &UserId| {
                wanted.members.0.push(channel.to_string());
                wanted.members.1.push(user.to_string());
            };
            match event {
                ChannelEvent::DirectCreated(e) => e.participants.iter().for_each(&mut member),
                ChannelEvent::GroupCreated(e) => e.participants.iter().for_each(&mut member),
                ChannelEvent::ParticipantAdded(e) => member(&e.user),
                ChannelEvent::ParticipantRemoved(e) => member(&e.user),
                ChannelEvent::ReadMarkerMoved(e) => member(&e.user),
                ChannelEvent::MessageSent(_)
                | ChannelEvent::MessageEdited(_)
                | ChannelEvent::MessageDeleted(_) => {}
            }
            let mut message = |id: &MessageId| {
                wanted.messages.0.push(channel.to_string());
                wanted.messages.1.push(id.to_string());
            };
            match event {
                ChannelEvent::MessageSent(e) => {
                    if sent {
                        message(&e.message_id);
                    }
                    e.thread_parent.iter().for_each(message);
                }
                ChannelEvent::MessageEdited(e) => message(&e.message_id),
                ChannelEvent::MessageDeleted(e) => message(&e.message_id),
                _ => {}
            }
        }
        wanted
    }
}

impl Working {
    /// The messages sent since the last call, which are from now on
    /// treated as stored.
    pub(super) fn flush(&mut self) -> &[NewMessage] {
        let start = self.flushed;
        self.flushed = self.new_messages.len();
        &self.new_messages[start..]
    }

    /// The unread counts of the participants to recount that the batch can
    /// tell without the store: those whose final marker is at or past their
    /// channel's newest stored message, so that every message after it was
    /// sent by this batch (live messages by others after the marker).
    pub(super) fn unread_in_batch(&self) -> HashMap<(&ChannelId, &UserId), u64> {
        let mut sent: HashMap<&ChannelId, Vec<&MessageSlot>> = HashMap::new();
        for ((channel, _), message) in &self.messages {
            if message.new.is_some() && !message.deleted {
                sent.entry(channel).or_default().push(message);
            }
        }
        let mut unread = HashMap::new();
        for ((channel, user), slot) in &self.members {
            let (Some(read_seq), Some(row)) = (slot.read_seq, self.channels.get(channel)) else {
                continue;
            };
            if !slot.recount || read_seq < row.stored_last_seq {
                continue;
            }
            let after = sent.get(channel).into_iter().flatten();
            let count = after.filter(|m| m.seq > read_seq && m.author != *user).count();
            unread.insert((channel, user), count as u64);
        }
        unread
    }

    /// Applies one event, unless its channel has already seen it.
    pub(super) fn apply(&mut self, Decoded { position, event }: Decoded) {
        match event {
            ChannelEvent::DirectCreated(e) => {
                let new = NewChannel::new(e.channel_id, ChannelKind::Direct, None, e.at);
                self.create(position, new, &e.participants);
            }
            ChannelEvent::GroupCreated(e) => {
                let new = NewChannel::new(e.channel_id, ChannelKind::Group, Some(e.name), e.at);
                self.create(position, new, &e.participants);
            }
            event => self.change(position, event),
        }
    }

    fn create(&mut self, position: Position, new: NewChannel, participants: &[UserId]) {
        if self.channels.contains_key(&new.id) {
            return;
        }
        let row = ChannelRow {
            applied: position,
            kind: new.kind,
            name: new.name,
            created_at: new.at,
            sent: 0,
            last_seq: 0,
            stored_last_seq: 0,
            last_message_at: None,
        };
        self.channels.insert(new.id.clone(), row);
        self.changed_channels.insert(new.id.clone());
        self.new_channels.insert(new.id.clone());
        for user in participants {
            self.join(&new.id, user);
        }
    }

    fn change(&mut self, position: Position, event: ChannelEvent) {
        let id = channel_id(&event).clone();
        let Some(row) = self.channels.get_mut(&id) else {
            warn!(channel = %id, %position, "event for a channel that was never created; ignored");
            return;
        };
        if position <= row.applied {
            return;
        }
        row.applied = position;
        self.changed_channels.insert(id.clone());
        match event {
            ChannelEvent::DirectCreated(_) | ChannelEvent::GroupCreated(_) => {}
            ChannelEvent::ParticipantAdded(e) => self.join(&id, &e.user),
            ChannelEvent::ParticipantRemoved(e) => self.leave(&id, &e.user),
            ChannelEvent::MessageSent(e) => self.send(e),
            ChannelEvent::MessageEdited(e) => self.edit(e),
            ChannelEvent::MessageDeleted(e) => self.delete(&e),
            ChannelEvent::ReadMarkerMoved(e) => self.mark_read(&id, &e.user, e.up_to_seq),
        }
    }

    /// Adds a participant with no read marker; their count is recounted.
    fn join(&mut self, channel: &ChannelId, user: &UserId) {
        let slot = self.members.entry((channel.clone(), user.clone())).or_default();
        if slot.read_seq.is_some() {
            return;
        }
        slot.read_seq = Some(0);
        slot.changed = true;
        slot.recount = true;
    }

    fn leave(&mut self, channel: &ChannelId, user: &UserId) {
        if let Some(slot) = self.members.get_mut(&(channel.clone(), user.clone()))
            && slot.read_seq.take().is_some()
        {
            slot.changed = true;
            slot.recount = false;
        }
    }

    fn send(&mut self, e: ch::MessageSent) {
        let Some(channel) = self.channels.get_mut(&e.channel_id) else {
            return;
        };
        let key = (e.channel_id.clone(), e.message_id.clone());
        let in_order = channel.last_message_at.is_none() || channel.last_seq < e.seq;
        if !in_order || self.messages.contains_key(&key) {
            warn!(channel = %e.channel_id, message = %e.message_id, seq = e.seq, "message out of order or sent twice; ignored");
            return;
        }
        channel.sent = channel.sent.saturating_add(1);
        channel.last_seq = e.seq;
        channel.last_message_at = Some(e.at);
        *self
            .author_sends
            .entry((e.channel_id.clone(), e.author.clone()))
            .or_default() += 1;
        let thread_parent = e.thread_parent.filter(|parent| {
            self.messages
                .contains_key(&(e.channel_id.clone(), parent.clone()))
        });
        let slot = MessageSlot {
            seq: e.seq,
            author: e.author.clone(),
            deleted: false,
            new: Some(self.new_messages.len()),
        };
        self.messages.insert(key, slot);
        self.new_messages.push(NewMessage {
            channel: e.channel_id,
            seq: e.seq,
            id: e.message_id,
            author: e.author,
            body: e.body,
            thread_parent,
            mentions: e.mentions,
            attachments: e.attachments,
            sent_at: e.at,
            edited_at: None,
            deleted: false,
        });
    }

    fn edit(&mut self, e: ch::MessageEdited) {
        let Some(slot) = self.messages.get(&(e.channel_id.clone(), e.message_id.clone())) else {
            return;
        };
        if slot.deleted {
            return;
        }
        match slot
            .unflushed(self.flushed)
            .and_then(|index| self.new_messages.get_mut(index))
        {
            Some(message) => {
                message.body = e.body;
                message.edited_at = Some(e.at);
            }
            None => {
                let change = self.changed_messages.entry((e.channel_id, slot.seq)).or_default();
                change.body = Some(e.body);
                change.edited_at = Some(e.at);
            }
        }
    }

    fn delete(&mut self, e: &ch::MessageDeleted) {
        let Some(slot) = self
            .messages
            .get_mut(&(e.channel_id.clone(), e.message_id.clone()))
        else {
            return;
        };
        if slot.deleted {
            return;
        }
        slot.deleted = true;
        match slot
            .unflushed(self.flushed)
            .and_then(|index| self.new_messages.get_mut(index))
        {
            Some(message) => {
                message.deleted = true;
                message.body = String::new();
                message.mentions = Vec::new();
                message.attachments = Vec::new();
            }
            None => {
                let change = self
                    .changed_messages
                    .entry((e.channel_id.clone(), slot.seq))
                    .or_default();
                change.deleted = true;
                change.body = None;
            }
        }
        self.deleted_live
            .push((e.channel_id.clone(), slot.seq, slot.author.clone()));
    }

    /// Moves a marker forward; the count is recounted past it.
    fn mark_read(&mut self, channel: &ChannelId, user: &UserId, up_to: u64) {
        let Some(slot) = self.members.get_mut(&(channel.clone(), user.clone())) else {
            return;
        };
        match slot.read_seq {
            Some(read) if up_to > read => {
                slot.read_seq = Some(up_to);
                slot.changed = true;
                slot.recount = true;
            }
            _ => {}
        }
    }
}

/// What a creation event says about the channel itself.
struct NewChannel {
    id: ChannelId,
    kind: ChannelKind,
    name: Option<Name>,
    at: Timestamp,
}

impl NewChannel {
    fn new(id: ChannelId, kind: ChannelKind, name: Option<Name>, at: Timestamp) -> NewChannel {
        NewChannel { id, kind, name, at }
    }
}

pub(super) fn channel_id(event: &ChannelEvent) -> &ChannelId {
    match event {
        ChannelEvent::DirectCreated(e) => &e.channel_id,
        ChannelEvent::GroupCreated(e) => &e.channel_id,
        ChannelEvent::ParticipantAdded(e) => &e.channel_id,
        ChannelEvent::ParticipantRemoved(e) => &e.channel_id,
        ChannelEvent::MessageSent(e) => &e.channel_id,
        ChannelEvent::MessageEdited(e) => &e.channel_id,
        ChannelEvent::MessageDeleted(e) => &e.channel_id,
        ChannelEvent::ReadMarkerMoved(e) => &e.channel_id,
    }
}
