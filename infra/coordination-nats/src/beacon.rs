//! [`ProjectorBeacon`]: the side of the process that holds a projector's
//! lease. While it runs the projector, it publishes the projector's
//! progress and answers the control subject; when the lease goes, it
//! unsubscribes, so only the current holder ever answers.

use std::sync::Arc;

use async_nats::{Client, Message, Subscriber};
use futures::StreamExt;
use quire_domain::Position;
use quire_projections::ProjectorHandle;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{debug, warn};

use crate::config::CoordinationConfig;
use crate::wire::{ControlReply, ControlRequest, Progress};

/// Publishes one projector's progress and serves its control requests
/// while this process runs it. Stops when the supervisor's watch closes.
#[derive(Debug)]
pub struct ProjectorBeacon {
    task: JoinHandle<()>,
}

impl ProjectorBeacon {
    /// Follows `running` (a [`LeasedHandle::watch_running`] of projector
    /// `name`).
    ///
    /// [`LeasedHandle::watch_running`]: quire_projections::lease::LeasedHandle::watch_running
    pub fn spawn(
        client: Client,
        config: Arc<CoordinationConfig>,
        name: String,
        holder: String,
        running: watch::Receiver<Option<ProjectorHandle>>,
    ) -> ProjectorBeacon {
        let beacon = Beacon {
            client,
            config,
            name,
            holder,
        };
        ProjectorBeacon {
            task: tokio::spawn(beacon.follow(running)),
        }
    }

    /// Waits until the beacon has stopped (after its supervisor).
    pub async fn stopped(self) {
        if let Err(error) = self.task.await {
            warn!(%error, "projector beacon ended abnormally");
        }
    }
}

struct Beacon {
    client: Client,
    config: Arc<CoordinationConfig>,
    name: String,
    holder: String,
}

impl Beacon {
    async fn follow(self, mut running: watch::Receiver<Option<ProjectorHandle>>) {
        loop {
            let current = running.borrow_and_update().clone();
            if let Some(handle) = current {
                self.serve(&handle, &mut running).await;
            } else if running.changed().await.is_err() {
                return;
            }
        }
    }

    /// Publishes and answers for `handle` until the running handle changes.
    async fn serve(&self, handle: &ProjectorHandle, running: &mut watch::Receiver<Option<ProjectorHandle>>) {
        let mut control = match self
            .client
            .subscribe(self.config.control_subject(&self.name))
            .await
        {
            Ok(subscriber) => Some(subscriber),
            Err(error) => {
                warn!(projector = %self.name, %error, "cannot serve control requests");
                None
            }
        };
        let mut checkpoint = handle.watch_checkpoint();
        let mut published = *checkpoint.borrow_and_update();
        let mut heartbeat = tokio::time::interval(self.config.heartbeat_every);
        loop {
            tokio::select! {
                // A new runner (or none): serve that one instead.
                _ = running.changed() => break,
                changed = checkpoint.changed() => {
                    if changed.is_err() { break; }
                    let position = *checkpoint.borrow_and_update();
                    self.progress(handle, published, position).await;
                    published = position;
                }
                _ = heartbeat.tick() => self.heartbeat(handle).await,
                Some(request) = next(&mut control) => self.answer(handle, request).await,
            }
        }
        if let Some(mut subscriber) = control {
            let _ = subscriber.unsubscribe().await;
        }
    }

    /// Publishes a checkpoint move. Gateways only ever raise what they know
    /// from a bare progress beacon, so a move back (the runner restarted
    /// from its store's checkpoint after the store lost state, or a
    /// rebuild) goes out as a full status report at once, which they take
    /// as it is: otherwise they would answer reads at positions the
    /// projector no longer has until the next heartbeat.
    async fn progress(&self, handle: &ProjectorHandle, before: Position, now: Position) {
        if now < before {
            return self.heartbeat(handle).await;
        }
        let progress = Progress {
            projector: self.name.clone(),
            holder: self.holder.clone(),
            checkpoint: now,
            status: None,
        };
        self.publish(progress).await;
    }

    async fn heartbeat(&self, handle: &ProjectorHandle) {
        let status = handle.status().await;
        self.publish(Progress {
            projector: self.name.clone(),
            holder: self.holder.clone(),
            checkpoint: status.checkpoint,
            status: Some(status),
        })
        .await;
    }

    async fn publish(&self, progress: Progress) {
        let subject = self.config.progress_subject(&self.name);
        match serde_json::to_vec(&progress) {
            Ok(body) => {
                if let Err(error) = self.client.publish(subject, body.into()).await {
                    debug!(projector = %self.name, %error, "progress not published");
                }
            }
            Err(error) => warn!(projector = %self.name, %error, "progress not encodable"),
        }
    }

    async fn answer(&self, handle: &ProjectorHandle, request: Message) {
        let Some(reply_to) = request.reply else { return };
        let reply = match serde_json::from_slice::<ControlRequest>(&request.payload) {
            Ok(control) => execute(handle, control).await,
            Err(error) => ControlReply::Failed(crate::wire::RemoteError::Other {
                message: format!("malformed control request: {error}"),
            }),
        };
        let body = serde_json::to_vec(&reply).unwrap_or_default();
        if let Err(error) = self.client.publish(reply_to, body.into()).await {
            warn!(projector = %self.name, %error, "control reply not sent");
        }
    }
}

async fn next(control: &mut Option<Subscriber>) -> Option<Message> {
    match control {
        Some(subscriber) => subscriber.next().await,
        None => std::future::pending().await,
    }
}

async fn execute(handle: &ProjectorHandle, request: ControlRequest) -> ControlReply {
    let failed = |error: quire_projections::ControlError| ControlReply::Failed(error.into());
    match request {
        ControlRequest::Status => ControlReply::Status(handle.status().await),
        ControlRequest::DeadLetters => match handle.dead_letters().await {
            Ok(letters) => ControlReply::DeadLetters(letters),
            Err(error) => failed(error.into()),
        },
        ControlRequest::Redrive { position } => handle
            .redrive(position)
            .await
            .map_or_else(failed, |()| ControlReply::Done),
        ControlRequest::Discard { position } => handle
            .discard(position)
            .await
            .map_or_else(failed, ControlReply::Discarded),
        ControlRequest::Rebuild => handle
            .rebuild()
            .await
            .map_or_else(failed, |()| ControlReply::Done),
    }
}
