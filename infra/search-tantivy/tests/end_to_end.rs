//! End to end: domain events appended to the real embedded log, the search
//! projector run by `ProjectorRunner` into the on-disk tantivy index, and
//! queries after `wait_for(position)`.

use std::sync::Arc;
use std::time::Duration;

use quire_domain::channel::{ChannelEvent, GroupCreated, MessageSent, ParticipantAdded};
use quire_domain::document::{DocumentEvent, ShareRole, Shared, TextExtracted, UploadRequested};
use quire_domain::{
    Actor, ChannelId, ContentType, DocumentId, DomainEvent, EventMetadata, MessageId, Name, NewEvent,
    Position, Sha256, StreamId, Timestamp, UserId,
};
use quire_event_log::{EventLog, ExpectedVersion};
use quire_event_log_embedded::{EmbeddedLog, EmbeddedLogConfig};
use quire_projections::query::PageRequest;
use quire_projections::search::{SearchFilter, SearchIndex, SearchKind, SearchProjector};
use quire_projections::{ProjectorRunner, RetryPolicy, RunnerConfig};
use quire_search_tantivy::{TantivyConfig, TantivySearchIndex};

const WAIT: Duration = Duration::from_secs(10);

fn user(id: &str) -> UserId {
    UserId::parse(id).expect("valid user id")
}

fn fast_config() -> RunnerConfig {
    RunnerConfig {
        max_batch_size: 256,
        max_batch_wait: Duration::from_millis(10),
        min_apply_interval: Duration::ZERO,
        checkpoint_interval: Duration::from_millis(50),
        metrics_interval: Duration::from_millis(50),
        throughput_window: Duration::from_secs(5),
        retry: RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(1),
            multiplier: 2,
            max_backoff: Duration::from_millis(5),
        },
        control_capacity: 16,
        read_ahead: 0,
    }
}

async fn append<E: DomainEvent>(log: &EmbeddedLog, stream: &str, events: &[E]) -> Position {
    let stream = StreamId::parse(stream).expect("test fixture");
    let events = events
        .iter()
        .map(|e| NewEvent::from_domain(e, EventMetadata::new(Actor::user("ann"))))
        .collect();
    log.append(&stream, ExpectedVersion::Any, events)
        .await
        .expect("test fixture")
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
        .expect("test fixture");
    let mut ids: Vec<String> = page.items.into_iter().map(|h| h.id).collect();
    ids.sort();
    ids
}

fn upload(doc: &str, owner: &str, name: &str) -> DocumentEvent {
    DocumentEvent::UploadRequested(UploadRequested {
        document_id: DocumentId::parse(doc).expect("test fixture"),
        owner: user(owner),
        name: Name::parse(name).expect("test fixture"),
        content_type: ContentType::parse("text/markdown").expect("test fixture"),
        size: 100,
        sha256: Sha256::parse(&"cd".repeat(32)).expect("test fixture"),
        project: None,
        at: Timestamp(1),
    })
}

fn extracted(doc: &str, text: &str) -> DocumentEvent {
    DocumentEvent::TextExtracted(TextExtracted {
        document_id: DocumentId::parse(doc).expect("test fixture"),
        version: 1,
        text: text.to_owned(),
        truncated: false,
        by: Actor::service("extractor"),
        at: Timestamp(2),
    })
}

fn message(channel: &str, id: &str, seq: u64, author: &str, body: &str) -> ChannelEvent {
    ChannelEvent::MessageSent(MessageSent {
        channel_id: ChannelId::parse(channel).expect("test fixture"),
        message_id: MessageId::parse(id).expect("test fixture"),
        seq,
        author: user(author),
        body: body.to_owned(),
        thread_parent: None,
        mentions: Vec::new(),
        attachments: Vec::new(),
        at: Timestamp(3),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runner_feeds_the_index_from_the_embedded_log() {
    let log_dir = tempfile::tempdir().expect("test fixture");
    let index_dir = tempfile::tempdir().expect("test fixture");
    let log = EmbeddedLog::open(EmbeddedLogConfig::new(log_dir.path())).expect("test fixture");

    append(
        &log,
        "document-d1",
        &[
            upload("d1", "ann", "Spoonbill migration"),
            extracted("d1", "Spoonbills winter in the south."),
        ],
    )
    .await;
    append(
        &log,
        "channel-c1",
        &[
            ChannelEvent::GroupCreated(GroupCreated {
                channel_id: ChannelId::parse("c1").expect("test fixture"),
                name: Name::parse("birders").expect("test fixture"),
                participants: vec![user("ann"), user("bob")],
                by: user("ann"),
                at: Timestamp(1),
            }),
            message("c1", "m1", 1, "bob", "a spoonbill at the estuary"),
        ],
    )
    .await;
    let first = append(&log, "document-d2", &[upload("d2", "bob", "Spoonbill photos")]).await;

    let index = Arc::new(
        TantivySearchIndex::open(index_dir.path(), &TantivyConfig::default()).expect("test fixture"),
    );
    let projector = Arc::new(SearchProjector::new(index.clone()));
    let handle = ProjectorRunner::new(Arc::new(log.clone()), projector)
        .config(fast_config())
        .spawn();
    handle.wait_for(first, WAIT).await.expect("test fixture");
    assert_eq!(ids(&*index, "ann", "spoonbill").await, ["d1", "m1"]);
    assert_eq!(ids(&*index, "bob", "spoonbill").await, ["d2", "m1"]);
    assert!(ids(&*index, "carol", "spoonbill").await.is_empty());
    let hits = index
        .search(
            &user("ann"),
            "winter",
            &SearchFilter::kinds([SearchKind::Document]),
            &PageRequest::first(5),
        )
        .await
        .expect("test fixture");
    assert_eq!(hits.items.len(), 1);
    assert!(
        hits.items[0].snippet.contains("<b>winter</b>"),
        "{}",
        hits.items[0].snippet
    );

    // Live: a share and a new participant, visible right after wait_for.
    append(
        &log,
        "document-d2",
        &[DocumentEvent::Shared(Shared {
            document_id: DocumentId::parse("d2").expect("test fixture"),
            user: user("carol"),
            role: ShareRole::View,
            by: user("bob"),
            at: Timestamp(4),
        })],
    )
    .await;
    let second = append(
        &log,
        "channel-c1",
        &[ChannelEvent::ParticipantAdded(ParticipantAdded {
            channel_id: ChannelId::parse("c1").expect("test fixture"),
            user: user("carol"),
            by: user("ann"),
            at: Timestamp(5),
        })],
    )
    .await;
    handle.wait_for(second, WAIT).await.expect("test fixture");
    assert_eq!(ids(&*index, "carol", "spoonbill").await, ["d2", "m1"]);
    handle.stop().await;

    // The checkpoint committed with the index is where the runner got to.
    assert_eq!(index.checkpoint().await.expect("test fixture"), second);

    // Rebuild from zero converges to the same index.
    let projector = Arc::new(SearchProjector::new(index.clone()));
    let handle = ProjectorRunner::new(Arc::new(log.clone()), projector)
        .config(fast_config())
        .spawn();
    handle.rebuild().await.expect("test fixture");
    handle.wait_for(second, WAIT).await.expect("test fixture");
    assert_eq!(ids(&*index, "carol", "spoonbill").await, ["d2", "m1"]);
    assert_eq!(ids(&*index, "ann", "spoonbill").await, ["d1", "m1"]);
    handle.stop().await;
    log.close();
}
