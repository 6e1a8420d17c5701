//! Sending messages: bodies, threads, mentions and attachments.

use crate::error_kind::ErrorKind;
use crate::testing::given;

use super::*;

fn when_sent(history: Vec<ChannelEvent>, who: &str, message: SendMessage) -> crate::testing::Then<Channel> {
    given::<Channel>(history).when(&by(who, ChannelCommand::SendMessage(message)))
}

/// The event for `message` sent by `who` with sequence number `seq`.
fn sent_as(who: &str, message: &SendMessage, seq: u64) -> ChannelEvent {
    ChannelEvent::MessageSent(MessageSent {
        channel_id: cid(),
        message_id: message.message_id.clone(),
        seq,
        author: user(who),
        body: message.body.clone(),
        thread_parent: message.thread_parent.clone(),
        mentions: message.mentions.clone(),
        attachments: message.attachments.clone(),
        at: AT,
    })
}

#[test]
fn a_participant_sends_a_message() {
    let channel = when_sent(vec![group_created()], "bob", send("m1")).then_expect([sent("bob", "m1", 1)]);
    assert_eq!(channel.author_of(&mid("m1")), Some(&user("bob")));
    assert_eq!(channel.message_count(), 1);
}

#[test]
fn messages_are_numbered_in_order() {
    when_sent(vec![group_created(), sent("ann", "m1", 1)], "bob", send("m2"))
        .then_expect([sent("bob", "m2", 2)]);
}

#[test]
fn a_stranger_cannot_send() {
    when_sent(vec![group_created()], "dan", send("m1"))
        .then_reject(|e| e.kind() == ErrorKind::PermissionDenied);
}

#[test]
fn a_message_id_is_used_once() {
    when_sent(vec![group_created(), sent("ann", "m1", 1)], "bob", send("m1"))
        .then_reject(|e| *e == ChannelError::MessageExists(mid("m1")));
}

#[test]
fn a_blank_body_is_rejected() {
    for body in ["", " \n\t "] {
        let message = SendMessage {
            body: body.to_owned(),
            ..send("m1")
        };
        when_sent(vec![group_created()], "ann", message)
            .then_reject(|e| e.kind() == ErrorKind::InvalidArgument);
    }
}

#[test]
fn a_body_is_bounded() {
    let at_limit = SendMessage {
        body: "x".repeat(MAX_BODY_BYTES),
        ..send("m1")
    };
    let expected = sent_as("ann", &at_limit, 1);
    when_sent(vec![group_created()], "ann", at_limit).then_expect([expected]);
    let over = SendMessage {
        body: "x".repeat(MAX_BODY_BYTES + 1),
        ..send("m1")
    };
    when_sent(vec![group_created()], "ann", over)
        .then_reject(|e| matches!(e, ChannelError::InvalidArgument { field: "body", .. }));
}

#[test]
fn a_reply_joins_the_thread_of_a_live_message() {
    let reply = SendMessage {
        thread_parent: Some(mid("m1")),
        ..send("m2")
    };
    let expected = sent_as("bob", &reply, 2);
    when_sent(vec![group_created(), sent("ann", "m1", 1)], "bob", reply).then_expect([expected]);
}

#[test]
fn a_reply_to_a_missing_message_is_rejected() {
    let reply = SendMessage {
        thread_parent: Some(mid("nope")),
        ..send("m2")
    };
    when_sent(vec![group_created()], "bob", reply)
        .then_reject(|e| *e == ChannelError::MessageNotFound(mid("nope")));
}

#[test]
fn a_reply_to_a_deleted_message_is_rejected() {
    let reply = SendMessage {
        thread_parent: Some(mid("m1")),
        ..send("m2")
    };
    let history = vec![
        group_created(),
        sent("ann", "m1", 1),
        message_deleted("ann", "m1"),
    ];
    when_sent(history, "bob", reply).then_reject(|e| *e == ChannelError::MessageDeleted(mid("m1")));
}

#[test]
fn mentions_of_participants_are_kept_once_each() {
    let message = SendMessage {
        mentions: users(&["cat", "ann", "cat"]),
        ..send("m1")
    };
    let expected = sent_as(
        "bob",
        &SendMessage {
            mentions: users(&["cat", "ann"]),
            ..message.clone()
        },
        1,
    );
    when_sent(vec![group_created()], "bob", message).then_expect([expected]);
}

#[test]
fn mentioning_a_stranger_is_rejected() {
    let message = SendMessage {
        mentions: users(&["cat", "dan"]),
        ..send("m1")
    };
    when_sent(vec![group_created()], "bob", message)
        .then_reject(|e| *e == ChannelError::MentionNotParticipant(user("dan")));
}

#[test]
fn readable_documents_are_attached_once_each() {
    let message = SendMessage {
        attachments: vec![doc("d1"), doc("d2"), doc("d1")],
        readable_documents: [doc("d1"), doc("d2"), doc("d9")].into(),
        ..send("m1")
    };
    let expected = sent_as(
        "bob",
        &SendMessage {
            attachments: vec![doc("d1"), doc("d2")],
            ..message.clone()
        },
        1,
    );
    when_sent(vec![group_created()], "bob", message).then_expect([expected]);
}

#[test]
fn attaching_a_document_the_sender_cannot_read_is_rejected() {
    let message = SendMessage {
        attachments: vec![doc("d1"), doc("secret")],
        readable_documents: [doc("d1")].into(),
        ..send("m1")
    };
    when_sent(vec![group_created()], "bob", message).then_reject(|e| {
        *e == ChannelError::AttachmentNotReadable(doc("secret")) && e.kind() == ErrorKind::PermissionDenied
    });
}

#[test]
fn attachments_are_bounded() {
    let docs: Vec<DocumentId> = (0..=MAX_ATTACHMENTS).map(|i| doc(&format!("d{i}"))).collect();
    let message = SendMessage {
        readable_documents: docs.iter().cloned().collect(),
        attachments: docs,
        ..send("m1")
    };
    when_sent(vec![group_created()], "bob", message).then_reject(|e| e.kind() == ErrorKind::InvalidArgument);
}
