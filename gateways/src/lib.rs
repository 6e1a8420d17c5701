//! Quire's edges: the `quire` command line and (later) the gRPC and HTTP
//! servers. Nothing depends on this crate.
//!
//! # Layout
//! - [`cli`] — the subcommands of `quire`.
//! - [`telemetry`] — logging and tracing set-up.
//! - [`bench`] — `quire bench`, the engine benchmarks.

#![forbid(unsafe_code)]

pub mod bench;
pub mod cli;
pub mod telemetry;
