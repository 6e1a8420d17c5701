//! The [`World`]'s channel commands. Message bodies are [`body_of`] the
//! message id unless a test edits them.

use std::collections::BTreeSet;

use quire_domain::DocumentId;
use quire_domain::channel::{self, ChannelCommand};

use super::{World, body_of, cid, doc_id, mid, name, uid};

impl World {
    #[track_caller]
    pub fn group(&mut self, creator: &str, id: &str, title: &str, members: &[&str]) -> &mut World {
        let command = ChannelCommand::CreateGroup(channel::CreateGroup {
            channel_id: cid(id),
            name: name(title),
            members: members.iter().map(|m| uid(m)).collect(),
        });
        self.channel(creator, command)
    }

    #[track_caller]
    pub fn direct(&mut self, creator: &str, other: &str, id: &str) -> &mut World {
        let command = ChannelCommand::CreateDirect(channel::CreateDirect {
            channel_id: cid(id),
            participants: vec![uid(creator), uid(other)],
        });
        self.channel(creator, command)
    }

    #[track_caller]
    pub fn add_participant(&mut self, by: &str, id: &str, user: &str) -> &mut World {
        let command = ChannelCommand::AddParticipant(channel::AddParticipant {
            channel_id: cid(id),
            user: uid(user),
        });
        self.channel(by, command)
    }

    #[track_caller]
    pub fn remove_participant(&mut self, by: &str, id: &str, user: &str) -> &mut World {
        let command = ChannelCommand::RemoveParticipant(channel::RemoveParticipant {
            channel_id: cid(id),
            user: uid(user),
        });
        self.channel(by, command)
    }

    /// Sends message `message` with the body [`body_of`]`(message)`.
    #[track_caller]
    pub fn send(&mut self, author: &str, id: &str, message: &str) -> &mut World {
        self.send_with(author, id, message, None, &[], &[])
    }

    /// Sends an answer to `parent`.
    #[track_caller]
    pub fn reply(&mut self, author: &str, id: &str, message: &str, parent: &str) -> &mut World {
        self.send_with(author, id, message, Some(parent), &[], &[])
    }

    /// Sends a message with a thread parent, mentions and attachments. The
    /// attachments the author may read are computed from this world's
    /// documents, as the handler would from the read model.
    #[track_caller]
    pub fn send_with(
        &mut self,
        author: &str,
        id: &str,
        message: &str,
        thread_parent: Option<&str>,
        mentions: &[&str],
        attachments: &[&str],
    ) -> &mut World {
        let attachments: Vec<DocumentId> = attachments.iter().map(|d| doc_id(d)).collect();
        let readable: BTreeSet<DocumentId> = attachments
            .iter()
            .filter(|d| {
                self.documents
                    .get(*d)
                    .is_some_and(|doc| doc.access_of(&uid(author)).is_some() && !doc.is_deleted())
            })
            .cloned()
            .collect();
        let command = ChannelCommand::SendMessage(channel::SendMessage {
            channel_id: cid(id),
            message_id: mid(message),
            body: body_of(message),
            thread_parent: thread_parent.map(mid),
            mentions: mentions.iter().map(|m| uid(m)).collect(),
            attachments,
            readable_documents: readable,
        });
        self.channel(author, command)
    }

    #[track_caller]
    pub fn edit(&mut self, author: &str, id: &str, message: &str, body: &str) -> &mut World {
        let command = ChannelCommand::EditMessage(channel::EditMessage {
            channel_id: cid(id),
            message_id: mid(message),
            body: body.to_owned(),
        });
        self.channel(author, command)
    }

    #[track_caller]
    pub fn delete_message(&mut self, author: &str, id: &str, message: &str) -> &mut World {
        let command = ChannelCommand::DeleteMessage(channel::DeleteMessage {
            channel_id: cid(id),
            message_id: mid(message),
        });
        self.channel(author, command)
    }

    #[track_caller]
    pub fn mark_read(&mut self, user: &str, id: &str, up_to: &str) -> &mut World {
        let command = ChannelCommand::MarkRead(channel::MarkRead {
            channel_id: cid(id),
            up_to: mid(up_to),
        });
        self.channel(user, command)
    }
}
