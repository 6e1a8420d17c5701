//! [`TantivySearchIndex`]: opening the index (on disk or in RAM), the
//! writer with its uncommitted overlay, guarded writes, and commits that
//! carry the checkpoint in their payload.
//!
//! A guarded write compares its position with what is stored under its
//! key. The commit payload also records the highest position of any record
//! committed so far, so that a write above it (every write of a live
//! projector) skips the look-up in the committed segments: nothing there
//! can stop it. Only a replay over positions already committed pays for
//! the look-up.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use parking_lot::Mutex;
use quire_domain::Position;
use quire_projections::search::SearchIndexError;
use serde::{Deserialize, Serialize};
use tantivy::collector::TopDocs;
use tantivy::directory::MmapDirectory;
use tantivy::indexer::LogMergePolicy;
use tantivy::query::{QueryParser, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};
use tracing::{debug, info};

use crate::error::{OpenError, join_failed, unavailable};
use crate::record::Record;
use crate::schema::Fields;

/// How the index writer runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TantivyConfig {
    /// The writer's memory budget in bytes, shared by its threads (tantivy
    /// needs at least 15 MB per thread). Past it, the writer flushes a
    /// segment; nothing becomes visible before a commit either way.
    pub memory_budget_bytes: usize,
    /// Indexing threads.
    pub writer_threads: usize,
    /// How many segments of one size class gather before they are merged
    /// into one (tantivy's default is 8). The search projector commits up
    /// to ten times a second, each commit a small segment, so a wider
    /// fan-in merges less often and rewrites each entry fewer times, for
    /// slightly more segments per query.
    pub merge_fan_in: usize,
}

impl Default for TantivyConfig {
    fn default() -> TantivyConfig {
        TantivyConfig {
            memory_budget_bytes: 50_000_000,
            writer_threads: 1,
            merge_fan_in: 24,
        }
    }
}

/// The commit payload: the checkpoint committed with the index's data.
#[derive(Debug, Default, Serialize, Deserialize)]
struct CommitPayload {
    checkpoint: Position,
    /// The highest position of any record committed so far; absent in
    /// indexes committed before it was kept (unknown: every write looks
    /// its key up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    highest: Option<Position>,
}

/// The search index on tantivy, in a local directory or in RAM.
///
/// Cheap to clone: clones share the index, its reader and its writer.
/// Only one process may open a directory at a time (tantivy locks it).
#[derive(Clone)]
pub struct TantivySearchIndex {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for TantivySearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TantivySearchIndex")
            .field("location", &self.inner.location)
            .finish_non_exhaustive()
    }
}

pub(crate) struct Inner {
    pub(crate) reader: IndexReader,
    pub(crate) fields: Fields,
    pub(crate) parser: QueryParser,
    pub(crate) location: String,
    pub(crate) writer: Mutex<WriterState>,
}

/// The single writer and what it has written since the last commit.
pub(crate) struct WriterState {
    writer: IndexWriter<TantivyDocument>,
    /// Uncommitted records by storage key, so guards and `get` see them.
    pending: HashMap<String, Record>,
    /// The checkpoint of the last commit.
    pub(crate) checkpoint: Position,
    /// The highest position of any committed record, if known.
    committed_highest: Option<Position>,
    /// The highest position among `pending`.
    pending_highest: Position,
}

impl TantivySearchIndex {
    /// Opens the index in `dir`, creating the directory and an empty index
    /// if needed.
    pub fn open(dir: impl AsRef<Path>, config: &TantivyConfig) -> Result<TantivySearchIndex, OpenError> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|source| OpenError::Directory {
            path: dir.display().to_string(),
            source,
        })?;
        let (schema, fields) = Fields::schema();
        let index = Index::open_or_create(MmapDirectory::open(dir)?, schema)?;
        TantivySearchIndex::from_index(index, fields, config, dir.display().to_string())
    }

    /// An empty index in RAM, gone when dropped (for tests and throwaway
    /// read models).
    pub fn in_ram(config: &TantivyConfig) -> Result<TantivySearchIndex, OpenError> {
        let (schema, fields) = Fields::schema();
        let index = Index::create_in_ram(schema);
        TantivySearchIndex::from_index(index, fields, config, "memory".to_owned())
    }

    fn from_index(
        index: Index,
        fields: Fields,
        config: &TantivyConfig,
        location: String,
    ) -> Result<TantivySearchIndex, OpenError> {
        let writer =
            index.writer_with_num_threads(config.writer_threads.max(1), config.memory_budget_bytes)?;
        let mut merges = LogMergePolicy::default();
        merges.set_min_num_segments(config.merge_fan_in.max(2));
        writer.set_merge_policy(Box::new(merges));
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let mut parser = QueryParser::for_index(&index, vec![fields.title, fields.body]);
        parser.set_field_boost(fields.title, 2.0);
        parser.set_conjunction_by_default();
        let payload = load_payload(&index)?;
        let checkpoint = payload.checkpoint;
        // An index without documents holds no record to guard against.
        let empty = reader.searcher().num_docs() == 0;
        let committed_highest = payload.highest.or(empty.then_some(Position::ZERO));
        info!(location = %location, checkpoint = %checkpoint, highest = ?committed_highest, "search index opened");
        Ok(TantivySearchIndex {
            inner: Arc::new(Inner {
                reader,
                fields,
                parser,
                location,
                writer: Mutex::new(WriterState {
                    writer,
                    pending: HashMap::new(),
                    checkpoint,
                    committed_highest,
                    pending_highest: Position::ZERO,
                }),
            }),
        })
    }

    /// Runs `work` on the blocking pool (tantivy blocks on I/O and locks).
    pub(crate) async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Inner) -> Result<T, SearchIndexError> + Send + 'static,
    ) -> Result<T, SearchIndexError> {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || work(&inner))
            .await
            .map_err(join_failed)?
    }
}

/// The payload of the index's last commit (a zero checkpoint if none).
fn load_payload(index: &Index) -> Result<CommitPayload, SearchIndexError> {
    let metas = index
        .load_metas()
        .map_err(|e| unavailable("read index metas", e))?;
    match metas.payload {
        None => Ok(CommitPayload::default()),
        Some(payload) => serde_json::from_str::<CommitPayload>(&payload)
            .map_err(|e| SearchIndexError::Corrupt(format!("search index commit payload: {e}"))),
    }
}

impl Inner {
    /// The record under `key`: uncommitted first, then committed.
    pub(crate) fn lookup(&self, state: &WriterState, key: &str) -> Result<Option<Record>, SearchIndexError> {
        if let Some(record) = state.pending.get(key) {
            return Ok(Some(record.clone()));
        }
        self.committed(key)
    }

    /// The committed record under `key`.
    fn committed(&self, key: &str) -> Result<Option<Record>, SearchIndexError> {
        let searcher = self.reader.searcher();
        let query = TermQuery::new(
            Term::from_field_text(self.fields.key, key),
            IndexRecordOption::Basic,
        );
        let top = searcher
            .search(&query, &TopDocs::with_limit(1).order_by_score())
            .map_err(|e| unavailable("look up search record", e))?;
        let Some((_, address)) = top.first() else {
            return Ok(None);
        };
        let doc: TantivyDocument = searcher
            .doc(*address)
            .map_err(|e| unavailable("read search record", e))?;
        Record::from_document(&doc, &self.fields).map(Some)
    }

    /// The record under `key` that could stop a write at `position`: as
    /// [`lookup`](Self::lookup), but only the uncommitted one when every
    /// committed record is below `position`.
    fn guard(
        &self,
        state: &WriterState,
        key: &str,
        position: Position,
    ) -> Result<Option<Record>, SearchIndexError> {
        match state.committed_highest {
            Some(highest) if position > highest => Ok(state.pending.get(key).cloned()),
            _ => self.lookup(state, key),
        }
    }

    /// Writes `record` unless what is stored under its key has a position
    /// at least as high. Returns whether it wrote.
    pub(crate) fn write(&self, state: &mut WriterState, record: Record) -> Result<bool, SearchIndexError> {
        let key = record.storage_key();
        if let Some(current) = self.guard(state, &key, record.position())?
            && current.position() >= record.position()
        {
            debug!(key = %key, stored = %current.position(), position = %record.position(), "search write skipped by its guard");
            return Ok(false);
        }
        let doc = record.to_document(&self.fields)?;
        state
            .writer
            .delete_term(Term::from_field_text(self.fields.key, &key));
        state
            .writer
            .add_document(doc)
            .map_err(|e| unavailable("add search document", e))?;
        state.pending_highest = state.pending_highest.max(record.position());
        state.pending.insert(key, record);
        Ok(true)
    }

    /// Commits every pending write with `checkpoint` in the payload, then
    /// reloads the reader so queries see the commit as soon as this returns.
    pub(crate) fn commit(
        &self,
        state: &mut WriterState,
        checkpoint: Position,
    ) -> Result<(), SearchIndexError> {
        let highest = state
            .committed_highest
            .map(|highest| highest.max(state.pending_highest));
        let payload = serde_json::to_string(&CommitPayload { checkpoint, highest })
            .map_err(|e| SearchIndexError::Corrupt(format!("encode commit payload: {e}")))?;
        let mut prepared = state
            .writer
            .prepare_commit()
            .map_err(|e| unavailable("prepare search commit", e))?;
        prepared.set_payload(&payload);
        prepared.commit().map_err(|e| unavailable("search commit", e))?;
        let written = state.pending.len();
        state.pending.clear();
        state.pending_highest = Position::ZERO;
        state.committed_highest = highest;
        state.checkpoint = checkpoint;
        self.reader
            .reload()
            .map_err(|e| unavailable("reload search reader", e))?;
        debug!(location = %self.location, checkpoint = %checkpoint, written, "search index committed");
        Ok(())
    }

    /// Drops every pending write.
    pub(crate) fn rollback(&self, state: &mut WriterState) -> Result<(), SearchIndexError> {
        state
            .writer
            .rollback()
            .map_err(|e| unavailable("search rollback", e))?;
        state.pending.clear();
        state.pending_highest = Position::ZERO;
        Ok(())
    }

    /// Empties the index and commits a zero checkpoint.
    pub(crate) fn reset(&self, state: &mut WriterState) -> Result<(), SearchIndexError> {
        self.rollback(state)?;
        state
            .writer
            .delete_all_documents()
            .map_err(|e| unavailable("empty search index", e))?;
        // Nothing survives the commit below: no record to guard against.
        state.committed_highest = Some(Position::ZERO);
        self.commit(state, Position::ZERO)?;
        info!(location = %self.location, "search index reset");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use quire_domain::{DocumentId, Timestamp, UserId};
    use quire_projections::search::{EntryKey, Principal, SearchEntry};

    use super::*;

    fn entry(position: u64) -> Record {
        let ann = UserId::parse("ann").expect("test fixture");
        Record::Entry {
            entry: SearchEntry {
                key: EntryKey::Document(DocumentId::parse("d1").expect("test fixture")),
                container: None,
                title: "d1".to_owned(),
                body: format!("version {position}"),
                text_version: 0,
                readers: BTreeSet::from([Principal::User(ann.clone())]),
                author: ann,
                hidden: false,
                created_at: Timestamp(1),
                updated_at: Timestamp(1),
                position: Position(position),
            },
        }
    }

    fn open(dir: &Path) -> TantivySearchIndex {
        let config = TantivyConfig {
            memory_budget_bytes: 15_000_000,
            ..TantivyConfig::default()
        };
        TantivySearchIndex::open(dir, &config).expect("open the index")
    }

    fn write(index: &TantivySearchIndex, position: u64) -> bool {
        let inner = &index.inner;
        inner
            .write(&mut inner.writer.lock(), entry(position))
            .expect("write")
    }

    fn commit(index: &TantivySearchIndex, checkpoint: u64) {
        let inner = &index.inner;
        inner
            .commit(&mut inner.writer.lock(), Position(checkpoint))
            .expect("commit");
    }

    fn highest(index: &TantivySearchIndex) -> Option<Position> {
        index.inner.writer.lock().committed_highest
    }

    #[test]
    fn the_highest_committed_position_is_kept_in_the_payload() {
        let dir = tempfile::tempdir().expect("test fixture");
        let index = open(dir.path());
        assert_eq!(highest(&index), Some(Position::ZERO), "a new index is empty");
        assert!(write(&index, 9));
        assert_eq!(
            highest(&index),
            Some(Position::ZERO),
            "pending writes do not count"
        );
        commit(&index, 4);
        assert_eq!(highest(&index), Some(Position(9)));
        drop(index);
        assert_eq!(highest(&open(dir.path())), Some(Position(9)));
    }

    #[test]
    fn an_index_committed_without_the_highest_position_looks_every_key_up() {
        let dir = tempfile::tempdir().expect("test fixture");
        let index = open(dir.path());
        assert!(write(&index, 9));
        // As an index committed before the payload kept it.
        index.inner.writer.lock().committed_highest = None;
        commit(&index, 9);
        drop(index);
        let index = open(dir.path());
        assert_eq!(highest(&index), None, "unknown, and the index is not empty");
        assert!(!write(&index, 8), "the committed record still guards its key");
        assert!(write(&index, 10));
        commit(&index, 10);
        assert_eq!(highest(&index), None, "stays unknown until a reset");
        let inner = &index.inner;
        inner.reset(&mut inner.writer.lock()).expect("reset");
        assert_eq!(highest(&index), Some(Position::ZERO));
    }
}
