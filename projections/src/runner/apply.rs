//! The apply path of the runner: batch applies, isolation of a failing
//! batch into single events retried with backoff, dead-lettering, and
//! checkpoint-only writes.

use std::slice;
use std::sync::Arc;

use quire_domain::{Position, RecordedEvent};
use tokio::time::Instant;
use tracing::{error, info, warn};

use super::{Exit, Runner};
use crate::dead_letter::DeadLetter;
use crate::error::ProjectionError;

impl Runner {
    /// Applies a batch; on failure isolates its events one by one.
    pub(super) async fn apply_batch(
        &mut self,
        events: Vec<Arc<RecordedEvent>>,
        end: Position,
    ) -> Result<(), Exit> {
        let mut outages = 0;
        self.last_apply = Some(Instant::now());
        loop {
            match self.try_apply(&events, end).await {
                Ok(()) => {
                    self.applied(events.len(), end);
                    return Ok(());
                }
                Err(ProjectionError::Rewound { stored, seen }) => return Err(Exit::Rewound { stored, seen }),
                Err(error) if error.is_transient() => {
                    outages += 1;
                    warn!(projector = %self.id, events = events.len(), outages, error = %error, "store unavailable, retrying batch");
                    self.sleep(self.config.retry.delay_before(outages + 1)).await?;
                }
                Err(error) => {
                    if events.len() > 1 {
                        warn!(projector = %self.id, events = events.len(), error = %error, "batch apply failed, isolating events");
                    }
                    return self.isolate(&events, end, error).await;
                }
            }
        }
    }

    /// Applies events one at a time, each with retries and backoff; an event
    /// that fails every attempt goes to the dead-letter list.
    pub(super) async fn isolate(
        &mut self,
        events: &[Arc<RecordedEvent>],
        end: Position,
        batch_error: ProjectionError,
    ) -> Result<(), Exit> {
        let max_attempts = self.config.retry.max_attempts.max(1);
        // A batch of one already was that event's first attempt.
        let first_attempts = u32::from(events.len() == 1);
        for (index, event) in events.iter().enumerate() {
            let checkpoint = if index + 1 == events.len() {
                end
            } else {
                event.position
            };
            let mut attempts = first_attempts;
            let mut last_error = batch_error.to_string();
            let mut outages = 0;
            loop {
                if attempts >= max_attempts {
                    self.dead_letter(event, last_error, attempts).await?;
                    self.advance(checkpoint);
                    break;
                }
                let delay = if outages > 0 {
                    self.config.retry.delay_before(outages + 1)
                } else {
                    self.config.retry.delay_before(attempts + 1)
                };
                self.sleep(delay).await?;
                match self.try_apply(slice::from_ref(event), checkpoint).await {
                    Ok(()) => {
                        if attempts > 0 {
                            info!(projector = %self.id, position = %event.position, attempts = attempts + 1, "apply succeeded after retries");
                        }
                        self.applied(1, checkpoint);
                        break;
                    }
                    Err(ProjectionError::Rewound { stored, seen }) => {
                        return Err(Exit::Rewound { stored, seen });
                    }
                    Err(error) if error.is_transient() => {
                        outages += 1;
                        warn!(projector = %self.id, position = %event.position, outages, error = %error, "store unavailable, retrying event");
                    }
                    Err(error) => {
                        outages = 0;
                        attempts += 1;
                        warn!(projector = %self.id, position = %event.position, event_type = %event.event_type, attempts, error = %error, "apply failed");
                        last_error = error.to_string();
                    }
                }
            }
        }
        if self.persisted < end {
            // The last events were dead-lettered: move the checkpoint past
            // them so a restart does not try them again.
            self.persist(end).await?;
        }
        Ok(())
    }

    pub(super) async fn dead_letter(
        &mut self,
        event: &RecordedEvent,
        error: String,
        attempts: u32,
    ) -> Result<(), Exit> {
        error!(
            projector = %self.id,
            position = %event.position,
            event_id = %event.event_id,
            event_type = %event.event_type,
            attempts,
            error = %error,
            "event dead-lettered"
        );
        let letter = DeadLetter::new(self.id.clone(), event, error, attempts);
        let mut failures = 0;
        while let Err(store_error) = self.dead_letters.put(letter.clone()).await {
            failures += 1;
            warn!(projector = %self.id, position = %event.position, failures, error = %store_error, "storing dead letter failed, retrying");
            self.sleep(self.config.retry.delay_before(failures + 1)).await?;
        }
        self.metrics.dead_lettered.increment(1);
        self.refresh_dead_letter_count().await;
        Ok(())
    }

    /// Writes `position` as the checkpoint with an empty `apply`, retrying
    /// until it succeeds or the runner stops.
    pub(super) async fn persist(&mut self, position: Position) -> Result<(), Exit> {
        let mut failures = 0;
        loop {
            match self.try_apply(&[], position).await {
                Ok(()) => {
                    self.applied(0, position);
                    return Ok(());
                }
                Err(ProjectionError::Rewound { stored, seen }) => return Err(Exit::Rewound { stored, seen }),
                Err(error) => {
                    failures += 1;
                    warn!(projector = %self.id, checkpoint = %position, failures, error = %error, "checkpoint write failed, retrying");
                    self.sleep(self.config.retry.delay_before(failures + 1)).await?;
                }
            }
        }
    }

    /// On the way out, writes a checkpoint still held back by the interval
    /// (one attempt: the next start rescans those events if it fails).
    pub(super) async fn flush_pending_checkpoint(&mut self) {
        if self.scanned > self.persisted {
            match self.try_apply(&[], self.scanned).await {
                Ok(()) => self.applied(0, self.scanned),
                Err(error) => {
                    warn!(projector = %self.id, checkpoint = %self.scanned, error = %error, "final checkpoint write failed");
                }
            }
        }
    }

    /// One `apply` call, timed and counted.
    pub(super) async fn try_apply(
        &mut self,
        events: &[Arc<RecordedEvent>],
        checkpoint: Position,
    ) -> Result<(), ProjectionError> {
        let started = Instant::now();
        let result = self.projector.apply(events, checkpoint).await;
        self.metrics.apply_seconds.record(started.elapsed().as_secs_f64());
        if let Err(error) = &result {
            self.metrics.apply_failures.increment(1);
            self.status.update(|s| s.last_error = Some(error.to_string()));
        }
        result
    }

    /// Records a successful `apply` of `events` events with `checkpoint`.
    pub(super) fn applied(&mut self, events: usize, checkpoint: Position) {
        self.persisted = self.persisted.max(checkpoint);
        self.last_persist = Instant::now();
        let persisted = self.persisted;
        let now = Instant::now();
        self.status.update(|s| {
            s.persisted = persisted;
            s.last_error = None;
            if events > 0 {
                s.events_applied += events as u64;
                s.throughput.record(now, events as u64);
            }
        });
        if events > 0 {
            self.metrics.events_applied.increment(events as u64);
            self.metrics.batches.increment(1);
        }
        self.advance(checkpoint);
    }

    /// Moves the in-memory checkpoint forward and wakes `wait_for` callers.
    pub(super) fn advance(&mut self, position: Position) {
        if position > self.scanned {
            self.scanned = position;
            self.checkpoint_tx.send_replace(position);
        }
    }
}
