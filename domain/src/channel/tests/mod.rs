//! Given/when/then tests of the channel rules, property tests, and shared
//! fixtures.

mod codec;
mod create;
mod edit_delete;
mod membership;
mod props;
mod read_markers;
mod send;

use std::collections::BTreeSet;

use crate::envelope::{Actor, Timestamp};
use crate::values::{ChannelId, DocumentId, Issued, MessageId, Name, UserId};

use super::*;

/// The time every fixture command is issued at.
pub(super) const AT: Timestamp = Timestamp(1_700_000_000_000_000);

pub(super) fn cid() -> ChannelId {
    ChannelId::parse("c1").unwrap()
}

pub(super) fn user(name: &str) -> UserId {
    UserId::parse(name).unwrap()
}

pub(super) fn users(names: &[&str]) -> Vec<UserId> {
    names.iter().map(|n| user(n)).collect()
}

pub(super) fn mid(id: &str) -> MessageId {
    MessageId::parse(id).unwrap()
}

pub(super) fn doc(id: &str) -> DocumentId {
    DocumentId::parse(id).unwrap()
}

pub(super) fn name(text: &str) -> Name {
    Name::parse(text).unwrap()
}

/// `command` issued by user `who`.
pub(super) fn by(who: &str, command: ChannelCommand) -> Issued<ChannelCommand> {
    Issued::new(Actor::user(who), AT, command)
}

/// Ann opened group `general` with Bob and Cat.
pub(super) fn group_created() -> ChannelEvent {
    ChannelEvent::GroupCreated(GroupCreated {
        channel_id: cid(),
        name: name("general"),
        participants: users(&["ann", "bob", "cat"]),
        by: user("ann"),
        at: AT,
    })
}

/// Ann opened a direct channel with Bob.
pub(super) fn direct_created() -> ChannelEvent {
    ChannelEvent::DirectCreated(DirectCreated {
        channel_id: cid(),
        participants: users(&["ann", "bob"]),
        by: user("ann"),
        at: AT,
    })
}

/// A plain `hello` message, as a command.
pub(super) fn send(message: &str) -> SendMessage {
    SendMessage {
        channel_id: cid(),
        message_id: mid(message),
        body: "hello".to_owned(),
        thread_parent: None,
        mentions: vec![],
        attachments: vec![],
        readable_documents: BTreeSet::new(),
    }
}

/// `who` sent a plain `hello` message with sequence number `seq`.
pub(super) fn sent(who: &str, message: &str, seq: u64) -> ChannelEvent {
    ChannelEvent::MessageSent(MessageSent {
        channel_id: cid(),
        message_id: mid(message),
        seq,
        author: user(who),
        body: "hello".to_owned(),
        thread_parent: None,
        mentions: vec![],
        attachments: vec![],
        at: AT,
    })
}

/// `who` deleted their message.
pub(super) fn message_deleted(who: &str, message: &str) -> ChannelEvent {
    ChannelEvent::MessageDeleted(MessageDeleted {
        channel_id: cid(),
        message_id: mid(message),
        by: user(who),
        at: AT,
    })
}

/// `history` followed by `more`.
pub(super) fn then(history: &[ChannelEvent], more: &[ChannelEvent]) -> Vec<ChannelEvent> {
    history.iter().chain(more).cloned().collect()
}
