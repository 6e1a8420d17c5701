//! The aggregate contract: `decide` holds every business rule and emits
//! events; `apply` folds an event into state and never fails.

use crate::event::DomainEvent;

/// A consistency boundary whose state is the fold of its stream's events.
///
/// `decide` is a pure function of the current state and a command: it checks
/// the rules (including who may do what; the actor is part of the command)
/// and returns the events that record the change, or a typed error. `apply`
/// only changes state; it must accept every event `decide` ever produced,
/// including those written by older versions of the code.
pub trait Aggregate: Default + Clone + Send + Sync + 'static {
    /// Stream category, e.g. `channel`; streams are `<category>-<id>`.
    const CATEGORY: &'static str;
    type Command: Send + Sync;
    type Event: DomainEvent + Clone + std::fmt::Debug + PartialEq;
    type Error: std::error::Error + Send + Sync + 'static;

    /// Checks the command against the state and returns the events to append.
    /// An empty list means the command changes nothing.
    fn decide(&self, command: &Self::Command) -> Result<Vec<Self::Event>, Self::Error>;

    /// Folds one event into the state.
    fn apply(&mut self, event: &Self::Event);

    /// Folds a history of events into a fresh state.
    fn from_history<'a>(events: impl IntoIterator<Item = &'a Self::Event>) -> Self {
        let mut state = Self::default();
        for event in events {
            state.apply(event);
        }
        state
    }
}
