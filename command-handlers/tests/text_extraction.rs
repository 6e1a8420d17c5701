//! The text-extraction process manager against the embedded log and the
//! local blob store: the upload flow's events in, `document.text_extracted`
//! out, exactly once however often an event is handled.

use std::sync::Arc;

use quire_blob_local::LocalBlobStore;
use quire_command_handlers::blob_conformance::chunked;
use quire_command_handlers::blobs::{BlobInfo, BlobKey, BlobStore};
use quire_command_handlers::process_managers::{ExtractionOutcome, TextExtraction, TextExtractionConfig};
use quire_command_handlers::{CommandContext, CommandPipeline, PipelineConfig};
use quire_domain::document::{
    CompleteUpload, CompleteVersion, Delete, Document, DocumentCommand, RequestNewVersion, RequestUpload,
};
use quire_domain::{Actor, ContentType, DocumentId, Issued, Name, RecordedEvent, StreamId, Timestamp};
use quire_event_log::{Direction, EventLog};
use quire_event_log_embedded::{EmbeddedLog, EmbeddedLogConfig};

const AT: Timestamp = Timestamp(1_700_000_000_000_000);

struct World {
    _dir: tempfile::TempDir,
    log: Arc<dyn EventLog>,
    pipeline: Arc<CommandPipeline>,
    blobs: Arc<dyn BlobStore>,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().expect("dir");
        let log: Arc<dyn EventLog> =
            Arc::new(EmbeddedLog::open(EmbeddedLogConfig::new(dir.path().join("log"))).expect("log"));
        let blobs: Arc<dyn BlobStore> =
            Arc::new(LocalBlobStore::open(dir.path().join("blobs")).expect("blobs"));
        let pipeline = Arc::new(CommandPipeline::new(Arc::clone(&log), PipelineConfig::default()));
        World {
            _dir: dir,
            log,
            pipeline,
            blobs,
        }
    }

    /// A process manager with its own pipeline, as in another process.
    fn extractor(&self) -> TextExtraction {
        let pipeline = Arc::new(CommandPipeline::new(
            Arc::clone(&self.log),
            PipelineConfig::default(),
        ));
        TextExtraction::new(pipeline, Arc::clone(&self.blobs), TextExtractionConfig::default())
    }

    async fn run(&self, command: DocumentCommand) {
        let id = command.document_id().clone();
        let issued = Issued::new(Actor::user("ann"), AT, command);
        self.pipeline
            .execute::<Document>(id.as_str(), &issued, &CommandContext::new(Actor::user("ann")))
            .await
            .expect("command");
    }

    async fn store(&self, id: &str, version: u32, content: &[u8]) -> BlobInfo {
        let key = BlobKey::document_version(&doc(id), version).expect("key");
        self.blobs
            .put(&key, chunked(content, 7), content.len() as u64)
            .await
            .expect("put")
    }

    /// The upload flow: the bytes go to the blob store, the upload is
    /// requested with what the client declared and completed with what the
    /// store measured.
    async fn upload(&self, id: &str, name: &str, content_type: &str, content: &[u8]) {
        let info = self.store(id, 1, content).await;
        self.run(DocumentCommand::RequestUpload(RequestUpload {
            document_id: doc(id),
            name: Name::parse(name).expect("name"),
            content_type: ContentType::parse(content_type).expect("content type"),
            size: info.size,
            sha256: info.sha256.clone(),
            project: None,
        }))
        .await;
        self.run(DocumentCommand::CompleteUpload(CompleteUpload {
            document_id: doc(id),
            size: info.size,
            sha256: info.sha256,
        }))
        .await;
    }

    async fn events(&self, id: &str) -> Vec<Arc<RecordedEvent>> {
        let stream = StreamId::for_aggregate("document", id).expect("stream");
        self.log
            .read_stream(&stream, 0, Direction::Forward, 1000)
            .await
            .expect("read")
    }

    async fn last_of(&self, id: &str, event_type: &str) -> Arc<RecordedEvent> {
        self.events(id)
            .await
            .into_iter()
            .rev()
            .find(|e| e.event_type == event_type)
            .expect("event of that type")
    }

    async fn extracted(&self, id: &str) -> Vec<serde_json::Value> {
        self.events(id)
            .await
            .iter()
            .filter(|e| e.event_type == "document.text_extracted")
            .map(|e| serde_json::from_slice(&e.payload).expect("json"))
            .collect()
    }
}

fn doc(id: &str) -> DocumentId {
    DocumentId::parse(id).expect("id")
}

#[tokio::test]
async fn an_upload_gets_its_text_recorded_once_however_often_it_is_handled() {
    let world = World::new();
    world
        .upload(
            "doc-1",
            "notes.md",
            "text/markdown",
            b"# Plans\n\nShip **search** soon.",
        )
        .await;
    let completed = world.last_of("doc-1", "document.upload_completed").await;
    let extractor = world.extractor();
    assert!(extractor.filter().matches(&completed));

    let first = extractor.handle(&completed).await.expect("handle");
    assert!(
        matches!(first, ExtractionOutcome::Recorded { replayed: false, .. }),
        "{first:?}"
    );
    let again = extractor.handle(&completed).await.expect("handle again");
    assert!(
        matches!(again, ExtractionOutcome::Recorded { replayed: true, .. }),
        "{again:?}"
    );
    // A restarted process (a fresh pipeline) recognises the command too.
    let restarted = world
        .extractor()
        .handle(&completed)
        .await
        .expect("handle after restart");
    assert!(
        matches!(restarted, ExtractionOutcome::Recorded { replayed: true, .. }),
        "{restarted:?}"
    );
    let position = |outcome: &ExtractionOutcome| match outcome {
        ExtractionOutcome::Recorded { position, .. } => Some(*position),
        _ => None,
    };
    assert_eq!(
        position(&again),
        position(&first),
        "a retry reports the first run's position"
    );
    assert_eq!(position(&restarted), position(&first));

    let extracted = world.extracted("doc-1").await;
    assert_eq!(extracted.len(), 1, "{extracted:?}");
    assert_eq!(extracted[0]["document_id"], "doc-1");
    assert_eq!(extracted[0]["version"], 1);
    assert_eq!(extracted[0]["text"], "Plans\n\nShip search soon.");
    assert_eq!(extracted[0]["truncated"], false);

    let recorded = world.last_of("doc-1", "document.text_extracted").await;
    let metadata = &recorded.metadata;
    assert_eq!(metadata.actor, Actor::service("text-extraction"));
    assert_eq!(metadata.causation_id, Some(completed.event_id));
    assert_eq!(metadata.correlation_id, completed.metadata.correlation_id);
    assert_eq!(metadata.command_id.as_deref(), Some("extract:doc-1:v1"));
}

#[tokio::test]
async fn a_new_version_is_extracted_with_its_own_content_type() {
    let world = World::new();
    world
        .upload("doc-2", "report", "application/pdf", b"%PDF-1.7 not text")
        .await;
    let first = world.last_of("doc-2", "document.upload_completed").await;
    assert_eq!(
        world.extractor().handle(&first).await.expect("handle"),
        ExtractionOutcome::Unsupported {
            content_type: "application/pdf".to_owned()
        }
    );

    let html = b"<html><head><script>x()</script></head><body><p>Version <b>two</b></p></body></html>";
    let info = world.store("doc-2", 2, html).await;
    world
        .run(DocumentCommand::RequestNewVersion(RequestNewVersion {
            document_id: doc("doc-2"),
            content_type: ContentType::parse("text/html; charset=utf-8").expect("type"),
            size: info.size,
            sha256: info.sha256.clone(),
        }))
        .await;
    world
        .run(DocumentCommand::CompleteVersion(CompleteVersion {
            document_id: doc("doc-2"),
            version: 2,
            size: info.size,
            sha256: info.sha256,
        }))
        .await;
    let completed = world.last_of("doc-2", "document.version_completed").await;
    let outcome = world.extractor().handle(&completed).await.expect("handle");
    assert!(
        matches!(outcome, ExtractionOutcome::Recorded { .. }),
        "{outcome:?}"
    );
    let extracted = world.extracted("doc-2").await;
    assert_eq!(extracted.len(), 1);
    assert_eq!(
        (extracted[0]["version"].clone(), extracted[0]["text"].clone()),
        (2.into(), "Version two".into())
    );
}

#[tokio::test]
async fn a_missing_blob_binary_content_and_other_events_are_skipped() {
    let world = World::new();
    world.upload("gone", "a.txt", "text/plain", b"soon deleted").await;
    let key = BlobKey::document_version(&doc("gone"), 1).expect("key");
    world.blobs.delete(&key).await.expect("delete blob");
    let completed = world.last_of("gone", "document.upload_completed").await;
    assert_eq!(
        world.extractor().handle(&completed).await.expect("handle"),
        ExtractionOutcome::BlobMissing
    );

    let mut binary = b"\x89PNG\r\n".to_vec();
    binary.extend([0u8; 64]);
    world.upload("bin", "image.txt", "text/plain", &binary).await;
    let completed = world.last_of("bin", "document.upload_completed").await;
    assert_eq!(
        world.extractor().handle(&completed).await.expect("handle"),
        ExtractionOutcome::NotText
    );

    let requested = world.last_of("bin", "document.upload_requested").await;
    assert!(!world.extractor().filter().matches(&requested));
    assert_eq!(
        world.extractor().handle(&requested).await.expect("handle"),
        ExtractionOutcome::Ignored
    );
    assert!(world.extracted("gone").await.is_empty());
    assert!(world.extracted("bin").await.is_empty());
}

#[tokio::test]
async fn text_is_recorded_for_a_document_deleted_meanwhile() {
    let world = World::new();
    world.upload("doc-3", "plan.txt", "text/plain", b"the plan").await;
    let completed = world.last_of("doc-3", "document.upload_completed").await;
    world
        .run(DocumentCommand::Delete(Delete {
            document_id: doc("doc-3"),
        }))
        .await;
    let outcome = world.extractor().handle(&completed).await.expect("handle");
    assert!(
        matches!(outcome, ExtractionOutcome::Recorded { .. }),
        "{outcome:?}"
    );
    assert_eq!(world.extracted("doc-3").await[0]["text"], "the plan");
}
