//! Writes a channels batch's changes back, one multi-row statement per kind
//! of change (`UNNEST` of one array per column; a binary `COPY` for the new
//! messages, the bulk of a replay), in this order: channel
//! rows (updated, then created), participants who left, joined, or moved
//! their marker, new messages, changed messages, authors' message counts,
//! unread offsets lowered by deletions, and last the recounts, which read
//! the final rows. A kind with nothing to write costs no statement.

use quire_projections::ProjectionError;

use super::model::{NewMessage, Working};
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

/// Writes every change of the working set.
pub(super) async fn write(tx: &mut Tx, working: &Working) -> Result<Written, ProjectionError> {
    update_channels(tx, working).await?;
    insert_channels(tx, working).await?;
    write_members(tx, working).await?;
    if !working.new_messages.is_empty() && !insert_messages(tx, &working.new_messages).await? {
        return Ok(Written::DuplicateMessage);
    }
    update_messages(tx, working).await?;
    count_sends(tx, working).await?;
    uncount_deleted(tx, working).await?;
    recount(tx, working).await?;
    Ok(Written::Done)
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

/// Participants who left (deleted), joined (inserted with the marker they
/// have at the end of the batch and no count, recounted later) and moved
/// their marker (updated).
async fn write_members(tx: &mut Tx, working: &Working) -> Result<(), ProjectionError> {
    let (mut gone, mut joined_, mut moved) = (
        (vec![], vec![]),
        (vec![], vec![], vec![], vec![]),
        (vec![], vec![], vec![]),
    );
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
            (true, Some(read_seq)) => {
                moved.0.push(channel.to_string());
                moved.1.push(user.to_string());
                moved.2.push(to_db(read_seq, "seq")?);
            }
            (false, None) => {}
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
    if !moved.0.is_empty() {
        sqlx::query!(
            "UPDATE channel_members m SET read_seq = x.read_seq
             FROM UNNEST($1::text[], $2::text[], $3::bigint[]) AS x(channel, user_id, read_seq)
             WHERE m.channel = x.channel AND m.user_id = x.user_id",
            &moved.0,
            &moved.1,
            &moved.2
        )
        .execute(&mut **tx)
        .await
        .map_err(|error| projection_error("move read markers", error))?;
    }
    Ok(())
}

/// The columns of `messages` in the order the `COPY` stream carries them.
const MESSAGE_COPY: &str = "COPY messages (channel, seq, id, author, body, thread_parent, mentions, attachments, \
                            sent_at, edited_at, deleted) FROM STDIN (FORMAT binary)";

/// The sent messages as one binary `COPY` stream.
fn message_rows(messages: &[NewMessage]) -> Result<Vec<u8>, ProjectionError> {
    let mut copy = BinaryCopy::with_capacity(messages.iter().map(|m| 160 + m.body.len()).sum());
    for m in messages {
        copy.row(11);
        copy.text(m.channel.as_str());
        copy.bigint(to_db(m.seq, "seq")?);
        copy.text(m.id.as_str());
        copy.text(m.author.as_str());
        copy.bytes(m.body.as_bytes());
        copy.opt_text(m.thread_parent.as_ref().map(|p| p.as_str()));
        copy.text_array(m.mentions.iter().map(|u| u.as_str()));
        copy.text_array(m.attachments.iter().map(|d| d.as_str()));
        copy.bigint(m.sent_at.0);
        copy.opt_bigint(m.edited_at.map(|t| t.0));
        copy.boolean(m.deleted);
    }
    Ok(copy.finish())
}

/// Inserts the sent messages with one `COPY` (several times faster per row
/// than a multi-row `INSERT`); `false` if a message was already stored in
/// its channel, which fails the `COPY` and so the whole transaction.
async fn insert_messages(tx: &mut Tx, messages: &[NewMessage]) -> Result<bool, ProjectionError> {
    let rows = message_rows(messages)?;
    let copied = async {
        let mut copy = tx.copy_in_raw(MESSAGE_COPY).await?;
        copy.send(rows).await?;
        copy.finish().await
    }
    .await;
    match copied {
        Ok(_) => Ok(true),
        Err(error) if is_unique_violation(&error) => Ok(false),
        Err(error) => Err(projection_error("write messages", error)),
    }
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
             mentions = CASE WHEN x.deleted THEN '{}'::text[] ELSE g.mentions END,
             attachments = CASE WHEN x.deleted THEN '{}'::text[] ELSE g.attachments END,
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

/// Raises each author's message count by what they sent in the batch (a
/// non-participant has no row to raise).
async fn count_sends(tx: &mut Tx, working: &Working) -> Result<(), ProjectionError> {
    if working.author_sends.is_empty() {
        return Ok(());
    }
    let (mut channel, mut user, mut sent) = (vec![], vec![], vec![]);
    for ((c, u), n) in &working.author_sends {
        channel.push(c.to_string());
        user.push(u.to_string());
        sent.push(to_db(*n, "message count")?);
    }
    sqlx::query!(
        "UPDATE channel_members m SET sent_by_user = m.sent_by_user + x.sent
         FROM UNNEST($1::text[], $2::text[], $3::bigint[]) AS x(channel, user_id, sent)
         WHERE m.channel = x.channel AND m.user_id = x.user_id",
        &channel,
        &user,
        &sent
    )
    .execute(&mut **tx)
    .await
    .map_err(|error| projection_error("count sent messages", error))?;
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

/// Sets the offset of every participant marked for a recount so that their
/// count is the live messages by others after their marker.
async fn recount(tx: &mut Tx, working: &Working) -> Result<(), ProjectionError> {
    let (mut channel, mut user) = (vec![], vec![]);
    for ((c, u), slot) in &working.members {
        if slot.recount && slot.read_seq.is_some() {
            channel.push(c.to_string());
            user.push(u.to_string());
        }
    }
    if channel.is_empty() {
        return Ok(());
    }
    sqlx::query!(
        "UPDATE channel_members m SET unread_offset =
             (SELECT count(*) FROM messages g
              WHERE g.channel = m.channel AND g.seq > m.read_seq AND NOT g.deleted AND g.author <> m.user_id)
             - c.sent + m.sent_by_user
         FROM UNNEST($1::text[], $2::text[]) AS x(channel, user_id), channels c
         WHERE m.channel = x.channel AND m.user_id = x.user_id AND c.id = m.channel",
        &channel,
        &user
    )
    .execute(&mut **tx)
    .await
    .map_err(|error| projection_error("recount unread messages", error))?;
    Ok(())
}
