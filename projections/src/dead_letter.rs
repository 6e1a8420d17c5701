//! Dead letters: events a projector gave up on, the [`DeadLetterStore`] port
//! that keeps them, and its in-memory and durable local-file backends.
//!
//! A dead letter records where the event is (its position and id), not the
//! event itself: the log is the source of truth, and a re-drive reads the
//! event back from it.
//!
//! `conformance` (feature `conformance`) is the port's suite, which every
//! backend passes, instantiated with `dead_letter_store_conformance!`.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Debug;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use parking_lot::Mutex;
use quire_domain::{Position, RecordedEvent, StreamId, Timestamp};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::atomic_file::{self, blocking};
use crate::error::ProjectionError;
use crate::projector::ProjectorId;

#[cfg(feature = "conformance")]
pub mod conformance;

/// An event a projector failed to apply after every attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetter {
    pub projector: ProjectorId,
    pub position: Position,
    pub event_id: Uuid,
    pub stream_id: StreamId,
    pub event_type: String,
    /// The last error's text.
    pub error: String,
    /// Failed attempts so far, re-drives included.
    pub attempts: u32,
    /// When it first failed for good.
    pub first_failed_at: Timestamp,
    /// When it last failed (the first time, or the last failed re-drive).
    pub last_failed_at: Timestamp,
}

impl DeadLetter {
    pub(crate) fn new(
        projector: ProjectorId,
        event: &RecordedEvent,
        error: String,
        attempts: u32,
    ) -> DeadLetter {
        let now = now();
        DeadLetter {
            projector,
            position: event.position,
            event_id: event.event_id,
            stream_id: event.stream_id.clone(),
            event_type: event.event_type.clone(),
            error,
            attempts,
            first_failed_at: now,
            last_failed_at: now,
        }
    }
}

/// The wall clock as a [`Timestamp`].
pub(crate) fn now() -> Timestamp {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
    Timestamp::from_unix_micros(micros)
}

/// Keeps dead letters, keyed by projector and position.
#[async_trait]
pub trait DeadLetterStore: Debug + Send + Sync + 'static {
    /// Adds the letter, or replaces the one at the same projector and
    /// position.
    async fn put(&self, letter: DeadLetter) -> Result<(), ProjectionError>;

    /// The projector's letters in position order.
    async fn list(&self, projector: &ProjectorId) -> Result<Vec<DeadLetter>, ProjectionError>;

    /// The projector's letter at `position`, if any.
    async fn get(
        &self,
        projector: &ProjectorId,
        position: Position,
    ) -> Result<Option<DeadLetter>, ProjectionError> {
        Ok(self
            .list(projector)
            .await?
            .into_iter()
            .find(|letter| letter.position == position))
    }

    /// Removes the letter; `false` if there was none.
    async fn remove(&self, projector: &ProjectorId, position: Position) -> Result<bool, ProjectionError>;

    /// Removes all of the projector's letters (for a rebuild).
    async fn clear(&self, projector: &ProjectorId) -> Result<(), ProjectionError>;
}

type Letters = HashMap<ProjectorId, BTreeMap<Position, DeadLetter>>;

/// Dead letters in memory, lost at exit.
#[derive(Debug, Default)]
pub struct InMemoryDeadLetterStore {
    letters: Mutex<Letters>,
}

impl InMemoryDeadLetterStore {
    pub fn new() -> InMemoryDeadLetterStore {
        InMemoryDeadLetterStore::default()
    }
}

#[async_trait]
impl DeadLetterStore for InMemoryDeadLetterStore {
    async fn put(&self, letter: DeadLetter) -> Result<(), ProjectionError> {
        insert(&mut self.letters.lock(), letter);
        Ok(())
    }

    async fn list(&self, projector: &ProjectorId) -> Result<Vec<DeadLetter>, ProjectionError> {
        Ok(list(&self.letters.lock(), projector))
    }

    async fn remove(&self, projector: &ProjectorId, position: Position) -> Result<bool, ProjectionError> {
        Ok(remove(&mut self.letters.lock(), projector, position))
    }

    async fn clear(&self, projector: &ProjectorId) -> Result<(), ProjectionError> {
        self.letters.lock().remove(projector);
        Ok(())
    }
}

fn insert(letters: &mut Letters, letter: DeadLetter) {
    letters
        .entry(letter.projector.clone())
        .or_default()
        .insert(letter.position, letter);
}

fn list(letters: &Letters, projector: &ProjectorId) -> Vec<DeadLetter> {
    letters
        .get(projector)
        .map(|by_position| by_position.values().cloned().collect())
        .unwrap_or_default()
}

fn remove(letters: &mut Letters, projector: &ProjectorId, position: Position) -> bool {
    let Some(by_position) = letters.get_mut(projector) else {
        return false;
    };
    let removed = by_position.remove(&position).is_some();
    if by_position.is_empty() {
        letters.remove(projector);
    }
    removed
}

/// Dead letters of every projector in one JSON file (an array of letters),
/// held in memory and rewritten atomically (temp file, fsync, rename, fsync
/// of the directory) on every change. Dead letters are rare, so rewriting
/// the whole file is cheap. One store instance should own a file.
#[derive(Debug)]
pub struct FileDeadLetterStore {
    path: PathBuf,
    /// The file's contents. Changes are made to a copy that replaces this
    /// one only after the file is written, so a failed write changes nothing.
    letters: tokio::sync::Mutex<Letters>,
}

impl FileDeadLetterStore {
    /// Opens the file, creating its directory; a missing file is an empty
    /// list.
    pub fn open(path: impl AsRef<Path>) -> Result<FileDeadLetterStore, ProjectionError> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            atomic_file::create_dir(dir)?;
        }
        let mut letters = Letters::new();
        if let Some(bytes) = atomic_file::read_if_exists(&path)? {
            let stored: Vec<DeadLetter> = serde_json::from_slice(&bytes)
                .map_err(|e| ProjectionError::Corrupt(format!("dead-letter file {}: {e}", path.display())))?;
            for letter in stored {
                insert(&mut letters, letter);
            }
        }
        Ok(FileDeadLetterStore {
            path,
            letters: tokio::sync::Mutex::new(letters),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Applies `change` to a copy of the letters, writes the copy and, once
    /// it is durable, makes it current.
    async fn update<T>(&self, change: impl FnOnce(&mut Letters) -> T) -> Result<T, ProjectionError> {
        let mut letters = self.letters.lock().await;
        let mut next = letters.clone();
        let outcome = change(&mut next);
        let all: Vec<&DeadLetter> = next.values().flat_map(BTreeMap::values).collect();
        let contents = serde_json::to_vec_pretty(&all)
            .map_err(|e| ProjectionError::Corrupt(format!("encode dead letters: {e}")))?;
        let path = self.path.clone();
        blocking(move || atomic_file::write_atomic(&path, &contents)).await?;
        *letters = next;
        Ok(outcome)
    }
}

#[async_trait]
impl DeadLetterStore for FileDeadLetterStore {
    async fn put(&self, letter: DeadLetter) -> Result<(), ProjectionError> {
        self.update(|letters| insert(letters, letter)).await
    }

    async fn list(&self, projector: &ProjectorId) -> Result<Vec<DeadLetter>, ProjectionError> {
        Ok(list(&*self.letters.lock().await, projector))
    }

    async fn remove(&self, projector: &ProjectorId, position: Position) -> Result<bool, ProjectionError> {
        if !self
            .letters
            .lock()
            .await
            .get(projector)
            .is_some_and(|by_position| by_position.contains_key(&position))
        {
            return Ok(false);
        }
        self.update(|letters| remove(letters, projector, position)).await
    }

    async fn clear(&self, projector: &ProjectorId) -> Result<(), ProjectionError> {
        if !self.letters.lock().await.contains_key(projector) {
            return Ok(());
        }
        self.update(|letters| {
            letters.remove(projector);
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn letter(projector: &ProjectorId, position: u64) -> DeadLetter {
        DeadLetter {
            projector: projector.clone(),
            position: Position(position),
            event_id: Uuid::now_v7(),
            stream_id: StreamId::parse("doc-1").unwrap(),
            event_type: "doc.created".to_owned(),
            error: "boom".to_owned(),
            attempts: 5,
            first_failed_at: now(),
            last_failed_at: now(),
        }
    }

    async fn exercise(store: &dyn DeadLetterStore) {
        let a = ProjectorId::new("a", 1);
        let b = ProjectorId::new("b", 1);
        store.put(letter(&a, 9)).await.unwrap();
        store.put(letter(&a, 3)).await.unwrap();
        store.put(letter(&b, 4)).await.unwrap();
        let mut again = letter(&a, 3);
        again.attempts = 6;
        store.put(again).await.unwrap();
        let listed = store.list(&a).await.unwrap();
        assert_eq!(
            listed.iter().map(|l| l.position).collect::<Vec<_>>(),
            [Position(3), Position(9)]
        );
        assert_eq!(listed[0].attempts, 6);
        assert!(store.get(&a, Position(9)).await.unwrap().is_some());
        assert!(store.remove(&a, Position(9)).await.unwrap());
        assert!(!store.remove(&a, Position(9)).await.unwrap());
        store.clear(&b).await.unwrap();
        assert!(store.list(&b).await.unwrap().is_empty());
        assert_eq!(store.list(&a).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn in_memory_store_keeps_letters_by_projector_and_position() {
        exercise(&InMemoryDeadLetterStore::new()).await;
    }

    #[tokio::test]
    async fn file_store_keeps_letters_across_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/dead-letters.json");
        exercise(&FileDeadLetterStore::open(&path).unwrap()).await;
        let reopened = FileDeadLetterStore::open(&path).unwrap();
        let letters = reopened.list(&ProjectorId::new("a", 1)).await.unwrap();
        assert_eq!(letters.len(), 1);
        assert_eq!(letters[0].position, Position(3));
        assert_eq!(letters[0].attempts, 6);
        assert!(reopened.list(&ProjectorId::new("b", 1)).await.unwrap().is_empty());
    }
}
