//! Who issues a command and why: everything that becomes event metadata.

use quire_domain::{Actor, EventMetadata};
use uuid::Uuid;

/// The context of one command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandContext {
    /// Idempotency key: a retry with the same key returns the first result
    /// and appends nothing. Unique per aggregate.
    pub command_id: String,
    /// Taken from the caller's credentials, never from the request body.
    pub actor: Actor,
    pub correlation_id: Uuid,
    pub causation_id: Option<Uuid>,
    /// W3C `traceparent` of the request, carried into the events.
    pub traceparent: Option<String>,
}

impl CommandContext {
    /// Longest accepted idempotency key.
    pub const MAX_COMMAND_ID_LEN: usize = 128;

    /// A context with a fresh command id and correlation id.
    pub fn new(actor: Actor) -> CommandContext {
        CommandContext {
            command_id: Uuid::now_v7().to_string(),
            actor,
            correlation_id: Uuid::now_v7(),
            causation_id: None,
            traceparent: None,
        }
    }

    /// The same context with a caller-chosen idempotency key.
    pub fn with_command_id(mut self, command_id: impl Into<String>) -> CommandContext {
        self.command_id = command_id.into();
        self
    }

    /// The metadata every event of this command carries.
    pub fn metadata(&self) -> EventMetadata {
        EventMetadata {
            correlation_id: self.correlation_id,
            causation_id: self.causation_id,
            actor: self.actor.clone(),
            traceparent: self.traceparent.clone(),
            command_id: Some(self.command_id.clone()),
        }
    }

    /// Checks the idempotency key; `Err` says what is wrong with it.
    pub fn validate(&self) -> Result<(), String> {
        if self.command_id.is_empty() {
            return Err("command id is empty".to_owned());
        }
        if self.command_id.len() > Self::MAX_COMMAND_ID_LEN {
            return Err(format!(
                "command id is longer than {} bytes",
                Self::MAX_COMMAND_ID_LEN
            ));
        }
        if self.command_id.chars().any(char::is_control) {
            return Err("command id contains a control character".to_owned());
        }
        Ok(())
    }
}
