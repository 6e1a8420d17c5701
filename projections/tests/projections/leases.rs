//! Leased projectors: one runner per projector across "processes" (two
//! supervisors sharing a lease store and a read model), failover when the
//! holder stops or loses the store, and no event applied twice.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use parking_lot::Mutex;
use quire_event_log::EventFilter;
use quire_projections::lease::{
    InMemoryLeases, Lease, LeaseError, LeaseStore, LeasedHandle, LeasedProjector, SupervisorConfig,
};
use quire_projections::{CheckpointStore, InMemoryCheckpointStore, InMemoryDeadLetterStore};

use crate::common::*;

const TTL: Duration = Duration::from_millis(600);

fn supervise(
    leases: Arc<dyn LeaseStore>,
    log: &quire_event_log_embedded::EmbeddedLog,
    projector: Arc<TestProjector>,
    holder: &str,
) -> LeasedHandle {
    LeasedProjector {
        leases,
        log: dyn_log(log),
        projector,
        runner: fast_config(),
        dead_letters: Arc::new(InMemoryDeadLetterStore::new()),
        config: SupervisorConfig {
            holder: holder.to_owned(),
            acquire_every: Duration::from_millis(50),
        },
    }
    .spawn()
}

/// Two instances of one projector over one shared model and checkpoint
/// store, as two processes over one database.
fn twins() -> (Arc<TestProjector>, Arc<TestProjector>) {
    let model = Arc::new(Mutex::new(Model::default()));
    let checkpoints: Arc<dyn CheckpointStore> = Arc::new(InMemoryCheckpointStore::new());
    let make = || {
        Arc::new(TestProjector::with_stores(
            "docs",
            EventFilter::all(),
            model.clone(),
            checkpoints.clone(),
        ))
    };
    (make(), make())
}

fn applied(projector: &TestProjector) -> usize {
    projector.batches().iter().map(Vec::len).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_holder_runs_and_a_stop_hands_over_without_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    let leases: Arc<dyn LeaseStore> = Arc::new(InMemoryLeases::new(TTL));
    let (first, second) = twins();
    let a = supervise(leases.clone(), &log, first.clone(), "node-a");
    eventually("node-a holds the lease", || a.running().is_some()).await;
    let b = supervise(leases.clone(), &log, second.clone(), "node-b");

    let head = append_many(&log, "doc", "doc.edited", 10, 200).await;
    a.running().unwrap().wait_for(head, WAIT).await.unwrap();
    tokio::time::sleep(TTL).await;
    assert!(
        b.running().is_none(),
        "the standby never runs while the holder renews"
    );
    assert_eq!(applied(&second), 0);

    a.stop().await;
    let started = tokio::time::Instant::now();
    eventually("node-b takes over", || b.running().is_some()).await;
    assert!(
        started.elapsed() < TTL,
        "a released lease is taken without waiting for the TTL"
    );
    let head = append_many(&log, "doc", "doc.edited", 10, 200).await;
    b.running().unwrap().wait_for(head, WAIT).await.unwrap();

    assert_eq!(
        applied(&first) + applied(&second),
        400,
        "every event applied once"
    );
    assert_eq!(first.model().positions().len(), 400);
    b.stop().await;
    assert_eq!(leases.holder("docs@v1").await.unwrap(), None);
}

/// A lease store that node-a can be cut off from.
#[derive(Debug)]
struct Partitioned {
    inner: InMemoryLeases,
    cut: Mutex<bool>,
}

impl Partitioned {
    fn check(&self) -> Result<(), LeaseError> {
        match *self.cut.lock() {
            true => Err(LeaseError::Unavailable("partitioned".into())),
            false => Ok(()),
        }
    }
}

#[async_trait]
impl LeaseStore for Partitioned {
    fn ttl(&self) -> Duration {
        self.inner.ttl()
    }
    async fn try_acquire(&self, name: &str, holder: &str) -> Result<Option<Lease>, LeaseError> {
        self.check()?;
        self.inner.try_acquire(name, holder).await
    }
    async fn renew(&self, lease: &Lease) -> Result<Lease, LeaseError> {
        self.check()?;
        self.inner.renew(lease).await
    }
    async fn release(&self, lease: &Lease) -> Result<(), LeaseError> {
        self.check()?;
        self.inner.release(lease).await
    }
    async fn holder(&self, name: &str) -> Result<Option<String>, LeaseError> {
        self.inner.holder(name).await
    }
}

/// Delegates to a shared store: node-b's view of the same leases.
#[derive(Debug)]
struct Shared(Arc<Partitioned>);

#[async_trait]
impl LeaseStore for Shared {
    fn ttl(&self) -> Duration {
        self.0.inner.ttl()
    }
    async fn try_acquire(&self, name: &str, holder: &str) -> Result<Option<Lease>, LeaseError> {
        self.0.inner.try_acquire(name, holder).await
    }
    async fn renew(&self, lease: &Lease) -> Result<Lease, LeaseError> {
        self.0.inner.renew(lease).await
    }
    async fn release(&self, lease: &Lease) -> Result<(), LeaseError> {
        self.0.inner.release(lease).await
    }
    async fn holder(&self, name: &str) -> Result<Option<String>, LeaseError> {
        self.0.inner.holder(name).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_cut_off_from_the_store_stops_and_the_standby_takes_over() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    let store = Arc::new(Partitioned {
        inner: InMemoryLeases::new(TTL),
        cut: Mutex::new(false),
    });
    let (first, second) = twins();
    let a = supervise(store.clone(), &log, first.clone(), "node-a");
    eventually("node-a holds the lease", || a.running().is_some()).await;
    let b = supervise(Arc::new(Shared(store.clone())), &log, second.clone(), "node-b");
    let head = append_many(&log, "doc", "doc.edited", 5, 100).await;
    a.running().unwrap().wait_for(head, WAIT).await.unwrap();

    *store.cut.lock() = true;
    eventually("node-a stops its runner", || a.running().is_none()).await;
    eventually("node-b takes over", || b.running().is_some()).await;
    let head = append_many(&log, "doc", "doc.edited", 5, 100).await;
    b.running().unwrap().wait_for(head, WAIT).await.unwrap();
    assert_eq!(first.model().positions().len(), 200, "nothing lost or doubled");
    assert_eq!(applied(&first) + applied(&second), 200);

    *store.cut.lock() = false;
    b.stop().await;
    eventually("node-a competes again and wins", || a.running().is_some()).await;
    a.stop().await;
}
