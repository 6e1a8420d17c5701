//! What an event means for the search index: a pure decoding of recorded
//! `document.*` and `channel.*` events into [`Change`]s, which the
//! projector then writes.

use quire_domain::channel::ChannelEvent;
use quire_domain::document::DocumentEvent;
use quire_domain::{
    ChannelId, DocumentId, DomainEvent, MessageId, Name, ProjectId, RecordedEvent, Timestamp, UserId,
};
use serde::Deserialize;

/// The event type of a document's extracted text. It is decoded from its
/// JSON payload (`document_id`, `text`) rather than through a typed event,
/// so this crate does not depend on the payload struct.
pub const TEXT_EXTRACTED: &str = "document.text_extracted";

/// Every event type the search projector reads.
pub const EVENT_TYPES: &[&str] = &[
    "document.upload_requested",
    "document.renamed",
    "document.moved",
    "document.shared",
    "document.unshared",
    "document.deleted",
    "document.deleted_with_project",
    "document.restored",
    TEXT_EXTRACTED,
    "channel.direct_created",
    "channel.group_created",
    "channel.participant_added",
    "channel.participant_removed",
    "channel.message_sent",
    "channel.message_edited",
    "channel.message_deleted",
];

/// One change to the index, decoded from one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A new document, readable by its owner.
    CreateDocument {
        id: DocumentId,
        owner: UserId,
        name: Name,
        project: Option<ProjectId>,
        at: Timestamp,
    },
    Rename {
        id: DocumentId,
        name: Name,
        at: Timestamp,
    },
    Move {
        id: DocumentId,
        to: Option<ProjectId>,
        at: Timestamp,
    },
    Share {
        id: DocumentId,
        user: UserId,
        at: Timestamp,
    },
    Unshare {
        id: DocumentId,
        user: UserId,
        at: Timestamp,
    },
    /// Soft-deleted (by its owner or with its project).
    Hide {
        id: DocumentId,
        at: Timestamp,
    },
    /// Back from the bin; `detached` when its project is gone.
    Restore {
        id: DocumentId,
        detached: bool,
        at: Timestamp,
    },
    /// Text extracted from a document's `version`.
    SetText {
        id: DocumentId,
        version: u32,
        text: String,
        at: Timestamp,
    },
    /// Users who are now participants of the channel.
    Join {
        channel: ChannelId,
        users: Vec<UserId>,
    },
    Leave {
        channel: ChannelId,
        user: UserId,
    },
    SendMessage {
        channel: ChannelId,
        message: MessageId,
        author: UserId,
        body: String,
        at: Timestamp,
    },
    EditMessage {
        channel: ChannelId,
        message: MessageId,
        body: String,
        at: Timestamp,
    },
    DeleteMessage {
        channel: ChannelId,
        message: MessageId,
    },
    /// Nothing the index cares about.
    Ignore,
}

/// An event whose payload cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("cannot decode `{event_type}` at position {position}: {reason}")]
pub struct DecodeError {
    pub event_type: String,
    pub position: u64,
    pub reason: String,
}

/// The payload fields of `document.text_extracted` the index needs.
#[derive(Debug, Deserialize)]
struct TextExtracted {
    document_id: DocumentId,
    version: u32,
    text: String,
}

/// Decodes one recorded event into the change it makes.
pub fn decode(event: &RecordedEvent) -> Result<Change, DecodeError> {
    let fail = |reason: String| DecodeError {
        event_type: event.event_type.clone(),
        position: event.position.0,
        reason,
    };
    if event.event_type == TEXT_EXTRACTED {
        let payload: TextExtracted =
            serde_json::from_slice(&event.payload).map_err(|e| fail(e.to_string()))?;
        return Ok(Change::SetText {
            id: payload.document_id,
            version: payload.version,
            text: payload.text,
            at: event.recorded_at,
        });
    }
    if !is_known(&event.event_type) {
        return Ok(Change::Ignore);
    }
    match event.stream_id.category() {
        "document" => event
            .decode::<DocumentEvent>()
            .map(document_change)
            .map_err(|e| fail(e.to_string())),
        "channel" => event
            .decode::<ChannelEvent>()
            .map(channel_change)
            .map_err(|e| fail(e.to_string())),
        _ => Ok(Change::Ignore),
    }
}

/// Whether a typed event enum of this crate's domain writes `event_type`
/// (newer, unknown types are ignored rather than failed).
fn is_known(event_type: &str) -> bool {
    DocumentEvent::catalog()
        .iter()
        .chain(ChannelEvent::catalog())
        .any(|(known, _)| *known == event_type)
}

fn document_change(event: DocumentEvent) -> Change {
    use DocumentEvent as E;
    match event {
        E::UploadRequested(e) => Change::CreateDocument {
            id: e.document_id,
            owner: e.owner,
            name: e.name,
            project: e.project,
            at: e.at,
        },
        E::Renamed(e) => Change::Rename {
            id: e.document_id,
            name: e.name,
            at: e.at,
        },
        E::Moved(e) => Change::Move {
            id: e.document_id,
            to: e.to,
            at: e.at,
        },
        E::Shared(e) => Change::Share {
            id: e.document_id,
            user: e.user,
            at: e.at,
        },
        E::Unshared(e) => Change::Unshare {
            id: e.document_id,
            user: e.user,
            at: e.at,
        },
        E::Deleted(e) => Change::Hide {
            id: e.document_id,
            at: e.at,
        },
        E::DeletedWithProject(e) => Change::Hide {
            id: e.document_id,
            at: e.at,
        },
        E::Restored(e) => Change::Restore {
            id: e.document_id,
            detached: e.detached_from_project.is_some(),
            at: e.at,
        },
        // Uploads and versions completing change nothing searchable, and
        // extracted text is decoded by name before this (whether or not
        // this crate's domain has its typed event).
        _ => Change::Ignore,
    }
}

fn channel_change(event: ChannelEvent) -> Change {
    use ChannelEvent as E;
    match event {
        E::DirectCreated(e) => Change::Join {
            channel: e.channel_id,
            users: e.participants,
        },
        E::GroupCreated(e) => Change::Join {
            channel: e.channel_id,
            users: e.participants,
        },
        E::ParticipantAdded(e) => Change::Join {
            channel: e.channel_id,
            users: vec![e.user],
        },
        E::ParticipantRemoved(e) => Change::Leave {
            channel: e.channel_id,
            user: e.user,
        },
        E::MessageSent(e) => Change::SendMessage {
            channel: e.channel_id,
            message: e.message_id,
            author: e.author,
            body: e.body,
            at: e.at,
        },
        E::MessageEdited(e) => Change::EditMessage {
            channel: e.channel_id,
            message: e.message_id,
            body: e.body,
            at: e.at,
        },
        E::MessageDeleted(e) => Change::DeleteMessage {
            channel: e.channel_id,
            message: e.message_id,
        },
        E::ReadMarkerMoved(_) => Change::Ignore,
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use quire_domain::channel::{MessageEdited, ParticipantRemoved};
    use quire_domain::document::Restored;
    use quire_domain::{Actor, EventMetadata, Position, StreamId};

    use super::*;

    fn recorded(stream: &str, event_type: &str, payload: Vec<u8>) -> RecordedEvent {
        RecordedEvent {
            event_id: uuid::Uuid::now_v7(),
            stream_id: StreamId::parse(stream).unwrap(),
            stream_version: 0,
            position: Position(7),
            event_type: event_type.to_owned(),
            schema_version: 1,
            recorded_at: Timestamp(99),
            metadata: EventMetadata::new(Actor::user("ann")),
            payload: Bytes::from(payload),
        }
    }

    fn typed<E: DomainEvent>(stream: &str, event: &E) -> RecordedEvent {
        recorded(stream, event.event_type(), event.encode_payload())
    }

    fn user(id: &str) -> UserId {
        UserId::parse(id).unwrap()
    }

    #[test]
    fn text_extracted_is_read_from_its_json_fields() {
        let payload = br#"{"document_id":"d1","version":2,"text":"hello world"}"#.to_vec();
        let change = decode(&recorded("document-d1", TEXT_EXTRACTED, payload)).unwrap();
        assert_eq!(
            change,
            Change::SetText {
                id: DocumentId::parse("d1").unwrap(),
                version: 2,
                text: "hello world".to_owned(),
                at: Timestamp(99),
            }
        );
        let bad = decode(&recorded("document-d1", TEXT_EXTRACTED, b"{\"text\":1}".to_vec()));
        assert!(bad.unwrap_err().to_string().contains(TEXT_EXTRACTED));
    }

    #[test]
    fn typed_events_decode_into_changes() {
        let restored = DocumentEvent::Restored(Restored {
            document_id: DocumentId::parse("d1").unwrap(),
            by: user("ann"),
            at: Timestamp(5),
            detached_from_project: Some(ProjectId::parse("p").unwrap()),
        });
        assert!(matches!(
            decode(&typed("document-d1", &restored)).unwrap(),
            Change::Restore { detached: true, .. }
        ));
        let left = ChannelEvent::ParticipantRemoved(ParticipantRemoved {
            channel_id: ChannelId::parse("c").unwrap(),
            user: user("bob"),
            by: user("bob"),
            at: Timestamp(5),
        });
        assert!(matches!(
            decode(&typed("channel-c", &left)).unwrap(),
            Change::Leave { user, .. } if user.as_str() == "bob"
        ));
        let edited = ChannelEvent::MessageEdited(MessageEdited {
            channel_id: ChannelId::parse("c").unwrap(),
            message_id: MessageId::parse("m").unwrap(),
            body: "new".to_owned(),
            by: user("ann"),
            at: Timestamp(6),
        });
        assert!(matches!(
            decode(&typed("channel-c", &edited)).unwrap(),
            Change::EditMessage { body, .. } if body == "new"
        ));
    }

    #[test]
    fn unknown_types_are_ignored_and_bad_payloads_fail() {
        let unknown = recorded("document-d1", "document.thumbnail_made", b"{}".to_vec());
        assert_eq!(decode(&unknown).unwrap(), Change::Ignore);
        let bad = recorded("channel-c", "channel.message_sent", b"{}".to_vec());
        assert!(decode(&bad).is_err());
    }
}
