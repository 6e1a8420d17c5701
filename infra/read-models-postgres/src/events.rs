//! What both projectors share about events: decoding a payload (a failure
//! blames the event, so the runtime retries and dead-letters it) and the
//! event types a projector's filter asks for.

use quire_domain::{DomainEvent, RecordedEvent};
use quire_projections::ProjectionError;

/// Decodes an event's payload, or fails the event.
pub(crate) fn decode<E: DomainEvent>(event: &RecordedEvent) -> Result<E, ProjectionError> {
    event.decode::<E>().map_err(|error| {
        ProjectionError::apply(format!(
            "event {} ({} at position {}) does not decode: {error}",
            event.event_id, event.event_type, event.position
        ))
    })
}

/// The event types of `catalog` minus `ignored`, once each.
pub(crate) fn event_types(catalog: &[(&'static str, u16)], ignored: &[&str]) -> Vec<String> {
    let mut types: Vec<String> = catalog
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| !ignored.contains(name))
        .map(str::to_owned)
        .collect();
    types.sort();
    types.dedup();
    types
}
