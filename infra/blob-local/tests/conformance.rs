//! The blob store conformance suite against the local-disk store.

use std::sync::Arc;

use async_trait::async_trait;
use quire_blob_local::LocalBlobStore;
use quire_command_handlers::blob_conformance::BlobHarness;
use quire_command_handlers::blob_store_conformance;
use quire_command_handlers::blobs::BlobStore;

struct LocalHarness {
    store: LocalBlobStore,
    _dir: tempfile::TempDir,
}

#[async_trait]
impl BlobHarness for LocalHarness {
    fn store(&self) -> Arc<dyn BlobStore> {
        Arc::new(self.store.clone())
    }

    async fn raw_entries(&self) -> Vec<String> {
        self.store.raw_files().expect("list the blob root")
    }
}

blob_store_conformance!(|| async {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = LocalBlobStore::open(dir.path().join("blobs")).expect("open store");
    LocalHarness { store, _dir: dir }
});
