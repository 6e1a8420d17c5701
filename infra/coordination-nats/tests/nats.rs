//! Leases, progress and remote control against the local NATS server
//! (127.0.0.1:4222, or `QUIRE_NATS_URL`; `scripts/services up` starts it).
//! Every test uses buckets and subjects of its own.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use quire_coordination_nats::{CoordinationConfig, NatsLeases, NatsProjectors, ProjectorBeacon, connect};
use quire_domain::{Actor, EventMetadata, NewEvent, Position, RecordedEvent, StreamId};
use quire_event_log::{EventFilter, EventLog, ExpectedVersion};
use quire_event_log_embedded::{EmbeddedLog, EmbeddedLogConfig};
use quire_projections::fleet::{FleetError, Projectors};
use quire_projections::lease::conformance::{self, Fixture};
use quire_projections::lease::{LeaseStore, LeasedHandle, LeasedProjector, SupervisorConfig};
use quire_projections::{
    CheckpointStore, InMemoryCheckpointStore, InMemoryDeadLetterStore, ProjectionError, Projector,
    RetryPolicy, RunnerConfig,
};
use uuid::Uuid;

fn nats_url() -> String {
    std::env::var("QUIRE_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned())
}

fn test_config(ttl: Duration) -> CoordinationConfig {
    let id = Uuid::now_v7().simple().to_string();
    let mut config = CoordinationConfig::new([nats_url()]);
    config.lease_bucket = format!("QUIRE_TEST_LEASES_{id}");
    config.subject_prefix = format!("quire-test.{id}");
    config.lease_ttl = ttl;
    config.heartbeat_every = Duration::from_millis(200);
    config.request_timeout = Duration::from_secs(5);
    config
}

async fn delete_bucket(config: &CoordinationConfig) {
    if let Ok(client) = connect(config).await {
        let _ = async_nats::jetstream::new(client)
            .delete_key_value(&config.lease_bucket)
            .await;
    }
}

mod lease_conformance {
    use super::*;

    quire_projections::lease_store_conformance!(|| async {
        let config = test_config(conformance::TTL);
        let first = NatsLeases::open(connect(&config).await.expect("NATS"), &config)
            .await
            .expect("bucket");
        let second = NatsLeases::open(connect(&config).await.expect("NATS"), &config)
            .await
            .expect("bucket");
        Fixture::<dyn LeaseStore>::pair(Arc::new(first), Arc::new(second)).with_teardown(Box::new(
            move || Box::pin(async move { delete_bucket(&config).await }),
        ))
    });
}

#[tokio::test]
async fn unreachable_nats_is_named_in_the_error() {
    let config = CoordinationConfig::new(["nats://127.0.0.1:1"]);
    let error = connect(&config).await.expect_err("nothing listens on port 1");
    assert!(error.to_string().contains("127.0.0.1:1"), "{error}");
}

/// Counts events; fails for good on events whose payload is `poison`.
#[derive(Debug)]
struct Counter {
    checkpoints: Arc<InMemoryCheckpointStore>,
    applied: Arc<parking_lot::Mutex<Vec<Position>>>,
    store: Arc<parking_lot::Mutex<StoreHealth>>,
}

/// What the counter's store does at the next batch.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum StoreHealth {
    #[default]
    Up,
    /// Loses everything, then says so (as the Redis counters do after a
    /// restart without persistence) and is down from then on.
    LosesState,
    /// Unreachable: every batch is retried.
    Down,
}

#[async_trait::async_trait]
impl Projector for Counter {
    fn name(&self) -> &str {
        "counter"
    }
    fn version(&self) -> u32 {
        1
    }
    fn filter(&self) -> EventFilter {
        EventFilter::all()
    }
    async fn load_checkpoint(&self) -> Result<Position, ProjectionError> {
        self.checkpoints.load(&self.id()).await
    }
    async fn apply(
        &self,
        events: &[Arc<RecordedEvent>],
        checkpoint: Position,
    ) -> Result<(), ProjectionError> {
        let health = *self.store.lock();
        match health {
            StoreHealth::Up => {}
            StoreHealth::Down => return Err(ProjectionError::unavailable("the counter's store is down")),
            StoreHealth::LosesState => {
                let seen = self.checkpoints.load(&self.id()).await?;
                self.reset().await?;
                *self.store.lock() = StoreHealth::Down;
                return Err(ProjectionError::Rewound {
                    stored: Position::ZERO,
                    seen,
                });
            }
        }
        if events.iter().any(|event| event.payload.as_ref() == b"poison") {
            return Err(ProjectionError::apply("poisoned event"));
        }
        {
            let mut applied = self.applied.lock();
            for event in events {
                if !applied.contains(&event.position) {
                    applied.push(event.position);
                }
            }
        }
        self.checkpoints.save(&self.id(), checkpoint).await
    }
    async fn reset(&self) -> Result<(), ProjectionError> {
        self.applied.lock().clear();
        self.checkpoints.reset(&self.id()).await
    }
}

fn fast_runner() -> RunnerConfig {
    RunnerConfig {
        max_batch_wait: Duration::from_millis(5),
        checkpoint_interval: Duration::from_millis(20),
        retry: RetryPolicy {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(1),
            multiplier: 2,
            max_backoff: Duration::from_millis(5),
        },
        ..RunnerConfig::default()
    }
}

struct Node {
    supervisor: LeasedHandle,
    beacon: ProjectorBeacon,
}

async fn start_node(
    config: &Arc<CoordinationConfig>,
    log: &Arc<dyn EventLog>,
    projector: Arc<Counter>,
    holder: &str,
) -> Node {
    let client = connect(config).await.expect("NATS");
    let leases = NatsLeases::open(client.clone(), config).await.expect("bucket");
    let supervisor = LeasedProjector {
        leases: Arc::new(leases),
        log: log.clone(),
        projector,
        runner: fast_runner(),
        dead_letters: Arc::new(InMemoryDeadLetterStore::new()),
        config: SupervisorConfig {
            holder: holder.to_owned(),
            acquire_every: Duration::from_millis(100),
        },
    }
    .spawn();
    let beacon = ProjectorBeacon::spawn(
        client,
        config.clone(),
        "counter".to_owned(),
        holder.to_owned(),
        supervisor.watch_running(),
    );
    Node { supervisor, beacon }
}

impl Node {
    async fn stop(self) {
        self.supervisor.stop().await;
        self.beacon.stopped().await;
    }
}

async fn append(log: &Arc<dyn EventLog>, payload: &'static [u8]) -> Position {
    let event = NewEvent {
        event_id: Uuid::now_v7(),
        event_type: "counter.ticked".to_owned(),
        schema_version: 1,
        payload: Bytes::from_static(payload),
        metadata: EventMetadata::new(Actor::service("test")),
    };
    let stream = StreamId::parse("counter-1").expect("stream");
    log.append(&stream, ExpectedVersion::Any, vec![event])
        .await
        .expect("append")
        .last_position
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_waits_controls_and_sees_failover_across_processes() {
    let config = Arc::new(test_config(Duration::from_secs(1)));
    let dir = tempfile::tempdir().expect("dir");
    let log: Arc<dyn EventLog> =
        Arc::new(EmbeddedLog::open(EmbeddedLogConfig::new(dir.path())).expect("log"));
    let applied = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let checkpoints = Arc::new(InMemoryCheckpointStore::new());
    let counter = || {
        Arc::new(Counter {
            checkpoints: checkpoints.clone(),
            applied: applied.clone(),
            store: Arc::default(),
        })
    };
    let gateway = NatsProjectors::open(connect(&config).await.expect("NATS"), config.clone())
        .await
        .expect("progress");
    let a = start_node(&config, &log, counter(), "node-a").await;
    let b = start_node(&config, &log, counter(), "node-b").await;

    // Read-your-writes through the progress subject.
    let mut last = Position::ZERO;
    for _ in 0..50 {
        last = append(&log, b"tick").await;
    }
    gateway
        .wait_for("counter", last, Duration::from_secs(10))
        .await
        .expect("caught up");
    assert_eq!(applied.lock().len(), 50);

    // A poisoned event is dead-lettered; listing and discarding go to the holder.
    let poison = append(&log, b"poison").await;
    gateway
        .wait_for("counter", poison, Duration::from_secs(10))
        .await
        .expect("past the poison");
    let letters = gateway.dead_letters("counter").await.expect("dead letters");
    assert_eq!(
        letters.iter().map(|l| l.position).collect::<Vec<_>>(),
        vec![poison]
    );
    assert!(matches!(
        gateway.redrive("counter", poison).await,
        Err(FleetError::Control(
            quire_projections::ControlError::RedriveFailed { .. }
        ))
    ));
    assert!(gateway.discard("counter", poison).await.expect("discard"));
    assert!(!gateway.discard("counter", poison).await.expect("discard again"));

    // Status arrives with the heartbeats.
    tokio::time::sleep(config.heartbeat_every * 2).await;
    let statuses = gateway.statuses().await.expect("statuses");
    assert_eq!(statuses.len(), 1);
    assert!(statuses[0].checkpoint >= poison);

    // The holder stops; the other node takes over and carries on.
    let holder_is_a = a.supervisor.running().is_some();
    let (gone, survivor) = if holder_is_a { (a, b) } else { (b, a) };
    gone.stop().await;
    for _ in 0..50 {
        last = append(&log, b"tick").await;
    }
    gateway
        .wait_for("counter", last, Duration::from_secs(10))
        .await
        .expect("failover");
    assert!(survivor.supervisor.running().is_some());
    assert_eq!(applied.lock().len(), 100, "every tick applied once");

    // A rebuild through the new holder replays everything.
    gateway.rebuild("counter").await.expect("rebuild");
    gateway
        .wait_for("counter", last, Duration::from_secs(10))
        .await
        .expect("rebuilt");
    assert_eq!(applied.lock().len(), 100);
    survivor.stop().await;
    assert!(matches!(
        gateway.dead_letters("counter").await,
        Err(FleetError::Unavailable(message)) if message.contains("not running on any node")
    ));
    delete_bucket(&config).await;
}

/// A projector whose store lost its state restarts from the store's
/// checkpoint, and gateways learn at once that it is back there: they stop
/// answering reads at positions it had reached before, without waiting for
/// the next heartbeat (5 s here).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateways_learn_at_once_that_a_projector_went_back() {
    let mut config = test_config(Duration::from_secs(20));
    config.heartbeat_every = Duration::from_secs(5);
    let config = Arc::new(config);
    let dir = tempfile::tempdir().expect("dir");
    let log: Arc<dyn EventLog> =
        Arc::new(EmbeddedLog::open(EmbeddedLogConfig::new(dir.path())).expect("log"));
    let counter = Arc::new(Counter {
        checkpoints: Arc::new(InMemoryCheckpointStore::new()),
        applied: Arc::default(),
        store: Arc::default(),
    });
    let store = counter.store.clone();
    let gateway = NatsProjectors::open(connect(&config).await.expect("NATS"), config.clone())
        .await
        .expect("progress");
    let node = start_node(&config, &log, counter, "node-a").await;
    let mut reached = Position::ZERO;
    for _ in 0..20 {
        reached = append(&log, b"tick").await;
    }
    gateway
        .wait_for("counter", reached, Duration::from_secs(10))
        .await
        .expect("caught up");

    // The next batch finds the store empty; the runner starts again from
    // its checkpoint (zero) and the store stays down meanwhile.
    *store.lock() = StoreHealth::LosesState;
    let next = append(&log, b"tick").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(*store.lock(), StoreHealth::Down, "the store reported its loss");
    let read = gateway
        .wait_for("counter", reached, Duration::from_millis(500))
        .await;
    assert!(
        matches!(&read, Err(FleetError::Timeout(timeout)) if timeout.reached < reached),
        "a read at {reached} must wait for the rebuilt counter: {read:?}"
    );

    *store.lock() = StoreHealth::Up;
    gateway
        .wait_for("counter", next, Duration::from_secs(10))
        .await
        .expect("rebuilt from the log");
    node.stop().await;
    delete_bucket(&config).await;
}
