//! [`BlobError`]: every way a blob store call fails.

use std::io;

/// A failed blob store call.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// No blob is stored under the key.
    #[error("no blob is stored under `{key}`")]
    NotFound { key: String },
    /// The body exceeded the size the put allowed; nothing was stored.
    #[error("the blob is larger than the allowed {max} bytes")]
    TooLarge { max: u64 },
    /// The key is not a valid [`BlobKey`](super::BlobKey).
    #[error("invalid blob key `{key}`: {reason}")]
    InvalidKey { key: String, reason: &'static str },
    /// The body stream failed (the client disconnected or sent a broken
    /// body); nothing was stored. The caller's fault, not the store's.
    #[error("the upload stream failed: {source}")]
    Aborted {
        #[source]
        source: io::Error,
    },
    /// The storage failed.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
}

impl BlobError {
    /// An [`BlobError::Io`] with what was being done.
    pub fn io(context: impl Into<String>, source: io::Error) -> BlobError {
        BlobError::Io {
            context: context.into(),
            source,
        }
    }

    /// Whether retrying the same call may succeed (storage faults only).
    pub fn is_transient(&self) -> bool {
        matches!(self, BlobError::Io { .. })
    }
}
