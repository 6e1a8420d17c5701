//! [`LocalBlobStore`]: blobs as files under a root directory.
//!
//! A put streams into a temporary file beside the target, hashing and
//! counting as it goes; once the body has ended it syncs the file, renames
//! it over the target and syncs the directory. Until that rename the blob
//! does not exist for readers; after the directory sync it survives a crash.
//! A put that fails, or whose future is dropped (a client that went away),
//! removes its temporary file; a crash leaves one behind, which the next
//! [`LocalBlobStore::open`] removes. One process owns a root at a time.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use bytes::BytesMut;
use futures::StreamExt;
use quire_command_handlers::blobs::{
    BlobError, BlobInfo, BlobKey, BlobStat, BlobStore, BlobStream, ByteStream,
};
use quire_domain::Sha256;
use sha2::Digest;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use tracing::{debug, warn};

use crate::paths;
use crate::temp::TempFile;

/// Bytes per chunk of a read stream.
const READ_CHUNK: usize = 64 * 1024;

/// Attempts at creating a temporary file whose folder concurrent deletes
/// keep pruning.
const CREATE_ATTEMPTS: u32 = 8;

/// The local-disk blob store. Cheap to clone.
#[derive(Debug, Clone)]
pub struct LocalBlobStore {
    root: Arc<PathBuf>,
}

impl LocalBlobStore {
    /// Opens (creating it if needed) the store rooted at `root`, removing
    /// temporary files that an earlier process left behind.
    pub fn open(root: impl Into<PathBuf>) -> Result<LocalBlobStore, BlobError> {
        let root = root.into();
        std::fs::create_dir_all(&root)
            .map_err(|e| BlobError::io(format!("creating blob root {}", root.display()), e))?;
        let removed = paths::remove_temp_files(&root)
            .map_err(|e| BlobError::io(format!("cleaning temporary files under {}", root.display()), e))?;
        if removed > 0 {
            warn!(root = %root.display(), removed, "removed temporary files of interrupted uploads");
        }
        Ok(LocalBlobStore { root: Arc::new(root) })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Every file under the root, committed or temporary (for tests and
    /// diagnostics).
    pub fn raw_files(&self) -> Result<Vec<String>, BlobError> {
        paths::all_files(&self.root).map_err(|e| BlobError::io("listing the blob root", e))
    }

    /// Opens the blob's file for reading, with its size.
    async fn open_blob(&self, key: &BlobKey) -> Result<(tokio::fs::File, u64), BlobError> {
        let path = paths::blob_path(&self.root, key);
        let file = tokio::fs::File::open(&path)
            .await
            .map_err(|e| not_found_or_io(key, "opening blob", e))?;
        let metadata = file
            .metadata()
            .await
            .map_err(|e| BlobError::io(format!("reading metadata of blob {key}"), e))?;
        if !metadata.is_file() {
            return Err(not_found(key));
        }
        Ok((file, metadata.len()))
    }

    /// Creates the temporary file a put writes to, and its folder. A delete
    /// may prune an empty folder at any moment; the file keeps its folder
    /// from being pruned once it exists, and until then a pruned folder is
    /// created again.
    async fn create_temp(&self, key: &BlobKey) -> Result<(TempFile, tokio::fs::File, PathBuf), BlobError> {
        let mut attempt = 1;
        loop {
            match self.try_create_temp(key).await {
                Err(e) if e.kind() == io::ErrorKind::NotFound && attempt < CREATE_ATTEMPTS => attempt += 1,
                Err(e) => {
                    return Err(BlobError::io(
                        format!("creating a temporary file for blob {key}"),
                        e,
                    ));
                }
                Ok(created) => return Ok(created),
            }
        }
    }

    async fn try_create_temp(&self, key: &BlobKey) -> io::Result<(TempFile, tokio::fs::File, PathBuf)> {
        let (root, owned_key) = (Arc::clone(&self.root), key.clone());
        let dir = tokio::task::spawn_blocking(move || paths::ensure_parent_dirs(&root, &owned_key))
            .await
            .map_err(io::Error::other)??;
        let path = paths::temp_path(&dir);
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .await?;
        Ok((TempFile::new(path, &self.root, key), file, dir))
    }
}

#[async_trait]
impl BlobStore for LocalBlobStore {
    async fn put(&self, key: &BlobKey, mut body: ByteStream, max_size: u64) -> Result<BlobInfo, BlobError> {
        let (temp, mut file, dir) = self.create_temp(key).await?;
        let mut hasher = sha2::Sha256::new();
        let mut size: u64 = 0;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|source| BlobError::Aborted { source })?;
            size = size.saturating_add(chunk.len() as u64);
            if size > max_size {
                debug!(key = %key, max_size, "refused an upload over its size limit");
                return Err(BlobError::TooLarge { max: max_size });
            }
            hasher.update(&chunk);
            file.write_all(&chunk)
                .await
                .map_err(|e| BlobError::io(format!("writing blob {key}"), e))?;
        }
        file.flush()
            .await
            .map_err(|e| BlobError::io(format!("writing blob {key}"), e))?;
        file.sync_all()
            .await
            .map_err(|e| BlobError::io(format!("syncing blob {key}"), e))?;
        drop(file);
        let target = paths::blob_path(&self.root, key);
        tokio::fs::rename(temp.path(), &target)
            .await
            .map_err(|e| BlobError::io(format!("moving blob {key} into place"), e))?;
        temp.disarm();
        tokio::task::spawn_blocking(move || paths::sync_dir_if_present(&dir))
            .await
            .map_err(|e| BlobError::io("syncing a blob folder", io::Error::other(e)))?
            .map_err(|e| BlobError::io(format!("syncing the folder of blob {key}"), e))?;
        let digest = format!("{:x}", hasher.finalize());
        let sha256 = Sha256::parse(&digest)
            .map_err(|e| BlobError::io("formatting a digest", io::Error::other(e.to_string())))?;
        debug!(key = %key, size, sha256 = %sha256, "stored blob");
        Ok(BlobInfo { size, sha256 })
    }

    async fn get(&self, key: &BlobKey) -> Result<BlobStream, BlobError> {
        let (file, _) = self.open_blob(key).await?;
        Ok(read_stream(file, key.clone()))
    }

    async fn get_range(&self, key: &BlobKey, offset: u64, len: u64) -> Result<BlobStream, BlobError> {
        let (mut file, size) = self.open_blob(key).await?;
        let offset = offset.min(size);
        file.seek(io::SeekFrom::Start(offset))
            .await
            .map_err(|e| BlobError::io(format!("seeking in blob {key}"), e))?;
        Ok(read_stream(file.take(len), key.clone()))
    }

    async fn stat(&self, key: &BlobKey) -> Result<BlobStat, BlobError> {
        let metadata = tokio::fs::metadata(paths::blob_path(&self.root, key))
            .await
            .map_err(|e| not_found_or_io(key, "reading metadata of blob", e))?;
        if !metadata.is_file() {
            return Err(not_found(key));
        }
        Ok(BlobStat { size: metadata.len() })
    }

    async fn delete(&self, key: &BlobKey) -> Result<(), BlobError> {
        let path = paths::blob_path(&self.root, key);
        match tokio::fs::remove_file(&path).await {
            Ok(()) => {}
            Err(e) if is_absent(&e) || e.kind() == io::ErrorKind::IsADirectory => return Ok(()),
            Err(e) => return Err(BlobError::io(format!("deleting blob {key}"), e)),
        }
        let (root, owned_key) = (Arc::clone(&self.root), key.clone());
        tokio::task::spawn_blocking(move || {
            if let Some(dir) = path.parent() {
                paths::sync_dir_if_present(dir)?;
            }
            paths::remove_empty_parents(&root, &owned_key);
            Ok::<(), io::Error>(())
        })
        .await
        .map_err(|e| BlobError::io("syncing a blob folder", io::Error::other(e)))?
        .map_err(|e| BlobError::io(format!("syncing the folder of deleted blob {key}"), e))?;
        debug!(key = %key, "deleted blob");
        Ok(())
    }
}

/// The chunks of `reader`, [`READ_CHUNK`] bytes at most each.
fn read_stream<R: AsyncRead + Unpin + Send + 'static>(reader: R, key: BlobKey) -> BlobStream {
    let chunks = futures::stream::unfold(Some(reader), move |reader| {
        let key = key.clone();
        async move {
            let mut reader = reader?;
            let mut buffer = BytesMut::with_capacity(READ_CHUNK);
            match reader.read_buf(&mut buffer).await {
                Ok(0) => None,
                Ok(_) => Some((Ok(buffer.freeze()), Some(reader))),
                Err(e) => Some((Err(BlobError::io(format!("reading blob {key}"), e)), None)),
            }
        }
    });
    Box::pin(chunks)
}

fn not_found(key: &BlobKey) -> BlobError {
    BlobError::NotFound {
        key: key.as_str().to_owned(),
    }
}

/// No file at the path: missing, or a path component that is a file.
fn is_absent(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    )
}

fn not_found_or_io(key: &BlobKey, doing: &str, error: io::Error) -> BlobError {
    if is_absent(&error) {
        not_found(key)
    } else {
        BlobError::io(format!("{doing} {key}"), error)
    }
}
