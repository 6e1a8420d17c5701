//! Errors of the projector runtime: what a projector's store reports
//! ([`ProjectionError`]), what a control request through a handle reports
//! ([`ControlError`]) and what a bounded read-your-writes wait reports
//! ([`WaitTimeout`]).

use std::time::Duration;

use quire_domain::Position;
use quire_event_log::LogError;

/// A projector's store (or a checkpoint / dead-letter store) failed.
///
/// The runner treats the two families differently:
/// - [`is_transient`](ProjectionError::is_transient) errors blame the store,
///   not the event (database down, disk full). They are retried with backoff
///   for as long as it takes and never send an event to the dead-letter list,
///   so an outage does not dead-letter the whole log.
/// - every other error blames the event. After the configured number of
///   attempts the event goes to the dead-letter list.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    /// The store cannot be reached or cannot write now.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Applying the events failed for a reason tied to them (bad payload,
    /// constraint violation, bug in the projector).
    #[error("{0}")]
    Apply(String),
    /// A local file could not be read or written.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// Stored data (a checkpoint or dead-letter file) fails to parse.
    #[error("corrupt store data: {0}")]
    Corrupt(String),
    /// The store's checkpoint is behind one this process read or saved: the
    /// store lost state (a Redis restarted without persistence, a backup
    /// restored, a reset by another instance). Nothing of the batch was
    /// applied; the runner starts again from the store's checkpoint.
    #[error("store rewound to checkpoint {stored} (this instance had seen {seen})")]
    Rewound { stored: Position, seen: Position },
}

impl ProjectionError {
    /// An error tied to the events being applied.
    pub fn apply(message: impl Into<String>) -> ProjectionError {
        ProjectionError::Apply(message.into())
    }

    /// The store cannot serve now; retried without counting against events.
    pub fn unavailable(message: impl Into<String>) -> ProjectionError {
        ProjectionError::Unavailable(message.into())
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> ProjectionError {
        ProjectionError::Io {
            context: context.into(),
            source,
        }
    }

    /// Whether the store, rather than the events, is at fault: such errors
    /// are retried indefinitely and never dead-letter an event.
    pub fn is_transient(&self) -> bool {
        matches!(self, ProjectionError::Unavailable(_) | ProjectionError::Io { .. })
    }
}

/// A request sent to a running projector through its handle failed.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// The runner has stopped (or failed) and accepts no more requests.
    #[error("projector {0} is not running")]
    Stopped(String),
    /// No dead letter at this position.
    #[error("no dead letter at position {0}")]
    NoDeadLetter(Position),
    /// The dead-lettered event is no longer in the log at its position.
    #[error("event {0} is no longer in the log")]
    EventMissing(Position),
    /// The re-driven event failed again; it stays on the dead-letter list
    /// with this error.
    #[error("re-drive of position {position} failed: {error}")]
    RedriveFailed { position: Position, error: String },
    /// Resetting the projector's store for a rebuild failed; the projector
    /// carries on from where it was.
    #[error("reset failed: {0}")]
    ResetFailed(#[source] ProjectionError),
    /// A store (dead letters) failed.
    #[error(transparent)]
    Store(#[from] ProjectionError),
    /// The event log failed.
    #[error(transparent)]
    Log(#[from] LogError),
}

/// `wait_for` did not see the projector reach the position in time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "projector {projector} is at {reached}, not {wanted}{}",
    if *stopped { " and is not running".to_owned() } else { format!(", after {timeout:?}") }
)]
pub struct WaitTimeout {
    pub projector: String,
    /// The position waited for.
    pub wanted: Position,
    /// How far the projector had got.
    pub reached: Position,
    /// How long the caller waited.
    pub timeout: Duration,
    /// The runner is not running, so waiting longer would not help; the
    /// wait returned before its timeout.
    pub stopped: bool,
}
