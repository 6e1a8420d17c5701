//! The event log contract: the port that command handlers append through and
//! projectors, process managers and tools read through.
//!
//! It lives in its own crate because three layers use it (command handlers,
//! projections, gateways) and none of them owns the others. It depends on the
//! domain's envelope types and nothing that performs I/O; backends live in
//! `infra/` and all pass the conformance suite in
//! `infra/event-log-conformance`.
//!
//! # Layout
//! - [`EventLog`] — the trait.
//! - [`ExpectedVersion`], [`AppendResult`], [`Direction`]: append and read
//!   arguments and results.
//! - [`EventFilter`] — category / event-type filters for subscriptions.
//! - [`LogError`] — every way a log call fails, classified for callers.

#![forbid(unsafe_code)]

mod error;
mod filter;

use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use futures_core::Stream;
use quire_domain::{NewEvent, Position, RecordedEvent, StreamId};

pub use error::LogError;
pub use filter::EventFilter;

/// What the writer believes the stream's current version to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExpectedVersion {
    /// Append whatever the stream holds.
    Any,
    /// The stream must not exist yet.
    NoStream,
    /// The stream's last event must have this version (0-based).
    Exact(u64),
}

impl ExpectedVersion {
    /// The expectation matching a stream whose last version is `current`
    /// (`None`: no stream).
    pub fn from_current(current: Option<u64>) -> ExpectedVersion {
        current.map_or(ExpectedVersion::NoStream, ExpectedVersion::Exact)
    }

    /// Whether a stream whose last version is `current` meets the expectation.
    pub fn accepts(self, current: Option<u64>) -> bool {
        match self {
            ExpectedVersion::Any => true,
            ExpectedVersion::NoStream => current.is_none(),
            ExpectedVersion::Exact(version) => current == Some(version),
        }
    }
}

/// Where one append landed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendResult {
    pub stream_id: StreamId,
    /// Stream version of the first appended event.
    pub first_version: u64,
    /// Stream version of the last appended event: the stream's new current
    /// version, to pass as `ExpectedVersion::Exact` next time.
    pub last_version: u64,
    pub first_position: Position,
    /// Global position of the last event; queries wait for it to offer
    /// read-your-writes.
    pub last_position: Position,
}

/// The rule every backend applies to an append's events before anything
/// else: at least one event, and no event id twice.
pub fn check_events(events: &[NewEvent]) -> Result<(), LogError> {
    if events.is_empty() {
        return Err(LogError::InvalidAppend(
            "an append needs at least one event".to_owned(),
        ));
    }
    if events.len() > 1 {
        let mut seen = std::collections::HashSet::with_capacity(events.len());
        if let Some(event) = events.iter().find(|e| !seen.insert(e.event_id)) {
            return Err(LogError::InvalidAppend(format!(
                "event id {} appears twice in one append",
                event.event_id
            )));
        }
    }
    Ok(())
}

/// Reading order within a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    Forward,
    Backward,
}

/// `from_version` for a backward read that starts at the stream's last event.
pub const LAST_VERSION: u64 = u64::MAX;

/// A live feed of committed events in global order.
pub type EventStream = Pin<Box<dyn Stream<Item = Result<Arc<RecordedEvent>, LogError>> + Send>>;

/// The event log: the only source of truth.
///
/// Positions strictly increase in commit order. A backend may leave gaps
/// between positions; the embedded log does not.
#[async_trait]
pub trait EventLog: Send + Sync + 'static {
    /// Appends `events` to `stream` atomically if the stream's version meets
    /// `expected`. Returns once the events are durable.
    ///
    /// If every event id was already appended by an earlier call (a retry),
    /// nothing is written and that call's result is returned. Reusing some
    /// ids but not all, or ids of another stream, is
    /// [`LogError::IdempotencyConflict`].
    async fn append(
        &self,
        stream: &StreamId,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendResult, LogError>;

    /// Reads up to `limit` events of one stream, starting at `from_version`
    /// (inclusive) and going in `direction`. A missing stream reads as empty.
    async fn read_stream(
        &self,
        stream: &StreamId,
        from_version: u64,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<Arc<RecordedEvent>>, LogError>;

    /// Reads up to `limit` events in global order with `position >= from`.
    async fn read_all(&self, from: Position, limit: usize) -> Result<Vec<Arc<RecordedEvent>>, LogError>;

    /// The position of the last committed event (`Position::ZERO` if none).
    async fn head(&self) -> Result<Position, LogError>;

    /// The stream's current (last) version, `None` if it has no events.
    async fn stream_version(&self, stream: &StreamId) -> Result<Option<u64>, LogError>;

    /// Every committed event with `position >= from` that passes `filter`:
    /// first those already in the log, then new ones as they commit, in
    /// global order. Delivery is at-least-once across reconnects; one stream
    /// never repeats or skips an event.
    fn subscribe(&self, from: Position, filter: EventFilter) -> EventStream;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_version_accepts_only_matching_current() {
        assert!(ExpectedVersion::Any.accepts(None));
        assert!(ExpectedVersion::Any.accepts(Some(3)));
        assert!(ExpectedVersion::NoStream.accepts(None));
        assert!(!ExpectedVersion::NoStream.accepts(Some(0)));
        assert!(ExpectedVersion::Exact(3).accepts(Some(3)));
        assert!(!ExpectedVersion::Exact(3).accepts(Some(4)));
        assert!(!ExpectedVersion::Exact(0).accepts(None));
    }
}
