//! Creating direct and group channels.

use crate::error_kind::ErrorKind;
use crate::testing::given;

use super::*;

fn create_direct(participants: &[&str]) -> ChannelCommand {
    ChannelCommand::CreateDirect(CreateDirect {
        channel_id: cid(),
        participants: users(participants),
    })
}

fn create_group(members: &[&str]) -> ChannelCommand {
    ChannelCommand::CreateGroup(CreateGroup {
        channel_id: cid(),
        name: name("general"),
        members: users(members),
    })
}

#[test]
fn a_direct_channel_joins_the_creator_and_one_other_user() {
    let channel = given::<Channel>([])
        .when(&by("ann", create_direct(&["bob", "ann"])))
        .then_expect([direct_created()]);
    assert_eq!(channel.kind(), Some(ChannelKind::Direct));
    assert!(channel.can_read(&user("bob")));
}

#[test]
fn a_direct_channel_has_exactly_two_distinct_users() {
    for participants in [&["ann"][..], &["ann", "ann"], &["ann", "bob", "cat"]] {
        given::<Channel>([])
            .when(&by("ann", create_direct(participants)))
            .then_reject(|e| e.kind() == ErrorKind::InvalidArgument);
    }
}

#[test]
fn the_creator_of_a_direct_channel_is_one_of_the_two() {
    given::<Channel>([])
        .when(&by("ann", create_direct(&["bob", "cat"])))
        .then_reject(|e| e.kind() == ErrorKind::PermissionDenied);
}

#[test]
fn a_group_joins_the_creator_and_the_members_once_each() {
    let channel = given::<Channel>([])
        .when(&by("ann", create_group(&["cat", "bob", "ann", "bob"])))
        .then_expect([group_created()]);
    assert_eq!(channel.kind(), Some(ChannelKind::Group));
    assert_eq!(channel.participants().count(), 3);
}

#[test]
fn a_group_has_a_bounded_number_of_participants() {
    let names: Vec<String> = (0..MAX_PARTICIPANTS).map(|i| format!("u{i}")).collect();
    let members: Vec<&str> = names.iter().map(String::as_str).collect();
    given::<Channel>([])
        .when(&by("ann", create_group(&members)))
        .then_reject(|e| e.kind() == ErrorKind::InvalidArgument);
}

#[test]
fn creating_an_existing_channel_is_rejected() {
    given::<Channel>([group_created()])
        .when(&by("ann", create_group(&[])))
        .then_reject(|e| *e == ChannelError::AlreadyExists(cid()));
}

#[test]
fn services_do_not_create_channels() {
    given::<Channel>([])
        .when(&Issued::new(Actor::service("x"), AT, create_group(&[])))
        .then_reject(|e| e.kind() == ErrorKind::PermissionDenied);
}

#[test]
fn commands_for_a_missing_or_other_channel_are_not_found() {
    let command = ChannelCommand::SendMessage(send("m1"));
    given::<Channel>([])
        .when(&by("ann", command.clone()))
        .then_reject(|e| *e == ChannelError::NotFound(cid()));
    let mut elsewhere = send("m1");
    elsewhere.channel_id = ChannelId::parse("c2").unwrap();
    given::<Channel>([group_created()])
        .when(&by("ann", ChannelCommand::SendMessage(elsewhere)))
        .then_reject(|e| e.kind() == ErrorKind::NotFound);
}
