//! The projector contract: what the runtime asks of every read model's
//! writer ([`Projector`]) and how a projector is named ([`ProjectorId`]).

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use quire_domain::{Position, RecordedEvent};
use quire_event_log::EventFilter;
use serde::{Deserialize, Serialize};

use crate::error::ProjectionError;

/// A projector's identity: its name and the version of its read model.
///
/// Two versions of one projector are distinct projectors with their own
/// checkpoints and dead letters, so a new version can be built beside the
/// live one and swapped in when caught up.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ProjectorId {
    pub name: String,
    pub version: u32,
}

impl ProjectorId {
    pub fn new(name: impl Into<String>, version: u32) -> ProjectorId {
        ProjectorId {
            name: name.into(),
            version,
        }
    }
}

impl fmt::Display for ProjectorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@v{}", self.name, self.version)
    }
}

/// Builds one read model from the log. The runner feeds it batches of the
/// events its [`filter`](Projector::filter) matches, in global order.
///
/// # Checkpoints
///
/// The projector owns its checkpoint, because only its store knows how to
/// write it together with its changes:
///
/// - a **transactional** store (Postgres) writes the batch's changes and the
///   `checkpoint` in one transaction, and reads it back in
///   [`load_checkpoint`](Projector::load_checkpoint);
/// - any **other** store writes idempotently: every row remembers the
///   position (or stream version) of the last event applied to it and a
///   write for an older or equal one is skipped; it then saves the
///   checkpoint, typically in a [`CheckpointStore`](crate::CheckpointStore).
///   A crash between the two replays the batch, and the guards make the
///   replay a no-op.
///
/// Either way, a crash at any point converges to the same read model as a
/// clean replay.
///
/// # What the runner promises
///
/// - calls never overlap: one `apply`, `reset` or re-drive at a time;
/// - `checkpoint` never decreases between resets. It is at least the
///   position of the last event of `events`, and may be greater: the runner
///   has also scanned past events the filter rejected. `events` may be empty,
///   to move the checkpoint across a stretch of unmatched events;
/// - a re-driven dead letter arrives alone with an **unchanged** checkpoint
///   higher than its position, so guards must be per row, never a global
///   "position <= checkpoint means already applied".
#[async_trait]
pub trait Projector: Send + Sync + 'static {
    /// Stable name, used in checkpoints, dead letters, logs and metrics
    /// labels. Letters, digits, `-`, `_` and `.` keep file names readable.
    fn name(&self) -> &str;

    /// Version of the read model's shape; bump it to build a new one.
    fn version(&self) -> u32;

    /// The events this projector wants. The runner reads everything and
    /// applies this filter itself, so it knows how far it has scanned.
    fn filter(&self) -> EventFilter;

    /// The last checkpoint saved by [`apply`](Projector::apply), or
    /// `Position::ZERO` if none (fresh or reset store).
    async fn load_checkpoint(&self) -> Result<Position, ProjectionError>;

    /// Applies `events` (possibly none) and saves `checkpoint`, atomically if
    /// the store can, idempotently otherwise.
    ///
    /// An error fails the whole call: the runner retries, then isolates the
    /// events one by one. Return a
    /// [transient](ProjectionError::is_transient) error when the store rather
    /// than the events is at fault.
    async fn apply(&self, events: &[Arc<RecordedEvent>], checkpoint: Position)
    -> Result<(), ProjectionError>;

    /// Empties the read model and its checkpoint (afterwards
    /// `load_checkpoint` returns `Position::ZERO`), for a rebuild.
    async fn reset(&self) -> Result<(), ProjectionError>;

    /// This projector's identity.
    fn id(&self) -> ProjectorId {
        ProjectorId::new(self.name(), self.version())
    }
}
