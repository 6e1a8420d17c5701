//! What only the local store promises: crash leftovers are cleaned on open,
//! blobs are plain files under the root, and empty folders are pruned.

use bytes::Bytes;
use futures::StreamExt;
use quire_blob_local::LocalBlobStore;
use quire_command_handlers::blob_conformance::{chunked, stalled_after};
use quire_command_handlers::blobs::{BlobKey, BlobStore};

fn key(text: &str) -> BlobKey {
    BlobKey::parse(text).expect("key")
}

#[tokio::test]
async fn temporary_files_of_a_crash_are_removed_on_open() {
    let dir = tempfile::tempdir().expect("dir");
    let store = LocalBlobStore::open(dir.path()).expect("open");
    store
        .put(&key("documents/d/v1"), chunked(b"kept", 2), 4)
        .await
        .expect("put");
    // What a crash mid-upload leaves: a temporary file beside the target.
    let leftover = dir.path().join("documents/d/.upload-0193.tmp");
    std::fs::write(&leftover, b"partial").expect("write leftover");
    std::fs::create_dir_all(dir.path().join("other")).expect("dir");
    std::fs::write(dir.path().join("other/.upload-x.tmp"), b"partial").expect("write leftover");
    drop(store);

    let store = LocalBlobStore::open(dir.path()).expect("reopen");
    assert_eq!(
        store.raw_files().expect("list"),
        vec!["documents/d/v1".to_owned()]
    );
    let mut stream = store.get(&key("documents/d/v1")).await.expect("get");
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        bytes.extend_from_slice(&chunk.expect("chunk"));
    }
    assert_eq!(bytes, b"kept");
}

#[tokio::test]
async fn an_upload_in_progress_is_invisible_and_not_a_blob() {
    let dir = tempfile::tempdir().expect("dir");
    let store = LocalBlobStore::open(dir.path()).expect("open");
    let k = key("documents/d/v1");
    let writer = store.clone();
    let put_key = k.clone();
    let task = tokio::spawn(async move { writer.put(&put_key, stalled_after(b"partial", 3), 100).await });
    // Wait until the temporary file holds the first bytes.
    let mut seen = Vec::new();
    for _ in 0..200 {
        seen = store.raw_files().expect("list");
        if !seen.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(seen[0].starts_with("documents/d/.upload-"), "{seen:?}");
    assert!(store.stat(&k).await.is_err(), "a partial blob is visible");
    task.abort();
    let _ = task.await;
    assert_eq!(store.raw_files().expect("list"), Vec::<String>::new());
}

#[tokio::test]
async fn blobs_are_files_and_deleting_prunes_empty_folders() {
    let dir = tempfile::tempdir().expect("dir");
    let store = LocalBlobStore::open(dir.path()).expect("open");
    let k = key("documents/d/v1");
    let body = futures::stream::iter([Ok(Bytes::from_static(b"hello"))]);
    store.put(&k, Box::pin(body), 5).await.expect("put");
    assert_eq!(
        std::fs::read(dir.path().join("documents/d/v1")).expect("file"),
        b"hello"
    );
    store.delete(&k).await.expect("delete");
    assert!(!dir.path().join("documents").exists(), "empty folders stayed");
    assert!(dir.path().exists(), "the root was removed");
}

#[tokio::test]
async fn puts_and_deletes_racing_on_one_folder_all_succeed() {
    let dir = tempfile::tempdir().expect("dir");
    let store = LocalBlobStore::open(dir.path()).expect("open");
    let mut tasks = Vec::new();
    for round in 0..200 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let k = key(&format!("documents/shared/deep/v{}", round % 2));
            store.put(&k, chunked(b"abc", 1), 3).await.expect("put");
            store.delete(&k).await.expect("delete");
        }));
    }
    for task in tasks {
        task.await.expect("task");
    }
}

#[tokio::test]
async fn a_refused_put_leaves_no_folders_behind() {
    let dir = tempfile::tempdir().expect("dir");
    let store = LocalBlobStore::open(dir.path()).expect("open");
    let result = store
        .put(&key("documents/d/v1"), chunked(b"too long", 2), 3)
        .await;
    assert!(result.is_err());
    assert!(!dir.path().join("documents").exists(), "the put's folders stayed");
}
