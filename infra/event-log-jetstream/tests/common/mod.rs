//! Helpers shared by the integration tests: fresh, uniquely named streams
//! that are deleted afterwards. (A private `nats-server` comes from
//! `quire-test-servers`.)

#![allow(dead_code)]

use std::time::Duration;

use quire_domain::StreamId;
use quire_event_log_jetstream::{JetStreamLog, JetStreamLogConfig};
use uuid::Uuid;

/// The NATS server `scripts/services` runs for the test suite.
pub const LOCAL_NATS: &str = "nats://127.0.0.1:4222";

/// A configuration for a stream and subject prefix no other test uses.
pub fn unique_config(server: &str) -> JetStreamLogConfig {
    let id = Uuid::now_v7().simple().to_string();
    let mut config = JetStreamLogConfig::new([server]);
    config.stream_name = format!("QUIRE_TEST_{id}");
    config.subject_prefix = format!("quire-test.{id}");
    config.connect_timeout = Duration::from_secs(3);
    // The machines running the suite are small and busy.
    config.request_timeout = Duration::from_secs(10);
    config
}

/// Opens the log, failing the test (never skipping it) when NATS is not there.
pub async fn open_or_fail(config: JetStreamLogConfig) -> JetStreamLog {
    let servers = config.servers_text();
    match JetStreamLog::open(config).await {
        Ok(log) => log,
        Err(error) => panic!(
            "this test needs a NATS server with JetStream at {servers}; \
             `scripts/services up` starts one for the test suite: {error}"
        ),
    }
}

/// Deletes the log's stream when dropped (inside a multi-thread runtime).
#[derive(Debug)]
pub struct DeleteOnDrop(pub JetStreamLog);

impl Drop for DeleteOnDrop {
    fn drop(&mut self) {
        let log = self.0.clone();
        let deleted =
            tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(log.delete_stream()));
        if let Err(error) = deleted {
            eprintln!(
                "could not delete test stream {}: {error}",
                log.config().stream_name
            );
        }
    }
}

/// A stream id of `category` no other test uses.
pub fn fresh_stream(category: &str) -> StreamId {
    StreamId::parse(&format!("{category}-{}", Uuid::now_v7().simple())).expect("stream id")
}
