//! [`LeasedProjector`]: runs one projector only while this process holds
//! the projector's lease, and hands it over when it stops or loses touch.
//!
//! The supervisor task loops: try to acquire the lease (every
//! `acquire_every` while another process holds it); once held, start the
//! projector's runner, which resumes from the projector's own checkpoint,
//! and renew the lease every third of its TTL. It stops the runner as soon
//! as a renewal reports the lease lost, or when renewals have failed for
//! longer than `2/3` of the TTL (the store may have let it expire), and then
//! goes back to acquiring. On [`LeasedHandle::stop`] it stops the runner
//! first and releases the lease after, so a successor starts at once and
//! never overlaps with it.

use std::sync::Arc;
use std::time::Duration;

use quire_event_log::EventLog;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::{debug, info, warn};

use super::{Lease, LeaseError, LeaseStore};
use crate::config::RunnerConfig;
use crate::dead_letter::DeadLetterStore;
use crate::handle::ProjectorHandle;
use crate::projector::Projector;
use crate::runner::ProjectorRunner;

/// Who this process is and how eagerly it competes for leases.
#[derive(Debug, Clone)]
pub struct SupervisorConfig {
    /// This process's name in the lease store (host, role, pid…).
    pub holder: String,
    /// Pause between attempts while another process holds the lease.
    pub acquire_every: Duration,
}

/// Runs a projector under its lease. The lease's name is the projector's
/// [`id`](Projector::id) as text (`name@vN`).
pub struct LeasedProjector {
    pub leases: Arc<dyn LeaseStore>,
    pub log: Arc<dyn EventLog>,
    pub projector: Arc<dyn Projector>,
    pub runner: RunnerConfig,
    pub dead_letters: Arc<dyn DeadLetterStore>,
    pub config: SupervisorConfig,
}

impl std::fmt::Debug for LeasedProjector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeasedProjector")
            .field("projector", &self.projector.id())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The supervisor of one leased projector.
#[derive(Debug)]
pub struct LeasedHandle {
    name: String,
    running: watch::Receiver<Option<ProjectorHandle>>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl LeasedHandle {
    /// The lease's (and projector's) name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The runner's handle while this process holds the lease.
    pub fn running(&self) -> Option<ProjectorHandle> {
        self.running.borrow().clone()
    }

    /// Follows the runner's handle as the lease comes and goes.
    pub fn watch_running(&self) -> watch::Receiver<Option<ProjectorHandle>> {
        self.running.clone()
    }

    /// Stops the runner (an apply in progress completes), then releases
    /// the lease.
    pub async fn stop(self) {
        self.stop.send_replace(true);
        if let Err(error) = self.task.await {
            warn!(lease = %self.name, %error, "lease supervisor ended abnormally");
        }
    }
}

impl LeasedProjector {
    /// Starts the supervisor task.
    pub fn spawn(self) -> LeasedHandle {
        let name = self.projector.id().to_string();
        let (running_tx, running) = watch::channel(None);
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(self.supervise(running_tx, stop_rx));
        LeasedHandle {
            name,
            running,
            stop,
            task,
        }
    }

    async fn supervise(
        self,
        running: watch::Sender<Option<ProjectorHandle>>,
        mut stop: watch::Receiver<bool>,
    ) {
        let name = self.projector.id().to_string();
        while let Some(lease) = self.acquire(&name, &mut stop).await {
            info!(lease = %name, holder = %lease.holder, "lease taken: running the projector");
            let handle = ProjectorRunner::new(self.log.clone(), self.projector.clone())
                .config(self.runner.clone())
                .dead_letters(self.dead_letters.clone())
                .spawn();
            running.send_replace(Some(handle.clone()));
            let kept = self.hold(lease, &mut stop).await;
            running.send_replace(None);
            handle.stop().await;
            match kept {
                Some(lease) => {
                    if let Err(error) = self.leases.release(&lease).await {
                        warn!(lease = %name, %error, "could not release the lease; it will expire");
                    }
                    info!(lease = %name, "projector stopped, lease released");
                    return;
                }
                None => warn!(lease = %name, "lease lost: projector stopped, competing again"),
            }
        }
    }

    /// Waits until the lease is ours; `None` when asked to stop first.
    async fn acquire(&self, name: &str, stop: &mut watch::Receiver<bool>) -> Option<Lease> {
        let mut unreachable = false;
        loop {
            if *stop.borrow() {
                return None;
            }
            match self.leases.try_acquire(name, &self.config.holder).await {
                Ok(Some(lease)) => return Some(lease),
                Ok(None) => unreachable = false,
                // Once per outage, not at every attempt.
                Err(error) if !unreachable => {
                    unreachable = true;
                    warn!(lease = %name, %error, "cannot reach the lease store; retrying");
                }
                Err(error) => debug!(lease = %name, %error, "lease store still unreachable"),
            }
            tokio::select! {
                _ = tokio::time::sleep(self.config.acquire_every) => {}
                _ = stop.changed() => {}
            }
        }
    }

    /// Renews the lease until asked to stop (returns the lease, still
    /// held) or until it is lost (returns `None`).
    async fn hold(&self, mut lease: Lease, stop: &mut watch::Receiver<bool>) -> Option<Lease> {
        let ttl = self.leases.ttl();
        let mut renewed_at = Instant::now();
        loop {
            tokio::select! {
                _ = tokio::time::sleep(ttl / 3) => {}
                _ = stop.changed() => {}
            }
            if *stop.borrow() {
                return Some(lease);
            }
            match self.leases.renew(&lease).await {
                Ok(next) => {
                    lease = next;
                    renewed_at = Instant::now();
                }
                Err(LeaseError::Unavailable(error)) if renewed_at.elapsed() < ttl * 2 / 3 => {
                    warn!(lease = %lease.name, %error, "lease renewal failed; retrying");
                }
                Err(error) => {
                    warn!(lease = %lease.name, %error, "lease renewal failed");
                    return None;
                }
            }
        }
    }
}
