//! The `checkpoints` table, keyed by projector name and version: the
//! statements on it (load, raise, delete; and for a projector whose batches
//! split into partitions with a row each, the family's resume point and
//! clean-up), which run in a read model's batch transaction or on the pool
//! alike, and [`PgCheckpointStore`], the
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

/// Raises checkpoint rows of one version (a projector's own, or every
/// partition's when a batch is applied whole) to `position`, never
/// lowering any. One statement: concurrent raises serialise on the rows and
/// the highest wins.
pub(crate) async fn raise<'e>(
    executor: impl PgExecutor<'e>,
    projectors: &[ProjectorId],
    position: Position,
) -> Result<(), ProjectionError> {
    let [first, ..] = projectors else {
        return Ok(());
    };
    let names: Vec<String> = projectors.iter().map(|p| p.name.clone()).collect();
    sqlx::query!(
        "INSERT INTO checkpoints (projector, version, position)
             SELECT name, $2, $3 FROM UNNEST($1::text[]) AS n(name)
             ON CONFLICT (projector, version)
             DO UPDATE SET position = GREATEST(checkpoints.position, EXCLUDED.position)",
        &names,
        version_to_db(first.version)?,
        position_to_db(position)?
    )
    .execute(executor)
    .await
    .map_err(|error| projection_error("save checkpoint", error))?;
    Ok(())
}

/// The stored positions of checkpoint rows of one version, `None` for a
/// row that is not there.
pub(crate) async fn stored<'e>(
    executor: impl PgExecutor<'e>,
    projectors: &[ProjectorId],
) -> Result<Vec<(ProjectorId, Option<Position>)>, ProjectionError> {
    let [first, ..] = projectors else {
        return Ok(Vec::new());
    };
    let names: Vec<String> = projectors.iter().map(|p| p.name.clone()).collect();
    let rows = sqlx::query!(
        r#"SELECT n.name AS "name!", c.position AS "position?"
           FROM UNNEST($1::text[]) AS n(name)
           LEFT JOIN checkpoints c ON c.projector = n.name AND c.version = $2"#,
        &names,
        version_to_db(first.version)?
    )
    .fetch_all(executor)
    .await
    .map_err(|error| projection_error("read checkpoints", error))?;
    rows.into_iter()
        .map(|row| {
            let position = row.position.map(position_from_db).transpose()?;
            Ok((ProjectorId::new(row.name, first.version), position))
        })
        .collect()
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

/// Where a projector whose batches may be split into partitions, each
/// with its own checkpoint row (`<name>#<i>/<n>`, see
/// `channels::partitions`), resumes: the lowest row of its current
/// `layout` if every one of them is there; otherwise (a partition has not
/// yet committed under this layout) the lowest row of any layout, or
/// `Position::ZERO` if no row of another layout is left to say how far the
/// missing partitions got. Rows of other layouts are only deleted once
/// every row of the current one is written, so they are there when needed.
/// Resuming low is safe: every partition skips what it already applied.
pub(crate) async fn load_family<'e>(
    executor: impl PgExecutor<'e>,
    projector: &ProjectorId,
    layout: &[ProjectorId],
) -> Result<Position, ProjectionError> {
    let current: Vec<String> = layout.iter().map(|p| p.name.clone()).collect();
    let rows = sqlx::query!(
        r#"SELECT min(position) FILTER (WHERE projector = ANY($3)) AS current_lowest,
                  count(*) FILTER (WHERE projector = ANY($3)) AS "current_rows!",
                  min(position) FILTER (WHERE projector <> ALL($3)) AS other_lowest
           FROM checkpoints
           WHERE version = $2 AND (projector = $1 OR starts_with(projector, $1 || '#'))"#,
        projector.name,
        version_to_db(projector.version)?,
        &current
    )
    .fetch_one(executor)
    .await
    .map_err(|error| projection_error("load checkpoint", error))?;
    let complete = usize::try_from(rows.current_rows).is_ok_and(|n| n == current.len());
    let lowest = match (complete, rows.current_lowest, rows.other_lowest) {
        (true, current, _) => current,
        (false, Some(current), Some(other)) => Some(current.min(other)),
        (false, _, other) => other,
    };
    lowest.map_or(Ok(Position::ZERO), position_from_db)
}

/// Deletes the rows of `projector`'s family (its own and its partitions')
/// other than `keep`: the rows of a layout no longer in use, once every row
/// of the current one has been written. Without `keep`, forgets them all.
pub(crate) async fn delete_family<'e>(
    executor: impl PgExecutor<'e>,
    projector: &ProjectorId,
    keep: &[ProjectorId],
) -> Result<(), ProjectionError> {
    let keep: Vec<String> = keep.iter().map(|p| p.name.clone()).collect();
    sqlx::query!(
        "DELETE FROM checkpoints
         WHERE version = $2 AND (projector = $1 OR starts_with(projector, $1 || '#'))
           AND projector <> ALL($3)",
        projector.name,
        version_to_db(projector.version)?,
        &keep
    )
    .execute(executor)
    .await
    .map_err(|error| projection_error("delete checkpoints", error))?;
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
        raise(self.store.pool(), std::slice::from_ref(projector), position).await
    }

    async fn reset(&self, projector: &ProjectorId) -> Result<(), ProjectionError> {
        delete(self.store.pool(), projector).await
    }
}
