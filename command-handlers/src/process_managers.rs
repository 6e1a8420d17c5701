//! Process managers: followers of the log that react to events by doing
//! side work and issuing further commands through the [`CommandPipeline`].
//!
//! They are plain structs with an async `handle(&RecordedEvent)` and a
//! `filter()`; the gateway adapts them to projectors (checkpoints, retries,
//! dead letters), so this crate does not depend on the projection runtime.
//! Each issues its commands with a command id derived from the event, so a
//! redelivered event changes nothing.
//!
//! [`CommandPipeline`]: crate::CommandPipeline

pub mod text_extraction;

pub use text_extraction::{ExtractionOutcome, TextExtraction, TextExtractionConfig, TextExtractionError};
