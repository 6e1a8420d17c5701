//! The [`CheckpointStore`] port, for projectors whose store cannot hold
//! their checkpoint, with an in-memory and a durable local-file backend.
//!
//! `conformance` (feature `conformance`) is the port's suite, which every
//! backend passes, instantiated with `checkpoint_store_conformance!`.

use std::collections::HashMap;
use std::fmt::Debug;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use parking_lot::Mutex;
use quire_domain::Position;
use serde::{Deserialize, Serialize};

use crate::atomic_file::{self, blocking};
use crate::error::ProjectionError;
use crate::projector::ProjectorId;

#[cfg(feature = "conformance")]
pub mod conformance;

/// Where a projector without a transactional store keeps its checkpoint.
///
/// A checkpoint only moves forward: saving a position lower than the stored
/// one is a no-op, so a late or repeated save cannot rewind it. Only
/// [`reset`](CheckpointStore::reset) takes it back to zero.
#[async_trait]
pub trait CheckpointStore: Debug + Send + Sync + 'static {
    /// The saved checkpoint, `Position::ZERO` if none.
    async fn load(&self, projector: &ProjectorId) -> Result<Position, ProjectionError>;

    /// Saves `position` unless a higher one is already saved. Durable when
    /// it returns, for durable backends.
    async fn save(&self, projector: &ProjectorId, position: Position) -> Result<(), ProjectionError>;

    /// Forgets the checkpoint (for a rebuild).
    async fn reset(&self, projector: &ProjectorId) -> Result<(), ProjectionError>;
}

/// Checkpoints in memory: for tests and for read models that live in memory
/// and are rebuilt at every start anyway.
#[derive(Debug, Default)]
pub struct InMemoryCheckpointStore {
    positions: Mutex<HashMap<ProjectorId, Position>>,
}

impl InMemoryCheckpointStore {
    pub fn new() -> InMemoryCheckpointStore {
        InMemoryCheckpointStore::default()
    }
}

#[async_trait]
impl CheckpointStore for InMemoryCheckpointStore {
    async fn load(&self, projector: &ProjectorId) -> Result<Position, ProjectionError> {
        Ok(self
            .positions
            .lock()
            .get(projector)
            .copied()
            .unwrap_or(Position::ZERO))
    }

    async fn save(&self, projector: &ProjectorId, position: Position) -> Result<(), ProjectionError> {
        let mut positions = self.positions.lock();
        let saved = positions.entry(projector.clone()).or_insert(Position::ZERO);
        *saved = (*saved).max(position);
        Ok(())
    }

    async fn reset(&self, projector: &ProjectorId) -> Result<(), ProjectionError> {
        self.positions.lock().remove(projector);
        Ok(())
    }
}

/// Checkpoints as small JSON files in one directory, one file per projector
/// (`<name>.v<version>.checkpoint.json`), each replaced atomically (temp
/// file, fsync, rename, fsync of the directory).
///
/// Saved positions are cached, so a save that would not move a checkpoint
/// forward touches no file. One store instance should own a directory.
#[derive(Debug)]
pub struct FileCheckpointStore {
    dir: PathBuf,
    cache: Mutex<HashMap<ProjectorId, Position>>,
    /// Serialises file writes so a slower, older save cannot land last.
    write_lock: tokio::sync::Mutex<()>,
}

#[derive(Debug, Serialize, Deserialize)]
struct CheckpointFile {
    name: String,
    version: u32,
    position: Position,
}

impl FileCheckpointStore {
    /// Opens (creating if needed) a checkpoint directory.
    pub fn open(dir: impl AsRef<Path>) -> Result<FileCheckpointStore, ProjectionError> {
        let dir = dir.as_ref().to_path_buf();
        atomic_file::create_dir(&dir)?;
        Ok(FileCheckpointStore {
            dir,
            cache: Mutex::new(HashMap::new()),
            write_lock: tokio::sync::Mutex::new(()),
        })
    }

    /// The directory holding the checkpoint files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, projector: &ProjectorId) -> PathBuf {
        self.dir
            .join(format!("{}.checkpoint.json", atomic_file::file_stem(projector)))
    }

    async fn read_file(&self, projector: &ProjectorId) -> Result<Position, ProjectionError> {
        let path = self.path(projector);
        let bytes = blocking(move || atomic_file::read_if_exists(&path)).await?;
        let Some(bytes) = bytes else {
            return Ok(Position::ZERO);
        };
        let file: CheckpointFile = serde_json::from_slice(&bytes)
            .map_err(|e| ProjectionError::Corrupt(format!("checkpoint file of {projector}: {e}")))?;
        if file.name != projector.name || file.version != projector.version {
            return Err(ProjectionError::Corrupt(format!(
                "checkpoint file of {projector} belongs to {}@v{}",
                file.name, file.version
            )));
        }
        Ok(file.position)
    }
}

#[async_trait]
impl CheckpointStore for FileCheckpointStore {
    async fn load(&self, projector: &ProjectorId) -> Result<Position, ProjectionError> {
        if let Some(position) = self.cache.lock().get(projector) {
            return Ok(*position);
        }
        let position = self.read_file(projector).await?;
        self.cache.lock().insert(projector.clone(), position);
        Ok(position)
    }

    async fn save(&self, projector: &ProjectorId, position: Position) -> Result<(), ProjectionError> {
        let _guard = self.write_lock.lock().await;
        let saved = self.load(projector).await?;
        if position <= saved {
            return Ok(());
        }
        let contents = serde_json::to_vec(&CheckpointFile {
            name: projector.name.clone(),
            version: projector.version,
            position,
        })
        .map_err(|e| ProjectionError::Corrupt(format!("encode checkpoint: {e}")))?;
        let path = self.path(projector);
        blocking(move || atomic_file::write_atomic(&path, &contents)).await?;
        self.cache.lock().insert(projector.clone(), position);
        Ok(())
    }

    async fn reset(&self, projector: &ProjectorId) -> Result<(), ProjectionError> {
        let _guard = self.write_lock.lock().await;
        let path = self.path(projector);
        blocking(move || atomic_file::remove_durably(&path)).await?;
        self.cache.lock().insert(projector.clone(), Position::ZERO);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn in_memory_checkpoints_only_move_forward() {
        let store = InMemoryCheckpointStore::new();
        let id = ProjectorId::new("p", 1);
        assert_eq!(store.load(&id).await.unwrap(), Position::ZERO);
        store.save(&id, Position(5)).await.unwrap();
        store.save(&id, Position(3)).await.unwrap();
        assert_eq!(store.load(&id).await.unwrap(), Position(5));
        store.reset(&id).await.unwrap();
        assert_eq!(store.load(&id).await.unwrap(), Position::ZERO);
    }

    #[tokio::test]
    async fn file_checkpoints_survive_reopen_and_keep_versions_apart() {
        let dir = tempfile::tempdir().unwrap();
        let v1 = ProjectorId::new("docs", 1);
        let v2 = ProjectorId::new("docs", 2);
        {
            let store = FileCheckpointStore::open(dir.path()).unwrap();
            store.save(&v1, Position(7)).await.unwrap();
            store.save(&v1, Position(6)).await.unwrap();
            store.save(&v2, Position(2)).await.unwrap();
        }
        let store = FileCheckpointStore::open(dir.path()).unwrap();
        assert_eq!(store.load(&v1).await.unwrap(), Position(7));
        assert_eq!(store.load(&v2).await.unwrap(), Position(2));
        store.reset(&v1).await.unwrap();
        assert_eq!(store.load(&v1).await.unwrap(), Position::ZERO);
        let reopened = FileCheckpointStore::open(dir.path()).unwrap();
        assert_eq!(reopened.load(&v1).await.unwrap(), Position::ZERO);
        assert_eq!(reopened.load(&v2).await.unwrap(), Position(2));
    }

    #[tokio::test]
    async fn corrupt_checkpoint_file_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileCheckpointStore::open(dir.path()).unwrap();
        let id = ProjectorId::new("x", 1);
        std::fs::write(store.path(&id), b"{not json").unwrap();
        assert!(matches!(store.load(&id).await, Err(ProjectionError::Corrupt(_))));
    }
}
