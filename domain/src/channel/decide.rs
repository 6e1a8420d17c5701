//! Routing of channel commands, the creation rules, and the participant
//! check that guards every other command.

use std::collections::BTreeSet;

use crate::envelope::Timestamp;
use crate::values::{Issued, UserId};

use super::commands::*;
use super::errors::ChannelError;
use super::events::{self, ChannelEvent};
use super::state::{Channel, ChannelState};
use super::{MAX_PARTICIPANTS, membership, messages};

pub(super) type Decision = Result<Vec<ChannelEvent>, ChannelError>;

/// A participant acting on the channel, and when.
pub(super) struct By {
    pub(super) user: UserId,
    pub(super) at: Timestamp,
}

/// Routes a command to its rule.
pub(super) fn decide(channel: &Channel, issued: &Issued<ChannelCommand>) -> Decision {
    let command = &issued.command;
    let Some(state) = channel.state.as_ref() else {
        return match command {
            ChannelCommand::CreateDirect(c) => create_direct(issued, c),
            ChannelCommand::CreateGroup(c) => create_group(issued, c),
            _ => Err(ChannelError::NotFound(command.channel_id().clone())),
        };
    };
    if &state.id != command.channel_id() {
        return Err(ChannelError::NotFound(command.channel_id().clone()));
    }
    decide_existing(state, issued)
}

/// The rules for a channel that exists: the actor must be a participant.
fn decide_existing(state: &ChannelState, issued: &Issued<ChannelCommand>) -> Decision {
    let by = || participant(state, issued);
    match &issued.command {
        ChannelCommand::CreateDirect(_) | ChannelCommand::CreateGroup(_) => {
            Err(ChannelError::AlreadyExists(state.id.clone()))
        }
        ChannelCommand::AddParticipant(c) => membership::add(state, by()?, c),
        ChannelCommand::RemoveParticipant(c) => membership::remove(state, by()?, c),
        ChannelCommand::SendMessage(c) => messages::send(state, by()?, c),
        ChannelCommand::EditMessage(c) => messages::edit(state, by()?, c),
        ChannelCommand::DeleteMessage(c) => messages::delete(state, by()?, c),
        ChannelCommand::MarkRead(c) => messages::mark_read(state, by()?, c),
    }
}

/// The acting user, who must be a participant.
fn participant(state: &ChannelState, issued: &Issued<ChannelCommand>) -> Result<By, ChannelError> {
    match issued.user() {
        Some(user) if state.participants.contains(&user) => Ok(By { user, at: issued.at }),
        _ => Err(ChannelError::denied("only participants use a channel")),
    }
}

/// The acting user of a creation.
fn creator(issued: &Issued<ChannelCommand>) -> Result<UserId, ChannelError> {
    issued
        .user()
        .ok_or(ChannelError::denied("only users create channels"))
}

fn create_direct(issued: &Issued<ChannelCommand>, c: &CreateDirect) -> Decision {
    let by = creator(issued)?;
    let pair: BTreeSet<&UserId> = c.participants.iter().collect();
    if c.participants.len() != 2 || pair.len() != 2 {
        return Err(ChannelError::invalid(
            "participants",
            "a direct channel has exactly two distinct participants",
        ));
    }
    if !pair.contains(&by) {
        return Err(ChannelError::denied(
            "the creator of a direct channel must be one of its participants",
        ));
    }
    Ok(vec![ChannelEvent::DirectCreated(events::DirectCreated {
        channel_id: c.channel_id.clone(),
        participants: pair.into_iter().cloned().collect(),
        by,
        at: issued.at,
    })])
}

fn create_group(issued: &Issued<ChannelCommand>, c: &CreateGroup) -> Decision {
    let by = creator(issued)?;
    let mut participants: BTreeSet<UserId> = c.members.iter().cloned().collect();
    participants.insert(by.clone());
    if participants.len() > MAX_PARTICIPANTS {
        return Err(ChannelError::invalid(
            "members",
            format!("a channel has at most {MAX_PARTICIPANTS} participants"),
        ));
    }
    Ok(vec![ChannelEvent::GroupCreated(events::GroupCreated {
        channel_id: c.channel_id.clone(),
        name: c.name.clone(),
        participants: participants.into_iter().collect(),
        by,
        at: issued.at,
    })])
}
