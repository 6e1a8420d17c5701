//! The text-extraction process manager: when a document version's content
//! is stored (`document.upload_completed`, `document.version_completed`),
//! read the blob, extract its plain text and record it with
//! `RecordExtractedText`, which the search projector indexes.
//!
//! Idempotent: the command id is `extract:<document_id>:v<version>`, so a
//! redelivered event is answered from the first run's events. Content types
//! without an extractor, binary content and blobs that are gone are skipped
//! (logged); storage and log failures are errors for the caller to retry.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use futures::StreamExt;
use quire_domain::document::{Document, DocumentCommand, DocumentError, DocumentEvent, RecordExtractedText};
use quire_domain::{
    Actor, DocumentId, EventDecodeError, Issued, Position, RecordedEvent, StreamId, Timestamp,
};
use quire_event_log::{Direction, EventFilter, LogError};
use tracing::{debug, info, warn};

use crate::blobs::{BlobError, BlobKey, BlobStore, BlobStream};
use crate::context::CommandContext;
use crate::error::CommandError;
use crate::extraction::{ExtractError, Format, extract_format};
use crate::pipeline::CommandPipeline;

/// The service name the commands are issued as.
pub const SERVICE: &str = "text-extraction";

const UPLOAD_COMPLETED: &str = "document.upload_completed";
const VERSION_COMPLETED: &str = "document.version_completed";

/// Events read per page while looking up a version's declaration.
const HISTORY_PAGE: usize = 256;

/// Tuning of the process manager.
#[derive(Debug, Clone)]
pub struct TextExtractionConfig {
    /// Bytes of a blob read at most; text is extracted from that prefix of a
    /// larger blob (the recorded text is capped at 1 MiB anyway).
    pub max_input_bytes: usize,
}

impl Default for TextExtractionConfig {
    fn default() -> Self {
        TextExtractionConfig {
            max_input_bytes: 16 * 1024 * 1024,
        }
    }
}

/// What handling one event did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtractionOutcome {
    /// Not an event this process manager reacts to.
    Ignored,
    /// No extractor for the version's content type.
    Unsupported { content_type: String },
    /// Declared as text, but the content is binary.
    NotText,
    /// The blob is gone (purged, or never stored).
    BlobMissing,
    /// The text was recorded (or, on a redelivery, had been).
    Recorded { position: Position, replayed: bool },
}

/// Why an event could not be handled; [`is_transient`] says whether a
/// retry may help.
///
/// [`is_transient`]: TextExtractionError::is_transient
#[derive(Debug, thiserror::Error)]
pub enum TextExtractionError {
    #[error("cannot decode the triggering event: {0}")]
    Decode(#[from] EventDecodeError),
    #[error("reading the history of {stream}: {source}")]
    Log {
        stream: StreamId,
        #[source]
        source: LogError,
    },
    #[error("{stream} has no upload request for version {version}")]
    NoRequest { stream: StreamId, version: u32 },
    #[error("reading the blob: {0}")]
    Blob(#[from] BlobError),
    #[error("recording the text: {0}")]
    Command(#[from] CommandError<DocumentError>),
}

impl TextExtractionError {
    /// Storage, log and concurrency failures; not bad data or rejections.
    pub fn is_transient(&self) -> bool {
        match self {
            TextExtractionError::Log { .. } => true,
            TextExtractionError::Blob(error) => error.is_transient(),
            TextExtractionError::Command(error) => {
                matches!(error, CommandError::Log(_) | CommandError::Conflict { .. })
            }
            TextExtractionError::Decode(_) | TextExtractionError::NoRequest { .. } => false,
        }
    }
}

/// How a version was declared: what its extractor is chosen by.
struct Declared {
    content_type: String,
    name: String,
}

/// The text-extraction process manager.
pub struct TextExtraction {
    pipeline: Arc<CommandPipeline>,
    blobs: Arc<dyn BlobStore>,
    config: TextExtractionConfig,
}

impl std::fmt::Debug for TextExtraction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextExtraction")
            .field("config", &self.config)
            .finish()
    }
}

impl TextExtraction {
    pub fn new(
        pipeline: Arc<CommandPipeline>,
        blobs: Arc<dyn BlobStore>,
        config: TextExtractionConfig,
    ) -> Self {
        TextExtraction {
            pipeline,
            blobs,
            config,
        }
    }

    /// Stable name, for the projector adapter's checkpoint and metrics.
    pub fn name(&self) -> &'static str {
        SERVICE
    }

    /// The events [`handle`](Self::handle) reacts to.
    pub fn filter(&self) -> EventFilter {
        EventFilter::categories(["document"]).with_event_types([UPLOAD_COMPLETED, VERSION_COMPLETED])
    }

    /// Reacts to one event of the log; any other event is
    /// [`ExtractionOutcome::Ignored`].
    pub async fn handle(&self, event: &RecordedEvent) -> Result<ExtractionOutcome, TextExtractionError> {
        if event.event_type != UPLOAD_COMPLETED && event.event_type != VERSION_COMPLETED {
            return Ok(ExtractionOutcome::Ignored);
        }
        let (document_id, version) = match event.decode::<DocumentEvent>()? {
            DocumentEvent::UploadCompleted(e) => (e.document_id, e.version),
            DocumentEvent::VersionCompleted(e) => (e.document_id, e.version),
            _ => return Ok(ExtractionOutcome::Ignored),
        };
        let declared = self.declared(event, version).await?;
        let Some(format) = Format::detect(&declared.content_type, Some(&declared.name)) else {
            debug!(document_id = %document_id, version, content_type = %declared.content_type,
                "no text extractor for this content type");
            return Ok(ExtractionOutcome::Unsupported {
                content_type: declared.content_type,
            });
        };
        let Some(content) = self.read_blob(&document_id, version).await? else {
            return Ok(ExtractionOutcome::BlobMissing);
        };
        let text = match extract_format(format, &content) {
            Ok(text) => text,
            Err(ExtractError::Binary) => {
                info!(document_id = %document_id, version, content_type = %declared.content_type,
                    "content declared as text is binary; no text recorded");
                return Ok(ExtractionOutcome::NotText);
            }
            Err(ExtractError::Unsupported { content_type }) => {
                return Ok(ExtractionOutcome::Unsupported { content_type });
            }
        };
        self.record(event, document_id, version, text).await
    }

    /// The content type the version was declared with, and the document's
    /// name at the time, from the stream up to the triggering event.
    async fn declared(&self, event: &RecordedEvent, version: u32) -> Result<Declared, TextExtractionError> {
        let stream = &event.stream_id;
        let log_error = |source| TextExtractionError::Log {
            stream: stream.clone(),
            source,
        };
        let (mut name, mut content_type) = (None, None);
        let mut from = 0;
        'pages: loop {
            let page = self
                .pipeline
                .log()
                .read_stream(stream, from, Direction::Forward, HISTORY_PAGE)
                .await
                .map_err(log_error)?;
            for recorded in &page {
                if recorded.stream_version >= event.stream_version {
                    break 'pages;
                }
                match recorded.decode::<DocumentEvent>()? {
                    DocumentEvent::UploadRequested(e) => {
                        name = Some(e.name.to_string());
                        if version == 1 {
                            content_type = Some(e.content_type.to_string());
                        }
                    }
                    DocumentEvent::VersionRequested(e) if e.version == version => {
                        content_type = Some(e.content_type.to_string());
                    }
                    DocumentEvent::Renamed(e) => name = Some(e.name.to_string()),
                    _ => {}
                }
            }
            if page.len() < HISTORY_PAGE {
                break;
            }
            from += HISTORY_PAGE as u64;
        }
        match (content_type, name) {
            (Some(content_type), Some(name)) => Ok(Declared { content_type, name }),
            _ => Err(TextExtractionError::NoRequest {
                stream: stream.clone(),
                version,
            }),
        }
    }

    /// The blob's first `max_input_bytes`, or `None` if it is gone.
    async fn read_blob(&self, document_id: &DocumentId, version: u32) -> Result<Option<Vec<u8>>, BlobError> {
        let key = match BlobKey::document_version(document_id, version) {
            Ok(key) => key,
            Err(error) => {
                warn!(document_id = %document_id, version, %error, "document id cannot name a blob; skipped");
                return Ok(None);
            }
        };
        let stream = match self.blobs.get(&key).await {
            Ok(stream) => stream,
            Err(BlobError::NotFound { .. }) => {
                warn!(document_id = %document_id, version, key = %key, "blob is gone; no text extracted");
                return Ok(None);
            }
            Err(error) => return Err(error),
        };
        let (content, cut) = read_prefix(stream, self.config.max_input_bytes).await?;
        if cut {
            info!(document_id = %document_id, version, max_input_bytes = self.config.max_input_bytes,
                "blob larger than the extraction input limit; extracting from its start");
        }
        Ok(Some(content))
    }

    async fn record(
        &self,
        event: &RecordedEvent,
        document_id: DocumentId,
        version: u32,
        text: String,
    ) -> Result<ExtractionOutcome, TextExtractionError> {
        let context = CommandContext {
            command_id: command_id(&document_id, version),
            actor: Actor::service(SERVICE),
            correlation_id: event.metadata.correlation_id,
            causation_id: Some(event.event_id),
            traceparent: event.metadata.traceparent.clone(),
        };
        let text_bytes = text.len();
        let command = Issued::new(
            Actor::service(SERVICE),
            now(),
            DocumentCommand::RecordExtractedText(RecordExtractedText {
                document_id: document_id.clone(),
                version,
                text,
            }),
        );
        let outcome = self
            .pipeline
            .execute::<Document>(document_id.as_str(), &command, &context)
            .await?;
        info!(document_id = %document_id, version, text_bytes, position = %outcome.position,
            replayed = outcome.replayed, "recorded extracted text");
        Ok(ExtractionOutcome::Recorded {
            position: outcome.position,
            replayed: outcome.replayed,
        })
    }
}

/// `extract:<document_id>:v<version>`, with the id shortened if the whole
/// would exceed the longest command id: ids only need to be unique within
/// the document's stream, which the version alone ensures.
pub fn command_id(document_id: &DocumentId, version: u32) -> String {
    let suffix = format!(":v{version}");
    let room = CommandContext::MAX_COMMAND_ID_LEN - "extract:".len() - suffix.len();
    let id = document_id.as_str();
    let mut end = id.len().min(room);
    while !id.is_char_boundary(end) {
        end -= 1;
    }
    format!("extract:{}{suffix}", &id[..end])
}

/// The first `max` bytes of a blob, and whether there was more.
async fn read_prefix(mut stream: BlobStream, max: usize) -> Result<(Vec<u8>, bool), BlobError> {
    let mut content = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        let room = max - content.len();
        if chunk.len() > room {
            content.extend_from_slice(&chunk[..room]);
            return Ok((content, true));
        }
        content.extend_from_slice(&chunk);
    }
    Ok((content, false))
}

fn now() -> Timestamp {
    let micros = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| {
        i64::try_from(elapsed.as_micros()).unwrap_or(i64::MAX)
    });
    Timestamp::from_unix_micros(micros)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_ids_are_deterministic_and_fit() {
        let id = DocumentId::parse("0193-abc").unwrap();
        assert_eq!(command_id(&id, 2), "extract:0193-abc:v2");
        let long = DocumentId::parse(&"é".repeat(64)).unwrap();
        let made = command_id(&long, u32::MAX);
        assert!(made.len() <= CommandContext::MAX_COMMAND_ID_LEN);
        assert!(made.ends_with(":v4294967295"));
        assert_eq!(made, command_id(&long, u32::MAX));
    }
}
