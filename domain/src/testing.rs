//! A given/when/then harness for aggregate rules.
//!
//! ```ignore
//! given::<Channel>([created_event])
//!     .when(&send_message)
//!     .then_expect([message_sent_event]);
//! ```
//!
//! [`assert_round_trips`] and [`assert_catalog_covered`] check an event
//! enum's stored form.
//!
//! It is ordinary (non-test) code so that every crate's tests can use it; it
//! has no dependency beyond the domain itself.

use std::fmt::Debug;

use crate::aggregate::Aggregate;
use crate::event::DomainEvent;

/// Starts a scenario from the aggregate's past events.
pub fn given<A: Aggregate>(history: impl IntoIterator<Item = A::Event>) -> Given<A> {
    let history: Vec<A::Event> = history.into_iter().collect();
    Given {
        state: A::from_history(history.iter()),
    }
}

/// The state rebuilt from the given events.
#[derive(Debug)]
pub struct Given<A> {
    state: A,
}

impl<A: Aggregate + Debug> Given<A> {
    /// Decides the command against the given state.
    pub fn when(self, command: &A::Command) -> Then<A> {
        let outcome = self.state.decide(command);
        Then {
            state: self.state,
            outcome,
        }
    }

    /// The state itself, for assertions on `apply`.
    pub fn state(&self) -> &A {
        &self.state
    }
}

/// The outcome of one decision.
#[derive(Debug)]
pub struct Then<A: Aggregate> {
    state: A,
    outcome: Result<Vec<A::Event>, A::Error>,
}

impl<A: Aggregate + Debug> Then<A> {
    /// Asserts the command produced exactly these events, in order, and that
    /// applying them does not panic. Returns the resulting state.
    #[track_caller]
    pub fn then_expect(self, expected: impl IntoIterator<Item = A::Event>) -> A {
        let expected: Vec<A::Event> = expected.into_iter().collect();
        match self.outcome {
            Ok(events) => {
                assert_eq!(
                    events, expected,
                    "the command produced other events than expected"
                );
                let mut state = self.state;
                for event in &events {
                    state.apply(event);
                }
                state
            }
            Err(error) => {
                panic!("expected events {expected:?}, but the command was rejected: {error}")
            }
        }
    }

    /// Asserts the command was rejected with an error matching `check`.
    #[track_caller]
    pub fn then_reject(self, check: impl FnOnce(&A::Error) -> bool) {
        match self.outcome {
            Ok(events) => panic!("expected a rejection, but the command produced {events:?}"),
            Err(error) => assert!(
                check(&error),
                "the command was rejected with an unexpected error: {error:?}"
            ),
        }
    }

    /// Asserts the command was accepted and changed nothing.
    #[track_caller]
    pub fn then_nothing(self) {
        self.then_expect([]);
    }
}

/// Asserts the event survives `encode_payload` then `decode_payload` under
/// its own name and schema version.
#[track_caller]
pub fn assert_round_trips<E: DomainEvent + Debug + PartialEq>(event: &E) {
    let payload = event.encode_payload();
    match E::decode_payload(event.event_type(), event.schema_version(), &payload) {
        Ok(decoded) => assert_eq!(&decoded, event, "the event changed in its round trip"),
        Err(error) => panic!("{event:?} does not decode from its own payload: {error}"),
    }
}

/// Asserts the samples hold every `(event_type, schema_version)` of the
/// enum's catalog, so a test over them covers every variant.
#[track_caller]
pub fn assert_catalog_covered<E: DomainEvent>(samples: &[E]) {
    for (name, version) in E::catalog() {
        assert!(
            samples
                .iter()
                .any(|e| e.event_type() == *name && e.schema_version() == *version),
            "no sample of `{name}` v{version}"
        );
    }
}
