//! Why a command failed, classified so the edge can answer correctly.

use quire_domain::{EventDecodeError, InvalidStreamId, StreamId};
use quire_event_log::LogError;

/// A command that did not go through. `E` is the aggregate's domain error.
#[derive(Debug, thiserror::Error)]
pub enum CommandError<E: std::error::Error + 'static> {
    /// The aggregate refused the command (a business rule, a permission).
    #[error(transparent)]
    Rejected(E),
    /// The command's envelope is malformed (bad aggregate id, command id).
    #[error("invalid command: {0}")]
    Invalid(String),
    /// Other writers kept changing the stream; every attempt conflicted.
    #[error("stream {stream} kept changing under the command; gave up after {attempts} attempts")]
    Conflict { stream: StreamId, attempts: u32 },
    /// A stored event of the stream cannot be decoded by this version of
    /// the code.
    #[error("stream {stream} holds an event this version cannot read: {source}")]
    Undecodable {
        stream: StreamId,
        #[source]
        source: EventDecodeError,
    },
    /// The event log failed.
    #[error(transparent)]
    Log(#[from] LogError),
}

impl<E: std::error::Error + 'static> From<InvalidStreamId> for CommandError<E> {
    fn from(error: InvalidStreamId) -> Self {
        CommandError::Invalid(format!("aggregate id: {error}"))
    }
}
