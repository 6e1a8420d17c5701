//! Message rules: sending (threads, mentions, attachments), editing and
//! deleting one's own messages, and read markers.

use std::collections::BTreeSet;

use crate::values::{DocumentId, MessageId, UserId};

use super::commands::{DeleteMessage, EditMessage, MarkRead, SendMessage};
use super::decide::{By, Decision};
use super::errors::ChannelError;
use super::events::{self, ChannelEvent};
use super::state::{ChannelState, MessageFacts};
use super::{MAX_ATTACHMENTS, MAX_BODY_BYTES};

pub(super) fn send(state: &ChannelState, by: By, c: &SendMessage) -> Decision {
    if state.message(&c.message_id).is_some() {
        return Err(ChannelError::MessageExists(c.message_id.clone()));
    }
    check_body(&c.body)?;
    if let Some(parent) = &c.thread_parent {
        live_message(state, parent)?;
    }
    let mentions = mentions(state, &c.mentions)?;
    let attachments = attachments(&c.attachments, &c.readable_documents)?;
    Ok(vec![ChannelEvent::MessageSent(events::MessageSent {
        channel_id: state.id.clone(),
        message_id: c.message_id.clone(),
        seq: state.last_seq.saturating_add(1),
        author: by.user,
        body: c.body.clone(),
        thread_parent: c.thread_parent.clone(),
        mentions,
        attachments,
        at: by.at,
    })])
}

pub(super) fn edit(state: &ChannelState, by: By, c: &EditMessage) -> Decision {
    own_live_message(state, &by, &c.message_id)?;
    check_body(&c.body)?;
    Ok(vec![ChannelEvent::MessageEdited(events::MessageEdited {
        channel_id: state.id.clone(),
        message_id: c.message_id.clone(),
        body: c.body.clone(),
        by: by.user,
        at: by.at,
    })])
}

pub(super) fn delete(state: &ChannelState, by: By, c: &DeleteMessage) -> Decision {
    own_live_message(state, &by, &c.message_id)?;
    Ok(vec![ChannelEvent::MessageDeleted(events::MessageDeleted {
        channel_id: state.id.clone(),
        message_id: c.message_id.clone(),
        by: by.user,
        at: by.at,
    })])
}

/// Moves the actor's marker forward; a marker at or past the message stays.
pub(super) fn mark_read(state: &ChannelState, by: By, c: &MarkRead) -> Decision {
    let message = state
        .message(&c.up_to)
        .ok_or_else(|| ChannelError::MessageNotFound(c.up_to.clone()))?;
    let current = state.read_markers.get(&by.user).copied().unwrap_or(0);
    if message.seq <= current {
        return Ok(vec![]);
    }
    Ok(vec![ChannelEvent::ReadMarkerMoved(events::ReadMarkerMoved {
        channel_id: state.id.clone(),
        user: by.user,
        up_to: c.up_to.clone(),
        up_to_seq: message.seq,
        at: by.at,
    })])
}

/// A body is not blank and at most [`MAX_BODY_BYTES`] long.
fn check_body(body: &str) -> Result<(), ChannelError> {
    if body.trim().is_empty() {
        return Err(ChannelError::invalid("body", "a message body is not blank"));
    }
    if body.len() > MAX_BODY_BYTES {
        return Err(ChannelError::invalid(
            "body",
            format!("{} bytes, more than the maximum of {MAX_BODY_BYTES}", body.len()),
        ));
    }
    Ok(())
}

/// The message, which must exist and not be deleted.
fn live_message<'a>(state: &'a ChannelState, id: &MessageId) -> Result<&'a MessageFacts, ChannelError> {
    let message = state
        .message(id)
        .ok_or_else(|| ChannelError::MessageNotFound(id.clone()))?;
    if message.deleted {
        return Err(ChannelError::MessageDeleted(id.clone()));
    }
    Ok(message)
}

/// The message, which must exist, be the actor's, and not be deleted.
fn own_live_message(state: &ChannelState, by: &By, id: &MessageId) -> Result<(), ChannelError> {
    let message = state
        .message(id)
        .ok_or_else(|| ChannelError::MessageNotFound(id.clone()))?;
    if state.authors.find(&by.user) != Some(message.author) {
        return Err(ChannelError::denied("only its author edits or deletes a message"));
    }
    live_message(state, id).map(|_| ())
}

/// The mentions without duplicates; each must be a participant.
fn mentions(state: &ChannelState, mentions: &[UserId]) -> Result<Vec<UserId>, ChannelError> {
    let mentions = distinct(mentions);
    match mentions.iter().find(|user| !state.participants.contains(*user)) {
        Some(stranger) => Err(ChannelError::MentionNotParticipant(stranger.clone())),
        None => Ok(mentions),
    }
}

/// The attachments without duplicates; each must be readable by the sender.
fn attachments(
    attachments: &[DocumentId],
    readable: &BTreeSet<DocumentId>,
) -> Result<Vec<DocumentId>, ChannelError> {
    let attachments = distinct(attachments);
    if attachments.len() > MAX_ATTACHMENTS {
        return Err(ChannelError::invalid(
            "attachments",
            format!("a message has at most {MAX_ATTACHMENTS} attachments"),
        ));
    }
    match attachments.iter().find(|doc| !readable.contains(*doc)) {
        Some(hidden) => Err(ChannelError::AttachmentNotReadable(hidden.clone())),
        None => Ok(attachments),
    }
}

/// The items in their first-seen order, each once.
fn distinct<T: Ord + Clone>(items: &[T]) -> Vec<T> {
    let mut seen = BTreeSet::new();
    items.iter().filter(|item| seen.insert(*item)).cloned().collect()
}
