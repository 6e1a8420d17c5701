//! The one place where Quire's errors become gRPC statuses.
//!
//! Bad input is `InvalidArgument` naming the field; a missing (or hidden)
//! thing is `NotFound`; a rule about who may do what is `PermissionDenied`;
//! a rule about the current state is `FailedPrecondition`; a version
//! conflict that retries could not settle is `Aborted`; a storage fault is
//! `Unavailable` or `Internal`.

use quire_command_handlers::CommandError;
use quire_domain::error_kind::ErrorKind;
use quire_event_log::LogError;
use quire_projections::error::{ControlError, WaitTimeout};
use quire_projections::fleet::FleetError;
use quire_projections::query::QueryError;
use tonic::{Code, Status};
use tracing::error;

/// A domain error that knows its kind.
pub trait Classified: std::error::Error {
    fn kind(&self) -> ErrorKind;
}

/// The status for a domain error kind.
pub fn code_of(kind: ErrorKind) -> Code {
    match kind {
        ErrorKind::InvalidArgument => Code::InvalidArgument,
        ErrorKind::NotFound => Code::NotFound,
        ErrorKind::PermissionDenied => Code::PermissionDenied,
        ErrorKind::FailedPrecondition => Code::FailedPrecondition,
        ErrorKind::AlreadyExists => Code::AlreadyExists,
    }
}

pub fn from_log(error: LogError) -> Status {
    match error {
        LogError::WrongExpectedVersion { .. } => Status::aborted(error.to_string()),
        LogError::IdempotencyConflict { .. } => Status::failed_precondition(error.to_string()),
        LogError::InvalidAppend(_) | LogError::EventTooLarge { .. } => {
            Status::invalid_argument(error.to_string())
        }
        LogError::Unavailable(_) | LogError::Storage { .. } => Status::unavailable(error.to_string()),
        LogError::Corrupt(_) => {
            error!(%error, "event log corruption reached a request");
            Status::internal("the event log is damaged; see the server log")
        }
    }
}

pub fn from_command<E: Classified + Send + Sync + 'static>(error: CommandError<E>) -> Status {
    match error {
        CommandError::Rejected(rejection) => Status::new(code_of(rejection.kind()), rejection.to_string()),
        CommandError::Invalid(message) => Status::invalid_argument(message),
        CommandError::Conflict { .. } => Status::aborted(error.to_string()),
        CommandError::Undecodable { .. } => {
            error!(%error, "stored event cannot be decoded");
            Status::internal("a stored event cannot be read by this version of quire")
        }
        CommandError::Log(log) => from_log(log),
    }
}

pub fn from_query(error: QueryError) -> Status {
    match error {
        QueryError::InvalidArgument(message) => Status::invalid_argument(message),
        QueryError::NotFound(message) => Status::not_found(message),
        QueryError::PermissionDenied(message) => Status::permission_denied(message),
        QueryError::Unavailable(message) => Status::unavailable(message),
    }
}

pub fn from_wait(error: WaitTimeout) -> Status {
    Status::deadline_exceeded(format!(
        "read model did not reach the requested min_position: {error}"
    ))
}

/// A request to the projectors: a wait that timed out, a projector that
/// does not exist or cannot be reached, or a control request it refused.
pub fn from_fleet(error: FleetError) -> Status {
    match error {
        FleetError::Timeout(wait) => from_wait(wait),
        FleetError::Unknown(_) => Status::not_found(error.to_string()),
        FleetError::Unavailable(_) => Status::unavailable(error.to_string()),
        FleetError::Control(control) => from_control(control),
    }
}

/// A control request a projector refused or failed.
pub fn from_control(error: ControlError) -> Status {
    match error {
        ControlError::NoDeadLetter(_) | ControlError::EventMissing(_) => Status::not_found(error.to_string()),
        ControlError::Stopped(_) => Status::failed_precondition(error.to_string()),
        other => Status::unavailable(other.to_string()),
    }
}

/// `InvalidArgument` naming the offending field.
pub fn invalid(field: &str, reason: impl std::fmt::Display) -> Status {
    Status::invalid_argument(format!("{field}: {reason}"))
}
