//! Subscription filters by stream category and event type.

use quire_domain::RecordedEvent;

/// Which events a subscriber wants. Empty lists mean "all".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// Stream categories (the part of the stream id before the first `-`).
    pub categories: Vec<String>,
    /// Event types, e.g. `channel.message_sent`.
    pub event_types: Vec<String>,
}

impl EventFilter {
    /// Every event.
    pub fn all() -> EventFilter {
        EventFilter::default()
    }

    /// Events of streams in these categories.
    pub fn categories<S: Into<String>>(categories: impl IntoIterator<Item = S>) -> EventFilter {
        EventFilter {
            categories: categories.into_iter().map(Into::into).collect(),
            event_types: Vec::new(),
        }
    }

    /// Also require one of these event types.
    pub fn with_event_types<S: Into<String>>(mut self, types: impl IntoIterator<Item = S>) -> EventFilter {
        self.event_types = types.into_iter().map(Into::into).collect();
        self
    }

    pub fn is_all(&self) -> bool {
        self.categories.is_empty() && self.event_types.is_empty()
    }

    pub fn matches(&self, event: &RecordedEvent) -> bool {
        let category_ok =
            self.categories.is_empty() || self.categories.iter().any(|c| c == event.stream_id.category());
        let type_ok = self.event_types.is_empty() || self.event_types.contains(&event.event_type);
        category_ok && type_ok
    }
}
