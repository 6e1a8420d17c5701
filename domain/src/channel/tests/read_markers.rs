//! Read markers: they name an existing message and only move forward.

use crate::error_kind::ErrorKind;
use crate::testing::given;

use super::*;

fn mark_read(message: &str) -> ChannelCommand {
    ChannelCommand::MarkRead(MarkRead {
        channel_id: cid(),
        up_to: mid(message),
    })
}

fn marker_moved(who: &str, message: &str, seq: u64) -> ChannelEvent {
    ChannelEvent::ReadMarkerMoved(ReadMarkerMoved {
        channel_id: cid(),
        user: user(who),
        up_to: mid(message),
        up_to_seq: seq,
        at: AT,
    })
}

fn three_messages() -> Vec<ChannelEvent> {
    vec![
        group_created(),
        sent("ann", "m1", 1),
        sent("bob", "m2", 2),
        sent("ann", "m3", 3),
    ]
}

#[test]
fn a_participant_marks_messages_read() {
    let channel = given::<Channel>(three_messages())
        .when(&by("cat", mark_read("m2")))
        .then_expect([marker_moved("cat", "m2", 2)]);
    assert_eq!(channel.read_marker(&user("cat")), Some(2));
}

#[test]
fn a_marker_only_moves_forward() {
    let history = then(&three_messages(), &[marker_moved("cat", "m2", 2)]);
    for older in ["m1", "m2"] {
        given::<Channel>(history.clone())
            .when(&by("cat", mark_read(older)))
            .then_nothing();
    }
    given::<Channel>(history)
        .when(&by("cat", mark_read("m3")))
        .then_expect([marker_moved("cat", "m3", 3)]);
}

#[test]
fn a_deleted_message_can_be_marked_read() {
    let history = then(&three_messages(), &[message_deleted("ann", "m3")]);
    given::<Channel>(history)
        .when(&by("cat", mark_read("m3")))
        .then_expect([marker_moved("cat", "m3", 3)]);
}

#[test]
fn marking_a_missing_message_is_not_found() {
    given::<Channel>(three_messages())
        .when(&by("cat", mark_read("m9")))
        .then_reject(|e| *e == ChannelError::MessageNotFound(mid("m9")));
}

#[test]
fn a_stranger_has_no_marker() {
    given::<Channel>(three_messages())
        .when(&by("dan", mark_read("m1")))
        .then_reject(|e| e.kind() == ErrorKind::PermissionDenied);
}
