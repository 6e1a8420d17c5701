//! The blob store port: where document contents live, owned by the command
//! side (the upload flow streams into it, the text-extraction process
//! manager reads from it). Adapters live in `infra/` (`quire-blob-local`,
//! later S3) and all pass the suite in [`crate::blob_conformance`].
//!
//! Contents travel as streams of [`Bytes`] chunks, never as whole files:
//! [`BlobStore::put`] hashes and counts while it writes, refuses more than
//! `max_size` bytes, and makes a blob visible only once all of it is
//! durable, so a failed, oversized or abandoned upload leaves nothing.

mod error;
mod key;

use std::io;
use std::pin::Pin;

use async_trait::async_trait;
use bytes::Bytes;
use futures::{Stream, StreamExt};
use quire_domain::Sha256;

pub use error::BlobError;
pub use key::BlobKey;

/// The bytes to store, as the client sends them. An `Err` item (a client
/// that disconnected, a body that failed to decode) aborts the put.
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, io::Error>> + Send>>;

/// A stored blob's bytes, in order. An `Err` item ends the read.
pub type BlobStream = Pin<Box<dyn Stream<Item = Result<Bytes, BlobError>> + Send>>;

/// What [`BlobStore::put`] measured while storing a blob; the upload flow
/// hands it to `CompleteUpload`/`CompleteVersion`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobInfo {
    /// Bytes stored.
    pub size: u64,
    /// Digest of the bytes stored.
    pub sha256: Sha256,
}

/// What [`BlobStore::stat`] tells of a stored blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobStat {
    pub size: u64,
}

/// Object storage for document contents.
///
/// Every backend promises:
/// - a blob is visible (to `get`, `stat`) only once `put` has returned `Ok`,
///   and then whole: readers never see a partial blob;
/// - a `put` that fails (too large, an `Err` from the body stream, an I/O
///   error) or whose future is dropped leaves nothing behind, and leaves a
///   blob already stored under the key as it was;
/// - a successful `put` to an existing key replaces it atomically;
/// - `delete` of a missing key succeeds.
#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Stores `body` under `key`, refusing it with [`BlobError::TooLarge`] as
    /// soon as it exceeds `max_size` bytes. Returns the size and sha256 of
    /// what was stored. An `Err` from `body` is [`BlobError::Aborted`].
    async fn put(&self, key: &BlobKey, body: ByteStream, max_size: u64) -> Result<BlobInfo, BlobError>;

    /// Streams the whole blob; [`BlobError::NotFound`] if there is none.
    async fn get(&self, key: &BlobKey) -> Result<BlobStream, BlobError>;

    /// Streams the bytes `offset..offset + len`, clipped to the blob's size
    /// (empty when `offset` is at or past its end). The default reads the
    /// whole blob and skips; backends override it with a real range read.
    async fn get_range(&self, key: &BlobKey, offset: u64, len: u64) -> Result<BlobStream, BlobError> {
        let whole = self.get(key).await?;
        Ok(slice_stream(whole, offset, len))
    }

    /// The blob's size; [`BlobError::NotFound`] if there is none.
    async fn stat(&self, key: &BlobKey) -> Result<BlobStat, BlobError>;

    /// Removes the blob; succeeds if there is none.
    async fn delete(&self, key: &BlobKey) -> Result<(), BlobError>;
}

/// Keeps the bytes `offset..offset + len` of a chunk stream, and stops
/// reading it once the range is complete.
pub fn slice_stream(stream: BlobStream, offset: u64, len: u64) -> BlobStream {
    let end = offset.saturating_add(len);
    let sliced = futures::stream::unfold((stream, 0u64), move |(mut stream, at)| async move {
        if at >= end {
            return None;
        }
        let chunk = match stream.next().await? {
            Err(error) => return Some((Err(error), (stream, end))),
            Ok(chunk) => chunk,
        };
        let size = chunk.len() as u64;
        let from = offset.saturating_sub(at).min(size);
        let to = end.saturating_sub(at).min(size).max(from);
        // `from <= to <= chunk.len()`, so both fit in usize.
        let kept = chunk.slice(from as usize..to as usize);
        Some((Ok(kept), (stream, at.saturating_add(size))))
    })
    .filter(|chunk| futures::future::ready(!matches!(chunk, Ok(bytes) if bytes.is_empty())));
    Box::pin(sliced)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(parts: &[&'static [u8]]) -> BlobStream {
        let items: Vec<Result<Bytes, BlobError>> = parts.iter().map(|p| Ok(Bytes::from_static(p))).collect();
        Box::pin(futures::stream::iter(items))
    }

    async fn collect(stream: BlobStream) -> Vec<u8> {
        let parts: Vec<Result<Bytes, BlobError>> = stream.collect().await;
        parts
            .into_iter()
            .flat_map(|part| part.unwrap().to_vec())
            .collect()
    }

    #[tokio::test]
    async fn slices_cross_chunk_boundaries_and_clip_at_the_end() {
        let parts: &[&'static [u8]] = &[b"abc", b"", b"defg", b"hi"];
        for (offset, len, expected) in [
            (0, 9, &b"abcdefghi"[..]),
            (2, 3, b"cde"),
            (3, 4, b"defg"),
            (7, 100, b"hi"),
            (9, 1, b""),
            (50, 1, b""),
            (1, 0, b""),
        ] {
            let sliced = collect(slice_stream(chunks(parts), offset, len)).await;
            assert_eq!(sliced, expected, "{offset}+{len}");
        }
    }

    #[tokio::test]
    async fn slicing_stops_reading_past_the_range_and_passes_errors() {
        let items: Vec<Result<Bytes, BlobError>> = vec![
            Ok(Bytes::from_static(b"abc")),
            Err(BlobError::TooLarge { max: 0 }),
        ];
        let sliced: Vec<_> = slice_stream(Box::pin(futures::stream::iter(items)), 0, 2)
            .collect()
            .await;
        assert_eq!(sliced.len(), 1, "read past the range: {sliced:?}");
        let items: Vec<Result<Bytes, BlobError>> = vec![Err(BlobError::TooLarge { max: 0 })];
        let sliced: Vec<_> = slice_stream(Box::pin(futures::stream::iter(items)), 0, 2)
            .collect()
            .await;
        assert!(matches!(sliced[..], [Err(BlobError::TooLarge { .. })]));
    }
}
