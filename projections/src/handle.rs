//! [`ProjectorHandle`]: the cloneable remote control of one running
//! projector: status, read-your-writes waits, dead letters, re-drive,
//! rebuild and stop.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use quire_domain::Position;
use quire_event_log::EventLog;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tracing::error;

use crate::dead_letter::{DeadLetter, DeadLetterStore};
use crate::error::{ControlError, ProjectionError, WaitTimeout};
use crate::projector::ProjectorId;
use crate::runner::Control;
use crate::status::{ProjectorState, ProjectorStatus, StatusCell};

/// Controls one running projector. Cheap to clone; the runner stops when
/// [`stop`](ProjectorHandle::stop) is called or the last clone is dropped.
#[derive(Clone)]
pub struct ProjectorHandle {
    inner: Arc<Inner>,
}

/// What the runner hands the handle it returns.
pub(crate) struct HandleParts {
    pub id: ProjectorId,
    pub log: Arc<dyn EventLog>,
    pub dead_letters: Arc<dyn DeadLetterStore>,
    pub status: Arc<StatusCell>,
    pub checkpoint: watch::Receiver<Position>,
    pub control: mpsc::Sender<Control>,
    pub stop: watch::Sender<bool>,
    pub task: JoinHandle<()>,
}

struct Inner {
    id: ProjectorId,
    log: Arc<dyn EventLog>,
    dead_letters: Arc<dyn DeadLetterStore>,
    status: Arc<StatusCell>,
    checkpoint: watch::Receiver<Position>,
    control: mpsc::Sender<Control>,
    stop: watch::Sender<bool>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl fmt::Debug for ProjectorHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProjectorHandle")
            .field("projector", &self.inner.id)
            .field("checkpoint", &self.checkpoint())
            .finish_non_exhaustive()
    }
}

impl ProjectorHandle {
    pub(crate) fn new(parts: HandleParts) -> ProjectorHandle {
        ProjectorHandle {
            inner: Arc::new(Inner {
                id: parts.id,
                log: parts.log,
                dead_letters: parts.dead_letters,
                status: parts.status,
                checkpoint: parts.checkpoint,
                control: parts.control,
                stop: parts.stop,
                task: Mutex::new(Some(parts.task)),
            }),
        }
    }

    pub fn id(&self) -> &ProjectorId {
        &self.inner.id
    }

    pub fn name(&self) -> &str {
        &self.inner.id.name
    }

    pub fn version(&self) -> u32 {
        self.inner.id.version
    }

    /// Every event up to this position is applied, dead-lettered or
    /// filtered out.
    pub fn checkpoint(&self) -> Position {
        *self.inner.checkpoint.borrow()
    }

    /// A receiver of checkpoint changes, for callers that wait their own way.
    /// It reports closed once the runner has ended.
    pub fn watch_checkpoint(&self) -> watch::Receiver<Position> {
        self.inner.checkpoint.clone()
    }

    /// A status snapshot, with the head read fresh from the log (the last
    /// known head if that read fails).
    pub async fn status(&self) -> ProjectorStatus {
        let head = self.inner.log.head().await.ok();
        self.status_with_head(head)
    }

    /// A status snapshot with a head the caller already read.
    pub fn status_with_head(&self, head: Option<Position>) -> ProjectorStatus {
        self.inner
            .status
            .snapshot(self.inner.id.clone(), self.checkpoint(), head)
    }

    /// Resolves once the projector has applied or scanned past `position`
    /// (read-your-writes), or fails after `timeout`. Returns early with
    /// `stopped: true` if the runner is not running.
    pub async fn wait_for(&self, position: Position, timeout: Duration) -> Result<(), WaitTimeout> {
        let mut checkpoint = self.inner.checkpoint.clone();
        let outcome = tokio::time::timeout(timeout, async {
            checkpoint
                .wait_for(|reached| *reached >= position)
                .await
                .map(|_| ())
        })
        .await;
        let stopped = match outcome {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(_closed)) => true,
            Err(_elapsed) => false,
        };
        Err(WaitTimeout {
            projector: self.inner.id.to_string(),
            wanted: position,
            reached: *checkpoint.borrow(),
            timeout,
            stopped,
        })
    }

    /// The projector's dead letters in position order.
    pub async fn dead_letters(&self) -> Result<Vec<DeadLetter>, ProjectionError> {
        self.inner.dead_letters.list(&self.inner.id).await
    }

    /// Applies the dead-lettered event at `position` again, through the
    /// runner so it never overlaps the runner's own applies. On success it
    /// leaves the list; on failure it stays with the new error
    /// ([`ControlError::RedriveFailed`]).
    pub async fn redrive(&self, position: Position) -> Result<(), ControlError> {
        self.request(|reply| Control::Redrive { position, reply }).await?
    }

    /// Removes the dead letter at `position` without applying it; `false`
    /// if there was none.
    pub async fn discard(&self, position: Position) -> Result<bool, ControlError> {
        self.request(|reply| Control::Discard { position, reply }).await?
    }

    /// Resets the projector's store, checkpoint and dead letters, and
    /// replays the log from position 0. Returns once the reset is done; the
    /// status then reads "catching up" and `wait_for` follows the replay.
    pub async fn rebuild(&self) -> Result<(), ControlError> {
        self.request(|reply| Control::Rebuild { reply }).await?
    }

    /// Asks the runner to stop and waits until it has. An apply in progress
    /// completes first; a checkpoint held back by the interval is written.
    pub async fn stop(&self) {
        self.inner.stop.send_replace(true);
        let task = self.inner.task.lock().take();
        match task {
            Some(task) => {
                if let Err(join_error) = task.await {
                    error!(projector = %self.inner.id, error = %join_error, "projector task ended abnormally");
                    self.inner.status.update(|s| {
                        s.state = ProjectorState::Failed;
                        s.last_error = Some(format!("runner task ended abnormally: {join_error}"));
                    });
                }
            }
            None => {
                // Another clone is stopping it: wait for the runner to drop
                // its end of the checkpoint channel.
                let mut checkpoint = self.inner.checkpoint.clone();
                while checkpoint.changed().await.is_ok() {}
            }
        }
    }

    /// Whether the runner task is still running.
    pub fn is_running(&self) -> bool {
        self.inner.checkpoint.has_changed().is_ok()
    }

    async fn request<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Control) -> Result<T, ControlError> {
        let (reply, answer) = oneshot::channel();
        self.inner
            .control
            .send(make(reply))
            .await
            .map_err(|_| self.stopped())?;
        answer.await.map_err(|_| self.stopped())
    }

    fn stopped(&self) -> ControlError {
        ControlError::Stopped(self.inner.id.to_string())
    }
}
