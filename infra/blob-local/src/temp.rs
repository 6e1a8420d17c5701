//! [`TempFile`]: the temporary file of a put in progress, removed on every
//! way out but success.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use quire_command_handlers::blobs::BlobKey;
use tracing::warn;

use crate::paths;

/// Removed when dropped (an error, a dropped future), together with the
/// folders the put created for it if they are left empty, unless
/// [`disarm`](TempFile::disarm)ed once renamed into place.
#[derive(Debug)]
pub(crate) struct TempFile {
    path: PathBuf,
    root: Arc<PathBuf>,
    key: BlobKey,
    armed: bool,
}

impl TempFile {
    pub(crate) fn new(path: PathBuf, root: &Arc<PathBuf>, key: &BlobKey) -> TempFile {
        TempFile {
            path,
            root: Arc::clone(root),
            key: key.clone(),
            armed: true,
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Keeps the file: it was renamed into place.
    pub(crate) fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        match std::fs::remove_file(&self.path) {
            Ok(()) => paths::remove_empty_parents(&self.root, &self.key),
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(error) => {
                warn!(path = %self.path.display(), %error, "could not remove a temporary upload file");
            }
        }
    }
}
