//! Editing and deleting one's own messages.

use crate::error_kind::ErrorKind;
use crate::testing::given;

use super::*;

fn edit(message: &str, body: &str) -> ChannelCommand {
    ChannelCommand::EditMessage(EditMessage {
        channel_id: cid(),
        message_id: mid(message),
        body: body.to_owned(),
    })
}

fn delete(message: &str) -> ChannelCommand {
    ChannelCommand::DeleteMessage(DeleteMessage {
        channel_id: cid(),
        message_id: mid(message),
    })
}

fn with_message() -> Vec<ChannelEvent> {
    vec![group_created(), sent("bob", "m1", 1)]
}

#[test]
fn the_author_edits_their_message() {
    given::<Channel>(with_message())
        .when(&by("bob", edit("m1", "hello, all")))
        .then_expect([ChannelEvent::MessageEdited(MessageEdited {
            channel_id: cid(),
            message_id: mid("m1"),
            body: "hello, all".to_owned(),
            by: user("bob"),
            at: AT,
        })]);
}

#[test]
fn others_cannot_edit_or_delete_a_message() {
    for command in [edit("m1", "mine now"), delete("m1")] {
        given::<Channel>(with_message())
            .when(&by("ann", command))
            .then_reject(|e| e.kind() == ErrorKind::PermissionDenied);
    }
}

#[test]
fn an_edit_needs_a_valid_body() {
    given::<Channel>(with_message())
        .when(&by("bob", edit("m1", "  ")))
        .then_reject(|e| e.kind() == ErrorKind::InvalidArgument);
}

#[test]
fn editing_a_missing_message_is_not_found() {
    given::<Channel>(with_message())
        .when(&by("bob", edit("m9", "hi")))
        .then_reject(|e| *e == ChannelError::MessageNotFound(mid("m9")));
}

#[test]
fn the_author_deletes_their_message() {
    let channel = given::<Channel>(with_message())
        .when(&by("bob", delete("m1")))
        .then_expect([message_deleted("bob", "m1")]);
    assert!(!channel.is_live_message(&mid("m1")));
    assert_eq!(channel.message_count(), 1);
}

#[test]
fn a_deleted_message_cannot_be_edited_or_deleted_again() {
    let history = then(&with_message(), &[message_deleted("bob", "m1")]);
    for command in [edit("m1", "oops"), delete("m1")] {
        given::<Channel>(history.clone())
            .when(&by("bob", command))
            .then_reject(|e| *e == ChannelError::MessageDeleted(mid("m1")));
    }
}

#[test]
fn a_former_participant_cannot_edit_their_message() {
    let left = ChannelEvent::ParticipantRemoved(ParticipantRemoved {
        channel_id: cid(),
        user: user("bob"),
        by: user("bob"),
        at: AT,
    });
    given::<Channel>(then(&with_message(), &[left]))
        .when(&by("bob", edit("m1", "still me")))
        .then_reject(|e| e.kind() == ErrorKind::PermissionDenied);
}
