//! Every channel event survives its stored form.

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

use crate::strategies as arb;
use crate::testing::{assert_catalog_covered, assert_round_trips};

use super::*;

/// The fields most events share: channel, user, actor, time.
fn common() -> impl Strategy<Value = (ChannelId, UserId, UserId, Timestamp)> {
    (
        arb::channel_id(),
        arb::user_id(),
        arb::user_id(),
        arb::timestamp(),
    )
}

fn created() -> impl Strategy<Value = ChannelEvent> {
    (common(), arb::name(), vec(arb::user_id(), 0..5), any::<bool>()).prop_map(
        |((channel_id, _, by, at), name, participants, direct)| {
            if direct {
                ChannelEvent::DirectCreated(DirectCreated {
                    channel_id,
                    participants,
                    by,
                    at,
                })
            } else {
                ChannelEvent::GroupCreated(GroupCreated {
                    channel_id,
                    name,
                    participants,
                    by,
                    at,
                })
            }
        },
    )
}

fn membership() -> impl Strategy<Value = ChannelEvent> {
    (common(), any::<bool>()).prop_map(|((channel_id, user, by, at), added)| {
        if added {
            ChannelEvent::ParticipantAdded(ParticipantAdded {
                channel_id,
                user,
                by,
                at,
            })
        } else {
            ChannelEvent::ParticipantRemoved(ParticipantRemoved {
                channel_id,
                user,
                by,
                at,
            })
        }
    })
}

fn message_sent() -> impl Strategy<Value = ChannelEvent> {
    (
        (common(), arb::message_id(), any::<u64>(), any::<String>()),
        option::of(arb::message_id()),
        vec(arb::user_id(), 0..4),
        vec(arb::document_id(), 0..4),
    )
        .prop_map(
            |(((channel_id, author, _, at), message_id, seq, body), thread_parent, mentions, attachments)| {
                ChannelEvent::MessageSent(MessageSent {
                    channel_id,
                    message_id,
                    seq,
                    author,
                    body,
                    thread_parent,
                    mentions,
                    attachments,
                    at,
                })
            },
        )
}

fn message_changes() -> impl Strategy<Value = ChannelEvent> {
    (common(), arb::message_id(), any::<String>(), any::<u64>(), 0..3u8).prop_map(
        |((channel_id, user, by, at), message_id, body, seq, which)| match which {
            0 => ChannelEvent::MessageEdited(MessageEdited {
                channel_id,
                message_id,
                body,
                by,
                at,
            }),
            1 => ChannelEvent::MessageDeleted(MessageDeleted {
                channel_id,
                message_id,
                by,
                at,
            }),
            _ => ChannelEvent::ReadMarkerMoved(ReadMarkerMoved {
                channel_id,
                user,
                up_to: message_id,
                up_to_seq: seq,
                at,
            }),
        },
    )
}

/// Any channel event, of any variant.
pub(super) fn channel_event() -> impl Strategy<Value = ChannelEvent> {
    prop_oneof![created(), membership(), message_sent(), message_changes()]
}

proptest! {
    #[test]
    fn every_channel_event_round_trips(event in channel_event()) {
        assert_round_trips(&event);
    }
}

#[test]
fn samples_cover_the_catalog_and_round_trip() {
    let samples = [
        direct_created(),
        group_created(),
        ChannelEvent::ParticipantAdded(ParticipantAdded {
            channel_id: cid(),
            user: user("dan"),
            by: user("ann"),
            at: AT,
        }),
        ChannelEvent::ParticipantRemoved(ParticipantRemoved {
            channel_id: cid(),
            user: user("dan"),
            by: user("dan"),
            at: AT,
        }),
        sent("ann", "m1", 1),
        ChannelEvent::MessageEdited(MessageEdited {
            channel_id: cid(),
            message_id: mid("m1"),
            body: "\"quoted\" \u{0} \n ✓".to_owned(),
            by: user("ann"),
            at: AT,
        }),
        message_deleted("ann", "m1"),
        ChannelEvent::ReadMarkerMoved(ReadMarkerMoved {
            channel_id: cid(),
            user: user("bob"),
            up_to: mid("m1"),
            up_to_seq: 1,
            at: AT,
        }),
    ];
    assert_catalog_covered(&samples);
    for event in &samples {
        assert_round_trips(event);
    }
}
