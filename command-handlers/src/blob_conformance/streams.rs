//! Body streams for the suite: well-behaved, failing midway, stalling.

use std::io;

use bytes::Bytes;
use futures::stream::{self, StreamExt};

use crate::blobs::ByteStream;

/// `data` in chunks of `size` bytes (the last one shorter).
pub fn chunked(data: &[u8], size: usize) -> ByteStream {
    let chunks: Vec<Result<Bytes, io::Error>> = data
        .chunks(size.max(1))
        .map(|chunk| Ok(Bytes::copy_from_slice(chunk)))
        .collect();
    Box::pin(stream::iter(chunks))
}

/// `data` in chunks, then an error, as when a client disconnects.
pub fn aborted_after(data: &[u8], size: usize) -> ByteStream {
    let failure = io::Error::new(io::ErrorKind::ConnectionReset, "the client went away");
    Box::pin(chunked(data, size).chain(stream::iter([Err(failure)])))
}

/// `data` in chunks, then nothing ever again.
pub fn stalled_after(data: &[u8], size: usize) -> ByteStream {
    Box::pin(chunked(data, size).chain(stream::pending()))
}
