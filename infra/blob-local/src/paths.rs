//! Where blobs and temporary files live under the store's root, and the
//! file-system steps that make a rename durable.
//!
//! A key `a/b/c` is the file `<root>/a/b/c`. Key segments never start with
//! `.`, so the temporary files (`.upload-<uuid>.tmp`, beside their target)
//! can never be mistaken for blobs. All functions here block: call them
//! from `spawn_blocking` in async code.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use quire_command_handlers::blobs::BlobKey;
use uuid::Uuid;

const TEMP_PREFIX: &str = ".upload-";
const TEMP_SUFFIX: &str = ".tmp";

/// The file of `key` under `root`.
pub fn blob_path(root: &Path, key: &BlobKey) -> PathBuf {
    let mut path = root.to_path_buf();
    path.extend(key.segments());
    path
}

/// A fresh temporary file name in `dir`.
pub fn temp_path(dir: &Path) -> PathBuf {
    dir.join(format!("{TEMP_PREFIX}{}{TEMP_SUFFIX}", Uuid::now_v7()))
}

fn is_temp_name(name: &str) -> bool {
    name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX)
}

/// Makes the entries of `dir` (a rename, a removal) durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

/// [`sync_dir`], where a folder that is gone needs nothing: a concurrent
/// delete removed what was in it, and pruned it.
pub fn sync_dir_if_present(dir: &Path) -> io::Result<()> {
    match sync_dir(dir) {
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Creates the folders of `key` under `root` that are missing, syncing the
/// parent of each new one, and returns the folder the blob goes in. A
/// `NotFound` error means a concurrent delete pruned a folder on the way:
/// calling again succeeds.
pub fn ensure_parent_dirs(root: &Path, key: &BlobKey) -> io::Result<PathBuf> {
    let segments: Vec<&str> = key.segments().collect();
    let mut dir = root.to_path_buf();
    for segment in &segments[..segments.len().saturating_sub(1)] {
        let parent = dir.clone();
        dir.push(segment);
        match fs::create_dir(&dir) {
            Ok(()) => sync_dir(&parent)?,
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => {}
            Err(error) => return Err(error),
        }
    }
    Ok(dir)
}

/// Removes the now empty folders of `key` from the deepest up, stopping at
/// the first that is not empty (or at the root).
pub fn remove_empty_parents(root: &Path, key: &BlobKey) {
    let mut dir = blob_path(root, key);
    while dir.pop() && dir != root && dir.starts_with(root) {
        if fs::remove_dir(&dir).is_err() {
            return;
        }
        if let Some(parent) = dir.parent() {
            let _ = sync_dir(parent);
        }
    }
}

/// Every file under `root`, relative, `/`-separated and sorted; temporary
/// files included.
pub fn all_files(root: &Path) -> io::Result<Vec<String>> {
    let mut files = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir)? {
            let entry = entry?;
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                pending.push(path);
            } else if let Ok(relative) = path.strip_prefix(root) {
                let parts: Vec<_> = relative.iter().map(|part| part.to_string_lossy()).collect();
                files.push(parts.join("/"));
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Removes the temporary files that a crash or a killed process left under
/// `root`; returns how many.
pub fn remove_temp_files(root: &Path) -> io::Result<usize> {
    let mut removed = 0;
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let mut removed_here = 0;
        for entry in fs::read_dir(&dir)? {
            let entry = entry?;
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                pending.push(path);
            } else if entry.file_name().to_str().is_some_and(is_temp_name) {
                fs::remove_file(&path)?;
                removed_here += 1;
            }
        }
        if removed_here > 0 {
            sync_dir(&dir)?;
            removed += removed_here;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_are_recognised_and_never_keys() {
        let dir = Path::new("/r/documents/d");
        let temp = temp_path(dir);
        let name = temp.file_name().unwrap().to_str().unwrap();
        assert!(is_temp_name(name));
        assert!(BlobKey::parse(&format!("documents/d/{name}")).is_err());
        assert!(!is_temp_name("v1"));
    }

    #[test]
    fn keys_map_below_the_root() {
        let key = BlobKey::parse("documents/d/v1").unwrap();
        assert_eq!(
            blob_path(Path::new("/r"), &key),
            PathBuf::from("/r/documents/d/v1")
        );
    }
}
