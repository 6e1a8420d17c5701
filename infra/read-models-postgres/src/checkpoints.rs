//! The `checkpoints` table, keyed by projector name and version: the three
//! statements on it, which run in a read model's batch transaction or on
//! the pool alike, and [`PgCheckpointStore`], the
//! [`CheckpointStore`] port on it for projectors whose own store cannot
//! hold their checkpoint (search, Redis), so that whichever process holds a
//! projector's lease resumes where the last one stopped.
//!
//! The read models and the port share the table: a projector keeps its
//! checkpoint either in its batch transaction or in a checkpoint store,
//! never both, projector ids are unique within a deployment, and both
//! follow the same rule (only forward, except a reset).

use async_trait::async_trait;
use quire_domain::Position;
use quire_projections::{CheckpointStore, ProjectionError, ProjectorId};
use sqlx::PgExecutor;

use crate::convert::{position_from_db, position_to_db, version_to_db};
use crate::error::projection_error;
use crate::store::PgStore;

/// The projector's stored checkpoint, `Position::ZERO` if none.
pub(crate) async fn load<'e>(
    executor: impl PgExecutor<'e>,
    projector: &ProjectorId,
) -> Result<Position, ProjectionError> {
    let stored = sqlx::query_scalar!(
        "SELECT position FROM checkpoints WHERE projector = $1 AND version = $2",
        projector.name,
        version_to_db(projector.version)?
    )
    .fetch_optional(executor)
    .await
    .map_err(|error| projection_error("load checkpoint", error))?;
    stored.map_or(Ok(Position::ZERO), position_from_db)
}

/// Raises the projector's checkpoint to `position`, never lowering it. One
/// statement: concurrent raises serialise on the row and the highest wins.
pub(crate) async fn raise<'e>(
    executor: impl PgExecutor<'e>,
    projector: &ProjectorId,
    position: Position,
) -> Result<(), ProjectionError> {
    sqlx::query!(
        "INSERT INTO checkpoints (projector, version, position) VALUES ($1, $2, $3)
             ON CONFLICT (projector, version)
             DO UPDATE SET position = GREATEST(checkpoints.position, EXCLUDED.position)",
        projector.name,
        version_to_db(projector.version)?,
        position_to_db(position)?
    )
    .execute(executor)
    .await
    .map_err(|error| projection_error("save checkpoint", error))?;
    Ok(())
}

/// Forgets the projector's checkpoint.
pub(crate) async fn delete<'e>(
    executor: impl PgExecutor<'e>,
    projector: &ProjectorId,
) -> Result<(), ProjectionError> {
    sqlx::query!(
        "DELETE FROM checkpoints WHERE projector = $1 AND version = $2",
        projector.name,
        version_to_db(projector.version)?
    )
    .execute(executor)
    .await
    .map_err(|error| projection_error("delete checkpoint", error))?;
    Ok(())
}

/// Checkpoints of any number of projectors in one schema's `checkpoints`
/// table, shared by every process on that schema. Each call is one
/// autocommitted statement, durable when it returns (under the server's
/// `synchronous_commit`). Cheap to clone.
#[derive(Debug, Clone)]
pub struct PgCheckpointStore {
    store: PgStore,
}

impl PgCheckpointStore {
    /// The checkpoint store in an open store's schema.
    pub fn new(store: PgStore) -> PgCheckpointStore {
        PgCheckpointStore { store }
    }

    /// The store the checkpoints live in.
    pub fn store(&self) -> &PgStore {
        &self.store
    }
}

#[async_trait]
impl CheckpointStore for PgCheckpointStore {
    async fn load(&self, projector: &ProjectorId) -> Result<Position, ProjectionError> {
        load(self.store.pool(), projector).await
    }

    async fn save(&self, projector: &ProjectorId, position: Position) -> Result<(), ProjectionError> {
        raise(self.store.pool(), projector, position).await
    }

    async fn reset(&self, projector: &ProjectorId) -> Result<(), ProjectionError> {
        delete(self.store.pool(), projector).await
    }
}
