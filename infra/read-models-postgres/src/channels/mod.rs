//! [`PgChannels`]: the channels read model (channels, participants,
//! messages, read markers, unread counts) on PostgreSQL, both the projector
//! over `channel.*` events and the
//! [`ChannelQueries`](quire_projections::read_models::channels::ChannelQueries)
//! port.
//!
//! - `model` — the batch's working set, how events change it, and how
//!   unread counts are kept without touching every participant.
//! - `load` — reads the rows a batch touches.
//! - `write` — writes them back, a few multi-row statements per batch.
//! - `partitions` — how a long batch splits by channel into transactions
//!   applied side by side.
//! - `queries` — the port's statements.

mod load;
mod model;
mod partitions;
mod queries;
mod write;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use quire_domain::channel::ChannelEvent;
use quire_domain::{ChannelId, DomainEvent, MessageId, Position, RecordedEvent, UserId};
use quire_event_log::EventFilter;
use quire_projections::query::{Page, PageRequest, QueryError};
use quire_projections::read_models::channels::{
    ChannelQueries, ChannelView, MessageFilter, MessageView, UnreadCount,
};
use quire_projections::{ProjectionError, Projector, ProjectorId};
use tokio::task::JoinSet;

use self::model::{Decoded, Wanted};
use self::partitions::Layout;
use self::write::Written;
use crate::checkpoints;
use crate::config::PgConfig;
use crate::error::{PgError, projection_error};
use crate::store::PgStore;
use quire_projections::read_models::unread::UnreadQueries;
use quire_projections::read_models::{decode, event_types};

/// The channels read model in one schema. One value is both the projector
/// (give it to a `ProjectorRunner`) and the query port: share it through an
/// `Arc`.
#[derive(Debug, Clone)]
pub struct PgChannels {
    store: PgStore,
    layout: Layout,
    /// Whether the checkpoint rows of other layouts are gone: done once,
    /// after the first batch that wrote every row of this layout.
    settled: Arc<AtomicBool>,
}

impl PgChannels {
    /// The projector's name, in checkpoints, dead letters and metrics.
    pub const NAME: &'static str = "channels.postgres";
    /// The read model's shape version.
    pub const VERSION: u32 = 1;

    /// The read model in an open store's schema; long batches are split
    /// into the store's [`catch_up_partitions`](PgStore::catch_up_partitions).
    pub fn new(store: PgStore) -> PgChannels {
        let layout = Layout::new(store.catch_up_partitions());
        PgChannels {
            store,
            layout,
            settled: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The same read model with long batches split into `partitions`
    /// transactions (1: every batch whole).
    pub fn with_catch_up_partitions(mut self, partitions: usize) -> PgChannels {
        self.layout = Layout::new(partitions);
        self.settled = Arc::new(AtomicBool::new(false));
        self
    }

    /// Opens (creating and migrating if needed) the configured schema.
    pub async fn open(config: &PgConfig) -> Result<Arc<PgChannels>, PgError> {
        Ok(Arc::new(PgChannels::new(PgStore::open(config).await?)))
    }

    /// The store the read model lives in.
    pub fn store(&self) -> &PgStore {
        &self.store
    }

    /// Applies the partitions of a long batch side by side, each in its own
    /// task and transaction; the first error if any failed (the others
    /// may have committed, which a retry of the batch skips by position).
    async fn apply_partitioned(
        &self,
        events: &[Arc<RecordedEvent>],
        checkpoint: Position,
    ) -> Result<(), ProjectionError> {
        let id = self.id();
        let mut tasks = JoinSet::new();
        for (index, part) in self.layout.split(events).into_iter().enumerate() {
            let model = self.clone();
            let scope = Scope::Partition(self.layout.checkpoint(&id, index));
            tasks.spawn(async move { model.apply_part(&part, checkpoint, scope, 1).await });
        }
        let mut failure = None;
        while let Some(joined) = tasks.join_next().await {
            let outcome = joined.unwrap_or_else(|_| Err(ProjectionError::apply("partition task panicked")));
            if let Err(error) = outcome {
                failure.get_or_insert(error);
            }
        }
        failure.map_or(Ok(()), Err)
    }

    /// Decodes and applies the events of one scope; again, with sent ids
    /// loaded, if a sent id turns out to be stored already.
    async fn apply_part(
        &self,
        events: &[Arc<RecordedEvent>],
        checkpoint: Position,
        scope: Scope,
        threads: usize,
    ) -> Result<(), ProjectionError> {
        let first = decoded(events, threads).await?;
        if self.try_apply(first, checkpoint, false, &scope).await? == Written::Done {
            return Ok(());
        }
        match self
            .try_apply(decoded(events, threads).await?, checkpoint, true, &scope)
            .await?
        {
            Written::Done => Ok(()),
            Written::DuplicateMessage => Err(ProjectionError::apply("a sent message id is stored twice")),
        }
    }

    /// One attempt; a `DuplicateMessage` outcome rolled everything back.
    async fn try_apply(
        &self,
        events: Vec<Decoded>,
        checkpoint: Position,
        load_sent: bool,
        scope: &Scope,
    ) -> Result<Written, ProjectionError> {
        let id = self.id();
        let mut tx = match scope {
            Scope::Whole => self.store.begin(&id).await?,
            Scope::Partition(partition) => self.store.begin_partition(&id, partition).await?,
        };
        let rows = match scope {
            Scope::Whole => self.layout.checkpoints(&id),
            Scope::Partition(partition) => vec![partition.clone()],
        };
        self.store.check_not_rewound(&mut tx, &rows).await?;
        let mut working = load::load(&mut tx, &Wanted::of(&events, load_sent)).await?;
        if write::apply_and_copy(&mut tx, &mut working, events).await? == Written::DuplicateMessage {
            // Dropping the transaction rolls it back.
            return Ok(Written::DuplicateMessage);
        }
        write::write(&mut tx, &working).await?;
        checkpoints::raise(&mut *tx, &rows, checkpoint).await?;
        PgStore::commit(tx).await?;
        self.store.committed(&rows, checkpoint);
        Ok(Written::Done)
    }

    /// Once every checkpoint row of this layout is written, forgets the
    /// rows of other layouts, which would otherwise hold the resume point
    /// back.
    async fn settle_layout(&self) -> Result<(), ProjectionError> {
        if self.settled.load(Ordering::Acquire) {
            return Ok(());
        }
        let id = self.id();
        checkpoints::delete_family(self.store.pool(), &id, &self.layout.checkpoints(&id)).await?;
        self.settled.store(true, Ordering::Release);
        Ok(())
    }
}

/// What one transaction of a batch covers.
enum Scope {
    /// The whole batch: it writes every checkpoint row of the layout.
    Whole,
    /// One partition: it writes that partition's row.
    Partition(ProjectorId),
}

/// Batches at least this long are decoded off the async workers, and split
/// into partitions if the layout has several.
const LONG_BATCH: usize = 2048;

/// The batch's `channel.*` events, decoded. A long batch (a replay's) takes
/// tens of milliseconds of CPU: it is decoded on the blocking pool, so that
/// the process's other tasks (lease heartbeats, gRPC calls in a process of
/// several roles) keep their workers, and, for a whole batch, half of it on
/// another thread, since the server waits for the batch meanwhile and the
/// client may use both cores (partitions already decode side by side).
async fn decoded(events: &[Arc<RecordedEvent>], threads: usize) -> Result<Vec<Decoded>, ProjectionError> {
    if events.len() < LONG_BATCH {
        return decode_all(events);
    }
    let events = events.to_vec();
    tokio::task::spawn_blocking(move || match threads {
        1 => decode_all(&events),
        _ => decode_on_two_threads(&events),
    })
    .await
    .map_err(|_| ProjectionError::apply("decoding task panicked"))?
}

fn decode_on_two_threads(events: &[Arc<RecordedEvent>]) -> Result<Vec<Decoded>, ProjectionError> {
    let (first, second) = events.split_at(events.len() / 2);
    let (first, second) = std::thread::scope(|scope| {
        let second = scope.spawn(|| decode_all(second));
        let first = decode_all(first);
        (first, second.join())
    });
    let mut decoded = first?;
    decoded.extend(second.map_err(|_| ProjectionError::apply("decoding thread panicked"))??);
    Ok(decoded)
}

fn decode_all(events: &[Arc<RecordedEvent>]) -> Result<Vec<Decoded>, ProjectionError> {
    events
        .iter()
        .filter(|e| e.stream_id.category() == "channel")
        .map(|event| {
            Ok(Decoded {
                position: event.position,
                event: decode(event)?,
            })
        })
        .collect()
}

#[async_trait]
impl Projector for PgChannels {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn version(&self) -> u32 {
        Self::VERSION
    }

    fn filter(&self) -> EventFilter {
        EventFilter::categories(["channel"]).with_event_types(event_types(ChannelEvent::catalog(), &[]))
    }

    async fn load_checkpoint(&self) -> Result<Position, ProjectionError> {
        let id = self.id();
        checkpoints::load_family(self.store.pool(), &id, &self.layout.checkpoints(&id)).await
    }

    async fn apply(
        &self,
        events: &[Arc<RecordedEvent>],
        checkpoint: Position,
    ) -> Result<(), ProjectionError> {
        // A short batch (a live projector's) in one transaction with every
        // checkpoint row; a long one in partitions side by side, each with
        // its own row.
        if self.layout.count() == 1 || events.len() < LONG_BATCH {
            self.apply_part(events, checkpoint, Scope::Whole, 2).await?;
        } else {
            self.apply_partitioned(events, checkpoint).await?;
        }
        self.settle_layout().await
    }

    async fn reset(&self) -> Result<(), ProjectionError> {
        let id = self.id();
        let mut tx = self.store.begin(&id).await?;
        sqlx::query!("TRUNCATE channels, channel_members, messages")
            .execute(&mut *tx)
            .await
            .map_err(|error| projection_error("reset channels", error))?;
        checkpoints::delete_family(&mut *tx, &id, &[]).await?;
        PgStore::commit(tx).await?;
        self.store.forget_committed(&id);
        Ok(())
    }
}

#[async_trait]
impl ChannelQueries for PgChannels {
    async fn get_channel(&self, reader: &UserId, id: &ChannelId) -> Result<ChannelView, QueryError> {
        queries::get_channel(self.store.pool(), reader, id).await
    }

    async fn list_channels(
        &self,
        reader: &UserId,
        page: PageRequest,
    ) -> Result<Page<ChannelView>, QueryError> {
        queries::list_channels(self.store.pool(), reader, &page).await
    }

    async fn list_messages(
        &self,
        reader: &UserId,
        channel: &ChannelId,
        filter: MessageFilter,
        page: PageRequest,
    ) -> Result<Page<MessageView>, QueryError> {
        queries::list_messages(self.store.pool(), reader, channel, &filter, &page).await
    }

    async fn get_message(
        &self,
        reader: &UserId,
        channel: &ChannelId,
        message: &MessageId,
    ) -> Result<MessageView, QueryError> {
        queries::get_message(self.store.pool(), reader, channel, message).await
    }

    async fn is_participant(&self, reader: &UserId, channel: &ChannelId) -> Result<bool, QueryError> {
        queries::is_participant(self.store.pool(), reader, channel).await
    }
}

#[async_trait]
impl UnreadQueries for PgChannels {
    async fn unread_counts(&self, reader: &UserId) -> Result<Vec<UnreadCount>, QueryError> {
        queries::unread_counts(self.store.pool(), reader).await
    }
}
