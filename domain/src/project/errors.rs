//! Why a project command is rejected, and how a caller should treat it.

use crate::error_kind::ErrorKind;
use crate::values::ProjectId;

/// A rejected project command. [`ProjectError::kind`] says how to handle it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProjectError {
    #[error("project `{0}` does not exist")]
    NotFound(ProjectId),
    #[error("project `{0}` already exists")]
    AlreadyExists(ProjectId),
    #[error("permission denied: {reason}")]
    PermissionDenied { reason: &'static str },
    #[error("invalid {field}: {reason}")]
    InvalidArgument { field: &'static str, reason: String },
    #[error("the project is deleted")]
    Deleted,
    #[error("moving the project under `{target}` would nest it in itself")]
    Cycle { target: ProjectId },
}

impl ProjectError {
    /// The class of the error, for mapping to a transport status.
    pub fn kind(&self) -> ErrorKind {
        match self {
            ProjectError::NotFound(_) => ErrorKind::NotFound,
            ProjectError::AlreadyExists(_) => ErrorKind::AlreadyExists,
            ProjectError::PermissionDenied { .. } => ErrorKind::PermissionDenied,
            ProjectError::InvalidArgument { .. } => ErrorKind::InvalidArgument,
            ProjectError::Deleted | ProjectError::Cycle { .. } => ErrorKind::FailedPrecondition,
        }
    }
}
