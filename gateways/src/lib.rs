//! Quire's edges: the `quire` command line and (later) the gRPC and HTTP
//! servers. Nothing depends on this crate.
//!
//! # Layout
//! - [`cli`] — the subcommands of `quire`.
//! - [`dev`] — `quire dev`: the embedded platform in one process.
//! - [`serve`] — `quire serve`: one process of a fleet, by role, from
//!   `quire.toml`.
//! - [`edges`] — gRPC and the blob endpoint, served and stopped together.
//! - [`app`] — what the services share: log, pipeline, projectors, queries.
//! - [`auth`] — bearer tokens (HS256 JWT) and the authenticating interceptor.
//! - [`grpc`] — the gRPC services and server.
//! - [`http`] — the blob endpoint behind signed URLs.
//! - [`blobs`] — signed URLs and upload completion.
//! - [`extraction`] — the text-extraction process manager as a projector.
//! - [`client`] — the client subcommands (`quire events tail`, …).
//! - [`telemetry`] — logging and tracing set-up.
//! - [`presence`] — who is online: marks kept while a user streams.
//! - [`bench`] — `quire bench`, the engine benchmarks.

#![forbid(unsafe_code)]

pub mod app;
pub mod auth;
pub mod bench;
pub mod blobs;
pub mod cli;
pub mod client;
pub mod dev;
pub mod edges;
pub mod extraction;
pub mod grpc;
pub mod http;
pub mod presence;
pub mod serve;
pub mod telemetry;
