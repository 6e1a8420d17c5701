//! Running a command from an RPC: the caller becomes the actor, the
//! request's `command_id` the idempotency key, its `traceparent` header the
//! trace context; new aggregate ids are derived from the command id so that
//! a retried create returns the same id.

use std::time::{SystemTime, UNIX_EPOCH};

use quire_command_handlers::{CommandContext, CommandOutcome};
use quire_domain::Aggregate;
use quire_domain::Timestamp;
use quire_domain::channel::ChannelError;
use quire_domain::document::DocumentError;
use quire_domain::error_kind::ErrorKind;
use quire_domain::project::ProjectError;
use quire_proto::v1;
use tonic::{Request, Status};
use uuid::Uuid;

use crate::app::App;
use crate::auth::{Caller, caller};
use crate::grpc::status::{Classified, from_command, invalid};

impl Classified for ChannelError {
    fn kind(&self) -> ErrorKind {
        ChannelError::kind(self)
    }
}

impl Classified for DocumentError {
    fn kind(&self) -> ErrorKind {
        DocumentError::kind(self)
    }
}

impl Classified for ProjectError {
    fn kind(&self) -> ErrorKind {
        ProjectError::kind(self)
    }
}

/// Namespace of ids derived from command ids.
const ID_NAMESPACE: Uuid = Uuid::from_u128(0x8f1c_2a4e_61b7_4d0a_9c3e_5b2f_7a19_c604);

/// Who asks, with which key, and in which trace.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub caller: Caller,
    pub context: CommandContext,
    /// Whether the client chose the command id (so derived ids are stable).
    pub keyed: bool,
}

impl Invocation {
    /// Reads the caller and trace context of `request`; `command_id` is the
    /// request's idempotency key (empty: a fresh one).
    pub fn of<T>(request: &Request<T>, command_id: &str) -> Result<Invocation, Status> {
        let caller = caller(request)?;
        let mut context = CommandContext::new(caller.actor());
        let keyed = !command_id.is_empty();
        if keyed {
            context = context.with_command_id(command_id);
            context
                .validate()
                .map_err(|reason| invalid("command_id", reason))?;
        }
        context.traceparent = request
            .metadata()
            .get("traceparent")
            .and_then(|value| value.to_str().ok())
            .filter(|value| is_traceparent(value))
            .map(str::to_owned);
        Ok(Invocation {
            caller,
            context,
            keyed,
        })
    }

    /// A new aggregate id: derived from the caller and command id when the
    /// client chose one (a retry gets the same id), fresh otherwise.
    pub fn new_id(&self, kind: &str) -> String {
        if self.keyed {
            let name = format!("{kind}/{}/{}", self.caller.user.as_str(), self.context.command_id);
            Uuid::new_v5(&ID_NAMESPACE, name.as_bytes()).simple().to_string()
        } else {
            Uuid::now_v7().simple().to_string()
        }
    }
}

/// Checks the W3C `traceparent` form: `vv-<32 hex>-<16 hex>-ff`.
fn is_traceparent(value: &str) -> bool {
    let parts: Vec<&str> = value.split('-').collect();
    parts.len() == 4
        && [2usize, 32, 16, 2]
            .iter()
            .zip(&parts)
            .all(|(len, part)| part.len() == *len)
        && parts
            .iter()
            .all(|part| part.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The time the gateway accepted the command.
pub fn now() -> Timestamp {
    let micros = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64);
    Timestamp::from_unix_micros(micros)
}

/// Runs `command` against aggregate `A` with id `id`.
pub async fn execute<A>(
    app: &App,
    id: &str,
    command: &A::Command,
    invocation: &Invocation,
) -> Result<v1::CommandResult, Status>
where
    A: Aggregate,
    A::Error: Classified,
{
    let outcome = app
        .pipeline
        .execute::<A>(id, command, &invocation.context)
        .await
        .map_err(from_command)?;
    Ok(result_of(&outcome))
}

pub fn result_of(outcome: &CommandOutcome) -> v1::CommandResult {
    v1::CommandResult {
        position: outcome.position.0,
        version: outcome.version.unwrap_or(0),
        events: outcome.events as u32,
        replayed: outcome.replayed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_form_is_checked() {
        assert!(is_traceparent(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        ));
        assert!(!is_traceparent(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7"
        ));
        assert!(!is_traceparent(
            "00-zzf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        ));
    }
}
