//! The [`Projectors`] port: what the edges (gRPC queries and the admin
//! service) ask of the projectors, wherever they run. In one process that is
//! the [`ProjectionSet`]; in a fleet, the projectors run in whichever
//! process holds their lease and are reached over the bus
//! (`infra/coordination-nats`).

use std::fmt::Debug;
use std::time::Duration;

use async_trait::async_trait;
use quire_domain::Position;

use crate::dead_letter::DeadLetter;
use crate::error::{ControlError, WaitTimeout};
use crate::handle::ProjectorHandle;
use crate::set::ProjectionSet;
use crate::status::ProjectorStatus;

/// Read-your-writes waits, status and control of the projectors by name
/// (the highest running version of that name).
#[async_trait]
pub trait Projectors: Debug + Send + Sync + 'static {
    /// Waits until projector `name` has applied `position`.
    async fn wait_for(&self, name: &str, position: Position, timeout: Duration) -> Result<(), FleetError>;

    /// The status of every projector known, in a stable order.
    async fn statuses(&self) -> Result<Vec<ProjectorStatus>, FleetError>;

    /// The projector's dead letters in position order.
    async fn dead_letters(&self, name: &str) -> Result<Vec<DeadLetter>, FleetError>;

    /// Applies the dead-lettered event at `position` again.
    async fn redrive(&self, name: &str, position: Position) -> Result<(), FleetError>;

    /// Drops the dead letter at `position`; `false` if there was none.
    async fn discard(&self, name: &str, position: Position) -> Result<bool, FleetError>;

    /// Empties the projector's read model and replays the log.
    async fn rebuild(&self, name: &str) -> Result<(), FleetError>;
}

/// A request to the projectors failed.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    /// No projector of that name exists.
    #[error("no projector named `{0}`")]
    Unknown(String),
    /// The projector did not reach the position in time.
    #[error(transparent)]
    Timeout(#[from] WaitTimeout),
    /// The projector refused or failed the request.
    #[error(transparent)]
    Control(#[from] ControlError),
    /// The projector cannot be reached now (no process holds it, or the
    /// bus is down).
    #[error("{0}")]
    Unavailable(String),
}

impl ProjectionSet {
    fn named(&self, name: &str) -> Result<&ProjectorHandle, FleetError> {
        self.get(name).ok_or_else(|| FleetError::Unknown(name.to_owned()))
    }
}

#[async_trait]
impl Projectors for ProjectionSet {
    async fn wait_for(&self, name: &str, position: Position, timeout: Duration) -> Result<(), FleetError> {
        Ok(self.named(name)?.wait_for(position, timeout).await?)
    }

    async fn statuses(&self) -> Result<Vec<ProjectorStatus>, FleetError> {
        Ok(ProjectionSet::statuses(self).await)
    }

    async fn dead_letters(&self, name: &str) -> Result<Vec<DeadLetter>, FleetError> {
        let handle = self.named(name)?;
        handle
            .dead_letters()
            .await
            .map_err(|error| FleetError::Control(ControlError::Store(error)))
    }

    async fn redrive(&self, name: &str, position: Position) -> Result<(), FleetError> {
        Ok(self.named(name)?.redrive(position).await?)
    }

    async fn discard(&self, name: &str, position: Position) -> Result<bool, FleetError> {
        Ok(self.named(name)?.discard(position).await?)
    }

    async fn rebuild(&self, name: &str) -> Result<(), FleetError> {
        Ok(self.named(name)?.rebuild().await?)
    }
}
