//! Writes a channels batch back. The sent messages, the bulk of a replay,
//! go first, by one binary `COPY` streamed while the events are applied
//! (`apply_and_copy`); the rest is one multi-row statement per kind of
//! change (`UNNEST` of one array per column), in this order: channel rows
//! (updated, then created), participants who left or joined, edits and
//! deletions of stored messages, unread offsets lowered by deletions, and
//! last each participant's marker, message count and recount together,
//! since the recount reads the final rows. A kind with nothing to write
//! costs no statement.

use std::collections::HashMap;

use quire_domain::channel::ChannelEvent;
use quire_domain::{ChannelId, UserId};
use quire_projections::ProjectionError;

use super::model::{Decoded, NewMessage, Working};
use crate::convert::{kind_to_db, position_to_db, to_db};
use crate::copy::BinaryCopy;
use crate::error::{is_unique_violation, projection_error};
use crate::store::Tx;

/// How a batch's writes ended.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Written {
    Done,
    /// A sent message's id was already stored in its channel: the batch
    /// must be rolled back and applied again with sent ids loaded.
    DuplicateMessage,
}

/// Events applied between two parts of the messages' `COPY` stream: the
/// server inserts one part while the client applies the next.
const CHUNK: usize = 512;

/// Applies `events` to `working` in chunks and streams the messages each
/// chunk sends to the server (one `COPY` for the batch, opened if it sends
/// any), so that applying and inserting overlap. `DuplicateMessage` if a
/// message was already stored in its channel, which fails the `COPY` and
/// so the whole transaction.
pub(super) async fn apply_and_copy(
    tx: &mut Tx,
    working: &mut Working,
    events: Vec<Decoded>,
) -> Result<Written, ProjectionError> {
    if !events
        .iter()
        .any(|e| matches!(e.event, ChannelEvent::MessageSent(_)))
    {
        events.into_iter().for_each(|event| working.apply(event));
        return Ok(Written::Done);
    }
    let mut copy = match tx.copy_in_raw(MESSAGE_COPY).await {
        Ok(copy) => copy,
        Err(error) => return copied(Err(error)),
    };
    let mut stream = BinaryCopy::with_capacity(CHUNK * 192);
    let mut events = events.into_iter().peekable();
    while events.peek().is_some() {
        if apply_chunk(working, &mut events, &mut stream)?
            && let Err(error) = copy.send(stream.take()).await
        {
            return copied(Err(error));
        }
    }
    let last = stream.finish();
    let finished = async {
        copy.send(last).await?;
        copy.finish().await
    };
    copied(finished.await.map(drop))
}

/// Applies the next chunk of events and encodes the messages it sent;
/// whether there were any.
fn apply_chunk(
    working: &mut Working,
    events: &mut impl Iterator<Item = Decoded>,
    stream: &mut BinaryCopy,
) -> Result<bool, ProjectionError> {
    events.take(CHUNK).for_each(|event| working.apply(event));
    let sent = working.flush();
    encode_messages(stream, sent)?;
    Ok(!sent.is_empty())
}

/// How the messages' `COPY` ended.
fn copied(result: Result<(), sqlx::Error>) -> Result<Written, ProjectionError> {
    match result {
        Ok(()) => Ok(Written::Done),
        Err(error) if is_unique_violation(&error) => Ok(Written::DuplicateMessage),
        Err(error) => Err(projection_error("write messages", error)),
    }
}

/// Writes every change of the working set but the sent messages.
pub(super) async fn write(tx: &mut Tx, working: &Working) -> Result<(), ProjectionError> {
    update_channels(tx, working).await?;
    insert_channels(tx, working).await?;
    write_members(tx, working).await?;
    update_messages(tx, working).await?;
    uncount_deleted(tx, working).await?;
    update_participants(tx, working).await
}

/// The counters and guards of stored channels the batch changed.
async fn update_channels(tx: &mut Tx, working: &Working) -> Result<(), ProjectionError> {
    let (mut id, mut applied, mut sent, mut last_seq, mut last_at) = (vec![], vec![], vec![], vec![], vec![]);
    for channel in working.changed_channels.difference(&working.new_channels) {
        let Some(row) = working.channels.get(channel) else {
            continue;
        };
        id.push(channel.to_string());
        applied.push(position_to_db(row.applied)?);
        sent.push(to_db(row.sent, "message count")?);
        last_seq.push(to_db(row.last_seq, "seq")?);
        last_at.push(row.last_message_at.map(|t| t.0));
    }
    if id.is_empty() {
        return Ok(());
    }
    sqlx::query!(
        "UPDATE channels c SET applied = x.applied, sent = x.sent, last_seq = x.last_seq,
                               last_message_at = x.last_message_at
         FROM UNNEST($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[])
              AS x(id, applied, sent, last_seq, last_message_at)
         WHERE c.id = x.id",
        &id,
        &applied,
        &sent,
        &last_seq,
        &last_at as &[Option<i64>],
    )
    .execute(&mut **tx)
    .await
    .map_err(|error| projection_error("update channels", error))?;
    Ok(())
}

/// The channels the batch created.
async fn insert_channels(tx: &mut Tx, working: &Working) -> Result<(), ProjectionError> {
    let (mut id, mut applied, mut kind, mut name) = (vec![], vec![], vec![], vec![]);
    let (mut created_at, mut sent, mut last_seq, mut last_at) = (vec![], vec![], vec![], vec![]);
    for channel in &working.new_channels {
        let Some(row) = working.channels.get(channel) else {
            continue;
        };
        id.push(channel.to_string());
        applied.push(position_to_db(row.applied)?);
        kind.push(kind_to_db(row.kind).to_owned());
        name.push(row.name.as_ref().map(ToString::to_string));
        created_at.push(row.created_at.0);
        sent.push(to_db(row.sent, "message count")?);
        last_seq.push(to_db(row.last_seq, "seq")?);
        last_at.push(row.last_message_at.map(|t| t.0));
    }
    if id.is_empty() {
        return Ok(());
    }
    sqlx::query!(
        "INSERT INTO channels (id, applied, kind, name, created_at, sent, last_seq, last_message_at)
         SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::bigint[],
                              $7::bigint[], $8::bigint[])",
        &id,
        &applied,
        &kind,
        &name as &[Option<String>],
        &created_at,
        &sent,
        &last_seq,
        &last_at as &[Option<i64>],
    )
    .execute(&mut **tx)
    .await
    .map_err(|error| projection_error("create channels", error))?;
    Ok(())
}

/// Participants who left (deleted) and joined (inserted with the marker
/// they have at the end of the batch and no count, recounted later).
async fn write_members(tx: &mut Tx, working: &Working) -> Result<(), ProjectionError> {
    let (mut gone, mut joined_) = ((vec![], vec![]), (vec![], vec![], vec![], vec![]));
    for ((channel, user), slot) in working.members.iter().filter(|(_, slot)| slot.changed) {
        match (slot.stored, slot.read_seq) {
            (true, None) => {
                gone.0.push(channel.to_string());
                gone.1.push(user.to_string());
            }
            (false, Some(read_seq)) => {
                let created_at = working.channels.get(channel).map_or(0, |c| c.created_at.0);
                joined_.0.push(channel.to_string());
                joined_.1.push(user.to_string());
                joined_.2.push(created_at);
                joined_.3.push(to_db(read_seq, "seq")?);
            }
            // A moved marker is written by `update_participants`.
            (true, Some(_)) | (false, None) => {}
        }
    }
    if !gone.0.is_empty() {
        sqlx::query!(
            "DELETE FROM channel_members m USING UNNEST($1::text[], $2::text[]) AS g(channel, user_id)
             WHERE m.channel = g.channel AND m.user_id = g.user_id",
            &gone.0,
            &gone.1
        )
        .execute(&mut **tx)
        .await
        .map_err(|error| projection_error("remove participants", error))?;
    }
    if !joined_.0.is_empty() {
        sqlx::query!(
            "INSERT INTO channel_members (channel, user_id, channel_created_at, read_seq, sent_by_user,
                                          unread_offset)
             SELECT channel, user_id, created_at, read_seq, 0, 0
             FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::bigint[])
                  AS j(channel, user_id, created_at, read_seq)",
            &joined_.0,
            &joined_.1,
            &joined_.2,
            &joined_.3
        )
        .execute(&mut **tx)
        .await
        .map_err(|error| projection_error("add participants", error))?;
    }
    Ok(())
}

/// The columns of `messages` in the order the `COPY` stream carries them.
const MESSAGE_COPY: &str = "COPY messages (channel, seq, id, author, body, thread_parent, mentions, attachments, \
                            sent_at, edited_at, deleted) FROM STDIN (FORMAT binary)";

/// Appends `messages` to a `COPY` stream of `messages` rows.
fn encode_messages(copy: &mut BinaryCopy, messages: &[NewMessage]) -> Result<(), ProjectionError> {
    for m in messages {
        copy.row(11);
        copy.text(m.channel.as_str());
        copy.bigint(to_db(m.seq, "seq")?);
        copy.text(m.id.as_str());
        copy.text(m.author.as_str());
        copy.bytes(m.body.as_bytes());
        copy.opt_text(m.thread_parent.as_ref().map(|p| p.as_str()));
        copy.text_array_or_null(m.mentions.iter().map(|u| u.as_str()));
        copy.text_array_or_null(m.attachments.iter().map(|d| d.as_str()));
        copy.bigint(m.sent_at.0);
        copy.opt_bigint(m.edited_at.map(|t| t.0));
        copy.boolean(m.deleted);
    }
    Ok(())
}

/// Edits and deletions of stored messages.
async fn update_messages(tx: &mut Tx, working: &Working) -> Result<(), ProjectionError> {
    if working.changed_messages.is_empty() {
        return Ok(());
    }
    let (mut channel, mut seq, mut body, mut edited_at, mut deleted) =
        (vec![], vec![], vec![], vec![], vec![]);
    for ((c, s), change) in &working.changed_messages {
        channel.push(c.to_string());
        seq.push(to_db(*s, "seq")?);
        body.push(change.body.as_ref().map(|b| b.as_bytes().to_vec()));
        edited_at.push(change.edited_at.map(|t| t.0));
        deleted.push(change.deleted);
    }
    sqlx::query!(
        "UPDATE messages g SET
             deleted = g.deleted OR x.deleted,
             body = CASE WHEN x.deleted THEN ''::bytea ELSE COALESCE(x.body, g.body) END,
             mentions = CASE WHEN x.deleted THEN NULL ELSE g.mentions END,
             attachments = CASE WHEN x.deleted THEN NULL ELSE g.attachments END,
             edited_at = COALESCE(x.edited_at, g.edited_at)
         FROM UNNEST($1::text[], $2::bigint[], $3::bytea[], $4::bigint[], $5::bool[])
              AS x(channel, seq, body, edited_at, deleted)
         WHERE g.channel = x.channel AND g.seq = x.seq",
        &channel,
        &seq,
        &body as &[Option<Vec<u8>>],
        &edited_at as &[Option<i64>],
        &deleted,
    )
    .execute(&mut **tx)
    .await
    .map_err(|error| projection_error("change messages", error))?;
    Ok(())
}

/// A deleted live message leaves the unread count of every participant
/// but its author whose marker is below it.
async fn uncount_deleted(tx: &mut Tx, working: &Working) -> Result<(), ProjectionError> {
    if working.deleted_live.is_empty() {
        return Ok(());
    }
    let (mut channel, mut seq, mut author) = (vec![], vec![], vec![]);
    for (c, s, a) in &working.deleted_live {
        channel.push(c.to_string());
        seq.push(to_db(*s, "seq")?);
        author.push(a.to_string());
    }
    sqlx::query!(
        "UPDATE channel_members m SET unread_offset = m.unread_offset - d.n
         FROM (SELECT p.channel, p.user_id, count(*) AS n
               FROM UNNEST($1::text[], $2::bigint[], $3::text[]) AS x(channel, seq, author)
               JOIN channel_members p ON p.channel = x.channel AND p.read_seq < x.seq AND p.user_id <> x.author
               GROUP BY p.channel, p.user_id) AS d
         WHERE m.channel = d.channel AND m.user_id = d.user_id",
        &channel,
        &seq,
        &author
    )
    .execute(&mut **tx)
    .await
    .map_err(|error| projection_error("uncount deleted messages", error))?;
    Ok(())
}

/// What one participant row takes from the batch: its final marker if
/// moved, the messages it sent, and whether to recount, with the count
/// and the channel's message count when the batch knows them.
#[derive(Default)]
struct ParticipantChange {
    read_seq: Option<i64>,
    sent: i64,
    recount: bool,
    unread: Option<i64>,
    channel_sent: Option<i64>,
}

/// Every participant's marker move, message count and recount, one
/// statement and one row version each. A recount sets the offset so that
/// the count is the live messages by others after the (new) marker,
/// counted by the store unless the batch could tell; a non-participant
/// has no row to change.
async fn update_participants(tx: &mut Tx, working: &Working) -> Result<(), ProjectionError> {
    let unread = working.unread_in_batch();
    let mut changes: HashMap<(&ChannelId, &UserId), ParticipantChange> = HashMap::new();
    for ((c, u), slot) in &working.members {
        let Some(read_seq) = slot.read_seq.filter(|_| slot.changed || slot.recount) else {
            continue;
        };
        let change = changes.entry((c, u)).or_default();
        change.read_seq = Some(to_db(read_seq, "seq")?);
        change.recount = slot.recount;
        if slot.recount {
            change.unread = unread
                .get(&(c, u))
                .map(|n| to_db(*n, "unread count"))
                .transpose()?;
            let sent = working.channels.get(c).map(|row| row.sent);
            change.channel_sent = sent.map(|n| to_db(n, "message count")).transpose()?;
        }
    }
    for ((c, u), n) in &working.author_sends {
        changes.entry((c, u)).or_default().sent = to_db(*n, "message count")?;
    }
    if changes.is_empty() {
        return Ok(());
    }
    let mut columns = ParticipantColumns::default();
    for ((c, u), change) in changes {
        columns.push(c, u, change);
    }
    let ParticipantColumns {
        channel,
        user,
        read_seq,
        sent,
        recount,
        unread,
        channel_sent,
    } = columns;
    sqlx::query!(
        "UPDATE channel_members m SET
             read_seq = COALESCE(x.read_seq, m.read_seq),
             sent_by_user = m.sent_by_user + x.sent,
             unread_offset = CASE WHEN x.recount THEN
                 COALESCE(x.unread,
                          (SELECT count(*) FROM messages g
                           WHERE g.channel = m.channel AND g.seq > COALESCE(x.read_seq, m.read_seq)
                             AND NOT g.deleted AND g.author <> m.user_id))
                 - COALESCE(x.channel_sent, (SELECT c.sent FROM channels c WHERE c.id = m.channel))
                 + m.sent_by_user + x.sent
             ELSE m.unread_offset END
         FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bool[], $6::bigint[],
                     $7::bigint[])
              AS x(channel, user_id, read_seq, sent, recount, unread, channel_sent)
         WHERE m.channel = x.channel AND m.user_id = x.user_id",
        &channel,
        &user,
        &read_seq as &[Option<i64>],
        &sent,
        &recount,
        &unread as &[Option<i64>],
        &channel_sent as &[Option<i64>],
    )
    .execute(&mut **tx)
    .await
    .map_err(|error| projection_error("update participants", error))?;
    Ok(())
}

/// The participant changes as one array per column of the `UNNEST`.
#[derive(Default)]
struct ParticipantColumns {
    channel: Vec<String>,
    user: Vec<String>,
    read_seq: Vec<Option<i64>>,
    sent: Vec<i64>,
    recount: Vec<bool>,
    unread: Vec<Option<i64>>,
    channel_sent: Vec<Option<i64>>,
}

impl ParticipantColumns {
    fn push(&mut self, channel: &ChannelId, user: &UserId, change: ParticipantChange) {
        self.channel.push(channel.to_string());
        self.user.push(user.to_string());
        self.read_seq.push(change.read_seq);
        self.sent.push(change.sent);
        self.recount.push(change.recount);
        self.unread.push(change.unread);
        self.channel_sent.push(change.channel_sent);
    }
}
