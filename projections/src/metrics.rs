//! The runner's metrics through the `metrics` facade, every series labelled
//! `projector` (name) and `version`.
//!
//! | name | kind | meaning |
//! |---|---|---|
//! | `quire_projector_checkpoint` | gauge | position handled through |
//! | `quire_projector_head` | gauge | the log's last position |
//! | `quire_projector_lag` | gauge | head − checkpoint |
//! | `quire_projector_throughput` | gauge | events applied per second, recent window |
//! | `quire_projector_dead_letters` | gauge | events on the dead-letter list |
//! | `quire_projector_state` | gauge | 0 catching up, 1 live, 2 stopped, 3 failed |
//! | `quire_projector_events_applied_total` | counter | events applied |
//! | `quire_projector_events_scanned_total` | counter | events read from the log |
//! | `quire_projector_batches_total` | counter | successful `apply` calls with events |
//! | `quire_projector_apply_failures_total` | counter | failed `apply` calls |
//! | `quire_projector_dead_lettered_total` | counter | events sent to the dead-letter list |
//! | `quire_projector_rewinds_total` | counter | restarts from a store that lost state |
//! | `quire_projector_apply_seconds` | histogram | duration of `apply` calls |

use std::sync::Once;

use metrics::{Counter, Gauge, Histogram, Unit};

use crate::projector::ProjectorId;
use crate::status::ProjectorStatus;

/// Registered handles of one projector's series.
#[derive(Debug)]
pub(crate) struct RunnerMetrics {
    pub checkpoint: Gauge,
    pub head: Gauge,
    pub lag: Gauge,
    pub throughput: Gauge,
    pub dead_letters: Gauge,
    pub state: Gauge,
    pub events_applied: Counter,
    pub events_scanned: Counter,
    pub batches: Counter,
    pub apply_failures: Counter,
    pub dead_lettered: Counter,
    pub rewinds: Counter,
    pub apply_seconds: Histogram,
}

impl RunnerMetrics {
    /// Registers the series with the recorder installed now (global, or the
    /// thread's local one).
    pub fn register(id: &ProjectorId) -> RunnerMetrics {
        describe();
        let labels = [
            ("projector", id.name.clone()),
            ("version", id.version.to_string()),
        ];
        RunnerMetrics {
            checkpoint: metrics::gauge!("quire_projector_checkpoint", &labels),
            head: metrics::gauge!("quire_projector_head", &labels),
            lag: metrics::gauge!("quire_projector_lag", &labels),
            throughput: metrics::gauge!("quire_projector_throughput", &labels),
            dead_letters: metrics::gauge!("quire_projector_dead_letters", &labels),
            state: metrics::gauge!("quire_projector_state", &labels),
            events_applied: metrics::counter!("quire_projector_events_applied_total", &labels),
            events_scanned: metrics::counter!("quire_projector_events_scanned_total", &labels),
            batches: metrics::counter!("quire_projector_batches_total", &labels),
            apply_failures: metrics::counter!("quire_projector_apply_failures_total", &labels),
            dead_lettered: metrics::counter!("quire_projector_dead_lettered_total", &labels),
            rewinds: metrics::counter!("quire_projector_rewinds_total", &labels),
            apply_seconds: metrics::histogram!("quire_projector_apply_seconds", &labels),
        }
    }

    /// Sets every gauge from a status snapshot.
    pub fn publish(&self, status: &ProjectorStatus) {
        self.checkpoint.set(status.checkpoint.0 as f64);
        self.head.set(status.head.0 as f64);
        self.lag.set(status.lag as f64);
        self.throughput.set(status.throughput);
        self.dead_letters.set(status.dead_letters as f64);
        self.state.set(status.state.gauge_value());
    }
}

fn describe() {
    static DESCRIBED: Once = Once::new();
    DESCRIBED.call_once(|| {
        metrics::describe_gauge!(
            "quire_projector_checkpoint",
            "position up to which the projector has handled every event"
        );
        metrics::describe_gauge!("quire_projector_head", "last position of the event log");
        metrics::describe_gauge!(
            "quire_projector_lag",
            "positions between the log head and the projector's checkpoint"
        );
        metrics::describe_gauge!(
            "quire_projector_throughput",
            "events applied per second over the recent window"
        );
        metrics::describe_gauge!(
            "quire_projector_dead_letters",
            "events on the projector's dead-letter list"
        );
        metrics::describe_gauge!(
            "quire_projector_state",
            "0 catching up, 1 live, 2 stopped, 3 failed"
        );
        metrics::describe_counter!(
            "quire_projector_events_applied_total",
            "events applied by the projector"
        );
        metrics::describe_counter!(
            "quire_projector_events_scanned_total",
            "events read from the log by the projector's runner"
        );
        metrics::describe_counter!(
            "quire_projector_batches_total",
            "successful apply calls carrying events"
        );
        metrics::describe_counter!("quire_projector_apply_failures_total", "failed apply calls");
        metrics::describe_counter!(
            "quire_projector_dead_lettered_total",
            "events sent to the dead-letter list"
        );
        metrics::describe_counter!(
            "quire_projector_rewinds_total",
            "restarts from the checkpoint of a store that lost state"
        );
        metrics::describe_histogram!(
            "quire_projector_apply_seconds",
            Unit::Seconds,
            "duration of apply calls"
        );
    });
}
