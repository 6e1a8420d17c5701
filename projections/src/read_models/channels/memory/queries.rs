//! How the in-memory channels read model answers [`ChannelQueries`]
//! questions: a participant check, then a binary search for the page
//! cursor and a walk of the page.
//!
//! [`ChannelQueries`]: crate::read_models::channels::ChannelQueries

use std::ops::Bound;

use quire_domain::{ChannelId, MessageId, Timestamp, UserId};
use serde::{Deserialize, Serialize};

use super::message_key::MessageKey;
use super::state::{ChannelOrder, ChannelRow, ChannelsState, Member, MessageRow};
use crate::query::{Page, PageRequest, QueryError};
use crate::read_models::channels::port::MessageFilter;
use crate::read_models::channels::views::{ChannelView, MessageView, UnreadCount};
use crate::read_models::paging::page_of;

/// Where a channel list page ends: the last channel's place.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChannelCursor {
    created_at: i64,
    channel: String,
}

/// Where a message list page ends: the `seq` of its last (oldest) message.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MessageCursor {
    below_seq: u64,
}

fn not_found_channel(id: &ChannelId) -> QueryError {
    QueryError::NotFound(format!("channel {id}"))
}

fn not_found_message(id: &MessageId) -> QueryError {
    QueryError::NotFound(format!("message {id}"))
}

/// A stored id or user key that does not resolve: the store is corrupt.
fn corrupt(what: &str) -> QueryError {
    QueryError::Unavailable(format!("channels read model holds a dangling {what}"))
}

impl ChannelsState {
    /// The channel and the reader's membership, if they take part.
    fn joined(&self, reader: &UserId, id: &ChannelId) -> Result<(&ChannelRow, Member), QueryError> {
        let user = self.users.find(reader).ok_or_else(|| not_found_channel(id))?;
        let channel = self.channels.get(id).ok_or_else(|| not_found_channel(id))?;
        let member = channel.member(user).ok_or_else(|| not_found_channel(id))?;
        Ok((channel, *member))
    }

    pub(super) fn get_channel(&self, reader: &UserId, id: &ChannelId) -> Result<ChannelView, QueryError> {
        let (channel, member) = self.joined(reader, id)?;
        self.channel_view(channel, member)
    }

    pub(super) fn list_channels(
        &self,
        reader: &UserId,
        page: &PageRequest,
    ) -> Result<Page<ChannelView>, QueryError> {
        let size = page.size()?;
        let after = match page.cursor::<ChannelCursor>()? {
            Some(cursor) => Bound::Excluded(ChannelOrder {
                created_at: Timestamp(cursor.created_at),
                id: ChannelId::parse(&cursor.channel).map_err(|_| QueryError::foreign_page_token())?,
            }),
            None => Bound::Unbounded,
        };
        let Some(user) = self.users.find(reader) else {
            return Ok(Page::last(Vec::new()));
        };
        let Some(mine) = self.by_user.get(&user) else {
            return Ok(Page::last(Vec::new()));
        };
        let rows = mine.range((after, Bound::Unbounded)).filter_map(|order| {
            let channel = self.channels.get(&order.id)?;
            Some((channel, *channel.member(user)?))
        });
        page_of(
            rows,
            size,
            |(channel, _)| ChannelCursor {
                created_at: channel.created_at.0,
                channel: channel.id.to_string(),
            },
            |(channel, member)| self.channel_view(channel, *member),
        )
    }

    pub(super) fn list_messages(
        &self,
        reader: &UserId,
        id: &ChannelId,
        filter: &MessageFilter,
        page: &PageRequest,
    ) -> Result<Page<MessageView>, QueryError> {
        let size = page.size()?;
        let below = page.cursor::<MessageCursor>()?.map(|c| c.below_seq);
        let (channel, _) = self.joined(reader, id)?;
        let view = |m: &&MessageRow| self.message_view(channel, m);
        let cursor = |m: &&MessageRow| MessageCursor { below_seq: m.seq };
        match &filter.thread {
            None => {
                let end = match below {
                    Some(seq) => channel.messages.partition_point(|m| m.seq < seq),
                    None => channel.messages.len(),
                };
                page_of(channel.messages[..end].iter().rev(), size, cursor, view)
            }
            Some(parent) => {
                let parent = *channel
                    .by_id
                    .get(&MessageKey::of(parent))
                    .ok_or_else(|| not_found_message(parent))?;
                let replies = channel.replies.get(&parent).map_or(&[][..], Vec::as_slice);
                let seq_of = |index: &u32| channel.messages.get(*index as usize).map_or(0, |m| m.seq);
                let end = match below {
                    Some(seq) => replies.partition_point(|index| seq_of(index) < seq),
                    None => replies.len(),
                };
                let rows = replies[..end]
                    .iter()
                    .rev()
                    .filter_map(|index| channel.messages.get(*index as usize));
                page_of(rows, size, cursor, view)
            }
        }
    }

    pub(super) fn get_message(
        &self,
        reader: &UserId,
        id: &ChannelId,
        message: &MessageId,
    ) -> Result<MessageView, QueryError> {
        let (channel, _) = self.joined(reader, id)?;
        let index = *channel
            .by_id
            .get(&MessageKey::of(message))
            .ok_or_else(|| not_found_message(message))?;
        let row = channel
            .messages
            .get(index as usize)
            .ok_or_else(|| corrupt("message index"))?;
        self.message_view(channel, row)
    }

    pub(super) fn unread_counts(&self, reader: &UserId) -> Vec<UnreadCount> {
        let Some(user) = self.users.find(reader) else {
            return Vec::new();
        };
        let Some(mine) = self.by_user.get(&user) else {
            return Vec::new();
        };
        mine.iter()
            .filter_map(|order| {
                let channel = self.channels.get(&order.id)?;
                let member = channel.member(user)?;
                (member.unread > 0).then(|| UnreadCount {
                    channel: channel.id.clone(),
                    unread: member.unread,
                })
            })
            .collect()
    }

    pub(super) fn is_participant(&self, reader: &UserId, id: &ChannelId) -> bool {
        self.joined(reader, id).is_ok()
    }

    fn channel_view(&self, channel: &ChannelRow, member: Member) -> Result<ChannelView, QueryError> {
        let mut participants = channel
            .members
            .iter()
            .map(|m| self.users.id(m.user).cloned().ok_or_else(|| corrupt("user key")))
            .collect::<Result<Vec<_>, _>>()?;
        participants.sort();
        let last = channel.messages.last();
        Ok(ChannelView {
            id: channel.id.clone(),
            kind: channel.kind,
            name: channel.name.clone(),
            created_at: channel.created_at,
            participants,
            last_seq: last.map_or(0, |m| m.seq),
            last_message_at: last.map(|m| m.sent_at),
            read_up_to: member.read_seq,
            unread: member.unread,
        })
    }

    fn message_view(&self, channel: &ChannelRow, m: &MessageRow) -> Result<MessageView, QueryError> {
        let user = |key| self.users.id(key).cloned().ok_or_else(|| corrupt("user key"));
        let extra = m.extra.as_deref();
        let thread_parent = match extra.and_then(|e| e.thread_parent) {
            Some(index) => Some(
                channel
                    .messages
                    .get(index as usize)
                    .and_then(|parent| parent.id.to_id())
                    .ok_or_else(|| corrupt("thread parent"))?,
            ),
            None => None,
        };
        let replies = channel
            .by_id
            .get(&m.id)
            .and_then(|index| channel.replies.get(index))
            .map_or(0, Vec::len);
        Ok(MessageView {
            id: m.id.to_id().ok_or_else(|| corrupt("message id"))?,
            channel: channel.id.clone(),
            seq: m.seq,
            author: user(m.author)?,
            body: (!m.deleted).then(|| m.body.to_string()),
            thread_parent,
            replies: u32::try_from(replies).unwrap_or(u32::MAX),
            mentions: extra
                .map(|e| e.mentions.iter().map(|key| user(*key)).collect::<Result<_, _>>())
                .transpose()?
                .unwrap_or_default(),
            attachments: extra.map(|e| e.attachments.to_vec()).unwrap_or_default(),
            sent_at: m.sent_at,
            edited_at: extra.and_then(|e| e.edited_at),
            deleted: m.deleted,
        })
    }
}
