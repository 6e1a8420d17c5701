//! Errors of the event log port, classified so callers know what to do:
//! conflicts are retried, bad input is reported, storage faults are surfaced.

use quire_domain::StreamId;

use crate::ExpectedVersion;
use uuid::Uuid;

/// Every way an event log call can fail.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// Optimistic concurrency: the stream moved on. Nothing was written.
    #[error("stream {stream} is at version {actual:?}, not the expected {expected:?}")]
    WrongExpectedVersion {
        stream: StreamId,
        expected: ExpectedVersion,
        /// The stream's actual last version (`None`: no stream).
        actual: Option<u64>,
    },
    /// Event ids reused in a way that is not a plain retry.
    #[error("event {event_id} was appended before, but {reason}")]
    IdempotencyConflict { event_id: Uuid, reason: String },
    /// The append itself is malformed (no events, duplicate ids within it).
    #[error("invalid append: {0}")]
    InvalidAppend(String),
    /// One event exceeds the configured maximum size.
    #[error("event {event_id} is {size} bytes, more than the maximum of {max}")]
    EventTooLarge { event_id: Uuid, size: usize, max: usize },
    /// The storage failed (disk full, I/O error); nothing of the failed call
    /// was acknowledged.
    #[error("{context}: {source}")]
    Storage {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// Stored data fails its checks.
    #[error("corrupt log: {0}")]
    Corrupt(String),
    /// The log cannot serve now (closed, or stopped accepting writes after
    /// an unrecoverable storage fault); reads may still work.
    #[error("event log unavailable: {0}")]
    Unavailable(String),
}

impl LogError {
    /// Whether retrying the same call later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, LogError::Unavailable(_) | LogError::Storage { .. })
    }
}
