//! Loads a channels batch's working set in up to three statements: the
//! channels its events name, the participant rows whose membership or
//! marker they change (not every participant of those channels, nor the
//! authors of messages), and the messages they refer to.

use quire_domain::{ChannelId, MessageId, Name, UserId};
use quire_projections::ProjectionError;

use super::model::{ChannelRow, MemberSlot, MessageSlot, Wanted, Working};
use crate::convert::{kind_from_db, parse_loaded, position_from_db, timestamp, u64_loaded};
use crate::error::projection_error;
use crate::store::Tx;

/// The rows `wanted` names, as they are in the store.
pub(super) async fn load(tx: &mut Tx, wanted: &Wanted) -> Result<Working, ProjectionError> {
    let mut working = Working::default();
    if wanted.channels.is_empty() {
        return Ok(working);
    }
    load_channels(tx, &wanted.channels, &mut working).await?;
    if !wanted.members.0.is_empty() {
        load_members(tx, wanted, &mut working).await?;
    }
    if !wanted.messages.0.is_empty() {
        load_messages(tx, wanted, &mut working).await?;
    }
    Ok(working)
}

async fn load_channels(tx: &mut Tx, ids: &[String], working: &mut Working) -> Result<(), ProjectionError> {
    let rows = sqlx::query!(
        "SELECT id, applied, kind, name, created_at, sent, last_seq, last_message_at
         FROM channels WHERE id = ANY($1)",
        ids
    )
    .fetch_all(&mut **tx)
    .await
    .map_err(|error| projection_error("load channels", error))?;
    for r in rows {
        let row = ChannelRow {
            applied: position_from_db(r.applied)?,
            kind: kind_from_db(&r.kind)?,
            name: r
                .name
                .map(|n| parse_loaded(&n, Name::parse, "name"))
                .transpose()?,
            created_at: timestamp(r.created_at),
            sent: u64_loaded(r.sent, "message count")?,
            last_seq: u64_loaded(r.last_seq, "seq")?,
            stored_last_seq: u64_loaded(r.last_seq, "seq")?,
            last_message_at: r.last_message_at.map(timestamp),
        };
        working
            .channels
            .insert(parse_loaded(&r.id, ChannelId::parse, "channel id")?, row);
    }
    Ok(())
}

async fn load_members(tx: &mut Tx, wanted: &Wanted, working: &mut Working) -> Result<(), ProjectionError> {
    let rows = sqlx::query!(
        "SELECT m.channel, m.user_id, m.read_seq
         FROM channel_members m
         JOIN (SELECT DISTINCT * FROM UNNEST($1::text[], $2::text[])) AS w(channel, user_id)
           ON m.channel = w.channel AND m.user_id = w.user_id",
        &wanted.members.0,
        &wanted.members.1
    )
    .fetch_all(&mut **tx)
    .await
    .map_err(|error| projection_error("load participants", error))?;
    for r in rows {
        let key = (
            parse_loaded(&r.channel, ChannelId::parse, "channel id")?,
            parse_loaded(&r.user_id, UserId::parse, "user id")?,
        );
        let slot = MemberSlot {
            stored: true,
            read_seq: Some(u64_loaded(r.read_seq, "seq")?),
            changed: false,
            recount: false,
        };
        working.members.insert(key, slot);
    }
    Ok(())
}

async fn load_messages(tx: &mut Tx, wanted: &Wanted, working: &mut Working) -> Result<(), ProjectionError> {
    let rows = sqlx::query!(
        "SELECT g.channel, g.id, g.seq, g.author, g.deleted
         FROM messages g
         JOIN (SELECT DISTINCT * FROM UNNEST($1::text[], $2::text[])) AS w(channel, id)
           ON g.channel = w.channel AND g.id = w.id",
        &wanted.messages.0,
        &wanted.messages.1
    )
    .fetch_all(&mut **tx)
    .await
    .map_err(|error| projection_error("load messages", error))?;
    for r in rows {
        let key = (
            parse_loaded(&r.channel, ChannelId::parse, "channel id")?,
            parse_loaded(&r.id, MessageId::parse, "message id")?,
        );
        let slot = MessageSlot {
            seq: u64_loaded(r.seq, "seq")?,
            author: parse_loaded(&r.author, UserId::parse, "user id")?,
            deleted: r.deleted,
            new: None,
        };
        working.messages.insert(key, slot);
    }
    Ok(())
}
