//! The event log conformance suite against NATS JetStream on
//! 127.0.0.1:4222 (started by `scripts/services up`). Every case runs on a
//! fresh stream with its own subject prefix, deleted afterwards. Without a
//! reachable server every case fails.

mod common;

use common::{DeleteOnDrop, LOCAL_NATS, open_or_fail, unique_config};
use quire_event_log_conformance::{Fixture, event_log_conformance};

event_log_conformance!(|| async {
    let log = open_or_fail(unique_config(LOCAL_NATS)).await;
    Fixture::new(log.clone(), DeleteOnDrop(log))
});

/// The same suite with one append in flight at a time (no pipelining) on a
/// stream kept in memory.
mod unpipelined_memory {
    use super::*;
    use quire_event_log_jetstream::Storage;

    event_log_conformance!(|| async {
        let mut config = unique_config(LOCAL_NATS);
        config.max_in_flight = 1;
        config.storage = Storage::Memory;
        let log = open_or_fail(config).await;
        Fixture::new(log.clone(), DeleteOnDrop(log))
    });
}
