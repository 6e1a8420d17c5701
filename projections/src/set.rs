//! [`ProjectionSet`]: runs several projectors against one log with shared
//! defaults, lists their statuses and stops them together.

use std::future::Future;
use std::sync::Arc;

use quire_event_log::EventLog;
use tracing::info;

use crate::config::RunnerConfig;
use crate::dead_letter::{DeadLetterStore, InMemoryDeadLetterStore};
use crate::handle::ProjectorHandle;
use crate::projector::{Projector, ProjectorId};
use crate::runner::ProjectorRunner;
use crate::status::ProjectorStatus;

/// A projector with this name and version already runs in the set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("projector {0} is already running in this set")]
pub struct DuplicateProjector(pub ProjectorId);

/// The projectors of one process, sharing a log, a dead-letter store and a
/// default runner config.
pub struct ProjectionSet {
    log: Arc<dyn EventLog>,
    dead_letters: Arc<dyn DeadLetterStore>,
    config: RunnerConfig,
    handles: Vec<ProjectorHandle>,
}

impl std::fmt::Debug for ProjectionSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProjectionSet")
            .field("projectors", &self.handles)
            .field("dead_letters", &self.dead_letters)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl ProjectionSet {
    /// An empty set with the default config and in-memory dead letters.
    pub fn new(log: Arc<dyn EventLog>) -> ProjectionSet {
        ProjectionSet {
            log,
            dead_letters: Arc::new(InMemoryDeadLetterStore::new()),
            config: RunnerConfig::default(),
            handles: Vec::new(),
        }
    }

    /// The dead-letter store every projector of the set uses.
    pub fn with_dead_letters(mut self, store: Arc<dyn DeadLetterStore>) -> ProjectionSet {
        self.dead_letters = store;
        self
    }

    /// The config of projectors spawned without one of their own.
    pub fn with_config(mut self, config: RunnerConfig) -> ProjectionSet {
        self.config = config;
        self
    }

    /// Starts a projector with the set's config.
    pub fn spawn(&mut self, projector: Arc<dyn Projector>) -> Result<ProjectorHandle, DuplicateProjector> {
        let config = self.config.clone();
        self.spawn_with_config(projector, config)
    }

    /// Starts a projector with its own config.
    pub fn spawn_with_config(
        &mut self,
        projector: Arc<dyn Projector>,
        config: RunnerConfig,
    ) -> Result<ProjectorHandle, DuplicateProjector> {
        let id = projector.id();
        if self.get_id(&id).is_some() {
            return Err(DuplicateProjector(id));
        }
        let handle = ProjectorRunner::new(Arc::clone(&self.log), projector)
            .config(config)
            .dead_letters(Arc::clone(&self.dead_letters))
            .spawn();
        self.handles.push(handle.clone());
        Ok(handle)
    }

    /// The running projector with this name; the highest version if several
    /// versions run side by side.
    pub fn get(&self, name: &str) -> Option<&ProjectorHandle> {
        self.handles
            .iter()
            .filter(|handle| handle.name() == name)
            .max_by_key(|handle| handle.version())
    }

    pub fn get_id(&self, id: &ProjectorId) -> Option<&ProjectorHandle> {
        self.handles.iter().find(|handle| handle.id() == id)
    }

    pub fn handles(&self) -> &[ProjectorHandle] {
        &self.handles
    }

    /// Every projector's status, in the order they were spawned, against
    /// one fresh read of the log's head.
    pub async fn statuses(&self) -> Vec<ProjectorStatus> {
        let head = self.log.head().await.ok();
        self.handles
            .iter()
            .map(|handle| handle.status_with_head(head))
            .collect()
    }

    /// Stops every projector and waits until all have stopped.
    pub async fn stop_all(&self) {
        futures::future::join_all(self.handles.iter().map(ProjectorHandle::stop)).await;
        info!(projectors = self.handles.len(), "projection set stopped");
    }

    /// Waits for `shutdown` (e.g. ctrl-c), then stops every projector.
    pub async fn run_until(&self, shutdown: impl Future<Output = ()>) {
        shutdown.await;
        self.stop_all().await;
    }
}
