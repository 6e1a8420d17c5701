//! [`LeasedSet`]: the projectors (and process managers) one process
//! competes for, each under its lease with a beacon that publishes its
//! progress and answers control requests while this process holds it.

use std::sync::Arc;
use std::time::Duration;

use quire_coordination_nats::ProjectorBeacon;
use quire_projections::lease::{LeasedHandle, LeasedProjector, SupervisorConfig};
use quire_projections::{Projector, RunnerConfig};

use super::backends::Backends;

/// Leased projectors of this process.
#[derive(Debug)]
pub struct LeasedSet<'a> {
    backends: &'a Backends,
    node: String,
    running: Vec<(LeasedHandle, ProjectorBeacon)>,
}

impl<'a> LeasedSet<'a> {
    pub fn new(backends: &'a Backends, node: &str) -> LeasedSet<'a> {
        LeasedSet {
            backends,
            node: node.to_owned(),
            running: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.running.len()
    }

    pub fn is_empty(&self) -> bool {
        self.running.is_empty()
    }

    /// Competes for `projector`'s lease from now on.
    pub fn start(&mut self, projector: Arc<dyn Projector>, runner: RunnerConfig) {
        let name = projector.name().to_owned();
        let supervisor = LeasedProjector {
            leases: self.backends.leases.clone(),
            log: self.backends.log.clone(),
            projector,
            runner,
            dead_letters: self.backends.dead_letters(),
            config: SupervisorConfig {
                holder: self.node.clone(),
                acquire_every: Duration::from_millis(500),
            },
        }
        .spawn();
        let beacon = ProjectorBeacon::spawn(
            self.backends.nats.clone(),
            self.backends.coordination.clone(),
            name,
            self.node.clone(),
            supervisor.watch_running(),
        );
        self.running.push((supervisor, beacon));
    }

    /// Stops every projector and releases its lease.
    pub async fn stop_all(self) {
        let stops = self.running.into_iter().map(|(supervisor, beacon)| async move {
            supervisor.stop().await;
            beacon.stopped().await;
        });
        futures::future::join_all(stops).await;
    }
}
