//! Errors of opening the log, and the mapping of NATS failures onto the
//! port's [`LogError`].

use std::fmt::Display;

use quire_event_log::LogError;

use crate::config::InvalidConfig;

/// Why the log could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("invalid JetStream event log configuration: {0}")]
    Config(#[from] InvalidConfig),
    #[error("cannot connect to NATS at {servers}: {source}")]
    Connect {
        servers: String,
        #[source]
        source: async_nats::ConnectError,
    },
    #[error("NATS at {servers}: cannot open the JetStream stream {stream}: {reason}")]
    Stream {
        servers: String,
        stream: String,
        reason: String,
    },
}

impl From<OpenError> for LogError {
    fn from(error: OpenError) -> LogError {
        match error {
            OpenError::Config(invalid) => {
                LogError::InvalidAppend(format!("invalid configuration: {invalid}"))
            }
            other => LogError::Unavailable(other.to_string()),
        }
    }
}

/// The server could not be reached or did not answer: transient.
pub fn unavailable(servers: &str, what: &str, error: impl Display) -> LogError {
    LogError::Unavailable(format!("NATS JetStream at {servers}: {what}: {error}"))
}

/// A stored message this crate cannot read.
pub fn corrupt(stream: &str, seq: u64, error: impl Display) -> LogError {
    LogError::Corrupt(format!("JetStream stream {stream}, message {seq}: {error}"))
}
