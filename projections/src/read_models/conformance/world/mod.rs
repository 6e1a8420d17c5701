//! [`World`]: a scenario builder for the suites. It runs commands through
//! the real aggregates (`decide`, then `apply`), records the events they
//! decide with increasing positions, stream versions and times, and
//! delivers them to a projector in batches, as the runner would.
//!
//! - `documents` — document and project commands.
//! - `channels` — channel commands.

mod channels;
mod documents;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use quire_domain::channel::{Channel, ChannelCommand, ChannelError};
use quire_domain::document::{Document, DocumentCommand, DocumentError};
use quire_domain::project::{Project, ProjectCommand, ProjectError};
use quire_domain::{
    Actor, Aggregate, ChannelId, DocumentId, EventMetadata, Issued, MessageId, Name, NewEvent, Position,
    ProjectId, RecordedEvent, Sha256, StreamId, Timestamp, UserId,
};

use crate::projector::Projector;

/// A user id (panics on an invalid one: suite input is fixed).
pub fn uid(name: &str) -> UserId {
    UserId::parse(name).expect("valid user id")
}

pub fn doc_id(id: &str) -> DocumentId {
    DocumentId::parse(id).expect("valid document id")
}

pub fn pid(id: &str) -> ProjectId {
    ProjectId::parse(id).expect("valid project id")
}

pub fn cid(id: &str) -> ChannelId {
    ChannelId::parse(id).expect("valid channel id")
}

pub fn mid(id: &str) -> MessageId {
    MessageId::parse(id).expect("valid message id")
}

pub fn name(text: &str) -> Name {
    Name::parse(text).expect("valid name")
}

/// A distinct, valid digest for content number `n`.
pub fn sha(n: u64) -> Sha256 {
    Sha256::parse(&format!("{n:064x}")).expect("valid digest")
}

/// The body [`World::send`] gives message `message`.
pub fn body_of(message: &str) -> String {
    format!("text of {message}")
}

/// The aggregates of a scenario and the events they decided.
#[derive(Debug, Default)]
pub struct World {
    /// Microseconds; each command happens one second after the previous.
    clock: i64,
    /// Position of the last recorded event.
    head: u64,
    /// Next stream version per stream.
    versions: HashMap<StreamId, u64>,
    documents: HashMap<DocumentId, Document>,
    projects: HashMap<ProjectId, Project>,
    channels: HashMap<ChannelId, Channel>,
    /// Content counter, for distinct digests.
    contents: u64,
    /// Recorded, not yet delivered.
    pending: Vec<Arc<RecordedEvent>>,
    /// Every recorded event, in position order.
    history: Vec<Arc<RecordedEvent>>,
}

impl World {
    pub fn new() -> World {
        World {
            clock: 1_700_000_000_000_000,
            ..World::default()
        }
    }

    /// Position of the last recorded event.
    pub fn head(&self) -> Position {
        Position(self.head)
    }

    /// Every event recorded so far, in position order.
    pub fn history(&self) -> Vec<Arc<RecordedEvent>> {
        self.history.clone()
    }

    /// The time the last command happened at.
    pub fn last_time(&self) -> Timestamp {
        Timestamp(self.clock)
    }

    /// Delivers what was recorded since the last delivery, as one batch of
    /// the events the projector's filter matches, with the head as
    /// checkpoint.
    pub async fn sync(&mut self, projector: &dyn Projector) {
        let pending = std::mem::take(&mut self.pending);
        deliver(projector, &pending, self.head()).await;
    }

    fn tick(&mut self) -> Timestamp {
        self.clock += 1_000_000;
        Timestamp(self.clock)
    }

    /// Decides `command` on `aggregate`; on success applies and records the
    /// events on `stream`.
    fn run<A, C>(
        &mut self,
        aggregate: &mut A,
        stream: StreamId,
        actor: Actor,
        command: C,
    ) -> Result<(), A::Error>
    where
        A: Aggregate<Command = Issued<C>>,
    {
        let at = self.tick();
        let events = aggregate.decide(&Issued::new(actor.clone(), at, command))?;
        for event in &events {
            aggregate.apply(event);
            let new = NewEvent::from_domain(event, EventMetadata::new(actor.clone()));
            let version = self.versions.entry(stream.clone()).or_default();
            self.head += 1;
            let recorded = Arc::new(RecordedEvent {
                event_id: new.event_id,
                stream_id: stream.clone(),
                stream_version: *version,
                position: Position(self.head),
                event_type: new.event_type,
                schema_version: new.schema_version,
                recorded_at: at,
                metadata: new.metadata,
                payload: new.payload,
            });
            *version += 1;
            self.pending.push(Arc::clone(&recorded));
            self.history.push(recorded);
        }
        Ok(())
    }

    /// Runs a document command as `actor`.
    pub fn try_document(&mut self, actor: Actor, command: DocumentCommand) -> Result<(), DocumentError> {
        let id = command.document_id().clone();
        let stream = StreamId::for_aggregate("document", id.as_str()).expect("valid stream id");
        let mut aggregate = self.documents.remove(&id).unwrap_or_default();
        let outcome = self.run(&mut aggregate, stream, actor, command);
        self.documents.insert(id, aggregate);
        outcome
    }

    /// Runs a project command as `actor`.
    pub fn try_project(&mut self, actor: Actor, command: ProjectCommand) -> Result<(), ProjectError> {
        let id = command.project_id().clone();
        let stream = StreamId::for_aggregate("project", id.as_str()).expect("valid stream id");
        let mut aggregate = self.projects.remove(&id).unwrap_or_default();
        let outcome = self.run(&mut aggregate, stream, actor, command);
        self.projects.insert(id, aggregate);
        outcome
    }

    /// Runs a channel command as `actor`.
    pub fn try_channel(&mut self, actor: Actor, command: ChannelCommand) -> Result<(), ChannelError> {
        let id = command.channel_id().clone();
        let stream = StreamId::for_aggregate("channel", id.as_str()).expect("valid stream id");
        let mut aggregate = self.channels.remove(&id).unwrap_or_default();
        let outcome = self.run(&mut aggregate, stream, actor, command);
        self.channels.insert(id, aggregate);
        outcome
    }

    #[track_caller]
    fn document(&mut self, user: &str, command: DocumentCommand) -> &mut World {
        if let Err(error) = self.try_document(Actor::user(user), command) {
            panic!("document command by {user} rejected: {error}");
        }
        self
    }

    #[track_caller]
    fn project(&mut self, user: &str, command: ProjectCommand) -> &mut World {
        if let Err(error) = self.try_project(Actor::user(user), command) {
            panic!("project command by {user} rejected: {error}");
        }
        self
    }

    #[track_caller]
    fn channel(&mut self, user: &str, command: ChannelCommand) -> &mut World {
        if let Err(error) = self.try_channel(Actor::user(user), command) {
            panic!("channel command by {user} rejected: {error}");
        }
        self
    }
}

/// `(channel, unread count)` pairs, for comparisons.
pub fn counts(pairs: &[(&str, u32)]) -> Vec<(String, u32)> {
    pairs.iter().map(|(c, n)| ((*c).to_owned(), *n)).collect()
}

/// Delivers `events` (those the projector's filter matches) as one batch
/// with `checkpoint`, panicking if the projector fails.
pub async fn deliver(projector: &dyn Projector, events: &[Arc<RecordedEvent>], checkpoint: Position) {
    let filter = projector.filter();
    let matching: Vec<Arc<RecordedEvent>> = events.iter().filter(|e| filter.matches(e)).cloned().collect();
    if let Err(error) = projector.apply(&matching, checkpoint).await {
        panic!("projector {} failed to apply a batch: {error}", projector.id());
    }
}

/// Delivers `history` in batches of `size`, each with the position of its
/// last event as the checkpoint, as a replay from the log would.
pub async fn deliver_in_batches(projector: &dyn Projector, history: &[Arc<RecordedEvent>], size: usize) {
    for batch in history.chunks(size) {
        let checkpoint = batch.last().map_or(Position::ZERO, |e| e.position);
        deliver(projector, batch, checkpoint).await;
    }
}

/// Delivers `history`, already applied up to `head`, again in every way a
/// runner may: in one batch; event by event, as a runner isolating a
/// failure would; alone and newest first, as re-driven dead letters arrive
/// (an old event must not undo what later ones did); and its second half
/// as an overlapping batch. After each, `snapshot` must still give `once`
/// (`what` names the state in the failure), and the checkpoint stays `head`.
pub async fn assert_redelivery_changes_nothing<Snapshot, Answers>(
    projector: &dyn Projector,
    history: &[Arc<RecordedEvent>],
    head: Position,
    what: &str,
    once: &[String],
    snapshot: Snapshot,
) where
    Snapshot: Fn() -> Answers,
    Answers: Future<Output = Vec<String>>,
{
    deliver(projector, history, head).await;
    assert_eq!(snapshot().await, once, "a redelivered batch changed the {what}");
    for event in history {
        deliver(projector, std::slice::from_ref(event), head).await;
    }
    assert_eq!(snapshot().await, once, "redelivered events changed the {what}");
    for event in history.iter().rev() {
        deliver(projector, std::slice::from_ref(event), head).await;
    }
    assert_eq!(
        snapshot().await,
        once,
        "an old event delivered alone changed the {what}"
    );
    deliver(projector, &history[history.len() / 2..], head).await;
    assert_eq!(snapshot().await, once, "an overlapping batch changed the {what}");
    assert_eq!(projector.load_checkpoint().await.expect("checkpoint"), head);
}
