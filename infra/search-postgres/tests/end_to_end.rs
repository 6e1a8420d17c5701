//! End to end in the shape of the distributed deployment: domain events
//! appended to a log, the search projector run by `ProjectorRunner` into
//! one handle on the schema (the projector process), and queries through
//! another handle (a gateway process), which sees each commit as soon as
//! the runner's `wait_for` returns; then a rebuild from zero.

mod common;

use std::sync::Arc;
use std::time::Duration;

use quire_domain::channel::{ChannelEvent, GroupCreated, MessageSent, ParticipantAdded};
use quire_domain::document::{DocumentEvent, TextExtracted, UploadRequested};
use quire_domain::{
    Actor, ChannelId, ContentType, DocumentId, DomainEvent, EventMetadata, MessageId, Name, NewEvent,
    Position, Sha256, StreamId, Timestamp, UserId,
};
use quire_event_log::{EventLog, ExpectedVersion};
use quire_event_log_embedded::{EmbeddedLog, EmbeddedLogConfig};
use quire_projections::query::PageRequest;
use quire_projections::search::{SearchFilter, SearchIndex, SearchProjector};
use quire_projections::{ProjectorRunner, RunnerConfig};

const WAIT: Duration = Duration::from_secs(10);

fn user(id: &str) -> UserId {
    UserId::parse(id).expect("user id")
}

async fn append<E: DomainEvent>(log: &EmbeddedLog, stream: &str, events: &[E]) -> Position {
    let stream = StreamId::parse(stream).expect("stream id");
    let events = events
        .iter()
        .map(|e| NewEvent::from_domain(e, EventMetadata::new(Actor::user("ann"))))
        .collect();
    log.append(&stream, ExpectedVersion::Any, events)
        .await
        .expect("append")
        .last_position
}

async fn ids(index: &dyn SearchIndex, reader: &str, query: &str) -> Vec<String> {
    let page = index
        .search(
            &user(reader),
            query,
            &SearchFilter::all(),
            &PageRequest::first(50),
        )
        .await
        .expect("search");
    let mut ids: Vec<String> = page.items.into_iter().map(|h| h.id).collect();
    ids.sort();
    ids
}

fn document(doc: &str, owner: &str, name: &str, text: &str) -> [DocumentEvent; 2] {
    let document_id = DocumentId::parse(doc).expect("document id");
    [
        DocumentEvent::UploadRequested(UploadRequested {
            document_id: document_id.clone(),
            owner: user(owner),
            name: Name::parse(name).expect("name"),
            content_type: ContentType::parse("text/plain").expect("content type"),
            size: 100,
            sha256: Sha256::parse(&"cd".repeat(32)).expect("digest"),
            project: None,
            at: Timestamp(1),
        }),
        DocumentEvent::TextExtracted(TextExtracted {
            document_id,
            version: 1,
            text: text.to_owned(),
            truncated: false,
            by: Actor::service("extractor"),
            at: Timestamp(2),
        }),
    ]
}

fn channel(id: &str, members: &[&str], message: &str, body: &str) -> [ChannelEvent; 2] {
    let channel_id = ChannelId::parse(id).expect("channel id");
    [
        ChannelEvent::GroupCreated(GroupCreated {
            channel_id: channel_id.clone(),
            name: Name::parse(id).expect("name"),
            participants: members.iter().map(|m| user(m)).collect(),
            by: user(members[0]),
            at: Timestamp(1),
        }),
        ChannelEvent::MessageSent(MessageSent {
            channel_id,
            message_id: MessageId::parse(message).expect("message id"),
            seq: 1,
            author: user(members[0]),
            body: body.to_owned(),
            thread_parent: None,
            mentions: Vec::new(),
            attachments: Vec::new(),
            at: Timestamp(3),
        }),
    ]
}

fn config() -> RunnerConfig {
    RunnerConfig {
        max_batch_wait: Duration::from_millis(10),
        min_apply_interval: Duration::ZERO,
        ..SearchProjector::runner_config()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_finds_what_the_projector_process_committed() {
    let log_dir = tempfile::tempdir().expect("temp dir");
    let log = EmbeddedLog::open(EmbeddedLogConfig::new(log_dir.path())).expect("log");
    let (writer, schema) = common::fresh_index().await;
    let gateway = common::open_or_fail(&schema).await;

    append(
        &log,
        "document-d1",
        &document("d1", "ann", "Avocet survey", "Avocets sweep the mud."),
    )
    .await;
    let first = append(
        &log,
        "channel-c1",
        &channel("c1", &["ann", "bob"], "m1", "an avocet!"),
    )
    .await;
    let projector = Arc::new(SearchProjector::new(Arc::new(writer.clone())));
    let handle = ProjectorRunner::new(Arc::new(log.clone()), projector.clone())
        .config(config())
        .spawn();
    handle.wait_for(first, WAIT).await.expect("caught up");
    assert_eq!(ids(&gateway, "ann", "avocet").await, ["d1", "m1"]);
    assert_eq!(ids(&gateway, "bob", "avocet").await, ["m1"]);

    let joined = ChannelEvent::ParticipantAdded(ParticipantAdded {
        channel_id: ChannelId::parse("c1").expect("channel id"),
        user: user("carol"),
        by: user("ann"),
        at: Timestamp(4),
    });
    let second = append(&log, "channel-c1", &[joined]).await;
    handle.wait_for(second, WAIT).await.expect("caught up");
    assert_eq!(
        ids(&gateway, "carol", "avocet").await,
        ["m1"],
        "joining reveals history"
    );
    handle.stop().await;
    assert_eq!(gateway.checkpoint().await.expect("checkpoint"), second);

    // Rebuild from zero converges to the same index.
    let handle = ProjectorRunner::new(Arc::new(log.clone()), projector)
        .config(config())
        .spawn();
    handle.rebuild().await.expect("rebuild");
    handle.wait_for(second, WAIT).await.expect("caught up");
    assert_eq!(ids(&gateway, "ann", "avocet").await, ["d1", "m1"]);
    assert_eq!(ids(&gateway, "carol", "avocet").await, ["m1"]);
    handle.stop().await;
    log.close();
}
