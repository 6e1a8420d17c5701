//! Requests from a [`ProjectorHandle`](crate::ProjectorHandle) (re-drive,
//! discard, rebuild), served by the runner task between batches so they
//! never race its own applies.

use std::slice;

use quire_domain::Position;
use tokio::sync::oneshot;
use tokio::time::Instant;
use tracing::{info, warn};

use super::{Flow, Runner};
use crate::dead_letter;
use crate::error::ControlError;
use crate::status::ProjectorState;

/// Requests from a handle, served by the runner between batches so they
/// never race its own applies.
#[derive(Debug)]
pub(crate) enum Control {
    Redrive {
        position: Position,
        reply: oneshot::Sender<Result<(), ControlError>>,
    },
    Discard {
        position: Position,
        reply: oneshot::Sender<Result<bool, ControlError>>,
    },
    Rebuild {
        reply: oneshot::Sender<Result<(), ControlError>>,
    },
}

impl Runner {
    pub(super) async fn serve(&mut self, control: Control) -> Flow {
        match control {
            Control::Redrive { position, reply } => {
                let result = self.redrive(position).await;
                let _ = reply.send(result);
                Flow::Continue
            }
            Control::Discard { position, reply } => {
                let result = self.discard(position).await;
                let _ = reply.send(result);
                Flow::Continue
            }
            Control::Rebuild { reply } => {
                let result = self.rebuild().await;
                let flow = if result.is_ok() {
                    Flow::Resubscribe
                } else {
                    Flow::Continue
                };
                let _ = reply.send(result);
                flow
            }
        }
    }

    /// Applies one dead-lettered event again, alone, with the current
    /// checkpoint.
    pub(super) async fn redrive(&mut self, position: Position) -> Result<(), ControlError> {
        let mut letter = self
            .dead_letters
            .get(&self.id, position)
            .await?
            .ok_or(ControlError::NoDeadLetter(position))?;
        let event = self
            .log
            .read_all(position, 1)
            .await?
            .into_iter()
            .next()
            .filter(|event| event.position == position && event.event_id == letter.event_id)
            .ok_or(ControlError::EventMissing(position))?;
        let checkpoint = self.scanned;
        match self.try_apply(slice::from_ref(&event), checkpoint).await {
            Ok(()) => {
                self.applied(1, checkpoint);
                self.dead_letters.remove(&self.id, position).await?;
                self.refresh_dead_letter_count().await;
                info!(projector = %self.id, position = %position, "dead letter re-driven");
                self.publish_metrics(None);
                Ok(())
            }
            Err(error) => {
                letter.attempts = letter.attempts.saturating_add(1);
                letter.error = error.to_string();
                letter.last_failed_at = dead_letter::now();
                self.dead_letters.put(letter).await?;
                warn!(projector = %self.id, position = %position, error = %error, "re-drive failed");
                Err(ControlError::RedriveFailed {
                    position,
                    error: error.to_string(),
                })
            }
        }
    }

    pub(super) async fn discard(&mut self, position: Position) -> Result<bool, ControlError> {
        let removed = self.dead_letters.remove(&self.id, position).await?;
        if removed {
            info!(projector = %self.id, position = %position, "dead letter discarded");
            self.refresh_dead_letter_count().await;
            self.publish_metrics(None);
        }
        Ok(removed)
    }

    /// Resets the projector's store and forgets its dead letters; the caller
    /// then resubscribes from the start of the log.
    pub(super) async fn rebuild(&mut self) -> Result<(), ControlError> {
        info!(projector = %self.id, checkpoint = %self.scanned, "rebuilding from position 0");
        self.projector.reset().await.map_err(ControlError::ResetFailed)?;
        if let Err(error) = self.dead_letters.clear(&self.id).await {
            // The replay re-files any letter that still fails; a stale one
            // left here re-drives harmlessly.
            warn!(projector = %self.id, error = %error, "clearing dead letters for rebuild failed");
        }
        self.scanned = Position::ZERO;
        self.persisted = Position::ZERO;
        self.last_persist = Instant::now();
        self.checkpoint_tx.send_replace(Position::ZERO);
        self.status.update(|s| {
            s.persisted = Position::ZERO;
            s.state = ProjectorState::CatchingUp;
            s.last_error = None;
        });
        self.refresh_dead_letter_count().await;
        self.publish_metrics(None);
        Ok(())
    }
}
