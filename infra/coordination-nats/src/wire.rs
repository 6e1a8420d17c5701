//! The JSON messages of the progress and control subjects.
//!
//! JSON rather than a binary codec: these are small, infrequent next to the
//! event log's traffic, and an operator can read them with `nats sub`.

use quire_domain::Position;
use quire_projections::error::ControlError;
use quire_projections::fleet::FleetError;
use quire_projections::{DeadLetter, ProjectorStatus};
use serde::{Deserialize, Serialize};

/// Published by the process running a projector: after every apply with
/// only the checkpoint, and every heartbeat with the full status too.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// The projector's name.
    pub projector: String,
    /// The process holding its lease.
    pub holder: String,
    /// Everything up to here is applied and visible to queries.
    pub checkpoint: Position,
    /// The full status, on heartbeats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ProjectorStatus>,
}

/// A request to the holder of a projector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum ControlRequest {
    Status,
    DeadLetters,
    Redrive { position: Position },
    Discard { position: Position },
    Rebuild,
}

/// The holder's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "result", content = "value", rename_all = "snake_case")]
pub enum ControlReply {
    Status(ProjectorStatus),
    DeadLetters(Vec<DeadLetter>),
    Done,
    Discarded(bool),
    Failed(RemoteError),
}

/// A [`ControlError`] as it crosses the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RemoteError {
    Stopped { projector: String },
    NoDeadLetter { position: Position },
    EventMissing { position: Position },
    RedriveFailed { position: Position, error: String },
    Other { message: String },
}

impl From<ControlError> for RemoteError {
    fn from(error: ControlError) -> RemoteError {
        match error {
            ControlError::Stopped(projector) => RemoteError::Stopped { projector },
            ControlError::NoDeadLetter(position) => RemoteError::NoDeadLetter { position },
            ControlError::EventMissing(position) => RemoteError::EventMissing { position },
            ControlError::RedriveFailed { position, error } => RemoteError::RedriveFailed { position, error },
            other => RemoteError::Other {
                message: other.to_string(),
            },
        }
    }
}

impl From<RemoteError> for FleetError {
    fn from(error: RemoteError) -> FleetError {
        match error {
            RemoteError::Stopped { projector } => FleetError::Control(ControlError::Stopped(projector)),
            RemoteError::NoDeadLetter { position } => {
                FleetError::Control(ControlError::NoDeadLetter(position))
            }
            RemoteError::EventMissing { position } => {
                FleetError::Control(ControlError::EventMissing(position))
            }
            RemoteError::RedriveFailed { position, error } => {
                FleetError::Control(ControlError::RedriveFailed { position, error })
            }
            RemoteError::Other { message } => FleetError::Unavailable(message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_replies_round_trip_as_json() {
        let request = ControlRequest::Redrive {
            position: Position(7),
        };
        let json = serde_json::to_string(&request).expect("json");
        assert_eq!(json, r#"{"op":"redrive","position":7}"#);
        assert_eq!(
            serde_json::from_str::<ControlRequest>(&json).expect("read"),
            request
        );

        let reply = ControlReply::Failed(RemoteError::NoDeadLetter {
            position: Position(3),
        });
        let json = serde_json::to_vec(&reply).expect("json");
        assert_eq!(
            serde_json::from_slice::<ControlReply>(&json).expect("read"),
            reply
        );
        assert!(matches!(
            FleetError::from(RemoteError::NoDeadLetter {
                position: Position(3)
            }),
            FleetError::Control(ControlError::NoDeadLetter(Position(3)))
        ));
    }
}
