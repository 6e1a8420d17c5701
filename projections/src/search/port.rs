//! The [`SearchIndex`] port: the full-text store the search projector
//! writes through and search queries read through, and its errors.

use std::fmt::Debug;

use async_trait::async_trait;
use quire_domain::{ChannelId, Position, UserId};

use super::model::{EntryKey, SearchEntry, SearchFilter, SearchHit};
use crate::error::ProjectionError;
use crate::query::{Page, PageRequest, QueryError};

/// The full-text index of documents and messages, with permission filters.
///
/// # Writes
///
/// Writes are buffered until [`commit`](SearchIndex::commit), which makes
/// them durable and visible to queries **together with the checkpoint** (a
/// crash leaves either both or neither), or until
/// [`rollback`](SearchIndex::rollback), which drops them.
/// [`get`](SearchIndex::get) sees the writer's own uncommitted writes; a
/// query sees only committed ones, as soon as `commit` returns.
///
/// Every write is guarded by a log position: a write carrying a position
/// not above the one stored for its key is skipped (and reported as
/// `false`), so applying the same events again changes nothing. Deleting
/// leaves a tombstone holding the guard, so an older write replayed later
/// cannot bring an entry back.
///
/// # Permissions
///
/// An entry lists its readers as [`Principal`](super::Principal)s. A
/// `channel:<id>` principal stands for the channel's participants at query
/// time, as recorded with [`set_member`](SearchIndex::set_member) (guarded
/// the same way, per channel and user).
///
/// One writer at a time: the projector's runner never overlaps its calls.
/// Queries may run concurrently with the writer.
#[async_trait]
pub trait SearchIndex: Debug + Send + Sync + 'static {
    /// The entry stored under `key`, including uncommitted writes and
    /// hidden entries; `None` if there is none or it was deleted.
    async fn get(&self, key: &EntryKey) -> Result<Option<SearchEntry>, SearchIndexError>;

    /// Writes `entry` (replacing the one under its key) unless the stored
    /// entry or tombstone has a position `>= entry.position`. Returns
    /// whether it wrote.
    async fn upsert(&self, entry: SearchEntry) -> Result<bool, SearchIndexError>;

    /// Deletes the entry under `key`, leaving a tombstone at `position`,
    /// unless what is stored has a position `>= position`. Returns whether
    /// it wrote.
    async fn delete(&self, key: &EntryKey, position: Position) -> Result<bool, SearchIndexError>;

    /// Records whether `user` is a participant of `channel`, unless the
    /// stored record of that pair has a position `>= position`. Returns
    /// whether it wrote.
    async fn set_member(
        &self,
        channel: &ChannelId,
        user: &UserId,
        member: bool,
        position: Position,
    ) -> Result<bool, SearchIndexError>;

    /// Performs `writes` in order, each exactly as its one-write method
    /// would (guards included, later writes seeing earlier ones). Returns
    /// how many wrote. Backends override it to do the lot in one trip.
    async fn write_all(&self, writes: Vec<SearchWrite>) -> Result<usize, SearchIndexError> {
        let mut written = 0;
        for write in writes {
            let wrote = match write {
                SearchWrite::Upsert(entry) => self.upsert(entry).await?,
                SearchWrite::Delete { key, position } => self.delete(&key, position).await?,
                SearchWrite::Member {
                    channel,
                    user,
                    member,
                    position,
                } => self.set_member(&channel, &user, member, position).await?,
            };
            written += usize::from(wrote);
        }
        Ok(written)
    }

    /// Makes every write since the last commit durable and visible, in one
    /// step with `checkpoint` (which never moves back: a lower one keeps
    /// the stored one).
    async fn commit(&self, checkpoint: Position) -> Result<(), SearchIndexError>;

    /// Drops every write since the last commit.
    async fn rollback(&self) -> Result<(), SearchIndexError>;

    /// The checkpoint of the last commit; `Position::ZERO` for a new or
    /// reset index.
    async fn checkpoint(&self) -> Result<Position, SearchIndexError>;

    /// Empties the index and its checkpoint, durably (for a rebuild).
    async fn reset(&self) -> Result<(), SearchIndexError>;

    /// Full-text search over what `reader` may see: entries not hidden whose
    /// readers include `user:<reader>` or a channel `reader` is in, of the
    /// kinds in `filter`, best first.
    ///
    /// `query` uses the store's query syntax (terms, `"phrases"`, `AND`,
    /// `OR`, `-excluded`, `title:word`). An empty or malformed query, or a
    /// bad page, is [`QueryError::InvalidArgument`] naming the field.
    async fn search(
        &self,
        reader: &UserId,
        query: &str,
        filter: &SearchFilter,
        page: &PageRequest,
    ) -> Result<Page<SearchHit>, QueryError>;
}

/// One guarded write, as [`SearchIndex::write_all`] takes them.
#[derive(Debug, Clone, PartialEq)]
pub enum SearchWrite {
    /// As [`SearchIndex::upsert`].
    Upsert(SearchEntry),
    /// As [`SearchIndex::delete`].
    Delete { key: EntryKey, position: Position },
    /// As [`SearchIndex::set_member`].
    Member {
        channel: ChannelId,
        user: UserId,
        member: bool,
        position: Position,
    },
}

/// A search index failed.
#[derive(Debug, thiserror::Error)]
pub enum SearchIndexError {
    /// The store cannot read or write now (I/O, locks, worker threads).
    #[error("search index unavailable: {0}")]
    Unavailable(String),
    /// Stored data fails to parse.
    #[error("corrupt search index data: {0}")]
    Corrupt(String),
    /// The stored checkpoint is behind one this instance committed: the
    /// store lost commits (a server crash under asynchronous commit, a
    /// restored backup, another instance's reset). Nothing was committed;
    /// the projector starts again from the stored checkpoint.
    #[error("search index rewound to checkpoint {stored} (this instance had committed {seen})")]
    Rewound { stored: Position, seen: Position },
}

impl From<SearchIndexError> for ProjectionError {
    fn from(error: SearchIndexError) -> ProjectionError {
        match error {
            SearchIndexError::Unavailable(message) => ProjectionError::Unavailable(message),
            SearchIndexError::Corrupt(message) => ProjectionError::Corrupt(message),
            SearchIndexError::Rewound { stored, seen } => ProjectionError::Rewound { stored, seen },
        }
    }
}
