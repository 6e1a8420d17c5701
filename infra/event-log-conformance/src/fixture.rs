//! What a backend's factory hands the suite, and builders for test events.

use std::any::Any;
use std::sync::Arc;

use bytes::Bytes;
use quire_domain::{Actor, EventMetadata, NewEvent, StreamId};
use quire_event_log::EventLog;
use uuid::Uuid;

/// A fresh log plus whatever must live as long as it (a temporary
/// directory, a server connection).
pub struct Fixture {
    log: Arc<dyn EventLog>,
    _guard: Box<dyn Any + Send>,
}

impl std::fmt::Debug for Fixture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Fixture")
    }
}

impl Fixture {
    pub fn new(log: impl EventLog, guard: impl Any + Send) -> Fixture {
        Fixture {
            log: Arc::new(log),
            _guard: Box::new(guard),
        }
    }

    pub fn log(&self) -> &dyn EventLog {
        &*self.log
    }

    pub fn shared(&self) -> Arc<dyn EventLog> {
        Arc::clone(&self.log)
    }
}

/// A test event of `event_type` with a small JSON payload naming `marker`.
pub fn new_event(event_type: &str, marker: &str) -> NewEvent {
    let mut metadata = EventMetadata::new(Actor::user("conformance"));
    metadata.causation_id = Some(Uuid::now_v7());
    metadata.traceparent = Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned());
    metadata.command_id = Some(format!("cmd-{marker}"));
    NewEvent {
        event_id: Uuid::now_v7(),
        event_type: event_type.to_owned(),
        schema_version: 1,
        payload: Bytes::from(format!("{{\"marker\":\"{marker}\"}}")),
        metadata,
    }
}

/// A stream id unique to this call, in `category`.
pub fn unique_stream(category: &str) -> StreamId {
    StreamId::for_aggregate(category, &Uuid::now_v7().simple().to_string()).expect("valid stream id")
}
