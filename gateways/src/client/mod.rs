//! The client subcommands of `quire`: talk to a running server over gRPC,
//! print human-readable lines (or one JSON object per line with `--json`),
//! and exit non-zero with a clear message on failure.
//!
//! # Layout
//! - `connection` — server address, token, and the authenticated channel.
//! - `output` — text or JSON lines.
//! - `documents` — `quire doc upload|download|list|share`.
//! - `channels` — `quire channel create|list`, `quire msg send|tail`.
//! - `search` — `quire search`.
//! - `events` — `quire events tail`.

pub mod channels;
pub mod connection;
pub mod documents;
pub mod events;
pub mod output;
pub mod search;

pub use connection::{ClientOptions, Connection};
