//! The runner: one tokio task per projector that follows the log, batches
//! matching events, hands them to the apply path, paces checkpoint writes,
//! serves control requests from the handle and keeps the status and metrics
//! current. [`ProjectorRunner`] configures and spawns it.
//!
//! - `apply`: batch applies, isolation, retries, dead letters, checkpoints.
//! - `control`: re-drive, discard and rebuild requests from the handle.

mod apply;
mod control;
mod read_ahead;

use std::sync::Arc;
use std::time::Duration;

use futures::{FutureExt, StreamExt};
use quire_domain::{Position, RecordedEvent};
use quire_event_log::{EventFilter, EventLog, EventStream, LogError};
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, Interval, MissedTickBehavior};
use tracing::{debug, error, info, warn};

use crate::config::RunnerConfig;
use crate::dead_letter::{DeadLetterStore, InMemoryDeadLetterStore};
use crate::handle::{HandleParts, ProjectorHandle};
use crate::metrics::RunnerMetrics;
use crate::projector::{Projector, ProjectorId};
use crate::status::{ProjectorState, StatusCell};
pub(crate) use control::Control;

/// Configures and starts the runner of one projector:
/// `ProjectorRunner::new(log, projector).config(config).dead_letters(store).spawn()`
/// returns the [`ProjectorHandle`].
pub struct ProjectorRunner {
    log: Arc<dyn EventLog>,
    projector: Arc<dyn Projector>,
    config: RunnerConfig,
    dead_letters: Arc<dyn DeadLetterStore>,
}

impl std::fmt::Debug for ProjectorRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProjectorRunner")
            .field("projector", &self.projector.id())
            .field("config", &self.config)
            .field("dead_letters", &self.dead_letters)
            .finish_non_exhaustive()
    }
}

impl ProjectorRunner {
    /// A runner with the default config and an in-memory dead-letter list.
    pub fn new(log: Arc<dyn EventLog>, projector: Arc<dyn Projector>) -> ProjectorRunner {
        ProjectorRunner {
            log,
            projector,
            config: RunnerConfig::default(),
            dead_letters: Arc::new(InMemoryDeadLetterStore::new()),
        }
    }

    pub fn config(mut self, config: RunnerConfig) -> ProjectorRunner {
        self.config = config;
        self
    }

    /// Where dead letters go; may be shared by many projectors.
    pub fn dead_letters(mut self, store: Arc<dyn DeadLetterStore>) -> ProjectorRunner {
        self.dead_letters = store;
        self
    }

    /// Starts the runner task on the current tokio runtime.
    ///
    /// The metrics series are registered here, with the recorder installed
    /// at this point. The runner stops when [`ProjectorHandle::stop`] is
    /// called or when every clone of the handle is dropped.
    pub fn spawn(self) -> ProjectorHandle {
        let id = self.projector.id();
        let filter = self.projector.filter();
        let status = Arc::new(StatusCell::new(self.config.throughput_window));
        let (checkpoint_tx, checkpoint_rx) = watch::channel(Position::ZERO);
        let (control_tx, control_rx) = mpsc::channel(self.config.control_capacity.max(1));
        let (stop_tx, stop_rx) = watch::channel(false);
        let runner = Runner {
            metrics: RunnerMetrics::register(&id),
            log: Arc::clone(&self.log),
            projector: self.projector,
            id: id.clone(),
            filter,
            config: self.config,
            dead_letters: Arc::clone(&self.dead_letters),
            status: Arc::clone(&status),
            checkpoint_tx,
            control: control_rx,
            stop: stop_rx,
            scanned: Position::ZERO,
            persisted: Position::ZERO,
            last_persist: Instant::now(),
            last_apply: None,
            log_failures: 0,
        };
        let task = tokio::spawn(runner.run());
        ProjectorHandle::new(HandleParts {
            id,
            log: self.log,
            dead_letters: self.dead_letters,
            status,
            checkpoint: checkpoint_rx,
            control: control_tx,
            stop: stop_tx,
            task,
        })
    }
}

/// Why the runner left its follow loop.
enum Exit {
    Stopped,
    Failed(String),
    /// The store lost state ([`ProjectionError::Rewound`]): the runner
    /// starts again from the store's checkpoint rather than ending.
    Rewound {
        stored: Position,
        seen: Position,
    },
}

/// What to do after handling one thing in the follow loop.
enum Flow {
    Continue,
    /// Drop the subscription and subscribe again after the checkpoint.
    Resubscribe,
    /// The subscription failed; resubscribe after a backoff, or fail.
    LogFailed(LogError),
    Exit(Exit),
}

/// What a subscription that ended without an error counts as: transient,
/// so the runner resubscribes.
fn subscription_ended() -> LogError {
    LogError::Unavailable("subscription ended".to_owned())
}

struct Runner {
    log: Arc<dyn EventLog>,
    projector: Arc<dyn Projector>,
    id: ProjectorId,
    filter: EventFilter,
    config: RunnerConfig,
    dead_letters: Arc<dyn DeadLetterStore>,
    status: Arc<StatusCell>,
    /// Carries `scanned` to `wait_for` callers.
    checkpoint_tx: watch::Sender<Position>,
    control: mpsc::Receiver<Control>,
    stop: watch::Receiver<bool>,
    metrics: RunnerMetrics,
    /// Every event up to here is applied, dead-lettered or filtered out.
    scanned: Position,
    /// The checkpoint last written by a successful `apply`.
    persisted: Position,
    last_persist: Instant,
    /// When the last `apply` of events started, for `min_apply_interval`.
    last_apply: Option<Instant>,
    /// Consecutive subscription failures, for their backoff.
    log_failures: u32,
}

impl Runner {
    async fn run(mut self) {
        let exit = self.run_until_exit().await;
        // Everything up to `scanned` is handled whatever the exit.
        self.flush_pending_checkpoint().await;
        let state = match exit {
            Exit::Stopped => {
                info!(projector = %self.id, checkpoint = %self.scanned, "projector stopped");
                ProjectorState::Stopped
            }
            Exit::Failed(reason) => self.failed(reason),
            // `run_until_exit` starts again on a rewind rather than return
            // one; should it ever, the runner fails with it.
            Exit::Rewound { stored, seen } => self.failed(format!("store rewound to {stored} from {seen}")),
        };
        self.status.update(|s| s.state = state);
        self.publish_metrics(None);
    }

    async fn run_until_exit(&mut self) -> Exit {
        if let Err(exit) = self.start().await {
            return exit;
        }
        let mut tick = tokio::time::interval(self.config.metrics_interval);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            let mut stream = self.log.subscribe(self.scanned.next(), EventFilter::all());
            if self.config.read_ahead > 0 {
                stream = read_ahead::spawn(stream, self.config.read_ahead);
            }
            let flow = self.follow(&mut stream, &mut tick).await;
            drop(stream);
            match flow {
                Flow::Continue | Flow::Resubscribe => {}
                Flow::Exit(Exit::Rewound { stored, seen }) => {
                    if let Err(exit) = self.rewind(stored, seen).await {
                        return exit;
                    }
                }
                Flow::Exit(exit) => return exit,
                Flow::LogFailed(error) => {
                    if !error.is_transient() {
                        return Exit::Failed(format!("subscription failed: {error}"));
                    }
                    self.log_failures = self.log_failures.saturating_add(1);
                    warn!(projector = %self.id, error = %error, failures = self.log_failures, "subscription failed, resubscribing");
                    self.status
                        .update(|s| s.last_error = Some(format!("subscription failed: {error}")));
                    let delay = self.config.retry.delay_before(self.log_failures + 1);
                    if let Err(exit) = self.sleep(delay).await {
                        return exit;
                    }
                }
            }
        }
    }

    fn failed(&self, reason: String) -> ProjectorState {
        error!(projector = %self.id, checkpoint = %self.scanned, error = %reason, "projector failed");
        self.status.update(|s| s.last_error = Some(reason));
        ProjectorState::Failed
    }

    /// The store lost state: starts again from its checkpoint, as a fresh
    /// start would, so the lost effects are rebuilt from the log.
    async fn rewind(&mut self, stored: Position, seen: Position) -> Result<(), Exit> {
        warn!(projector = %self.id, stored = %stored, seen = %seen, "store lost state, replaying from its checkpoint");
        self.metrics.rewinds.increment(1);
        self.set_state(ProjectorState::CatchingUp);
        self.start().await
    }

    /// Loads the checkpoint and the dead-letter count.
    async fn start(&mut self) -> Result<(), Exit> {
        let mut failures = 0;
        let checkpoint = loop {
            match self.projector.load_checkpoint().await {
                Ok(checkpoint) => break checkpoint,
                Err(error) if error.is_transient() => {
                    failures += 1;
                    warn!(projector = %self.id, error = %error, failures, "loading checkpoint failed, retrying");
                    self.status.update(|s| s.last_error = Some(error.to_string()));
                    self.sleep(self.config.retry.delay_before(failures + 1)).await?;
                }
                Err(error) => {
                    return Err(Exit::Failed(format!("loading checkpoint failed: {error}")));
                }
            }
        };
        self.scanned = checkpoint;
        self.persisted = checkpoint;
        self.last_persist = Instant::now();
        self.checkpoint_tx.send_replace(checkpoint);
        self.status.update(|s| {
            s.persisted = checkpoint;
            s.last_error = None;
        });
        self.refresh_dead_letter_count().await;
        if let Ok(head) = self.log.head().await {
            self.status.update(|s| s.head = s.head.max(head));
            if head <= checkpoint {
                self.set_state(ProjectorState::Live);
            }
        }
        info!(projector = %self.id, checkpoint = %checkpoint, "projector started");
        self.publish_metrics(None);
        Ok(())
    }

    /// Follows one subscription until it fails, must be replaced, or the
    /// runner stops.
    async fn follow(&mut self, stream: &mut EventStream, tick: &mut Interval) -> Flow {
        loop {
            let flush_at =
                (self.scanned > self.persisted).then(|| self.last_persist + self.config.checkpoint_interval);
            let flow = tokio::select! {
                biased;
                () = stopped(&mut self.stop) => Flow::Exit(Exit::Stopped),
                Some(control) = self.control.recv() => self.serve(control).await,
                () = sleep_until(flush_at) => match self.persist(self.scanned).await {
                    Ok(()) => Flow::Continue,
                    Err(exit) => Flow::Exit(exit),
                },
                _ = tick.tick() => {
                    self.on_tick().await;
                    Flow::Continue
                }
                item = stream.next() => match item {
                    Some(Ok(event)) => self.on_events(event, stream).await,
                    Some(Err(error)) => Flow::LogFailed(error),
                    None => Flow::LogFailed(subscription_ended()),
                },
            };
            if !matches!(flow, Flow::Continue) {
                return flow;
            }
        }
    }

    /// Gathers a batch starting with `first` from whatever the subscription
    /// has ready (and, for a paced projector, what arrives before its next
    /// apply is due), and applies it.
    async fn on_events(&mut self, first: Arc<RecordedEvent>, stream: &mut EventStream) -> Flow {
        let started = Instant::now();
        let gather_until = (started + self.config.max_batch_wait).max(self.next_apply_due());
        let mut batch = Batch::new(self.scanned);
        batch.take(first, &self.filter);
        let mut drained = false;
        let mut failure = None;
        while batch.matched.len() < self.config.max_batch_size && Instant::now() < gather_until {
            match self.next_ready(stream, gather_until, batch.end).await {
                None => {
                    drained = true;
                    break;
                }
                Some(Ok(event)) => batch.take(event, &self.filter),
                Some(Err(error)) => {
                    failure = Some(error);
                    break;
                }
            }
        }
        self.log_failures = 0;
        self.metrics.events_scanned.increment(batch.scanned);
        self.status.update(|s| {
            s.events_scanned += batch.scanned;
            s.head = s.head.max(batch.end);
        });

        let end = batch.end;
        let outcome = if batch.matched.is_empty() {
            self.advance(end);
            if end > self.persisted && self.last_persist.elapsed() >= self.config.checkpoint_interval {
                self.persist(end).await
            } else {
                Ok(())
            }
        } else {
            self.apply_batch(batch.matched, end).await
        };
        if let Err(exit) = outcome {
            return Flow::Exit(exit);
        }
        if drained {
            self.check_live().await;
        }
        self.publish_metrics(None);
        match failure {
            Some(error) => Flow::LogFailed(error),
            None => Flow::Continue,
        }
    }

    /// The next event if one is ready now; otherwise, while a paced
    /// projector's next apply is not yet due, the next to arrive before it
    /// is. `None` when there is nothing to wait for: an idle log never
    /// delays a batch beyond the pacing.
    async fn next_ready(
        &mut self,
        stream: &mut EventStream,
        gather_until: Instant,
        gathered_to: Position,
    ) -> Option<Result<Arc<RecordedEvent>, LogError>> {
        let item = match stream.next().now_or_never() {
            Some(item) => item,
            None => {
                let due = self.wait_for_more_until(gather_until, gathered_to);
                if Instant::now() >= due {
                    return None;
                }
                tokio::time::timeout_at(due, stream.next()).await.ok()?
            }
        };
        Some(item.unwrap_or_else(|| Err(subscription_ended())))
    }

    /// How long a batch gathered up to `gathered_to` waits for an event the
    /// subscription does not have ready. While catching up, short of the
    /// last head read, the log has more and the subscription is only
    /// reading its next page, so the batch waits for it (until
    /// `gather_until`) instead of being applied a page at a time;
    /// otherwise only a paced projector waits (for its next apply).
    fn wait_for_more_until(&self, gather_until: Instant, gathered_to: Position) -> Instant {
        let due = self.next_apply_due();
        let behind = self.status.update(|s| s.head) > gathered_to;
        if behind && self.state() == ProjectorState::CatchingUp {
            due.max(gather_until)
        } else {
            due
        }
    }

    /// When the next apply of events may start under `min_apply_interval`.
    fn next_apply_due(&self) -> Instant {
        match self.last_apply {
            Some(last) => last + self.config.min_apply_interval,
            None => Instant::now(),
        }
    }

    /// After draining what the log had ready: live once within a batch of
    /// the head.
    async fn check_live(&mut self) {
        if self.state() != ProjectorState::CatchingUp {
            return;
        }
        match self.log.head().await {
            Ok(head) => {
                self.status.update(|s| s.head = s.head.max(head));
                if head.0.saturating_sub(self.scanned.0) <= self.config.max_batch_size as u64 {
                    self.set_state(ProjectorState::Live);
                }
            }
            Err(error) => debug!(projector = %self.id, error = %error, "reading head failed"),
        }
    }

    async fn on_tick(&mut self) {
        match self.log.head().await {
            Ok(head) => {
                if self.state() == ProjectorState::CatchingUp && head <= self.scanned {
                    self.set_state(ProjectorState::Live);
                }
                self.publish_metrics(Some(head));
            }
            Err(error) => {
                debug!(projector = %self.id, error = %error, "reading head failed");
                self.publish_metrics(None);
            }
        }
    }

    fn state(&self) -> ProjectorState {
        self.status.update(|s| s.state)
    }

    fn set_state(&self, state: ProjectorState) {
        let changed = self
            .status
            .update(|s| std::mem::replace(&mut s.state, state) != state);
        if changed {
            info!(projector = %self.id, state = %state, checkpoint = %self.scanned, "projector state changed");
        }
    }

    async fn refresh_dead_letter_count(&mut self) {
        match self.dead_letters.list(&self.id).await {
            Ok(letters) => self.status.update(|s| s.dead_letters = letters.len()),
            Err(error) => {
                warn!(projector = %self.id, error = %error, "listing dead letters failed");
            }
        }
    }

    fn publish_metrics(&self, head: Option<Position>) {
        let status = self.status.snapshot(self.id.clone(), self.scanned, head);
        self.metrics.publish(&status);
    }

    /// Sleeps unless the runner is asked to stop first.
    async fn sleep(&mut self, delay: Duration) -> Result<(), Exit> {
        if delay.is_zero() {
            return Ok(());
        }
        tokio::select! {
            () = tokio::time::sleep(delay) => Ok(()),
            () = stopped(&mut self.stop) => Err(Exit::Stopped),
        }
    }
}

/// The events of one batch and how far it scanned.
struct Batch {
    matched: Vec<Arc<RecordedEvent>>,
    end: Position,
    scanned: u64,
}

impl Batch {
    fn new(after: Position) -> Batch {
        Batch {
            matched: Vec::new(),
            end: after,
            scanned: 0,
        }
    }

    fn take(&mut self, event: Arc<RecordedEvent>, filter: &EventFilter) {
        if event.position <= self.end {
            // At-least-once delivery: already handled.
            return;
        }
        self.end = event.position;
        self.scanned += 1;
        if filter.matches(&event) {
            self.matched.push(event);
        }
    }
}

/// Completes once a stop is requested or every handle is gone.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

/// Sleeps until `deadline`, or forever without one.
async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
