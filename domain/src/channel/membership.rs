//! Membership rules of group channels: any participant adds users and
//! removes participants (themself or others); direct channels never change.

use super::MAX_PARTICIPANTS;
use super::commands::{AddParticipant, RemoveParticipant};
use super::decide::{By, Decision};
use super::errors::ChannelError;
use super::events::{self, ChannelEvent};
use super::state::{ChannelKind, ChannelState};

/// Adds a user; adding a participant changes nothing.
pub(super) fn add(state: &ChannelState, by: By, c: &AddParticipant) -> Decision {
    if state.kind == ChannelKind::Direct {
        return Err(ChannelError::DirectChannel);
    }
    if state.participants.contains(&c.user) {
        return Ok(vec![]);
    }
    if state.participants.len() >= MAX_PARTICIPANTS {
        return Err(ChannelError::ChannelFull {
            max: MAX_PARTICIPANTS,
        });
    }
    Ok(vec![ChannelEvent::ParticipantAdded(events::ParticipantAdded {
        channel_id: state.id.clone(),
        user: c.user.clone(),
        by: by.user,
        at: by.at,
    })])
}

/// Removes a participant (or the actor leaves); removing a stranger changes
/// nothing.
pub(super) fn remove(state: &ChannelState, by: By, c: &RemoveParticipant) -> Decision {
    if state.kind == ChannelKind::Direct {
        return Err(ChannelError::DirectChannel);
    }
    if !state.participants.contains(&c.user) {
        return Ok(vec![]);
    }
    Ok(vec![ChannelEvent::ParticipantRemoved(
        events::ParticipantRemoved {
            channel_id: state.id.clone(),
            user: c.user.clone(),
            by: by.user,
            at: by.at,
        },
    )])
}
