//! Crash-safe whole-file replacement for the local-file stores, and the
//! mapping from projector ids to file names.

use std::fs::{self, File};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::ProjectionError;
use crate::projector::ProjectorId;

/// Distinguishes temp files of concurrent writers in one process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Replaces `path` with `contents` so that a crash leaves either the old or
/// the new file, never a torn one: write a temp file beside it, fsync it,
/// rename it over `path`, fsync the directory so the rename is durable.
pub(crate) fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), ProjectionError> {
    let dir = parent_dir(path);
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(
        ".{file_name}.tmp-{}-{}",
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = write_and_rename(&temp, path, contents);
    if result.is_err() {
        // Best effort: a leftover temp file is harmless but untidy.
        let _ = fs::remove_file(&temp);
    }
    result?;
    sync_dir(&dir)
}

fn write_and_rename(temp: &Path, path: &Path, contents: &[u8]) -> Result<(), ProjectionError> {
    let mut file =
        File::create(temp).map_err(|e| ProjectionError::io(format!("create {}", temp.display()), e))?;
    file.write_all(contents)
        .map_err(|e| ProjectionError::io(format!("write {}", temp.display()), e))?;
    file.sync_all()
        .map_err(|e| ProjectionError::io(format!("fsync {}", temp.display()), e))?;
    drop(file);
    fs::rename(temp, path)
        .map_err(|e| ProjectionError::io(format!("rename {} to {}", temp.display(), path.display()), e))
}

/// Removes `path` durably; a missing file is not an error.
pub(crate) fn remove_durably(path: &Path) -> Result<(), ProjectionError> {
    match fs::remove_file(path) {
        Ok(()) => sync_dir(&parent_dir(path)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(ProjectionError::io(format!("remove {}", path.display()), e)),
    }
}

/// Reads `path`, `None` if it does not exist.
pub(crate) fn read_if_exists(path: &Path) -> Result<Option<Vec<u8>>, ProjectionError> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ProjectionError::io(format!("read {}", path.display()), e)),
    }
}

/// Creates `dir` and its parents.
pub(crate) fn create_dir(dir: &Path) -> Result<(), ProjectionError> {
    fs::create_dir_all(dir).map_err(|e| ProjectionError::io(format!("create {}", dir.display()), e))
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> Result<(), ProjectionError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| ProjectionError::io(format!("fsync directory {}", dir.display()), e))
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> Result<(), ProjectionError> {
    // Directories cannot be opened for syncing here; the rename is as
    // durable as the platform makes it.
    Ok(())
}

/// A file-name-safe form of a projector id: `<name>.v<version>`, with every
/// byte outside `[A-Za-z0-9_-]` of the name written as `%XX`.
pub(crate) fn file_stem(id: &ProjectorId) -> String {
    let mut stem = String::with_capacity(id.name.len() + 8);
    for byte in id.name.bytes() {
        if byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_' {
            stem.push(char::from(byte));
        } else {
            stem.push_str(&format!("%{byte:02X}"));
        }
    }
    stem.push_str(&format!(".v{}", id.version));
    stem
}

/// Runs file I/O off the async worker threads.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ProjectionError> + Send + 'static,
) -> Result<T, ProjectionError> {
    tokio::task::spawn_blocking(work).await.map_err(|e| {
        ProjectionError::io(
            "file task",
            std::io::Error::other(format!("blocking task failed: {e}")),
        )
    })?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_stems_are_safe_and_distinct() {
        assert_eq!(file_stem(&ProjectorId::new("documents", 3)), "documents.v3");
        assert_eq!(file_stem(&ProjectorId::new("a/b.c", 1)), "a%2Fb%2Ec.v1");
        assert_ne!(
            file_stem(&ProjectorId::new("a.v1", 2)),
            file_stem(&ProjectorId::new("a", 1))
        );
    }

    #[test]
    fn atomic_write_replaces_contents_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.json");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(read_if_exists(&path).unwrap().unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
        remove_durably(&path).unwrap();
        remove_durably(&path).unwrap();
        assert!(read_if_exists(&path).unwrap().is_none());
    }
}
