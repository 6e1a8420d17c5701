//! What a backend's factory hands the suite ([`Fixture`]), and the
//! [`Harness`] the cases use: a [`SearchProjector`] over the index, a
//! scripted log of domain events with increasing positions, and search
//! shortcuts.

use std::any::Any;
use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use quire_domain::channel::{
    ChannelEvent, GroupCreated, MessageDeleted, MessageEdited, MessageSent, ParticipantAdded,
    ParticipantRemoved,
};
use quire_domain::document::{
    DeletedWithProject, DocumentEvent, Renamed, Restored, ShareRole, Shared, Unshared, UploadRequested,
};
use quire_domain::{
    Actor, ChannelId, ContentType, DocumentId, DomainEvent, EventMetadata, MessageId, Name, Position,
    ProjectId, RecordedEvent, Sha256, StreamId, Timestamp, UserId,
};
use uuid::Uuid;

use crate::projector::Projector;
use crate::query::{PageRequest, QueryError};
use crate::search::{SearchFilter, SearchHit, SearchIndex, SearchProjector};

/// A fresh, empty index plus whatever must live as long as it (a
/// temporary directory).
pub struct Fixture {
    index: Arc<dyn SearchIndex>,
    _guard: Box<dyn Any + Send>,
}

impl std::fmt::Debug for Fixture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fixture")
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

impl Fixture {
    pub fn new(index: impl SearchIndex, guard: impl Any + Send) -> Fixture {
        Fixture {
            index: Arc::new(index),
            _guard: Box::new(guard),
        }
    }

    pub fn index(&self) -> Arc<dyn SearchIndex> {
        Arc::clone(&self.index)
    }
}

pub fn user(id: &str) -> UserId {
    UserId::parse(id).expect("valid user id")
}

pub fn doc_id(id: &str) -> DocumentId {
    DocumentId::parse(id).expect("valid document id")
}

pub fn channel_id(id: &str) -> ChannelId {
    ChannelId::parse(id).expect("valid channel id")
}

pub fn message_id(id: &str) -> MessageId {
    MessageId::parse(id).expect("valid message id")
}

fn name(text: &str) -> Name {
    Name::parse(text).expect("valid name")
}

fn at(n: i64) -> Timestamp {
    Timestamp(1_700_000_000_000_000 + n)
}

/// The projector, the index and a scripted log feeding them.
#[derive(Debug)]
pub struct Harness {
    pub index: Arc<dyn SearchIndex>,
    pub projector: SearchProjector,
    position: u64,
    versions: HashMap<String, u64>,
    /// Every event made so far, in order.
    pub history: Vec<Arc<RecordedEvent>>,
}

impl Harness {
    pub fn new(index: Arc<dyn SearchIndex>) -> Harness {
        Harness {
            projector: SearchProjector::new(Arc::clone(&index)),
            index,
            position: 0,
            versions: HashMap::new(),
            history: Vec::new(),
        }
    }

    /// The position of the last event made.
    pub fn head(&self) -> Position {
        Position(self.position)
    }

    /// Records a raw event as the log would: next position, next version.
    pub fn raw(&mut self, stream: &str, event_type: &str, payload: Vec<u8>) -> Arc<RecordedEvent> {
        self.position += 1;
        let version = self.versions.entry(stream.to_owned()).or_insert(0);
        let event = Arc::new(RecordedEvent {
            event_id: Uuid::now_v7(),
            stream_id: StreamId::parse(stream).expect("valid stream id"),
            stream_version: *version,
            position: Position(self.position),
            event_type: event_type.to_owned(),
            schema_version: 1,
            recorded_at: at(self.position as i64),
            metadata: EventMetadata::new(Actor::service("conformance")),
            payload: Bytes::from(payload),
        });
        *version += 1;
        self.history.push(Arc::clone(&event));
        event
    }

    pub fn typed<E: DomainEvent>(&mut self, stream: &str, event: &E) -> Arc<RecordedEvent> {
        self.raw(stream, event.event_type(), event.encode_payload())
    }

    /// Applies `events` as one batch with a checkpoint at the last event
    /// made, panicking on failure.
    pub async fn apply(&self, events: &[Arc<RecordedEvent>]) {
        self.projector
            .apply(events, self.head())
            .await
            .expect("search projector apply");
    }

    /// Makes and applies one typed event.
    pub async fn step<E: DomainEvent>(&mut self, stream: &str, event: &E) -> Arc<RecordedEvent> {
        let event = self.typed(stream, event);
        self.apply(std::slice::from_ref(&event)).await;
        event
    }

    pub async fn search(&self, reader: &str, query: &str) -> Vec<SearchHit> {
        self.search_in(reader, query, &SearchFilter::all()).await
    }

    pub async fn search_in(&self, reader: &str, query: &str, filter: &SearchFilter) -> Vec<SearchHit> {
        self.index
            .search(&user(reader), query, filter, &PageRequest::first(100))
            .await
            .expect("search")
            .items
    }

    /// The ids of `reader`'s hits, sorted.
    pub async fn ids(&self, reader: &str, query: &str) -> Vec<String> {
        let mut ids: Vec<String> = self
            .search(reader, query)
            .await
            .into_iter()
            .map(|h| h.id)
            .collect();
        ids.sort();
        ids
    }

    pub async fn search_error(&self, reader: &str, query: &str) -> QueryError {
        self.index
            .search(
                &user(reader),
                query,
                &SearchFilter::all(),
                &PageRequest::first(10),
            )
            .await
            .expect_err("the search should fail")
    }

    // Events, made and applied one per batch.

    pub async fn upload(&mut self, doc: &str, owner: &str, title: &str) {
        self.upload_in(doc, owner, title, None).await;
    }

    pub async fn upload_in(&mut self, doc: &str, owner: &str, title: &str, project: Option<&str>) {
        let event = self.upload_event(doc, owner, title, project);
        self.apply(std::slice::from_ref(&event)).await;
    }

    /// Makes (without applying) an upload request.
    pub fn upload_event(
        &mut self,
        doc: &str,
        owner: &str,
        title: &str,
        project: Option<&str>,
    ) -> Arc<RecordedEvent> {
        let event = DocumentEvent::UploadRequested(UploadRequested {
            document_id: doc_id(doc),
            owner: user(owner),
            name: name(title),
            content_type: ContentType::parse("text/plain").expect("valid content type"),
            size: 12,
            sha256: Sha256::parse(&"ab".repeat(32)).expect("valid digest"),
            project: project.map(|p| ProjectId::parse(p).expect("valid project id")),
            at: at(0),
        });
        self.typed(&format!("document-{doc}"), &event)
    }

    /// Makes (without applying) a `document.text_extracted` event of the
    /// document's first version.
    pub fn text_event(&mut self, doc: &str, text: &str) -> Arc<RecordedEvent> {
        self.text_event_of(doc, 1, text)
    }

    /// Makes (without applying) a `document.text_extracted` event of
    /// `version`.
    pub fn text_event_of(&mut self, doc: &str, version: u32, text: &str) -> Arc<RecordedEvent> {
        let payload = serde_json::json!({ "document_id": doc, "version": version, "text": text });
        self.raw(
            &format!("document-{doc}"),
            crate::search::TEXT_EXTRACTED,
            payload.to_string().into_bytes(),
        )
    }

    pub async fn extract(&mut self, doc: &str, text: &str) {
        let event = self.text_event(doc, text);
        self.apply(std::slice::from_ref(&event)).await;
    }

    pub async fn extract_version(&mut self, doc: &str, version: u32, text: &str) {
        let event = self.text_event_of(doc, version, text);
        self.apply(std::slice::from_ref(&event)).await;
    }

    pub fn rename_event(&mut self, doc: &str, by: &str, title: &str) -> Arc<RecordedEvent> {
        let event = DocumentEvent::Renamed(Renamed {
            document_id: doc_id(doc),
            name: name(title),
            by: user(by),
            at: at(1),
        });
        self.typed(&format!("document-{doc}"), &event)
    }

    pub async fn rename(&mut self, doc: &str, by: &str, title: &str) {
        let event = self.rename_event(doc, by, title);
        self.apply(std::slice::from_ref(&event)).await;
    }

    pub async fn share(&mut self, doc: &str, owner: &str, with: &str) {
        let event = DocumentEvent::Shared(Shared {
            document_id: doc_id(doc),
            user: user(with),
            role: ShareRole::View,
            by: user(owner),
            at: at(2),
        });
        self.step(&format!("document-{doc}"), &event).await;
    }

    pub async fn unshare(&mut self, doc: &str, owner: &str, with: &str) {
        let event = DocumentEvent::Unshared(Unshared {
            document_id: doc_id(doc),
            user: user(with),
            by: user(owner),
            at: at(3),
        });
        self.step(&format!("document-{doc}"), &event).await;
    }

    pub async fn delete_document(&mut self, doc: &str, owner: &str) {
        let event = DocumentEvent::Deleted(quire_domain::document::Deleted {
            document_id: doc_id(doc),
            by: user(owner),
            at: at(4),
        });
        self.step(&format!("document-{doc}"), &event).await;
    }

    pub async fn delete_with_project(&mut self, doc: &str, project: &str) {
        let event = DocumentEvent::DeletedWithProject(DeletedWithProject {
            document_id: doc_id(doc),
            project_id: ProjectId::parse(project).expect("valid project id"),
            by: Actor::service("cleanup"),
            at: at(4),
        });
        self.step(&format!("document-{doc}"), &event).await;
    }

    pub async fn restore(&mut self, doc: &str, owner: &str, detached_from: Option<&str>) {
        let event = DocumentEvent::Restored(Restored {
            document_id: doc_id(doc),
            by: user(owner),
            at: at(5),
            detached_from_project: detached_from.map(|p| ProjectId::parse(p).expect("valid project id")),
        });
        self.step(&format!("document-{doc}"), &event).await;
    }

    pub fn group_event(&mut self, channel: &str, creator: &str, members: &[&str]) -> Arc<RecordedEvent> {
        let mut participants: Vec<UserId> = members.iter().map(|m| user(m)).collect();
        participants.sort();
        let event = ChannelEvent::GroupCreated(GroupCreated {
            channel_id: channel_id(channel),
            name: name(channel),
            participants,
            by: user(creator),
            at: at(0),
        });
        self.typed(&format!("channel-{channel}"), &event)
    }

    pub async fn group(&mut self, channel: &str, creator: &str, members: &[&str]) {
        let event = self.group_event(channel, creator, members);
        self.apply(std::slice::from_ref(&event)).await;
    }

    pub async fn add_member(&mut self, channel: &str, by: &str, member: &str) {
        let event = ChannelEvent::ParticipantAdded(ParticipantAdded {
            channel_id: channel_id(channel),
            user: user(member),
            by: user(by),
            at: at(1),
        });
        self.step(&format!("channel-{channel}"), &event).await;
    }

    pub async fn remove_member(&mut self, channel: &str, by: &str, member: &str) {
        let event = ChannelEvent::ParticipantRemoved(ParticipantRemoved {
            channel_id: channel_id(channel),
            user: user(member),
            by: user(by),
            at: at(2),
        });
        self.step(&format!("channel-{channel}"), &event).await;
    }

    pub fn send_event(
        &mut self,
        channel: &str,
        message: &str,
        author: &str,
        body: &str,
    ) -> Arc<RecordedEvent> {
        let seq = self
            .versions
            .get(&format!("channel-{channel}"))
            .copied()
            .unwrap_or(0)
            + 1;
        let event = ChannelEvent::MessageSent(MessageSent {
            channel_id: channel_id(channel),
            message_id: message_id(message),
            seq,
            author: user(author),
            body: body.to_owned(),
            thread_parent: None,
            mentions: Vec::new(),
            attachments: Vec::new(),
            at: at(3),
        });
        self.typed(&format!("channel-{channel}"), &event)
    }

    pub async fn send(&mut self, channel: &str, message: &str, author: &str, body: &str) {
        let event = self.send_event(channel, message, author, body);
        self.apply(std::slice::from_ref(&event)).await;
    }

    pub async fn edit(&mut self, channel: &str, message: &str, author: &str, body: &str) {
        let event = ChannelEvent::MessageEdited(MessageEdited {
            channel_id: channel_id(channel),
            message_id: message_id(message),
            body: body.to_owned(),
            by: user(author),
            at: at(4),
        });
        self.step(&format!("channel-{channel}"), &event).await;
    }

    pub async fn delete_message(&mut self, channel: &str, message: &str, author: &str) {
        let event = ChannelEvent::MessageDeleted(MessageDeleted {
            channel_id: channel_id(channel),
            message_id: message_id(message),
            by: user(author),
            at: at(5),
        });
        self.step(&format!("channel-{channel}"), &event).await;
    }
}
