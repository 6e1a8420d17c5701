//! The channel aggregate: a conversation, its participants, its messages and
//! each participant's read marker.
//!
//! Rules in brief:
//! - A direct channel has exactly two distinct users, the creator one of
//!   them, no name, and fixed membership. A group channel has a name; its
//!   creator joins with the given members.
//! - Only participants read, send, add, remove and mark read
//!   ([`Channel::can_read`]). In a group, any participant may add users and
//!   remove any participant, themself included (chosen over "only the
//!   creator removes others", which would leave a channel without moderator
//!   once its creator leaves). Adding a participant or removing a stranger
//!   changes nothing.
//! - A message has a new id, a non-blank body of at most
//!   [`MAX_BODY_BYTES`], an optional thread parent that is a live message of
//!   this channel, mentions of participants only, and at most
//!   [`MAX_ATTACHMENTS`] documents, each of which the handler verified the
//!   sender may read (the command carries that set).
//! - Only its author edits or deletes a message; deleted messages cannot be
//!   edited, deleted again or answered.
//! - A read marker names an existing message (deleted ones included) and only
//!   moves forward; marking an older message changes nothing.

mod commands;
mod decide;
mod errors;
mod events;
mod membership;
mod messages;
mod state;
#[cfg(test)]
mod tests;

pub use commands::*;
pub use errors::ChannelError;
pub use events::*;
pub use state::{Channel, ChannelKind};

use crate::aggregate::Aggregate;
use crate::values::Issued;

/// Longest message body, in bytes of UTF-8.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// Most participants a channel holds.
pub const MAX_PARTICIPANTS: usize = 1024;
/// Most documents one message attaches.
pub const MAX_ATTACHMENTS: usize = 20;

impl Aggregate for Channel {
    const CATEGORY: &'static str = "channel";
    type Command = Issued<ChannelCommand>;
    type Event = ChannelEvent;
    type Error = ChannelError;

    fn decide(&self, command: &Self::Command) -> Result<Vec<ChannelEvent>, ChannelError> {
        decide::decide(self, command)
    }

    fn apply(&mut self, event: &ChannelEvent) {
        self.apply_event(event);
    }
}
