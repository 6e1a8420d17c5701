//! What a projector reports about itself: its [`ProjectorState`], the
//! [`ProjectorStatus`] snapshot handed out by its handle, and the shared
//! cell and throughput meter the runner keeps them in.

use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

use parking_lot::Mutex;
use quire_domain::Position;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::projector::ProjectorId;

/// Where a projector's runner is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProjectorState {
    /// Reading events the log already held when it (re)started.
    CatchingUp,
    /// Caught up: applying events as they commit.
    Live,
    /// Stopped on request.
    Stopped,
    /// Stopped by an error it cannot get past; see `last_error`.
    Failed,
}

impl ProjectorState {
    /// Stable lowercase name, for logs and admin output.
    pub fn as_str(self) -> &'static str {
        match self {
            ProjectorState::CatchingUp => "catching_up",
            ProjectorState::Live => "live",
            ProjectorState::Stopped => "stopped",
            ProjectorState::Failed => "failed",
        }
    }

    /// The value of the `quire_projector_state` gauge.
    pub fn gauge_value(self) -> f64 {
        match self {
            ProjectorState::CatchingUp => 0.0,
            ProjectorState::Live => 1.0,
            ProjectorState::Stopped => 2.0,
            ProjectorState::Failed => 3.0,
        }
    }
}

impl fmt::Display for ProjectorState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A snapshot of one projector (serialisable for the admin API and CLI).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectorStatus {
    pub projector: ProjectorId,
    pub state: ProjectorState,
    /// Every event up to here is applied, dead-lettered or rejected by the
    /// filter: what `wait_for` compares against.
    pub checkpoint: Position,
    /// The checkpoint last written to the projector's store; behind
    /// `checkpoint` by at most the checkpoint interval's worth of unmatched
    /// events.
    pub persisted_checkpoint: Position,
    /// The log's last position.
    pub head: Position,
    /// `head - checkpoint`, in positions.
    pub lag: u64,
    /// Events applied per second over the recent window.
    pub throughput: f64,
    /// Events applied since the runner started (re-drives included).
    pub events_applied: u64,
    /// Events read from the log since the runner started.
    pub events_scanned: u64,
    /// Events on the dead-letter list.
    pub dead_letters: usize,
    /// The last error met, cleared by the next success.
    pub last_error: Option<String>,
}

/// Status fields the runner updates and the handle reads. The checkpoint
/// itself travels in a watch channel so waiters need no polling.
#[derive(Debug)]
pub(crate) struct StatusCell {
    inner: Mutex<StatusFields>,
}

#[derive(Debug)]
pub(crate) struct StatusFields {
    pub state: ProjectorState,
    pub persisted: Position,
    pub head: Position,
    pub events_applied: u64,
    pub events_scanned: u64,
    pub dead_letters: usize,
    pub last_error: Option<String>,
    pub throughput: Throughput,
}

impl StatusCell {
    pub fn new(throughput_window: Duration) -> StatusCell {
        StatusCell {
            inner: Mutex::new(StatusFields {
                state: ProjectorState::CatchingUp,
                persisted: Position::ZERO,
                head: Position::ZERO,
                events_applied: 0,
                events_scanned: 0,
                dead_letters: 0,
                last_error: None,
                throughput: Throughput::new(throughput_window),
            }),
        }
    }

    /// Runs `f` with the fields locked; keep it short.
    pub fn update<T>(&self, f: impl FnOnce(&mut StatusFields) -> T) -> T {
        f(&mut self.inner.lock())
    }

    pub fn snapshot(
        &self,
        projector: ProjectorId,
        checkpoint: Position,
        head: Option<Position>,
    ) -> ProjectorStatus {
        let mut fields = self.inner.lock();
        if let Some(head) = head {
            fields.head = fields.head.max(head);
        }
        let head = fields.head.max(checkpoint);
        ProjectorStatus {
            projector,
            state: fields.state,
            checkpoint,
            persisted_checkpoint: fields.persisted,
            head,
            lag: head.0 - checkpoint.0,
            throughput: fields.throughput.rate(Instant::now()),
            events_applied: fields.events_applied,
            events_scanned: fields.events_scanned,
            dead_letters: fields.dead_letters,
            last_error: fields.last_error.clone(),
        }
    }
}

/// Counts events in time slots over a sliding window.
#[derive(Debug)]
pub(crate) struct Throughput {
    window: Duration,
    slot: Duration,
    started: Instant,
    /// `(slot index since started, events)`, oldest first.
    slots: VecDeque<(u64, u64)>,
}

/// Slots per window: the rate's resolution.
const SLOTS: u32 = 10;

impl Throughput {
    pub fn new(window: Duration) -> Throughput {
        let window = window.max(Duration::from_millis(10));
        Throughput {
            window,
            slot: window / SLOTS,
            started: Instant::now(),
            slots: VecDeque::with_capacity(SLOTS as usize + 1),
        }
    }

    fn slot_index(&self, now: Instant) -> u64 {
        let elapsed = now.saturating_duration_since(self.started).as_nanos();
        u64::try_from(elapsed / self.slot.as_nanos().max(1)).unwrap_or(u64::MAX)
    }

    fn prune(&mut self, current: u64) {
        while self
            .slots
            .front()
            .is_some_and(|(index, _)| *index + u64::from(SLOTS) <= current)
        {
            self.slots.pop_front();
        }
    }

    pub fn record(&mut self, now: Instant, events: u64) {
        let current = self.slot_index(now);
        self.prune(current);
        match self.slots.back_mut() {
            Some((index, count)) if *index == current => *count += events,
            _ => self.slots.push_back((current, events)),
        }
    }

    /// Events per second over the window (or since start, if shorter).
    pub fn rate(&mut self, now: Instant) -> f64 {
        let current = self.slot_index(now);
        self.prune(current);
        let events: u64 = self.slots.iter().map(|(_, count)| count).sum();
        if events == 0 {
            return 0.0;
        }
        let span = now
            .saturating_duration_since(self.started)
            .min(self.window)
            .max(self.slot);
        events as f64 / span.as_secs_f64()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throughput_counts_only_the_recent_window() {
        let mut meter = Throughput::new(Duration::from_secs(10));
        let start = meter.started;
        meter.record(start + Duration::from_secs(1), 100);
        meter.record(start + Duration::from_secs(9), 100);
        let rate = meter.rate(start + Duration::from_secs(10));
        assert!((rate - 20.0).abs() < 1e-9, "rate {rate}");
        // Twelve seconds in, the first second's events have left the window.
        let rate = meter.rate(start + Duration::from_secs(12));
        assert!((rate - 10.0).abs() < 1e-9, "rate {rate}");
        assert_eq!(meter.rate(start + Duration::from_secs(60)), 0.0);
    }

    #[test]
    fn throughput_early_on_divides_by_elapsed_time() {
        let mut meter = Throughput::new(Duration::from_secs(10));
        let start = meter.started;
        meter.record(start + Duration::from_millis(1500), 300);
        let rate = meter.rate(start + Duration::from_secs(2));
        assert!((rate - 150.0).abs() < 1e-9, "rate {rate}");
    }
}
