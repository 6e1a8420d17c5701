//! Conversions between protobuf messages and domain types, done only here
//! at the edge.

use quire_domain::RecordedEvent;
use quire_proto::v1;

/// The wire form of a recorded event, payload as JSON text.
pub fn event_to_proto(event: &RecordedEvent) -> v1::Event {
    v1::Event {
        event_id: event.event_id.to_string(),
        stream_id: event.stream_id.to_string(),
        stream_version: event.stream_version,
        position: event.position.0,
        event_type: event.event_type.clone(),
        schema_version: u32::from(event.schema_version),
        recorded_at: event.recorded_at.unix_micros(),
        correlation_id: event.metadata.correlation_id.to_string(),
        causation_id: event
            .metadata
            .causation_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        actor: event.metadata.actor.to_string(),
        traceparent: event.metadata.traceparent.clone().unwrap_or_default(),
        command_id: event.metadata.command_id.clone().unwrap_or_default(),
        payload_json: String::from_utf8_lossy(&event.payload).into_owned(),
    }
}

/// An optional id field: empty means absent.
pub fn optional(text: &str) -> Option<&str> {
    (!text.is_empty()).then_some(text)
}

/// The paging of a request, in the read models' terms.
pub fn page_request(page: &Option<v1::PageRequest>) -> quire_projections::query::PageRequest {
    let page = page.clone().unwrap_or_default();
    quire_projections::query::PageRequest {
        page_size: page.page_size,
        page_token: optional(&page.page_token).map(str::to_owned),
    }
}

/// The `min_position` of a request's read options (0: none).
pub fn read_options(read: &Option<v1::ReadOptions>) -> u64 {
    read.as_ref().map_or(0, |r| r.min_position)
}
