//! The in-memory read models run by the real projector runtime over the
//! embedded log: commands decided by the real aggregates and appended as a
//! command handler would, read-your-writes through `wait_for`, rebuild by
//! replay at start, and dead-lettering of an undecodable event.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use quire_domain::channel::{self, Channel, ChannelCommand};
use quire_domain::document::{self, Access, Document, DocumentCommand, ShareRole};
use quire_domain::project::{self, Project, ProjectCommand};
use quire_domain::{
    Actor, Aggregate, ChannelId, ContentType, DocumentId, EventMetadata, Issued, MessageId, Name, NewEvent,
    Position, ProjectId, Sha256, StreamId, Timestamp, UserId,
};
use quire_event_log::{Direction, EventLog, ExpectedVersion};
use quire_event_log_embedded::{EmbeddedLog, EmbeddedLogConfig};
use quire_projections::query::PageRequest;
use quire_projections::read_models::channels::{ChannelQueries, InMemoryChannels, MessageFilter};
use quire_projections::read_models::documents::{DocumentFilter, DocumentQueries, InMemoryDocuments};
use quire_projections::read_models::unread::UnreadQueries;
use quire_projections::{ProjectorHandle, ProjectorRunner, RetryPolicy, RunnerConfig};
use uuid::Uuid;

const WAIT: Duration = Duration::from_secs(10);

fn fast_config() -> RunnerConfig {
    RunnerConfig {
        max_batch_size: 256,
        max_batch_wait: Duration::from_millis(5),
        min_apply_interval: Duration::ZERO,
        checkpoint_interval: Duration::from_millis(20),
        metrics_interval: Duration::from_millis(20),
        throughput_window: Duration::from_secs(5),
        retry: RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(1),
            multiplier: 2,
            max_backoff: Duration::from_millis(4),
        },
        control_capacity: 16,
        read_ahead: 0,
    }
}

fn open_log(dir: &Path) -> EmbeddedLog {
    EmbeddedLog::open(EmbeddedLogConfig::new(dir)).expect("open embedded log")
}

fn now() -> Timestamp {
    let micros = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_micros();
    Timestamp(i64::try_from(micros).expect("time fits in i64"))
}

fn user(name: &str) -> UserId {
    UserId::parse(name).expect("valid user id")
}

/// A minimal command handler: loads the aggregate by folding its stream,
/// decides, appends with the version it decided on, and returns the
/// position of the last event (what a command result carries).
async fn execute<A, C>(log: &EmbeddedLog, id: &str, actor: &str, command: C) -> Position
where
    A: Aggregate<Command = Issued<C>>,
{
    let stream = StreamId::for_aggregate(A::CATEGORY, id).expect("valid stream id");
    let history = log
        .read_stream(&stream, 0, Direction::Forward, 10_000)
        .await
        .expect("read stream");
    let mut aggregate = A::default();
    for event in &history {
        aggregate.apply(&event.decode::<A::Event>().expect("stored event decodes"));
    }
    let actor = Actor::user(actor);
    let events = aggregate
        .decide(&Issued::new(actor.clone(), now(), command))
        .expect("command accepted");
    assert!(!events.is_empty(), "the command changed nothing");
    let expected = ExpectedVersion::from_current(history.last().map(|e| e.stream_version));
    let new = events
        .iter()
        .map(|e| NewEvent::from_domain(e, EventMetadata::new(actor.clone())))
        .collect();
    log.append(&stream, expected, new)
        .await
        .expect("append")
        .last_position
}

/// The two read models and their runners.
struct Models {
    documents: Arc<InMemoryDocuments>,
    channels: Arc<InMemoryChannels>,
    handles: [ProjectorHandle; 2],
}

impl Models {
    fn spawn(log: &EmbeddedLog) -> Models {
        let documents = InMemoryDocuments::shared();
        let channels = InMemoryChannels::shared();
        let shared: Arc<dyn EventLog> = Arc::new(log.clone());
        let handles = [
            ProjectorRunner::new(Arc::clone(&shared), documents.clone())
                .config(fast_config())
                .spawn(),
            ProjectorRunner::new(shared, channels.clone())
                .config(fast_config())
                .spawn(),
        ];
        Models {
            documents,
            channels,
            handles,
        }
    }

    /// Read-your-writes: waits until both read models reached `position`.
    async fn wait_for(&self, position: Position) {
        for handle in &self.handles {
            handle
                .wait_for(position, WAIT)
                .await
                .expect("read-your-writes wait");
        }
    }

    async fn stop(&self) {
        for handle in &self.handles {
            handle.stop().await;
        }
    }
}

/// Writes a small workspace: a project, a shared document, a group
/// channel with a message attaching it, and a read marker. Returns the
/// last position.
async fn write_workspace(log: &EmbeddedLog, models: &Models) -> Position {
    let at = execute::<Project, _>(
        log,
        "p1",
        "ann",
        ProjectCommand::Create(project::Create {
            project_id: ProjectId::parse("p1").expect("valid id"),
            name: Name::parse("Work").expect("valid name"),
            parent: None,
        }),
    )
    .await;
    models.wait_for(at).await;
    let ancestors = models
        .documents
        .project_ancestors(&ProjectId::parse("p1").expect("valid id"))
        .await
        .expect("ancestors");
    assert!(ancestors.is_empty());

    let d1 = DocumentId::parse("d1").expect("valid id");
    let sha = Sha256::parse(&"ab".repeat(32)).expect("valid digest");
    execute::<Document, _>(
        log,
        "d1",
        "ann",
        DocumentCommand::RequestUpload(document::RequestUpload {
            document_id: d1.clone(),
            name: Name::parse("plan.txt").expect("valid name"),
            content_type: ContentType::parse("text/plain").expect("valid content type"),
            size: 42,
            sha256: sha.clone(),
            project: Some(ProjectId::parse("p1").expect("valid id")),
        }),
    )
    .await;
    execute::<Document, _>(
        log,
        "d1",
        "ann",
        DocumentCommand::CompleteUpload(document::CompleteUpload {
            document_id: d1.clone(),
            size: 42,
            sha256: sha,
        }),
    )
    .await;
    let at = execute::<Document, _>(
        log,
        "d1",
        "ann",
        DocumentCommand::Share(document::Share {
            document_id: d1.clone(),
            user: user("bob"),
            role: ShareRole::View,
        }),
    )
    .await;
    models.wait_for(at).await;
    let seen = models
        .documents
        .get_document(&user("bob"), &d1)
        .await
        .expect("bob sees the shared document");
    assert_eq!((seen.access, seen.version), (Access::View, 1));

    let g1 = ChannelId::parse("g1").expect("valid id");
    execute::<Channel, _>(
        log,
        "g1",
        "ann",
        ChannelCommand::CreateGroup(channel::CreateGroup {
            channel_id: g1.clone(),
            name: Name::parse("Team").expect("valid name"),
            members: vec![user("bob")],
        }),
    )
    .await;
    // The attachment check reads the documents read model, as the
    // SendMessage handler does.
    let readable = models
        .documents
        .readable_documents(&user("bob"), std::slice::from_ref(&d1))
        .await
        .expect("readable documents");
    let message = MessageId::parse(&Uuid::now_v7().hyphenated().to_string()).expect("valid id");
    let at = execute::<Channel, _>(
        log,
        "g1",
        "bob",
        ChannelCommand::SendMessage(channel::SendMessage {
            channel_id: g1.clone(),
            message_id: message.clone(),
            body: "see the plan".to_owned(),
            thread_parent: None,
            mentions: vec![user("ann")],
            attachments: vec![d1.clone()],
            readable_documents: readable,
        }),
    )
    .await;
    models.wait_for(at).await;
    let unread = models
        .channels
        .unread_counts(&user("ann"))
        .await
        .expect("unread counts");
    assert_eq!(unread.len(), 1);
    assert_eq!((unread[0].channel.clone(), unread[0].unread), (g1.clone(), 1));
    let sent = models
        .channels
        .get_message(&user("ann"), &g1, &message)
        .await
        .expect("the sent message");
    assert_eq!(sent.attachments, [d1]);

    let at = execute::<Channel, _>(
        log,
        "g1",
        "ann",
        ChannelCommand::MarkRead(channel::MarkRead {
            channel_id: g1.clone(),
            up_to: message,
        }),
    )
    .await;
    models.wait_for(at).await;
    assert!(
        models
            .channels
            .unread_counts(&user("ann"))
            .await
            .expect("unread counts")
            .is_empty()
    );
    at
}

/// What the read models answer about the workspace, as text.
async fn answers(models: &Models) -> Vec<String> {
    let mut answers = Vec::new();
    for reader in ["ann", "bob", "cy"].map(user) {
        let docs = models
            .documents
            .list_documents(&reader, DocumentFilter::default(), PageRequest::default())
            .await;
        answers.push(format!("{docs:?}"));
        let channels = models
            .channels
            .list_channels(&reader, PageRequest::default())
            .await;
        answers.push(format!("{channels:?}"));
        let messages = models
            .channels
            .list_messages(
                &reader,
                &ChannelId::parse("g1").expect("valid id"),
                MessageFilter::default(),
                PageRequest::default(),
            )
            .await;
        answers.push(format!("{messages:?}"));
    }
    answers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_your_writes_through_the_runner_and_replay_at_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = open_log(dir.path());
    let models = Models::spawn(&log);
    let head = write_workspace(&log, &models).await;
    let before = answers(&models).await;
    assert!(before[0].contains("plan.txt"), "{}", before[0]);
    models.stop().await;
    drop(models);
    log.close();
    drop(log);

    // A restart: the in-memory read models start empty and replay the log.
    let log = open_log(dir.path());
    let models = Models::spawn(&log);
    models.wait_for(head).await;
    assert_eq!(answers(&models).await, before, "the replay differs");
    models.stop().await;
    log.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undecodable_event_is_dead_lettered_and_the_rest_applied() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = open_log(dir.path());
    let models = Models::spawn(&log);
    let head = write_workspace(&log, &models).await;

    // On a stream of its own, so the command handler below can still load d1.
    let stream = StreamId::parse("document-broken").expect("valid stream id");
    let broken = NewEvent {
        event_id: Uuid::now_v7(),
        event_type: "document.renamed".to_owned(),
        schema_version: 1,
        payload: Bytes::from_static(b"{\"document_id\":\"broken\"}"),
        metadata: EventMetadata::new(Actor::user("ann")),
    };
    let bad = log
        .append(&stream, ExpectedVersion::Any, vec![broken])
        .await
        .expect("append")
        .last_position;
    let after = execute::<Document, _>(
        &log,
        "d1",
        "ann",
        DocumentCommand::Rename(document::Rename {
            document_id: DocumentId::parse("d1").expect("valid id"),
            name: Name::parse("final.txt").expect("valid name"),
        }),
    )
    .await;
    assert!(after > bad && bad > head);
    models.wait_for(after).await;

    let dead = models.handles[0].dead_letters().await.expect("dead letters");
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].position, bad);
    let renamed = models
        .documents
        .get_document(&user("ann"), &DocumentId::parse("d1").expect("valid id"))
        .await
        .expect("renamed document");
    assert_eq!(renamed.name.as_str(), "final.txt");
    assert!(
        models.handles[1]
            .dead_letters()
            .await
            .expect("dead letters")
            .is_empty()
    );
    models.stop().await;
    log.close();
}
