//! [`NatsProjectors`]: the [`Projectors`] port for a process that does not
//! run the projectors itself (a gateway). It follows every projector's
//! progress subject, so a read-your-writes wait costs no request, and
//! sends control requests to whichever process holds the projector.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_nats::{Client, RequestErrorKind};
use async_trait::async_trait;
use futures::StreamExt;
use parking_lot::Mutex;
use quire_domain::Position;
use quire_projections::fleet::{FleetError, Projectors};
use quire_projections::{DeadLetter, ProjectorState, ProjectorStatus, WaitTimeout};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::{debug, warn};

use crate::config::CoordinationConfig;
use crate::connect::CoordinationError;
use crate::wire::{ControlReply, ControlRequest, Progress};

/// How many missed heartbeats make a projector's status stale.
const STALE_AFTER_HEARTBEATS: u32 = 3;

/// The fleet's projectors as a gateway sees them.
#[derive(Debug)]
pub struct NatsProjectors {
    client: Client,
    config: Arc<CoordinationConfig>,
    known: Arc<Mutex<HashMap<String, Known>>>,
    follower: JoinHandle<()>,
}

#[derive(Debug)]
struct Known {
    checkpoint: watch::Sender<Position>,
    status: Option<(ProjectorStatus, Instant)>,
}

impl Known {
    fn new() -> Known {
        Known {
            checkpoint: watch::channel(Position::ZERO).0,
            status: None,
        }
    }
}

impl Drop for NatsProjectors {
    fn drop(&mut self) {
        self.follower.abort();
    }
}

impl NatsProjectors {
    /// Subscribes to the progress of every projector.
    pub async fn open(
        client: Client,
        config: Arc<CoordinationConfig>,
    ) -> Result<NatsProjectors, CoordinationError> {
        let subject = format!("{}.progress.>", config.subject_prefix);
        let subscriber = client
            .subscribe(subject)
            .await
            .map_err(|e| CoordinationError::Connect {
                servers: config.servers.join(","),
                message: e.to_string(),
            })?;
        let known = Arc::new(Mutex::new(HashMap::new()));
        let follower = tokio::spawn(follow(subscriber, known.clone()));
        Ok(NatsProjectors {
            client,
            config,
            known,
            follower,
        })
    }

    fn checkpoint(&self, name: &str) -> watch::Receiver<Position> {
        self.known
            .lock()
            .entry(name.to_owned())
            .or_insert_with(Known::new)
            .checkpoint
            .subscribe()
    }

    async fn request(&self, name: &str, request: ControlRequest) -> Result<ControlReply, FleetError> {
        let body = serde_json::to_vec(&request).map_err(|e| FleetError::Unavailable(e.to_string()))?;
        let subject = self.config.control_subject(name);
        let answer = tokio::time::timeout(
            self.config.request_timeout,
            self.client.request(subject, body.into()),
        )
        .await
        .map_err(|_| FleetError::Unavailable(format!("projector `{name}` did not answer in time")))?;
        let message = answer.map_err(|error| match error.kind() {
            RequestErrorKind::NoResponders => {
                FleetError::Unavailable(format!("projector `{name}` is not running on any node"))
            }
            _ => FleetError::Unavailable(format!("cannot reach projector `{name}`: {error}")),
        })?;
        let reply: ControlReply = serde_json::from_slice(&message.payload)
            .map_err(|e| FleetError::Unavailable(format!("malformed reply from `{name}`: {e}")))?;
        match reply {
            ControlReply::Failed(error) => Err(error.into()),
            other => Ok(other),
        }
    }

    /// Asks the holder for its status, to learn a checkpoint before the
    /// first progress message arrives.
    async fn seed(&self, name: &str) {
        if let Ok(ControlReply::Status(status)) = self.request(name, ControlRequest::Status).await {
            record(&self.known, name, status.checkpoint, Some(status));
        }
    }
}

async fn follow(mut subscriber: async_nats::Subscriber, known: Arc<Mutex<HashMap<String, Known>>>) {
    while let Some(message) = subscriber.next().await {
        match serde_json::from_slice::<Progress>(&message.payload) {
            Ok(progress) => record(&known, &progress.projector, progress.checkpoint, progress.status),
            Err(error) => debug!(subject = %message.subject, %error, "ignoring malformed progress"),
        }
    }
    warn!("progress subscription ended");
}

/// Raises the known checkpoint (a rebuild starts over: a status report
/// may lower it) and keeps the latest status.
fn record(
    known: &Mutex<HashMap<String, Known>>,
    name: &str,
    checkpoint: Position,
    status: Option<ProjectorStatus>,
) {
    let mut known = known.lock();
    let entry = known.entry(name.to_owned()).or_insert_with(Known::new);
    match status {
        Some(status) => {
            entry.checkpoint.send_replace(checkpoint);
            entry.status = Some((status, Instant::now()));
        }
        None => {
            entry.checkpoint.send_if_modified(|current| {
                let raised = checkpoint > *current;
                *current = (*current).max(checkpoint);
                raised
            });
        }
    }
}

#[async_trait]
impl Projectors for NatsProjectors {
    async fn wait_for(&self, name: &str, position: Position, timeout: Duration) -> Result<(), FleetError> {
        let mut checkpoint = self.checkpoint(name);
        if *checkpoint.borrow() >= position {
            return Ok(());
        }
        let unknown = *checkpoint.borrow() == Position::ZERO;
        let reached = tokio::time::timeout(timeout, async {
            if unknown {
                self.seed(name).await;
            }
            checkpoint.wait_for(|at| *at >= position).await.is_ok()
        })
        .await
        .unwrap_or(false);
        match reached {
            true => Ok(()),
            false => Err(FleetError::Timeout(WaitTimeout {
                projector: name.to_owned(),
                wanted: position,
                reached: *checkpoint.borrow(),
                timeout,
                stopped: false,
            })),
        }
    }

    async fn statuses(&self) -> Result<Vec<ProjectorStatus>, FleetError> {
        let stale_after = self.config.heartbeat_every * STALE_AFTER_HEARTBEATS;
        let mut statuses: Vec<ProjectorStatus> = self
            .known
            .lock()
            .values()
            .filter_map(|known| known.status.clone())
            .map(|(mut status, seen)| {
                if seen.elapsed() > stale_after {
                    status.state = ProjectorState::Stopped;
                    status.last_error = Some(format!(
                        "no heartbeat for {} s: no process holds this projector",
                        seen.elapsed().as_secs()
                    ));
                }
                status
            })
            .collect();
        statuses.sort_by(|a, b| a.projector.cmp(&b.projector));
        Ok(statuses)
    }

    async fn dead_letters(&self, name: &str) -> Result<Vec<DeadLetter>, FleetError> {
        match self.request(name, ControlRequest::DeadLetters).await? {
            ControlReply::DeadLetters(letters) => Ok(letters),
            other => Err(unexpected(name, &other)),
        }
    }

    async fn redrive(&self, name: &str, position: Position) -> Result<(), FleetError> {
        match self.request(name, ControlRequest::Redrive { position }).await? {
            ControlReply::Done => Ok(()),
            other => Err(unexpected(name, &other)),
        }
    }

    async fn discard(&self, name: &str, position: Position) -> Result<bool, FleetError> {
        match self.request(name, ControlRequest::Discard { position }).await? {
            ControlReply::Discarded(removed) => Ok(removed),
            other => Err(unexpected(name, &other)),
        }
    }

    async fn rebuild(&self, name: &str) -> Result<(), FleetError> {
        match self.request(name, ControlRequest::Rebuild).await? {
            ControlReply::Done => {
                // Waits follow the replay from here. (A progress report
                // sent just before the reset and handled after this may
                // raise it again for a moment; during a rebuild the read
                // model is incomplete whatever a wait says.)
                if let Some(known) = self.known.lock().get(name) {
                    known.checkpoint.send_replace(Position::ZERO);
                }
                Ok(())
            }
            other => Err(unexpected(name, &other)),
        }
    }
}

fn unexpected(name: &str, reply: &ControlReply) -> FleetError {
    FleetError::Unavailable(format!("unexpected reply from `{name}`: {reply:?}"))
}
