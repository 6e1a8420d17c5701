//! The conformance cases.

use std::time::Duration;

use futures::StreamExt;
use futures::future::join_all;

use crate::blobs::{BlobError, BlobKey, BlobStore};

use super::BlobHarness;
use super::streams::{aborted_after, chunked, stalled_after};

const ABC_SHA256: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/// sha256 of [`large`].
const LARGE_SHA256: &str = "28945c699d6b4878af1b680be05aaf431e6906bd2d1cd0fcd80c91d527144927";
/// sha256 of [`numbered`]`(0..4)`.
const NUMBERED_SHA256: [&str; 4] = [
    "463105c7d83581c6b408dca0ac64a069d8e15e45af4978807a259e12f2c47897",
    "75e68f932794c697916e03f885ac8828974c875da6dcd52d9ad601739a05c070",
    "db1ab90b88e63c6a19ace80ea599be63137f5a0ad5abdd14652fa0d7c88c880c",
    "416d7f4b8c6306e3b9e133763ba31e046df8007ab9689826e2679e15cbd0b38d",
];

fn key(text: &str) -> BlobKey {
    BlobKey::parse(text).expect("valid test key")
}

/// 1 MiB + 7 bytes of a pattern that does not repeat on chunk boundaries.
fn large() -> Vec<u8> {
    (0..(1usize << 20) + 7)
        .map(|i| ((i * 31 + 7) % 251) as u8)
        .collect()
}

/// `"blob <n> "` a thousand times.
fn numbered(n: usize) -> Vec<u8> {
    format!("blob {n} ").repeat(1000).into_bytes()
}

async fn read_all(store: &dyn BlobStore, key: &BlobKey) -> Result<Vec<u8>, BlobError> {
    let mut stream = store.get(key).await?;
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        bytes.extend_from_slice(&chunk?);
    }
    Ok(bytes)
}

async fn read_range(store: &dyn BlobStore, key: &BlobKey, offset: u64, len: u64) -> Vec<u8> {
    let mut stream = store.get_range(key, offset, len).await.expect("get_range");
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        bytes.extend_from_slice(&chunk.expect("range chunk"));
    }
    bytes
}

#[track_caller]
fn assert_not_found<T: std::fmt::Debug>(result: Result<T, BlobError>) {
    assert!(
        matches!(result, Err(BlobError::NotFound { .. })),
        "expected NotFound, got {result:?}"
    );
}

pub async fn round_trip_small(harness: &dyn BlobHarness) {
    let store = harness.store();
    let k = key("documents/doc-1/v1");
    let info = store.put(&k, chunked(b"abc", 2), 3).await.expect("put");
    assert_eq!(info.size, 3);
    assert_eq!(info.sha256.as_str(), ABC_SHA256);
    assert_eq!(read_all(&*store, &k).await.expect("get"), b"abc");
    assert_eq!(store.stat(&k).await.expect("stat").size, 3);
}

pub async fn round_trip_large_with_ranges(harness: &dyn BlobHarness) {
    let store = harness.store();
    let k = key("documents/doc-1/v2");
    let data = large();
    let size = data.len() as u64;
    let info = store.put(&k, chunked(&data, 10_007), size).await.expect("put");
    assert_eq!(info.size, size);
    assert_eq!(info.sha256.as_str(), LARGE_SHA256);
    assert!(
        read_all(&*store, &k).await.expect("get") == data,
        "the blob read back differs"
    );
    assert_eq!(store.stat(&k).await.expect("stat").size, size);
    for (offset, len) in [
        (0, 10),
        (10_000, 20_000),
        (size - 5, 100),
        (size, 10),
        (size + 9, 1),
        (3, 0),
    ] {
        let from = (offset as usize).min(data.len());
        let to = ((offset + len) as usize).min(data.len());
        assert!(
            read_range(&*store, &k, offset, len).await == data[from..to],
            "range {offset}+{len} differs"
        );
    }
}

pub async fn empty_blob(harness: &dyn BlobHarness) {
    let store = harness.store();
    let k = key("empty");
    let info = store.put(&k, chunked(b"", 1), 0).await.expect("put");
    assert_eq!((info.size, info.sha256.as_str()), (0, EMPTY_SHA256));
    assert_eq!(read_all(&*store, &k).await.expect("get"), b"");
    assert_eq!(store.stat(&k).await.expect("stat").size, 0);
}

pub async fn overwrite_replaces(harness: &dyn BlobHarness) {
    let store = harness.store();
    let k = key("documents/doc-1/v1");
    store
        .put(&k, chunked(b"first content", 4), 100)
        .await
        .expect("put");
    let info = store.put(&k, chunked(b"abc", 1), 100).await.expect("put again");
    assert_eq!(info.sha256.as_str(), ABC_SHA256);
    assert_eq!(read_all(&*store, &k).await.expect("get"), b"abc");
    assert_eq!(store.stat(&k).await.expect("stat").size, 3);
}

pub async fn size_limit_leaves_nothing(harness: &dyn BlobHarness) {
    let store = harness.store();
    let k = key("documents/doc-1/v1");
    let data = numbered(1);
    let max = data.len() as u64 - 1;
    let result = store.put(&k, chunked(&data, 1000), max).await;
    assert!(
        matches!(result, Err(BlobError::TooLarge { max: m }) if m == max),
        "expected TooLarge, got {result:?}"
    );
    assert_not_found(store.stat(&k).await);
    assert_not_found(read_all(&*store, &k).await);
    assert_eq!(
        harness.raw_entries().await,
        Vec::<String>::new(),
        "a refused put left something"
    );

    // Exactly the limit is allowed.
    let info = store
        .put(&k, chunked(&data, 1000), data.len() as u64)
        .await
        .expect("put at the limit");
    assert_eq!(info.sha256.as_str(), NUMBERED_SHA256[1]);

    // A refused replacement leaves the stored blob as it was.
    let before = harness.raw_entries().await;
    let result = store.put(&k, chunked(&numbered(2), 999), 10).await;
    assert!(
        matches!(result, Err(BlobError::TooLarge { max: 10 })),
        "got {result:?}"
    );
    assert!(
        read_all(&*store, &k).await.expect("get") == data,
        "the stored blob changed"
    );
    assert_eq!(harness.raw_entries().await, before);
}

pub async fn aborted_stream_leaves_nothing(harness: &dyn BlobHarness) {
    let store = harness.store();
    let k = key("documents/doc-1/v1");
    let result = store.put(&k, aborted_after(&numbered(0), 700), 1 << 20).await;
    assert!(matches!(result, Err(BlobError::Aborted { .. })), "got {result:?}");
    assert_not_found(store.stat(&k).await);
    assert_eq!(
        harness.raw_entries().await,
        Vec::<String>::new(),
        "an aborted put left something"
    );

    store.put(&k, chunked(b"abc", 3), 3).await.expect("put");
    let before = harness.raw_entries().await;
    let result = store.put(&k, aborted_after(&numbered(3), 500), 1 << 20).await;
    assert!(matches!(result, Err(BlobError::Aborted { .. })), "got {result:?}");
    assert_eq!(read_all(&*store, &k).await.expect("get"), b"abc");
    assert_eq!(harness.raw_entries().await, before);
}

pub async fn dropped_put_leaves_nothing(harness: &dyn BlobHarness) {
    let store = harness.store();
    let k = key("documents/doc-1/v1");
    let put = store.put(&k, stalled_after(&numbered(0), 700), 1 << 20);
    let outcome = tokio::time::timeout(Duration::from_millis(200), put).await;
    assert!(
        outcome.is_err(),
        "a put of a stalled stream finished: {outcome:?}"
    );
    assert_not_found(store.stat(&k).await);
    assert_eq!(
        harness.raw_entries().await,
        Vec::<String>::new(),
        "an abandoned put left something"
    );
}

pub fn invalid_keys() {
    for bad in [
        "",
        "/abs",
        "../up",
        "a/../../b",
        "a//b",
        "a/.tmp",
        "a\\b",
        "sp ace",
    ] {
        assert!(
            matches!(BlobKey::parse(bad), Err(BlobError::InvalidKey { .. })),
            "{bad:?} was accepted"
        );
    }
}

pub async fn not_found(harness: &dyn BlobHarness) {
    let store = harness.store();
    let k = key("documents/missing/v1");
    assert_not_found(store.stat(&k).await);
    assert_not_found(store.get(&k).await.map(|_| ()));
    assert_not_found(store.get_range(&k, 0, 10).await.map(|_| ()));
    store.delete(&k).await.expect("deleting a missing blob succeeds");
    // A key that is only a prefix ("folder") of stored keys is not a blob.
    store
        .put(&key("documents/present/v1"), chunked(b"abc", 3), 3)
        .await
        .expect("put");
    assert_not_found(store.stat(&key("documents/present")).await);
    assert_not_found(store.get(&key("documents")).await.map(|_| ()));
}

pub async fn delete_removes(harness: &dyn BlobHarness) {
    let store = harness.store();
    let (k1, k2) = (key("documents/doc-1/v1"), key("documents/doc-1/v2"));
    store.put(&k1, chunked(b"abc", 3), 3).await.expect("put");
    store.put(&k2, chunked(b"abc", 3), 3).await.expect("put");
    store.delete(&k1).await.expect("delete");
    assert_not_found(store.stat(&k1).await);
    assert_eq!(
        read_all(&*store, &k2).await.expect("the other blob stays"),
        b"abc"
    );
    store.delete(&k1).await.expect("deleting again succeeds");
    store.delete(&k2).await.expect("delete");
    assert_eq!(
        harness.raw_entries().await,
        Vec::<String>::new(),
        "deleted blobs left something"
    );
    store
        .put(&k1, chunked(b"abc", 3), 3)
        .await
        .expect("put after delete");
    assert_eq!(read_all(&*store, &k1).await.expect("get"), b"abc");
}

pub async fn concurrent_puts(harness: &dyn BlobHarness) {
    let store = harness.store();
    let puts = (0..16).map(|i| {
        let store = store.clone();
        tokio::spawn(async move {
            let k = key(&format!("documents/doc-{i}/v1"));
            let info = store.put(&k, chunked(&numbered(i % 4), 333), 1 << 20).await;
            (k, i, info)
        })
    });
    for joined in join_all(puts).await {
        let (k, i, info) = joined.expect("put task");
        let info = info.expect("concurrent put");
        assert_eq!(info.sha256.as_str(), NUMBERED_SHA256[i % 4]);
        assert!(
            read_all(&*store, &k).await.expect("get") == numbered(i % 4),
            "{k} differs"
        );
    }
    assert_eq!(harness.raw_entries().await.len(), 16);
}
