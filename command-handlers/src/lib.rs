//! Quire's command side: load an aggregate, decide, append its events.
//!
//! [`CommandPipeline::execute`] runs one command against one aggregate
//! instance: it loads the aggregate's stream (through a cache that catches
//! up on whatever other processes appended), answers a retried command from
//! the events its first run wrote, lets the aggregate decide, and appends the
//! events with the version it decided on. A version conflict reloads and
//! decides again, a bounded number of times.
//!
//! # Layout
//! - [`context`] — [`CommandContext`], who asks and why (metadata of events).
//! - [`pipeline`] — [`CommandPipeline`] and its configuration.
//! - [`loaded`] — an aggregate's state as loaded from its stream, with the
//!   outcomes of its recent commands.
//! - [`cache`] — the aggregate cache.
//! - [`error`] — [`CommandError`].

#![forbid(unsafe_code)]

pub mod cache;
pub mod context;
pub mod error;
pub mod loaded;
pub mod pipeline;

pub use context::CommandContext;
pub use error::CommandError;
pub use pipeline::{CommandOutcome, CommandPipeline, PipelineConfig};
