//! [`PgDeadLetterStore`]: the
//! [`DeadLetterStore`] port on the `dead_letters` table (migration 0002), so
//! that a projector's dead letters outlive the process that wrote them and
//! every process (the lease holder, the admin API) sees the same list.
//!
//! Rows are keyed by projector name, version and position. The event type
//! and the error text are `bytea` holding their UTF-8 bytes: either may
//! contain a NUL, which `text` refuses, and a letter that cannot be stored
//! would hold its projector up (the runner retries a failed put without
//! limit).

use async_trait::async_trait;
use quire_domain::{Position, StreamId, Timestamp};
use quire_projections::{DeadLetter, DeadLetterStore, ProjectionError, ProjectorId};
use uuid::Uuid;

use crate::convert::{position_from_db, position_to_db, version_to_db};
use crate::error::projection_error;
use crate::store::PgStore;

/// Dead letters of any number of projectors in one schema, shared by every
/// process on that schema. Each call is one autocommitted statement. Cheap
/// to clone.
#[derive(Debug, Clone)]
pub struct PgDeadLetterStore {
    store: PgStore,
}

/// A stored letter, without its key's projector.
struct Row {
    position: i64,
    event_id: String,
    stream_id: String,
    event_type: Vec<u8>,
    error: Vec<u8>,
    attempts: i64,
    first_failed_at: i64,
    last_failed_at: i64,
}

impl PgDeadLetterStore {
    /// The dead-letter store in an open store's schema.
    pub fn new(store: PgStore) -> PgDeadLetterStore {
        PgDeadLetterStore { store }
    }

    /// The store the letters live in.
    pub fn store(&self) -> &PgStore {
        &self.store
    }
}

#[async_trait]
impl DeadLetterStore for PgDeadLetterStore {
    async fn put(&self, letter: DeadLetter) -> Result<(), ProjectionError> {
        sqlx::query!(
            "INSERT INTO dead_letters (projector, version, position, event_id, stream_id, event_type,
                                       error, attempts, first_failed_at, last_failed_at)
             VALUES ($1, $2, $3, $4::text::uuid, $5, $6, $7, $8, $9, $10)
             ON CONFLICT (projector, version, position) DO UPDATE SET
                 event_id = EXCLUDED.event_id, stream_id = EXCLUDED.stream_id,
                 event_type = EXCLUDED.event_type, error = EXCLUDED.error, attempts = EXCLUDED.attempts,
                 first_failed_at = EXCLUDED.first_failed_at, last_failed_at = EXCLUDED.last_failed_at",
            letter.projector.name,
            version_to_db(letter.projector.version)?,
            position_to_db(letter.position)?,
            letter.event_id.to_string(),
            letter.stream_id.as_str(),
            letter.event_type.as_bytes(),
            letter.error.as_bytes(),
            i64::from(letter.attempts),
            letter.first_failed_at.0,
            letter.last_failed_at.0
        )
        .execute(self.store.pool())
        .await
        .map_err(|error| projection_error("put dead letter", error))?;
        Ok(())
    }

    async fn list(&self, projector: &ProjectorId) -> Result<Vec<DeadLetter>, ProjectionError> {
        let rows = sqlx::query_as!(
            Row,
            r#"SELECT position, event_id::text AS "event_id!", stream_id, event_type, error, attempts,
                      first_failed_at, last_failed_at
               FROM dead_letters WHERE projector = $1 AND version = $2
               ORDER BY position"#,
            projector.name,
            version_to_db(projector.version)?
        )
        .fetch_all(self.store.pool())
        .await
        .map_err(|error| projection_error("list dead letters", error))?;
        rows.into_iter().map(|row| letter(projector, row)).collect()
    }

    async fn get(
        &self,
        projector: &ProjectorId,
        position: Position,
    ) -> Result<Option<DeadLetter>, ProjectionError> {
        let row = sqlx::query_as!(
            Row,
            r#"SELECT position, event_id::text AS "event_id!", stream_id, event_type, error, attempts,
                      first_failed_at, last_failed_at
               FROM dead_letters WHERE projector = $1 AND version = $2 AND position = $3"#,
            projector.name,
            version_to_db(projector.version)?,
            position_to_db(position)?
        )
        .fetch_optional(self.store.pool())
        .await
        .map_err(|error| projection_error("get dead letter", error))?;
        row.map(|row| letter(projector, row)).transpose()
    }

    async fn remove(&self, projector: &ProjectorId, position: Position) -> Result<bool, ProjectionError> {
        let done = sqlx::query!(
            "DELETE FROM dead_letters WHERE projector = $1 AND version = $2 AND position = $3",
            projector.name,
            version_to_db(projector.version)?,
            position_to_db(position)?
        )
        .execute(self.store.pool())
        .await
        .map_err(|error| projection_error("remove dead letter", error))?;
        Ok(done.rows_affected() > 0)
    }

    async fn clear(&self, projector: &ProjectorId) -> Result<(), ProjectionError> {
        sqlx::query!(
            "DELETE FROM dead_letters WHERE projector = $1 AND version = $2",
            projector.name,
            version_to_db(projector.version)?
        )
        .execute(self.store.pool())
        .await
        .map_err(|error| projection_error("clear dead letters", error))?;
        Ok(())
    }
}

/// The letter a row of `projector` holds; a row that does not convert back
/// is corrupt.
fn letter(projector: &ProjectorId, row: Row) -> Result<DeadLetter, ProjectionError> {
    let corrupt = |what: &str| {
        ProjectionError::Corrupt(format!(
            "dead letter of {projector} at {} has an invalid {what}",
            row.position
        ))
    };
    Ok(DeadLetter {
        projector: projector.clone(),
        position: position_from_db(row.position)?,
        event_id: Uuid::parse_str(&row.event_id).map_err(|_| corrupt("event id"))?,
        stream_id: StreamId::parse(&row.stream_id).map_err(|_| corrupt("stream id"))?,
        event_type: String::from_utf8(row.event_type).map_err(|_| corrupt("event type"))?,
        error: String::from_utf8(row.error).map_err(|_| corrupt("error text"))?,
        attempts: u32::try_from(row.attempts).map_err(|_| corrupt("attempt count"))?,
        first_failed_at: Timestamp::from_unix_micros(row.first_failed_at),
        last_failed_at: Timestamp::from_unix_micros(row.last_failed_at),
    })
}
