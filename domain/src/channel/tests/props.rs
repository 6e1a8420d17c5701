//! Property tests: random command sequences never panic, replaying the
//! stored form of the accepted events rebuilds the same state, and the
//! invariants hold after every step.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;

use crate::aggregate::Aggregate;
use crate::event::DomainEvent;

use super::*;

const USERS: [&str; 4] = ["ann", "bob", "cat", "dan"];
const MESSAGES: [&str; 5] = ["m1", "m2", "m3", "m4", "m5"];
const DOCS: [&str; 3] = ["d1", "d2", "d3"];

fn a_user() -> impl Strategy<Value = UserId> {
    select(&USERS[..]).prop_map(user)
}

fn some_users() -> impl Strategy<Value = Vec<UserId>> {
    vec(a_user(), 0..4)
}

fn a_message() -> impl Strategy<Value = MessageId> {
    select(&MESSAGES[..]).prop_map(mid)
}

fn some_docs() -> impl Strategy<Value = Vec<DocumentId>> {
    vec(select(&DOCS[..]).prop_map(doc), 0..3)
}

/// Mostly this channel, sometimes a misrouted one.
fn a_channel() -> impl Strategy<Value = ChannelId> {
    prop_oneof![19 => Just(cid()), 1 => Just(ChannelId::parse("c2").unwrap())]
}

/// Mostly valid bodies, sometimes blank or too long.
fn a_body() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => Just(String::new()),
        1 => Just(" \n".to_owned()),
        12 => "[a-z][a-z ]{0,11}",
        1 => Just("x".repeat(MAX_BODY_BYTES + 1)),
    ]
}

fn create() -> impl Strategy<Value = ChannelCommand> {
    (a_channel(), some_users(), any::<bool>()).prop_map(|(channel_id, people, direct)| {
        if direct {
            ChannelCommand::CreateDirect(CreateDirect {
                channel_id,
                participants: people,
            })
        } else {
            ChannelCommand::CreateGroup(CreateGroup {
                channel_id,
                name: name("general"),
                members: people,
            })
        }
    })
}

fn membership() -> impl Strategy<Value = ChannelCommand> {
    (a_channel(), a_user(), 0..4u8).prop_map(|(channel_id, user, which)| {
        if which > 0 {
            ChannelCommand::AddParticipant(AddParticipant { channel_id, user })
        } else {
            ChannelCommand::RemoveParticipant(RemoveParticipant { channel_id, user })
        }
    })
}

/// Attachments are mostly all readable, so sends often succeed.
fn send_message() -> impl Strategy<Value = ChannelCommand> {
    (
        (
            a_channel(),
            a_message(),
            a_body(),
            proptest::option::of(a_message()),
        ),
        (vec(a_user(), 0..2), some_docs(), some_docs(), 0..4u8),
    )
        .prop_map(
            |((channel_id, message_id, body, thread_parent), (mentions, attachments, extra, readable))| {
                let mut readable_documents: BTreeSet<DocumentId> = extra.into_iter().collect();
                if readable > 0 {
                    readable_documents.extend(attachments.iter().cloned());
                }
                ChannelCommand::SendMessage(SendMessage {
                    channel_id,
                    message_id,
                    body,
                    thread_parent,
                    mentions,
                    attachments,
                    readable_documents,
                })
            },
        )
}

fn change_message() -> impl Strategy<Value = ChannelCommand> {
    (a_channel(), a_message(), a_body(), 0..3u8).prop_map(|(channel_id, message_id, body, which)| match which
    {
        0 => ChannelCommand::EditMessage(EditMessage {
            channel_id,
            message_id,
            body,
        }),
        1 => ChannelCommand::DeleteMessage(DeleteMessage {
            channel_id,
            message_id,
        }),
        _ => ChannelCommand::MarkRead(MarkRead {
            channel_id,
            up_to: message_id,
        }),
    })
}

/// Any command, issued by a (likely) user at any time.
fn a_command() -> impl Strategy<Value = Issued<ChannelCommand>> {
    let actor = prop_oneof![
        19 => select(&USERS[..]).prop_map(Actor::user),
        1 => Just(Actor::service("svc")),
    ];
    let command = prop_oneof![
        1 => create(),
        3 => membership(),
        8 => send_message(),
        8 => change_message(),
    ];
    (actor, any::<i64>(), command).prop_map(|(actor, at, command)| Issued::new(actor, Timestamp(at), command))
}

/// Ann opening a group with most of the others, or a direct channel with
/// Bob, so that sequences do things.
fn an_opening() -> impl Strategy<Value = Issued<ChannelCommand>> {
    let group = vec(a_user(), 2..6).prop_map(|members| {
        ChannelCommand::CreateGroup(CreateGroup {
            channel_id: cid(),
            name: name("general"),
            members,
        })
    });
    let direct = Just(ChannelCommand::CreateDirect(CreateDirect {
        channel_id: cid(),
        participants: users(&["ann", "bob"]),
    }));
    prop_oneof![4 => group, 1 => direct].prop_map(|command| Issued::new(Actor::user("ann"), AT, command))
}

/// The event rebuilt from its stored form.
fn stored(event: &ChannelEvent) -> ChannelEvent {
    let payload = event.encode_payload();
    ChannelEvent::decode_payload(event.event_type(), event.schema_version(), &payload).unwrap()
}

/// Invariants between two successive states.
fn check_step(before: &Channel, after: &Channel) -> Result<(), TestCaseError> {
    for user in after.participants() {
        if before.is_participant(user) {
            prop_assert!(
                after.read_marker(user) >= before.read_marker(user),
                "a marker moved back"
            );
        }
    }
    if after.kind() == Some(ChannelKind::Direct) {
        prop_assert_eq!(after.participants().count(), 2);
    }
    prop_assert!(after.participants().count() <= MAX_PARTICIPANTS);
    prop_assert!(after.message_count() >= before.message_count());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn replaying_accepted_events_rebuilds_the_incremental_state(
        opening in an_opening(),
        commands in vec(a_command(), 0..120),
    ) {
        let mut state = Channel::default();
        let mut history = Vec::new();
        for command in std::iter::once(&opening).chain(&commands) {
            let before = state.clone();
            let outcome = state.decide(command);
            prop_assert_eq!(&outcome, &state.decide(command), "decide is not deterministic");
            if let Ok(events) = outcome {
                for event in events {
                    state.apply(&event);
                    history.push(event);
                }
            }
            check_step(&before, &state)?;
        }
        let replayed = Channel::from_history(history.iter().map(stored).collect::<Vec<_>>().iter());
        prop_assert_eq!(replayed, state);
    }

    #[test]
    fn applying_any_events_never_panics(events in vec(codec::channel_event(), 0..40)) {
        let state = Channel::from_history(&events);
        let _ = state.message_count();
    }
}
