//! How [`PgChannels`](super::PgChannels) answers
//! [`ChannelQueries`](quire_projections::read_models::channels::ChannelQueries):
//! a channel is visible through the reader's participant row, unread counts
//! are `unread_offset + channels.sent - sent_by_user` (see `model`), and
//! message pages are index range scans below the cursor's `seq`.

use quire_domain::{ChannelId, DocumentId, MessageId, Name, UserId};
use quire_projections::query::{Page, PageRequest, QueryError};
use quire_projections::read_models::channels::{ChannelView, MessageFilter, MessageView, UnreadCount};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;

use crate::convert::{count_u32, parse_read, timestamp, u64_read};
use crate::error::{corrupt, query_error};
use crate::paging::{fetch_limit, page_of};

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

/// A channel with the reader's participant row.
#[derive(Debug)]
struct ChannelRecord {
    id: String,
    kind: String,
    name: Option<String>,
    created_at: i64,
    last_seq: i64,
    last_message_at: Option<i64>,
    read_seq: i64,
    unread: i64,
    participants: Vec<String>,
}

impl ChannelRecord {
    fn view(self) -> Result<ChannelView, QueryError> {
        let participants = self
            .participants
            .iter()
            .map(|p| parse_read(p, UserId::parse, "user id"))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ChannelView {
            id: parse_read(&self.id, ChannelId::parse, "channel id")?,
            kind: crate::convert::kind_from_db(&self.kind).map_err(|_| corrupt("channel kind"))?,
            name: self
                .name
                .as_deref()
                .map(|n| parse_read(n, Name::parse, "name"))
                .transpose()?,
            created_at: timestamp(self.created_at),
            participants,
            last_seq: u64_read(self.last_seq, "seq")?,
            last_message_at: self.last_message_at.map(timestamp),
            read_up_to: u64_read(self.read_seq, "seq")?,
            unread: count_u32(self.unread),
        })
    }
}

pub(super) async fn get_channel(
    pool: &PgPool,
    reader: &UserId,
    id: &ChannelId,
) -> Result<ChannelView, QueryError> {
    let record = sqlx::query_as!(
        ChannelRecord,
        r#"SELECT c.id, c.kind, c.name, c.created_at, c.last_seq, c.last_message_at, m.read_seq,
                  m.unread_offset + c.sent - m.sent_by_user AS "unread!",
                  ARRAY(SELECT p.user_id FROM channel_members p WHERE p.channel = c.id
                        ORDER BY p.user_id) AS "participants!"
           FROM channel_members m JOIN channels c ON c.id = m.channel
           WHERE m.channel = $1 AND m.user_id = $2"#,
        id.as_str(),
        reader.as_str()
    )
    .fetch_optional(pool)
    .await
    .map_err(|error| query_error("get channel", error))?
    .ok_or_else(|| not_found_channel(id))?;
    record.view()
}

pub(super) async fn list_channels(
    pool: &PgPool,
    reader: &UserId,
    page: &PageRequest,
) -> Result<Page<ChannelView>, QueryError> {
    let size = page.size()?;
    let cursor = page.cursor::<ChannelCursor>()?;
    if let Some(cursor) = &cursor {
        ChannelId::parse(&cursor.channel).map_err(|_| QueryError::foreign_page_token())?;
    }
    let (after_time, after_id) = cursor.map(|c| (c.created_at, c.channel)).unzip();
    let rows = sqlx::query_as!(
        ChannelRecord,
        r#"SELECT c.id, c.kind, c.name, c.created_at, c.last_seq, c.last_message_at, m.read_seq,
                  m.unread_offset + c.sent - m.sent_by_user AS "unread!",
                  ARRAY(SELECT p.user_id FROM channel_members p WHERE p.channel = c.id
                        ORDER BY p.user_id) AS "participants!"
           FROM channel_members m JOIN channels c ON c.id = m.channel
           WHERE m.user_id = $1
             AND ($2::bigint IS NULL OR (m.channel_created_at, m.channel) < ($2, $3::text))
           ORDER BY m.channel_created_at DESC, m.channel DESC LIMIT $4"#,
        reader.as_str(),
        after_time,
        after_id,
        fetch_limit(size)
    )
    .fetch_all(pool)
    .await
    .map_err(|error| query_error("list channels", error))?;
    page_of(
        rows,
        size,
        |r| ChannelCursor {
            created_at: r.created_at,
            channel: r.id.clone(),
        },
        ChannelRecord::view,
    )
}

/// One message with its reply count.
#[derive(Debug)]
struct MessageRecord {
    seq: i64,
    id: String,
    author: String,
    body: Vec<u8>,
    thread_parent: Option<String>,
    /// NULL for none (0005); rows written before hold `'{}'`.
    mentions: Option<Vec<String>>,
    attachments: Option<Vec<String>>,
    sent_at: i64,
    edited_at: Option<i64>,
    deleted: bool,
    replies: i64,
}

impl MessageRecord {
    fn view(self, channel: &ChannelId) -> Result<MessageView, QueryError> {
        let body = match self.deleted {
            true => None,
            false => Some(String::from_utf8(self.body).map_err(|_| corrupt("message body"))?),
        };
        Ok(MessageView {
            id: parse_read(&self.id, MessageId::parse, "message id")?,
            channel: channel.clone(),
            seq: u64_read(self.seq, "seq")?,
            author: parse_read(&self.author, UserId::parse, "user id")?,
            body,
            thread_parent: self
                .thread_parent
                .as_deref()
                .map(|p| parse_read(p, MessageId::parse, "message id"))
                .transpose()?,
            replies: count_u32(self.replies),
            mentions: self
                .mentions
                .unwrap_or_default()
                .iter()
                .map(|u| parse_read(u, UserId::parse, "user id"))
                .collect::<Result<_, _>>()?,
            attachments: self
                .attachments
                .unwrap_or_default()
                .iter()
                .map(|d| parse_read(d, DocumentId::parse, "document id"))
                .collect::<Result<_, _>>()?,
            sent_at: timestamp(self.sent_at),
            edited_at: self.edited_at.map(timestamp),
            deleted: self.deleted,
        })
    }
}

/// Fails with `NotFound` unless the reader takes part in the channel.
async fn check_participant(pool: &PgPool, reader: &UserId, id: &ChannelId) -> Result<(), QueryError> {
    if is_participant(pool, reader, id).await? {
        Ok(())
    } else {
        Err(not_found_channel(id))
    }
}

pub(super) async fn list_messages(
    pool: &PgPool,
    reader: &UserId,
    channel: &ChannelId,
    filter: &MessageFilter,
    page: &PageRequest,
) -> Result<Page<MessageView>, QueryError> {
    let size = page.size()?;
    let below = page
        .cursor::<MessageCursor>()?
        .map(|c| i64::try_from(c.below_seq).map_err(|_| QueryError::foreign_page_token()))
        .transpose()?;
    check_participant(pool, reader, channel).await?;
    let rows = match &filter.thread {
        None => channel_page(pool, channel, below, size).await?,
        Some(parent) => thread_page(pool, channel, parent, below, size).await?,
    };
    page_of(
        rows,
        size,
        |r| MessageCursor {
            below_seq: u64::try_from(r.seq).unwrap_or_default(),
        },
        |r| r.view(channel),
    )
}

async fn channel_page(
    pool: &PgPool,
    channel: &ChannelId,
    below: Option<i64>,
    size: usize,
) -> Result<Vec<MessageRecord>, QueryError> {
    sqlx::query_as!(
        MessageRecord,
        r#"SELECT g.seq, g.id, g.author, g.body, g.thread_parent, g.mentions, g.attachments, g.sent_at,
                  g.edited_at, g.deleted,
                  (SELECT count(*) FROM messages r WHERE r.channel = g.channel AND r.thread_parent = g.id)
                      AS "replies!"
           FROM messages g
           WHERE g.channel = $1 AND ($2::bigint IS NULL OR g.seq < $2)
           ORDER BY g.seq DESC LIMIT $3"#,
        channel.as_str(),
        below,
        fetch_limit(size)
    )
    .fetch_all(pool)
    .await
    .map_err(|error| query_error("list messages", error))
}

/// The direct replies to `parent`, which must be a message of the channel.
async fn thread_page(
    pool: &PgPool,
    channel: &ChannelId,
    parent: &MessageId,
    below: Option<i64>,
    size: usize,
) -> Result<Vec<MessageRecord>, QueryError> {
    let exists = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM messages WHERE channel = $1 AND id = $2) AS "exists!""#,
        channel.as_str(),
        parent.as_str()
    )
    .fetch_one(pool)
    .await
    .map_err(|error| query_error("find thread", error))?;
    if !exists {
        return Err(not_found_message(parent));
    }
    sqlx::query_as!(
        MessageRecord,
        r#"SELECT g.seq, g.id, g.author, g.body, g.thread_parent, g.mentions, g.attachments, g.sent_at,
                  g.edited_at, g.deleted,
                  (SELECT count(*) FROM messages r WHERE r.channel = g.channel AND r.thread_parent = g.id)
                      AS "replies!"
           FROM messages g
           WHERE g.channel = $1 AND g.thread_parent = $2 AND ($3::bigint IS NULL OR g.seq < $3)
           ORDER BY g.seq DESC LIMIT $4"#,
        channel.as_str(),
        parent.as_str(),
        below,
        fetch_limit(size)
    )
    .fetch_all(pool)
    .await
    .map_err(|error| query_error("list thread", error))
}

pub(super) async fn get_message(
    pool: &PgPool,
    reader: &UserId,
    channel: &ChannelId,
    message: &MessageId,
) -> Result<MessageView, QueryError> {
    check_participant(pool, reader, channel).await?;
    let record = sqlx::query_as!(
        MessageRecord,
        r#"SELECT g.seq, g.id, g.author, g.body, g.thread_parent, g.mentions, g.attachments, g.sent_at,
                  g.edited_at, g.deleted,
                  (SELECT count(*) FROM messages r WHERE r.channel = g.channel AND r.thread_parent = g.id)
                      AS "replies!"
           FROM messages g WHERE g.channel = $1 AND g.id = $2"#,
        channel.as_str(),
        message.as_str()
    )
    .fetch_optional(pool)
    .await
    .map_err(|error| query_error("get message", error))?
    .ok_or_else(|| not_found_message(message))?;
    record.view(channel)
}

pub(super) async fn unread_counts(pool: &PgPool, reader: &UserId) -> Result<Vec<UnreadCount>, QueryError> {
    let rows = sqlx::query!(
        r#"SELECT m.channel, m.unread_offset + c.sent - m.sent_by_user AS "unread!"
           FROM channel_members m JOIN channels c ON c.id = m.channel
           WHERE m.user_id = $1 AND m.unread_offset + c.sent - m.sent_by_user > 0
           ORDER BY m.channel_created_at DESC, m.channel DESC"#,
        reader.as_str()
    )
    .fetch_all(pool)
    .await
    .map_err(|error| query_error("unread counts", error))?;
    rows.into_iter()
        .map(|r| {
            Ok(UnreadCount {
                channel: parse_read(&r.channel, ChannelId::parse, "channel id")?,
                unread: count_u32(r.unread),
            })
        })
        .collect()
}

pub(super) async fn is_participant(
    pool: &PgPool,
    reader: &UserId,
    channel: &ChannelId,
) -> Result<bool, QueryError> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM channel_members WHERE channel = $1 AND user_id = $2) AS "member!""#,
        channel.as_str(),
        reader.as_str()
    )
    .fetch_one(pool)
    .await
    .map_err(|error| query_error("is participant", error))
}
