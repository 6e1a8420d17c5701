//! The write side: guarded writes into the overlay (loading the stored
//! guards a batch needs in at most two statements), `get` through the
//! overlay, and the commit that sends every pending write and the
//! checkpoint in one transaction.
//!
//! The commit transaction first takes an advisory lock on the schema's
//! index, so two processes briefly running the projector take turns; and
//! every row it writes is guarded again by the database (`ON CONFLICT … DO
//! UPDATE … WHERE stored.position < EXCLUDED.position`), so a writer whose
//! overlay was built on a stale view can never move a row back. It also
//! checks that the stored checkpoint is not below one this instance
//! committed (a server that lost commits: the projector must replay them).

use std::sync::atomic::Ordering;

use quire_domain::Position;
use quire_projections::search::{EntryKey, SearchEntry, SearchIndexError, SearchWrite};
use sqlx::{PgExecutor, Postgres, Transaction};
use tracing::{debug, info};

use crate::error::index_error;
use crate::index::PgSearchIndex;
use crate::overlay::{Overlay, Pending, StoredGuards};
use crate::rows::{EntryColumns, EntryRow, MemberColumns, position_from_db, position_to_db};

type Tx = Transaction<'static, Postgres>;

impl PgSearchIndex {
    /// Applies `writes` in order to the overlay, each guarded by the
    /// overlay and the stored rows. Returns how many wrote.
    pub(crate) async fn write_batch(&self, writes: Vec<SearchWrite>) -> Result<usize, SearchIndexError> {
        let mut overlay = self.inner.overlay.lock().await;
        let stored = self.stored_guards(&overlay, &writes).await?;
        let written = writes
            .into_iter()
            .map(|write| usize::from(overlay.apply(write, &stored)))
            .sum();
        Ok(written)
    }

    /// The stored guards of the keys in `writes` that the overlay lacks.
    async fn stored_guards(
        &self,
        overlay: &Overlay,
        writes: &[SearchWrite],
    ) -> Result<StoredGuards, SearchIndexError> {
        let (entry_keys, member_keys) = overlay.unknown_keys(writes);
        let mut guards = StoredGuards::default();
        if !entry_keys.is_empty() {
            let rows = sqlx::query!(
                r#"SELECT key AS "key!", position AS "position!" FROM entries WHERE key = ANY($1::text[])"#,
                &entry_keys
            )
            .fetch_all(&self.inner.pool)
            .await
            .map_err(|e| index_error("load guards", e))?;
            for row in rows {
                guards.entries.insert(row.key, position_from_db(row.position)?);
            }
        }
        if !member_keys.is_empty() {
            let (channels, users): (Vec<String>, Vec<String>) = member_keys.into_iter().unzip();
            let rows = sqlx::query!(
                r#"SELECT m.channel AS "channel!", m.user_id AS "user_id!", m.position AS "position!"
                   FROM members m JOIN UNNEST($1::text[], $2::text[]) AS k(channel, user_id)
                     ON m.channel = k.channel AND m.user_id = k.user_id"#,
                &channels,
                &users
            )
            .fetch_all(&self.inner.pool)
            .await
            .map_err(|e| index_error("load membership guards", e))?;
            for row in rows {
                let position = position_from_db(row.position)?;
                guards.members.insert((row.channel, row.user_id), position);
            }
        }
        Ok(guards)
    }

    /// The entry under `key`: the overlay's if it holds the key, else the
    /// stored one.
    pub(crate) async fn lookup(&self, key: &EntryKey) -> Result<Option<SearchEntry>, SearchIndexError> {
        let storage_key = key.storage_key();
        {
            let overlay = self.inner.overlay.lock().await;
            if let Some(pending) = overlay.entries.get(&storage_key) {
                return Ok(match pending {
                    Pending::Entry(entry) => Some(entry.clone()),
                    Pending::Tombstone { .. } => None,
                });
            }
        }
        let row = sqlx::query_as!(
            EntryRow,
            r#"SELECT kind, channel, id, position, tombstone, hidden, container_kind, container,
                      title, body, title_exact, body_exact, text_version, author, readers,
                      created_at, updated_at
               FROM entries WHERE key = $1"#,
            storage_key
        )
        .fetch_optional(&self.inner.pool)
        .await
        .map_err(|e| index_error("get", e))?;
        row.map_or(Ok(None), EntryRow::into_entry)
    }

    /// Sends every pending write and the checkpoint (raised, never
    /// lowered) in one transaction; the overlay is emptied only once it
    /// has committed, so a failed commit can be retried or rolled back.
    pub(crate) async fn commit_overlay(&self, checkpoint: Position) -> Result<(), SearchIndexError> {
        let mut overlay = self.inner.overlay.lock().await;
        let (entries, members) = columns(&overlay)?;
        let mut tx = self.begin_locked().await?;
        self.check_not_rewound(&mut tx).await?;
        write_entries(&mut tx, &entries).await?;
        write_members(&mut tx, &members).await?;
        save_checkpoint(&mut tx, checkpoint).await?;
        tx.commit().await.map_err(|e| index_error("commit", e))?;
        self.inner.committed.fetch_max(checkpoint.0, Ordering::AcqRel);
        let written = entries.len() + members.member.len();
        *overlay = Overlay::default();
        debug!(schema = %self.inner.schema, checkpoint = %checkpoint, written, "search index committed");
        Ok(())
    }

    /// Fails with [`SearchIndexError::Rewound`] if the stored checkpoint is
    /// below the highest this instance committed: commits run with
    /// `synchronous_commit = off`, so a server crash (or a restored backup,
    /// or a promoted replica that lagged) may lose the last ones, entries
    /// and checkpoint together, and the projector must replay them rather
    /// than go on. Lowers what it remembers to the stored checkpoint, so
    /// the replay's commits pass. Skipped until this instance committed.
    async fn check_not_rewound(&self, tx: &mut Tx) -> Result<(), SearchIndexError> {
        let seen = self.inner.committed.load(Ordering::Acquire);
        if seen == 0 {
            return Ok(());
        }
        let stored = read_checkpoint(&mut **tx).await?;
        if stored.0 >= seen {
            return Ok(());
        }
        self.inner.committed.store(stored.0, Ordering::Release);
        Err(SearchIndexError::Rewound {
            stored,
            seen: Position(seen),
        })
    }

    /// Drops every pending write.
    pub(crate) async fn drop_overlay(&self) {
        *self.inner.overlay.lock().await = Overlay::default();
    }

    /// The checkpoint of the last commit.
    pub(crate) async fn stored_checkpoint(&self) -> Result<Position, SearchIndexError> {
        read_checkpoint(&self.inner.pool).await
    }

    /// Empties the index, its memberships and its checkpoint in one
    /// transaction, and drops the overlay.
    pub(crate) async fn reset_all(&self) -> Result<(), SearchIndexError> {
        let mut overlay = self.inner.overlay.lock().await;
        let mut tx = self.begin_locked().await?;
        sqlx::query!("TRUNCATE entries, members, checkpoint")
            .execute(&mut *tx)
            .await
            .map_err(|e| index_error("reset", e))?;
        tx.commit().await.map_err(|e| index_error("commit reset", e))?;
        self.inner.committed.store(0, Ordering::Release);
        *overlay = Overlay::default();
        info!(schema = %self.inner.schema, "search index reset");
        Ok(())
    }

    /// Begins a writing transaction holding the index's advisory lock until
    /// it ends, with its `synchronous_commit` (one statement for both).
    async fn begin_locked(&self) -> Result<Tx, SearchIndexError> {
        let mut tx = self
            .inner
            .pool
            .begin()
            .await
            .map_err(|e| index_error("begin", e))?;
        let key = format!("{}/search", self.inner.schema);
        sqlx::query!(
            r#"SELECT 1 AS "locked!"
               FROM (SELECT pg_advisory_xact_lock(hashtext($1)),
                            set_config('synchronous_commit', $2, true)) AS lock"#,
            key,
            self.inner.synchronous_commit
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| index_error("lock", e))?;
        Ok(tx)
    }
}

/// The overlay as column arrays.
fn columns(overlay: &Overlay) -> Result<(EntryColumns, MemberColumns), SearchIndexError> {
    let mut entries = EntryColumns::default();
    for (key, pending) in &overlay.entries {
        entries.push(key, pending)?;
    }
    let mut members = MemberColumns::default();
    for ((channel, user), membership) in &overlay.members {
        members.push(channel, user, *membership)?;
    }
    Ok((entries, members))
}

/// Upserts the pending entries and tombstones in one statement, each only
/// over a stored row with a lower position.
async fn write_entries(tx: &mut Tx, c: &EntryColumns) -> Result<(), SearchIndexError> {
    if c.key.is_empty() {
        return Ok(());
    }
    sqlx::query!(
        r#"INSERT INTO entries (key, kind, channel, id, position, tombstone, hidden, container_kind,
                               container, title, body, title_exact, body_exact, text_version, author,
                               readers, created_at, updated_at)
           SELECT r.key, r.kind, r.channel, r.id, r.position, r.tombstone, r.hidden, r.container_kind,
                  r.container, r.title, r.body, r.title_exact, r.body_exact, r.text_version, r.author,
                  string_to_array(r.readers, ' '), r.created_at, r.updated_at
           FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bool[],
                       $7::bool[], $8::text[], $9::text[], $10::text[], $11::text[], $12::bytea[],
                       $13::bytea[], $14::bigint[], $15::text[], $16::text[], $17::bigint[],
                       $18::bigint[])
             AS r(key, kind, channel, id, position, tombstone, hidden, container_kind, container,
                  title, body, title_exact, body_exact, text_version, author, readers, created_at,
                  updated_at)
           ON CONFLICT (key) DO UPDATE SET
             kind = EXCLUDED.kind, channel = EXCLUDED.channel, id = EXCLUDED.id,
             position = EXCLUDED.position, tombstone = EXCLUDED.tombstone, hidden = EXCLUDED.hidden,
             container_kind = EXCLUDED.container_kind, container = EXCLUDED.container,
             title = EXCLUDED.title, body = EXCLUDED.body, title_exact = EXCLUDED.title_exact,
             body_exact = EXCLUDED.body_exact, text_version = EXCLUDED.text_version,
             author = EXCLUDED.author, readers = EXCLUDED.readers,
             created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at
           WHERE entries.position < EXCLUDED.position"#,
        &c.key,
        &c.kind,
        &c.channel as &[Option<String>],
        &c.id,
        &c.position,
        &c.tombstone,
        &c.hidden,
        &c.container_kind as &[Option<String>],
        &c.container as &[Option<String>],
        &c.title,
        &c.body,
        &c.title_exact as &[Option<Vec<u8>>],
        &c.body_exact as &[Option<Vec<u8>>],
        &c.text_version,
        &c.author,
        &c.readers,
        &c.created_at,
        &c.updated_at
    )
    .execute(&mut **tx)
    .await
    .map_err(|e| index_error("write entries", e))?;
    Ok(())
}

/// Upserts the pending membership records in one statement, guarded alike.
async fn write_members(tx: &mut Tx, c: &MemberColumns) -> Result<(), SearchIndexError> {
    if c.channel.is_empty() {
        return Ok(());
    }
    sqlx::query!(
        r#"INSERT INTO members (channel, user_id, member, position)
           SELECT * FROM UNNEST($1::text[], $2::text[], $3::bool[], $4::bigint[])
           ON CONFLICT (channel, user_id) DO UPDATE
             SET member = EXCLUDED.member, position = EXCLUDED.position
           WHERE members.position < EXCLUDED.position"#,
        &c.channel,
        &c.user,
        &c.member,
        &c.position
    )
    .execute(&mut **tx)
    .await
    .map_err(|e| index_error("write memberships", e))?;
    Ok(())
}

/// The stored checkpoint, `Position::ZERO` if none.
async fn read_checkpoint<'e>(executor: impl PgExecutor<'e>) -> Result<Position, SearchIndexError> {
    let stored = sqlx::query_scalar!("SELECT position FROM checkpoint")
        .fetch_optional(executor)
        .await
        .map_err(|e| index_error("load checkpoint", e))?;
    stored.map_or(Ok(Position::ZERO), position_from_db)
}

/// Raises the checkpoint to `checkpoint` (never lowers it).
async fn save_checkpoint(tx: &mut Tx, checkpoint: Position) -> Result<(), SearchIndexError> {
    sqlx::query!(
        "INSERT INTO checkpoint (only_row, position) VALUES (true, $1)
         ON CONFLICT (only_row)
         DO UPDATE SET position = GREATEST(checkpoint.position, EXCLUDED.position)",
        position_to_db(checkpoint)?
    )
    .execute(&mut **tx)
    .await
    .map_err(|e| index_error("save checkpoint", e))?;
    Ok(())
}
