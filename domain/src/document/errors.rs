//! Why a document command is rejected, and how a caller should treat it.

use crate::error_kind::ErrorKind;
use crate::values::{DocumentId, Sha256};

/// A rejected document command. [`DocumentError::kind`] says how to handle it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    #[error("document `{0}` does not exist")]
    NotFound(DocumentId),
    #[error("document `{0}` already exists")]
    AlreadyExists(DocumentId),
    #[error("permission denied: {reason}")]
    PermissionDenied { reason: &'static str },
    #[error("invalid {field}: {reason}")]
    InvalidArgument { field: &'static str, reason: String },
    #[error("the document is deleted; only restoring it is possible")]
    Deleted,
    #[error("the document is not deleted")]
    NotDeleted,
    #[error("the first upload of the document is not completed yet")]
    UploadPending,
    #[error("the first upload of the document is already completed")]
    UploadAlreadyCompleted,
    #[error("no upload of version {version} is pending")]
    NoPendingVersion { version: u32 },
    #[error("the blob store measured {measured} bytes, but {declared} were declared")]
    SizeMismatch { declared: u64, measured: u64 },
    #[error("the blob store measured sha256 {measured}, but {declared} was declared")]
    ChecksumMismatch { declared: Sha256, measured: Sha256 },
    #[error("version {version} of the document is not completed")]
    VersionNotCompleted { version: u32 },
}

impl DocumentError {
    /// The class of the error, for mapping to a transport status.
    pub fn kind(&self) -> ErrorKind {
        match self {
            DocumentError::NotFound(_) => ErrorKind::NotFound,
            DocumentError::AlreadyExists(_) => ErrorKind::AlreadyExists,
            DocumentError::PermissionDenied { .. } => ErrorKind::PermissionDenied,
            // The uploaded content is the command's argument.
            DocumentError::InvalidArgument { .. }
            | DocumentError::SizeMismatch { .. }
            | DocumentError::ChecksumMismatch { .. } => ErrorKind::InvalidArgument,
            DocumentError::Deleted
            | DocumentError::NotDeleted
            | DocumentError::UploadPending
            | DocumentError::UploadAlreadyCompleted
            | DocumentError::NoPendingVersion { .. }
            | DocumentError::VersionNotCompleted { .. } => ErrorKind::FailedPrecondition,
        }
    }

    pub(super) fn denied(reason: &'static str) -> DocumentError {
        DocumentError::PermissionDenied { reason }
    }
}
