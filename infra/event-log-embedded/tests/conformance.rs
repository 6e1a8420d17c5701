//! The event log conformance suite against the embedded log.

use quire_event_log_conformance::{Fixture, event_log_conformance};
use quire_event_log_embedded::{EmbeddedLog, EmbeddedLogConfig};

event_log_conformance!(|| async {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = EmbeddedLog::open(EmbeddedLogConfig::new(dir.path())).expect("open log");
    Fixture::new(log, dir)
});

/// The same suite with tiny segments and no tail cache, so that every read
/// goes to disk and appends cross many segment boundaries.
mod small_segments_no_cache {
    use super::*;

    event_log_conformance!(|| async {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = EmbeddedLogConfig::new(dir.path());
        config.segment_bytes = 4096;
        config.tail_cache_events = 0;
        let log = EmbeddedLog::open(config).expect("open log");
        Fixture::new(log, dir)
    });
}
