//! The writer task: one per process. It assigns stream versions and global
//! positions and publishes every append as one message whose headers make
//! JetStream refuse it unless the log is exactly as the writer assumed:
//!
//! - `Nats-Expected-Last-Sequence`: the log's last sequence the positions
//!   were computed from. All appends of all processes are therefore
//!   serialised by the server, positions are dense, and no message can be
//!   stored behind one the writer did not account for.
//! - `Nats-Expected-Last-Subject-Sequence`: the event stream's last message
//!   (0: none), so a stream's versions never fork, whenever the writer's
//!   view of the stream may be stale: learnt before the log turned out to
//!   hold messages the writer did not account for (another process's
//!   appends). A view learnt since is exact as long as the whole-log check
//!   above passes, and then the header is left out: the server's check of
//!   it reads the stream's last message, which costs about a third of the
//!   throughput of large appends (docs/benchmarks.md).
//! - `Nats-Msg-Id`: the append's first event id, for deduplication.
//! - `Nats-Expected-Last-Msg-Id` on every message published while another
//!   is in flight: its predecessor's id, so a pipelined message is stored
//!   only right behind the message it was computed after.
//!
//! Appends are pipelined: while fewer than `max_in_flight` are awaiting
//! their acknowledgement, the writer plans and publishes the next queued
//! one (at most one per event stream in flight), and it settles
//! acknowledgements as they come, in publish order, so the server never
//! waits for a whole batch to come back. When one is refused, the ones
//! behind it are refused too: nothing more is published until they have
//! all come back, then they go back to the front of the queue and the
//! writer re-reads the log's last message and the streams involved.
//! Transport failures (timeouts, a lost connection) are retried the same
//! way until the append's deadline: a retry carries the same message id,
//! so an append that did reach the log is answered from it.
//!
//! - [`plan`](self::plan): expected-version checks and the messages.
//! - `settle`: what each acknowledgement (or its absence) means.
//! - `window`: the appends in flight, in publish order.

mod plan;
mod settle;
mod window;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::context::PublishError;
use async_nats::jetstream::publish::PublishAck;
use quire_domain::StreamId;
use quire_event_log::{AppendResult, ExpectedVersion, LogError};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;
use uuid::Uuid;

use crate::codec::EncodedEvents;
use crate::store::{Store, Stored};

pub(crate) use plan::now;
pub use plan::{COUNT_HEADER, POSITION_HEADER, VERSION_HEADER};
use plan::{Plan, Planned};
use settle::Settled;
use window::Window;

/// One append, validated and encoded by the caller.
#[derive(Debug)]
pub struct AppendRequest {
    pub stream: StreamId,
    pub subject: String,
    pub expected: ExpectedVersion,
    pub event_ids: Vec<Uuid>,
    pub encoded: EncodedEvents,
    pub reply: oneshot::Sender<Result<AppendResult, LogError>>,
    pub deadline: Instant,
    /// An earlier attempt may have been stored: its outcome is unknown.
    pub uncertain: bool,
}

impl AppendRequest {
    fn answer(self, result: Result<AppendResult, LogError>) {
        let _ = self.reply.send(result);
    }

    fn message_id(&self) -> Uuid {
        self.event_ids.first().copied().unwrap_or_default()
    }
}

/// The newest message of the log as the writer believes it to be.
#[derive(Debug, Clone)]
struct Tail {
    seq: u64,
    next_position: u64,
    /// Message id of the newest message if it is one of this batch, not
    /// yet acknowledged.
    pending_id: Option<String>,
}

/// An event stream's newest message (subject sequence 0: none).
#[derive(Debug, Clone, Copy)]
struct StreamTail {
    subject_seq: u64,
    last_version: Option<u64>,
    /// The writer's epoch when this was learnt (set by `remember`): in an
    /// older epoch the log may have gained messages to the stream that the
    /// writer did not see.
    epoch: u64,
}

impl StreamTail {
    /// A state to `remember` (which stamps the epoch).
    fn new(subject_seq: u64, last_version: Option<u64>) -> StreamTail {
        StreamTail {
            subject_seq,
            last_version,
            epoch: 0,
        }
    }

    fn of(last: Option<&Stored>) -> StreamTail {
        StreamTail::new(last.map_or(0, |m| m.seq), last.map(|m| m.message.last_version()))
    }
}

/// The acknowledgement of a publish; `None`: abandoned after a reconnect.
type Outcome = Option<Result<PublishAck, PublishError>>;

/// What the writer waits for while appends are in flight.
enum Wake {
    Ack(AppendRequest, Plan, Outcome),
    Reconnected,
    Request(Option<AppendRequest>),
}

/// The writer's state; lives in its own task.
#[derive(Debug)]
pub struct Writer {
    store: Arc<Store>,
    reconnects: watch::Receiver<u64>,
    tail: Option<Tail>,
    streams: HashMap<StreamId, StreamTail>,
    /// Raised whenever the log turns out to hold messages the writer did
    /// not account for (another process's appends, or an earlier attempt
    /// of a retried one): cached stream states of older epochs may be stale
    /// and are checked by the server (`Nats-Expected-Last-Subject-Sequence`);
    /// those of the current epoch are exact whenever the whole-log check
    /// (`Nats-Expected-Last-Sequence`) passes, so they need no other check.
    epoch: u64,
    /// The log's last sequence such that the writer accounted for every
    /// message up to it: the head it last read, or its own last stored
    /// append.
    known_seq: u64,
    last_error: String,
    failures: u32,
}

impl Writer {
    pub fn new(store: Arc<Store>) -> Writer {
        let mut reconnects = store.reconnects();
        reconnects.borrow_and_update();
        Writer {
            store,
            reconnects,
            tail: None,
            streams: HashMap::new(),
            epoch: 0,
            known_seq: 0,
            last_error: "no answer yet".to_owned(),
            failures: 0,
        }
    }

    /// Serves append requests until every sender is gone: publishes what
    /// is queued while the window has room, and settles acknowledgements
    /// as they come, so the server always has appends to work on.
    pub async fn run(mut self, mut requests: mpsc::Receiver<AppendRequest>) {
        let mut queue = VecDeque::new();
        let mut window = Window::default();
        let mut open = true;
        loop {
            if open {
                open = self.take_ready(&mut requests, &mut queue);
            }
            if !window.is_breaking() {
                self.publish_ready(&mut queue, &mut window).await;
            }
            if window.is_empty() {
                if !queue.is_empty() {
                    // Nothing could be published (the log or a stream
                    // could not be read): wait before trying again.
                    self.pause().await;
                    continue;
                }
                if !open {
                    return;
                }
                match requests.recv().await {
                    Some(request) => queue.push_back(request),
                    None => open = false,
                }
                continue;
            }
            let accept = open && !window.is_breaking() && queue.len() < self.store.config.max_in_flight;
            let reconnects = &mut self.reconnects;
            let wake = tokio::select! {
                (request, plan, outcome) = window.next_ack() => Wake::Ack(request, plan, outcome),
                () = reconnected(reconnects) => Wake::Reconnected,
                request = requests.recv(), if accept => Wake::Request(request),
            };
            match wake {
                Wake::Ack(request, plan, outcome) => {
                    self.settle_into(request, plan, outcome, &mut window).await
                }
                Wake::Reconnected => {
                    for (request, plan) in window.abandon() {
                        self.settle_into(request, plan, None, &mut window).await;
                    }
                }
                Wake::Request(Some(request)) => queue.push_back(request),
                Wake::Request(None) => open = false,
            }
            if window.is_empty() {
                self.close_window(&mut window, &mut queue).await;
            }
        }
    }

    /// Queues the requests already waiting, up to the window's size;
    /// `false` once every sender is gone.
    fn take_ready(
        &self,
        requests: &mut mpsc::Receiver<AppendRequest>,
        queue: &mut VecDeque<AppendRequest>,
    ) -> bool {
        while queue.len() < self.store.config.max_in_flight {
            match requests.try_recv() {
                Ok(request) => queue.push_back(request),
                Err(mpsc::error::TryRecvError::Empty) => return true,
                Err(mpsc::error::TryRecvError::Disconnected) => return false,
            }
        }
        true
    }

    /// Plans and publishes queued requests while the window has room, at
    /// most one append per event stream in it; the others keep their place
    /// in the queue.
    async fn publish_ready(&mut self, queue: &mut VecDeque<AppendRequest>, window: &mut Window) {
        self.expire(queue);
        let max = self.store.config.max_in_flight;
        if queue.is_empty() || window.len() >= max {
            return;
        }
        if let Err(error) = self.ensure_tail().await {
            if error.is_transient() {
                self.note_failure(error.to_string());
            } else {
                let text = error.to_string();
                queue
                    .drain(..)
                    .for_each(|r| r.answer(Err(LogError::Corrupt(text.clone()))));
            }
            return;
        }
        if window.is_empty() {
            window.failures_at_open = self.failures;
        }
        let mut waiting = Vec::new();
        while window.len() < max {
            let Some(request) = queue.pop_front() else { break };
            if window.is_busy(&request.stream) {
                waiting.push(request);
                continue;
            }
            match self.plan(request).await {
                Planned::Publish(request, plan, message) => {
                    let ack = self.store.publish(request.subject.clone(), message).await;
                    window.push(request, plan, ack);
                }
                Planned::Answered => {}
                Planned::Later(request) => {
                    waiting.push(request);
                    break;
                }
            }
        }
        for request in waiting.into_iter().rev() {
            queue.push_front(request);
        }
    }

    /// Answers requests whose deadline passed or whose caller left.
    fn expire(&mut self, queue: &mut VecDeque<AppendRequest>) {
        let now = Instant::now();
        let timeout = self.store.config.append_timeout;
        let (keep, expired): (VecDeque<_>, VecDeque<_>) = queue
            .drain(..)
            .partition(|r| r.deadline > now && !r.reply.is_closed());
        *queue = keep;
        for request in expired {
            let text = format!("no acknowledgement within {timeout:?}: {}", self.last_error);
            request.answer(Err(self.store.unavailable("appending", text)));
        }
    }

    /// Settles one append of the window; a refused or lost one breaks the
    /// chain of the appends behind it.
    async fn settle_into(
        &mut self,
        request: AppendRequest,
        plan: Plan,
        outcome: Outcome,
        window: &mut Window,
    ) {
        let stream = request.stream.clone();
        match self.settle(request, plan, outcome).await {
            Settled::Stored | Settled::Answered => {}
            Settled::NotStored => window.broken.push(stream),
            Settled::Retry(request) => {
                window.broken.push(stream);
                window.retry.push(request);
            }
        }
    }

    /// Once every append of the window is settled: after a break, the
    /// predicted tail is forgotten and the appends to retry go first.
    async fn close_window(&mut self, window: &mut Window, queue: &mut VecDeque<AppendRequest>) {
        let broken = std::mem::take(&mut window.broken);
        self.forget_after_break(&broken);
        for request in window.retry.drain(..).rev() {
            queue.push_front(request);
        }
        if self.failures > window.failures_at_open {
            self.pause().await;
        }
        window.failures_at_open = self.failures;
    }

    /// After a refused or lost publish the predicted tail and the streams
    /// it touched are unknown.
    fn forget_after_break(&mut self, broken: &[StreamId]) {
        if let Some(tail) = &mut self.tail {
            tail.pending_id = None;
        }
        if broken.is_empty() {
            return;
        }
        self.tail = None;
        for stream in broken {
            self.streams.remove(stream);
        }
    }

    /// Reads the log's newest message unless the tail is known.
    async fn ensure_tail(&mut self) -> Result<(), LogError> {
        if self.tail.is_some() {
            return Ok(());
        }
        let head = match self.store.head().await? {
            Some(head) => head,
            None => match self.non_empty_head().await? {
                Some(head) => head,
                None => {
                    self.account_head(0);
                    self.tail = Some(Tail {
                        seq: 0,
                        next_position: 1,
                        pending_id: None,
                    });
                    return Ok(());
                }
            },
        };
        self.account_head(head.seq);
        self.remember(head.message.stream_id().clone(), StreamTail::of(Some(&head)));
        self.tail = Some(Tail {
            seq: head.seq,
            next_position: head.message.last_position().0 + 1,
            pending_id: None,
        });
        Ok(())
    }

    /// After the log looked empty: `None` if it never held a message, its
    /// newest message if one arrived meanwhile; an error if its messages
    /// were removed (positions could not continue).
    async fn non_empty_head(&self) -> Result<Option<Stored>, LogError> {
        let last_seq = self.store.last_sequence().await?;
        if last_seq == 0 {
            return Ok(None);
        }
        match self.store.head().await? {
            Some(head) => Ok(Some(head)),
            None => Err(LogError::Corrupt(format!(
                "JetStream stream {} holds no message but has reached sequence {last_seq}: \
                 its messages were removed, so positions cannot continue",
                self.store.config.stream_name
            ))),
        }
    }

    /// The log's head as read: if it is not the last message the writer
    /// accounted for, others were stored meanwhile and a new epoch begins.
    fn account_head(&mut self, head_seq: u64) {
        if head_seq != self.known_seq {
            self.epoch += 1;
            self.known_seq = head_seq;
        }
    }

    /// An append of this writer stored at `seq`, which it predicted as
    /// `predicted` on top of the messages it accounted for.
    fn account_stored(&mut self, seq: u64, predicted: u64) {
        if seq != predicted {
            self.epoch += 1;
        }
        self.known_seq = seq;
    }

    /// Caches a stream's state, learnt in the current epoch.
    fn remember(&mut self, stream: StreamId, mut state: StreamTail) -> StreamTail {
        if self.streams.len() >= self.store.config.stream_cache_capacity
            && !self.streams.contains_key(&stream)
        {
            self.streams.clear();
        }
        state.epoch = self.epoch;
        self.streams.insert(stream, state);
        state
    }

    fn note_failure(&mut self, error: String) {
        self.failures = self.failures.saturating_add(1);
        self.last_error = error;
    }

    /// Backs off after transport failures: 20 ms doubling up to 1 s.
    async fn pause(&self) {
        let exponent = self.failures.saturating_sub(1).min(6);
        let delay = Duration::from_millis(20 << exponent).min(Duration::from_secs(1));
        tokio::time::sleep(delay).await;
    }
}

/// Resolves when the client has reconnected since the last call; never if
/// the connection is gone for good.
pub async fn reconnected(reconnects: &mut watch::Receiver<u64>) {
    if reconnects.changed().await.is_err() {
        futures::future::pending::<()>().await;
    }
}
