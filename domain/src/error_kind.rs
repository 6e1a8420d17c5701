//! The coarse classes of domain errors, shared by every aggregate so that
//! gateways can map any rejection to a transport status (gRPC code) without
//! knowing the aggregate.

use std::fmt;

/// How a caller should handle a rejected command.
///
/// Every aggregate error has a `kind()` returning one of these; each name
/// matches the gRPC status code it maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The command is malformed whatever the state: fix the input, do not retry.
    InvalidArgument,
    /// The aggregate (or an entity inside it, e.g. a message) does not exist.
    NotFound,
    /// The actor may not do this.
    PermissionDenied,
    /// The command is well formed but the current state forbids it (e.g. the
    /// document is deleted); retrying only helps after the state changes.
    FailedPrecondition,
    /// Creation of something that already exists.
    AlreadyExists,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            ErrorKind::InvalidArgument => "invalid argument",
            ErrorKind::NotFound => "not found",
            ErrorKind::PermissionDenied => "permission denied",
            ErrorKind::FailedPrecondition => "failed precondition",
            ErrorKind::AlreadyExists => "already exists",
        };
        f.write_str(text)
    }
}
