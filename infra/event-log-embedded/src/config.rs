//! Configuration of the embedded log.

use std::path::PathBuf;

/// Where the log lives and how large its pieces may grow.
#[derive(Debug, Clone)]
pub struct EmbeddedLogConfig {
    /// Directory holding the segment files and the lock file.
    pub dir: PathBuf,
    /// A new segment file starts once the current one would pass this size.
    pub segment_bytes: u64,
    /// Largest accepted encoded event (payload plus envelope).
    pub max_event_bytes: usize,
    /// Largest accepted append (all its events, encoded).
    pub max_append_bytes: usize,
    /// How many of the newest events stay decoded in memory for live
    /// subscribers and hot streams.
    pub tail_cache_events: usize,
    /// Upper bound on the bytes one group commit writes.
    pub max_group_bytes: usize,
}

impl EmbeddedLogConfig {
    pub const DEFAULT_SEGMENT_BYTES: u64 = 256 << 20;
    /// Segments are addressed with 32-bit offsets.
    pub const MAX_SEGMENT_BYTES: u64 = 2 << 30;

    /// Defaults for a log in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> EmbeddedLogConfig {
        EmbeddedLogConfig {
            dir: dir.into(),
            segment_bytes: Self::DEFAULT_SEGMENT_BYTES,
            max_event_bytes: 1 << 20,
            max_append_bytes: 64 << 20,
            tail_cache_events: 65_536,
            max_group_bytes: 16 << 20,
        }
    }

    /// Checks the limits fit together; `Err` names the offending setting.
    pub fn validate(&self) -> Result<(), String> {
        if self.segment_bytes < 4096 || self.segment_bytes > Self::MAX_SEGMENT_BYTES {
            return Err(format!(
                "segment_bytes must be between 4096 and {}, not {}",
                Self::MAX_SEGMENT_BYTES,
                self.segment_bytes
            ));
        }
        if self.max_append_bytes > (1 << 30) {
            return Err(format!(
                "max_append_bytes must be at most 1 GiB, not {}",
                self.max_append_bytes
            ));
        }
        if self.max_event_bytes == 0 || self.max_event_bytes > self.max_append_bytes {
            return Err(format!(
                "max_event_bytes must be between 1 and max_append_bytes ({}), not {}",
                self.max_append_bytes, self.max_event_bytes
            ));
        }
        Ok(())
    }
}
