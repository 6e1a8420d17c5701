//! Quire's local-disk adapter of the [`BlobStore`] port, and the signer of
//! the URLs clients upload and download blobs through.
//!
//! # Layout
//! - [`store`] — [`LocalBlobStore`]: one file per blob under a root
//!   directory, written to a temporary file, synced and renamed into place,
//!   so a blob is visible whole or not at all.
//! - [`paths`] — where keys and temporary files live under the root, and
//!   the directory syncs that make renames durable.
//! - `temp` — the temporary file of a put in progress, removed on every way
//!   out but success.
//! - [`signed_url`] — [`UrlSigner`]: HMAC-SHA256 signed, expiring grants to
//!   upload or download one blob, checked in constant time.
//!
//! [`BlobStore`]: quire_command_handlers::blobs::BlobStore

#![forbid(unsafe_code)]

pub mod paths;
pub mod signed_url;
pub mod store;
mod temp;

pub use signed_url::{GrantTerms, SignatureError, SignedGrant, SignerError, UrlMethod, UrlSigner};
pub use store::LocalBlobStore;
