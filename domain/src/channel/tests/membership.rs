//! Adding and removing participants.

use crate::error_kind::ErrorKind;
use crate::testing::given;

use super::*;

fn add(who: &str) -> ChannelCommand {
    ChannelCommand::AddParticipant(AddParticipant {
        channel_id: cid(),
        user: user(who),
    })
}

fn remove(who: &str) -> ChannelCommand {
    ChannelCommand::RemoveParticipant(RemoveParticipant {
        channel_id: cid(),
        user: user(who),
    })
}

fn removed(who: &str, by_whom: &str) -> ChannelEvent {
    ChannelEvent::ParticipantRemoved(ParticipantRemoved {
        channel_id: cid(),
        user: user(who),
        by: user(by_whom),
        at: AT,
    })
}

#[test]
fn a_participant_adds_a_user() {
    let channel = given::<Channel>([group_created()])
        .when(&by("bob", add("dan")))
        .then_expect([ChannelEvent::ParticipantAdded(ParticipantAdded {
            channel_id: cid(),
            user: user("dan"),
            by: user("bob"),
            at: AT,
        })]);
    assert!(channel.is_participant(&user("dan")));
}

#[test]
fn adding_a_participant_again_changes_nothing() {
    given::<Channel>([group_created()])
        .when(&by("ann", add("cat")))
        .then_nothing();
}

#[test]
fn a_stranger_cannot_add() {
    given::<Channel>([group_created()])
        .when(&by("dan", add("eve")))
        .then_reject(|e| e.kind() == ErrorKind::PermissionDenied);
}

#[test]
fn a_full_channel_takes_no_one_more() {
    let mut history = vec![group_created()];
    history.extend((3..MAX_PARTICIPANTS).map(|i| {
        ChannelEvent::ParticipantAdded(ParticipantAdded {
            channel_id: cid(),
            user: user(&format!("u{i}")),
            by: user("ann"),
            at: AT,
        })
    }));
    given::<Channel>(history)
        .when(&by("ann", add("dan")))
        .then_reject(|e| {
            *e == ChannelError::ChannelFull {
                max: MAX_PARTICIPANTS,
            }
        });
}

#[test]
fn direct_channels_refuse_membership_changes() {
    for command in [add("cat"), remove("bob"), remove("ann")] {
        given::<Channel>([direct_created()])
            .when(&by("ann", command))
            .then_reject(|e| *e == ChannelError::DirectChannel);
    }
}

#[test]
fn a_participant_leaves() {
    let channel = given::<Channel>([group_created()])
        .when(&by("cat", remove("cat")))
        .then_expect([removed("cat", "cat")]);
    assert!(!channel.can_read(&user("cat")));
}

#[test]
fn any_participant_removes_another() {
    given::<Channel>([group_created()])
        .when(&by("bob", remove("ann")))
        .then_expect([removed("ann", "bob")]);
}

#[test]
fn removing_a_stranger_changes_nothing() {
    given::<Channel>([group_created()])
        .when(&by("bob", remove("dan")))
        .then_nothing();
}

#[test]
fn a_removed_participant_can_no_longer_act() {
    given::<Channel>([group_created(), removed("cat", "ann")])
        .when(&by("cat", ChannelCommand::SendMessage(send("m1"))))
        .then_reject(|e| e.kind() == ErrorKind::PermissionDenied);
}
