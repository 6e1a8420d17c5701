//! Shared test fixtures: an embedded log in a temp dir, event helpers, and a
//! scriptable projector over an idempotent in-memory read model.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use parking_lot::Mutex;
use quire_domain::{Actor, EventMetadata, NewEvent, Position, RecordedEvent, StreamId};
use quire_event_log::{EventFilter, EventLog, ExpectedVersion};
use quire_event_log_embedded::{EmbeddedLog, EmbeddedLogConfig};
use quire_projections::{
    CheckpointStore, InMemoryCheckpointStore, ProjectionError, Projector, ProjectorId, RetryPolicy,
    RunnerConfig,
};
use tokio::sync::watch;
use uuid::Uuid;

pub const WAIT: Duration = Duration::from_secs(10);

pub fn open_log(dir: &Path) -> EmbeddedLog {
    EmbeddedLog::open(EmbeddedLogConfig::new(dir)).expect("open embedded log")
}

pub fn dyn_log(log: &EmbeddedLog) -> Arc<dyn EventLog> {
    Arc::new(log.clone())
}

/// Fast timings so tests never sleep long.
pub fn fast_config() -> RunnerConfig {
    RunnerConfig {
        max_batch_size: 512,
        max_batch_wait: Duration::from_millis(10),
        min_apply_interval: Duration::ZERO,
        checkpoint_interval: Duration::from_millis(50),
        metrics_interval: Duration::from_millis(20),
        throughput_window: Duration::from_secs(5),
        retry: RetryPolicy {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(1),
            multiplier: 2,
            max_backoff: Duration::from_millis(5),
        },
        control_capacity: 16,
        read_ahead: 0,
    }
}

pub fn new_event(event_type: &str, n: usize) -> NewEvent {
    NewEvent {
        event_id: Uuid::now_v7(),
        event_type: event_type.to_owned(),
        schema_version: 1,
        payload: Bytes::from(format!("{{\"n\":{n}}}")),
        metadata: EventMetadata::new(Actor::service("test")),
    }
}

/// Appends `count` events of `event_type` to `stream` in one append and
/// returns the last position.
pub async fn append(log: &EmbeddedLog, stream: &str, event_type: &str, count: usize) -> Position {
    let stream = StreamId::parse(stream).expect("stream id");
    let events = (0..count).map(|n| new_event(event_type, n)).collect();
    log.append(&stream, ExpectedVersion::Any, events)
        .await
        .expect("append")
        .last_position
}

/// Appends `count` single-event appends spread over `streams` streams of
/// `category`, returning the last position.
pub async fn append_many(
    log: &EmbeddedLog,
    category: &str,
    event_type: &str,
    streams: usize,
    count: usize,
) -> Position {
    let mut last = Position::ZERO;
    for n in 0..count {
        last = append(log, &format!("{category}-{}", n % streams), event_type, 1).await;
    }
    last
}

/// Polls `check` until it holds or `WAIT` passes (only for state that has no
/// notification of its own, such as the `live` flag).
pub async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// An idempotent read model: per stream, the events applied, keyed by stream
/// version (a version-guarded write). `deliveries` counts every time an
/// event reached the store, `effects` every time it changed it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Model {
    pub rows: BTreeMap<String, BTreeMap<u64, (Position, String)>>,
    pub effects: u64,
    pub deliveries: HashMap<Position, u32>,
}

impl Model {
    /// Every position applied, in order.
    pub fn positions(&self) -> Vec<Position> {
        let mut positions: Vec<Position> = self
            .rows
            .values()
            .flat_map(|row| row.values().map(|(p, _)| *p))
            .collect();
        positions.sort();
        positions
    }

    /// The read model without the bookkeeping counters.
    pub fn rows(&self) -> BTreeMap<String, BTreeMap<u64, (Position, String)>> {
        self.rows.clone()
    }
}

/// How an injected failure fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailKind {
    Event,
    Transient,
}

/// One `apply` call as the projector saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub positions: Vec<Position>,
    pub checkpoint: Position,
}

/// A projector over [`Model`] with a [`CheckpointStore`], injectable
/// failures and a gate that holds applies back.
pub struct TestProjector {
    pub name: String,
    pub version: u32,
    pub filter: EventFilter,
    pub model: Arc<Mutex<Model>>,
    pub checkpoints: Arc<dyn CheckpointStore>,
    pub calls: Mutex<Vec<Call>>,
    /// Remaining failures per position.
    failures: Mutex<HashMap<Position, (u32, FailKind)>>,
    /// Single-event `apply` calls per position, failed or not.
    pub attempts: Mutex<HashMap<Position, u32>>,
    gate: watch::Sender<bool>,
    /// The newest checkpoint loaded or saved, for stores that report a
    /// checkpoint gone back as `Rewound` (see [`TestProjector::detecting_loss`]).
    seen: Mutex<Option<Position>>,
}

impl TestProjector {
    pub fn new(name: &str, filter: EventFilter) -> TestProjector {
        TestProjector::with_stores(
            name,
            filter,
            Arc::new(Mutex::new(Model::default())),
            Arc::new(InMemoryCheckpointStore::new()),
        )
    }

    pub fn with_stores(
        name: &str,
        filter: EventFilter,
        model: Arc<Mutex<Model>>,
        checkpoints: Arc<dyn CheckpointStore>,
    ) -> TestProjector {
        TestProjector {
            name: name.to_owned(),
            version: 1,
            filter,
            model,
            checkpoints,
            calls: Mutex::new(Vec::new()),
            failures: Mutex::new(HashMap::new()),
            attempts: Mutex::new(HashMap::new()),
            gate: watch::channel(true).0,
            seen: Mutex::new(None),
        }
    }

    /// Makes `apply` fail with `Rewound` when the checkpoint store is behind
    /// the newest checkpoint this projector loaded or saved, as the Redis
    /// unread counters do.
    pub fn detecting_loss(self) -> TestProjector {
        *self.seen.lock() = Some(Position::ZERO);
        self
    }

    /// Loses the read model and the checkpoint behind the runner's back, as
    /// a store restarted without persistence would.
    pub async fn lose_state(&self) {
        {
            let mut model = self.model.lock();
            model.rows.clear();
            model.effects = 0;
        }
        self.checkpoints
            .reset(&self.id())
            .await
            .expect("reset checkpoint");
    }

    /// `Rewound` if the store's checkpoint is behind the newest one seen.
    async fn check_not_rewound(&self) -> Result<(), ProjectionError> {
        let Some(seen) = *self.seen.lock() else {
            return Ok(());
        };
        let stored = self.checkpoints.load(&self.id()).await?;
        if stored < seen {
            return Err(ProjectionError::Rewound { stored, seen });
        }
        Ok(())
    }

    fn saw(&self, checkpoint: Position, newest: bool) {
        if let Some(seen) = self.seen.lock().as_mut() {
            *seen = if newest { checkpoint.max(*seen) } else { checkpoint };
        }
    }

    /// Makes the event at `position` fail its next `times` deliveries.
    pub fn fail(&self, position: Position, times: u32, kind: FailKind) {
        self.failures.lock().insert(position, (times, kind));
    }

    pub fn heal(&self, position: Position) {
        self.failures.lock().remove(&position);
    }

    /// Closed: every `apply` waits until it opens again.
    pub fn set_gate(&self, open: bool) {
        self.gate.send_replace(open);
    }

    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().clone()
    }

    /// Calls that carried events.
    pub fn batches(&self) -> Vec<Vec<Position>> {
        self.calls()
            .into_iter()
            .filter(|c| !c.positions.is_empty())
            .map(|c| c.positions)
            .collect()
    }

    pub fn single_attempts(&self, position: Position) -> u32 {
        self.attempts.lock().get(&position).copied().unwrap_or(0)
    }

    pub fn model(&self) -> Model {
        self.model.lock().clone()
    }

    fn injected_failure(&self, event: &RecordedEvent) -> Option<ProjectionError> {
        let mut failures = self.failures.lock();
        let (remaining, kind) = failures.get_mut(&event.position)?;
        if *remaining == 0 {
            return None;
        }
        *remaining = remaining.saturating_sub(1);
        let left = *remaining;
        Some(match kind {
            FailKind::Event => {
                ProjectionError::apply(format!("boom at {} ({left} failures left)", event.position))
            }
            FailKind::Transient => ProjectionError::unavailable("store down"),
        })
    }
}

#[async_trait]
impl Projector for TestProjector {
    fn name(&self) -> &str {
        &self.name
    }

    fn version(&self) -> u32 {
        self.version
    }

    fn filter(&self) -> EventFilter {
        self.filter.clone()
    }

    async fn load_checkpoint(&self) -> Result<Position, ProjectionError> {
        let checkpoint = self.checkpoints.load(&self.id()).await?;
        self.saw(checkpoint, false);
        Ok(checkpoint)
    }

    async fn apply(
        &self,
        events: &[Arc<RecordedEvent>],
        checkpoint: Position,
    ) -> Result<(), ProjectionError> {
        let mut gate = self.gate.subscribe();
        let _ = gate.wait_for(|open| *open).await;
        self.calls.lock().push(Call {
            positions: events.iter().map(|e| e.position).collect(),
            checkpoint,
        });
        self.check_not_rewound().await?;
        // Not transactional: events are written one by one, so a failure
        // leaves the earlier ones written, as a real store would.
        for event in events {
            if let Some(error) = self.injected_failure(event) {
                if events.len() == 1 {
                    *self.attempts.lock().entry(event.position).or_default() += 1;
                }
                return Err(error);
            }
            if events.len() == 1 {
                *self.attempts.lock().entry(event.position).or_default() += 1;
            }
            let mut model = self.model.lock();
            *model.deliveries.entry(event.position).or_default() += 1;
            let row = model.rows.entry(event.stream_id.to_string()).or_default();
            if row.contains_key(&event.stream_version) {
                continue;
            }
            row.insert(event.stream_version, (event.position, event.event_type.clone()));
            model.effects += 1;
        }
        self.checkpoints.save(&self.id(), checkpoint).await?;
        self.saw(checkpoint, true);
        Ok(())
    }

    async fn reset(&self) -> Result<(), ProjectionError> {
        {
            let mut model = self.model.lock();
            model.rows.clear();
            model.effects = 0;
        }
        self.checkpoints.reset(&self.id()).await?;
        self.saw(Position::ZERO, false);
        Ok(())
    }
}

/// The id of a test projector named `name` (version 1).
pub fn id(name: &str) -> ProjectorId {
    ProjectorId::new(name, 1)
}
