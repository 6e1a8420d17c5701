//! How `channel.*` events change the in-memory channels read model. Every
//! change is guarded by the channel's `applied` position, so an event
//! delivered again changes nothing. Unread counts are kept current here, so
//! reading them costs nothing.

use quire_domain::channel::{self as ch, ChannelEvent, ChannelKind};
use quire_domain::{ChannelId, MessageId, Name, Position, RecordedEvent, Timestamp, UserId};
use tracing::warn;

use super::message_key::MessageKey;
use super::state::{ChannelRow, ChannelsState, Member, MessageExtra, MessageRow, Shared};
use crate::error::ProjectionError;
use crate::read_models::decode;
use crate::read_models::users::{UserKey, Users};

/// An event decoded before the store is locked.
#[derive(Debug)]
pub(super) enum Decoded {
    Channel(Position, ChannelEvent),
    /// Outside this read model's category; nothing to do.
    Other,
}

impl Decoded {
    pub(super) fn from_event(event: &RecordedEvent) -> Result<Decoded, ProjectionError> {
        Ok(match event.stream_id.category() {
            "channel" => Decoded::Channel(event.position, decode(event)?),
            _ => Decoded::Other,
        })
    }
}

impl ChannelsState {
    /// Applies one decoded event, unless its channel has already seen it.
    pub(super) fn apply(&mut self, event: Decoded) {
        let Decoded::Channel(position, event) = event else {
            return;
        };
        match event {
            ChannelEvent::DirectCreated(e) => {
                self.create(
                    position,
                    e.channel_id,
                    ChannelKind::Direct,
                    None,
                    &e.participants,
                    e.at,
                );
            }
            ChannelEvent::GroupCreated(e) => {
                self.create(
                    position,
                    e.channel_id,
                    ChannelKind::Group,
                    Some(e.name),
                    &e.participants,
                    e.at,
                );
            }
            event => self.change(position, event),
        }
    }

    fn create(
        &mut self,
        position: Position,
        id: ChannelId,
        kind: ChannelKind,
        name: Option<Name>,
        participants: &[UserId],
        at: Timestamp,
    ) {
        if self.channels.contains_key(&id) {
            return;
        }
        let mut row = ChannelRow {
            applied: position,
            id,
            kind,
            name,
            created_at: at,
            members: Vec::with_capacity(participants.len()),
            messages: Vec::new(),
            by_id: Default::default(),
            replies: Default::default(),
            live: 0,
            live_by_author: Default::default(),
        };
        let mut shared = Shared {
            users: &mut self.users,
            by_user: &mut self.by_user,
        };
        for user in participants {
            row.join(&mut shared, user);
        }
        self.channels.insert(row.id.clone(), row);
    }

    fn change(&mut self, position: Position, event: ChannelEvent) {
        let id = channel_id(&event);
        let Some(row) = self.channels.get_mut(id) else {
            warn!(channel = %id, %position, "event for a channel that was never created; ignored");
            return;
        };
        if position <= row.applied {
            return;
        }
        row.applied = position;
        let mut shared = Shared {
            users: &mut self.users,
            by_user: &mut self.by_user,
        };
        match event {
            ChannelEvent::DirectCreated(_) | ChannelEvent::GroupCreated(_) => {}
            ChannelEvent::ParticipantAdded(e) => row.join(&mut shared, &e.user),
            ChannelEvent::ParticipantRemoved(e) => row.leave(&mut shared, &e.user),
            ChannelEvent::MessageSent(e) => row.send(shared.users, e),
            ChannelEvent::MessageEdited(e) => row.edit(e),
            ChannelEvent::MessageDeleted(e) => row.delete(&e),
            ChannelEvent::ReadMarkerMoved(e) => {
                if let Some(user) = shared.users.find(&e.user) {
                    row.mark_read(user, e.up_to_seq);
                }
            }
        }
    }
}

impl ChannelRow {
    /// Adds a participant; their read marker starts at 0, so every live
    /// message by others is unread (the domain drops a leaver's marker).
    fn join(&mut self, shared: &mut Shared<'_>, user: &UserId) {
        let user = shared.users.intern(user);
        let Err(at) = self.members.binary_search_by_key(&user, |m| m.user) else {
            return;
        };
        let own = self.live_by_author.get(&user).copied().unwrap_or(0);
        self.members.insert(
            at,
            Member {
                user,
                read_seq: 0,
                unread: self.live.saturating_sub(own),
            },
        );
        shared.list(user, self.order());
    }

    fn leave(&mut self, shared: &mut Shared<'_>, user: &UserId) {
        let Some(user) = shared.users.find(user) else {
            return;
        };
        if let Ok(at) = self.members.binary_search_by_key(&user, |m| m.user) {
            self.members.remove(at);
            shared.unlist(user, &self.order());
        }
    }

    fn send(&mut self, users: &mut Users, e: ch::MessageSent) {
        let key = MessageKey::of(&e.message_id);
        let in_order = self.messages.last().is_none_or(|last| last.seq < e.seq);
        if !in_order || self.by_id.contains_key(&key) {
            warn!(channel = %self.id, message = %e.message_id, seq = e.seq, "message out of order or sent twice; ignored");
            return;
        }
        let Ok(index) = u32::try_from(self.messages.len()) else {
            warn!(channel = %self.id, "channel holds the most messages a channel can; message ignored");
            return;
        };
        let author = users.intern(&e.author);
        let thread_parent = e
            .thread_parent
            .as_ref()
            .and_then(|parent| self.by_id.get(&MessageKey::of(parent)).copied());
        let mentions: Box<[_]> = e.mentions.iter().map(|user| users.intern(user)).collect();
        let attachments = e.attachments.into_boxed_slice();
        let extra = (thread_parent.is_some() || !mentions.is_empty() || !attachments.is_empty()).then(|| {
            Box::new(MessageExtra {
                thread_parent,
                edited_at: None,
                mentions,
                attachments,
            })
        });
        self.messages.push(MessageRow {
            id: key.clone(),
            body: e.body.into_boxed_str(),
            extra,
            seq: e.seq,
            sent_at: e.at,
            author,
            deleted: false,
        });
        self.by_id.insert(key, index);
        if let Some(parent) = thread_parent {
            self.replies.entry(parent).or_default().push(index);
        }
        self.live = self.live.saturating_add(1);
        *self.live_by_author.entry(author).or_default() += 1;
        for member in &mut self.members {
            if member.user != author && member.read_seq < e.seq {
                member.unread = member.unread.saturating_add(1);
            }
        }
    }

    fn edit(&mut self, e: ch::MessageEdited) {
        let Some(message) = self.message_mut(&e.message_id) else {
            return;
        };
        if message.deleted {
            return;
        }
        message.body = e.body.into_boxed_str();
        message.extra.get_or_insert_with(Default::default).edited_at = Some(e.at);
    }

    fn delete(&mut self, e: &ch::MessageDeleted) {
        let Some(message) = self.message_mut(&e.message_id) else {
            return;
        };
        if message.deleted {
            return;
        }
        message.deleted = true;
        message.body = Box::default();
        if let Some(extra) = message.extra.as_mut() {
            extra.mentions = Box::default();
            extra.attachments = Box::default();
        }
        let (author, seq) = (message.author, message.seq);
        self.live = self.live.saturating_sub(1);
        if let Some(count) = self.live_by_author.get_mut(&author) {
            *count = count.saturating_sub(1);
        }
        for member in &mut self.members {
            if member.user != author && member.read_seq < seq {
                member.unread = member.unread.saturating_sub(1);
            }
        }
    }

    /// Moves a marker forward and recounts what is unread past it, walking
    /// whichever is shorter: the messages newly read, or those still unread.
    fn mark_read(&mut self, user: UserKey, up_to: u64) {
        let Ok(at) = self.members.binary_search_by_key(&user, |m| m.user) else {
            return;
        };
        let member = self.members[at];
        if up_to <= member.read_seq {
            return;
        }
        let from = self.after_seq(member.read_seq);
        let to = self.after_seq(up_to);
        let end = self.messages.len();
        let unread = if to - from <= end - to {
            member.unread.saturating_sub(self.unread_in(from..to, user))
        } else {
            self.unread_in(to..end, user)
        };
        self.members[at] = Member {
            user,
            read_seq: up_to,
            unread,
        };
    }

    fn message_mut(&mut self, id: &MessageId) -> Option<&mut MessageRow> {
        let index = *self.by_id.get(&MessageKey::of(id))?;
        self.messages.get_mut(usize::try_from(index).ok()?)
    }
}

fn channel_id(event: &ChannelEvent) -> &ChannelId {
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
