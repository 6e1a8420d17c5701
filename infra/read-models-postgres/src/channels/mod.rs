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
//! - `queries` — the port's statements.

mod load;
mod model;
mod queries;
mod write;

use std::sync::Arc;

use async_trait::async_trait;
use quire_domain::channel::ChannelEvent;
use quire_domain::{ChannelId, DomainEvent, MessageId, Position, RecordedEvent, UserId};
use quire_event_log::EventFilter;
use quire_projections::query::{Page, PageRequest, QueryError};
use quire_projections::read_models::channels::{
    ChannelQueries, ChannelView, MessageFilter, MessageView, UnreadCount,
};
use quire_projections::{ProjectionError, Projector};

use self::model::{Decoded, Wanted};
use self::write::Written;
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
}

impl PgChannels {
    /// The projector's name, in checkpoints, dead letters and metrics.
    pub const NAME: &'static str = "channels.postgres";
    /// The read model's shape version.
    pub const VERSION: u32 = 1;

    /// The read model in an open store's schema.
    pub fn new(store: PgStore) -> PgChannels {
        PgChannels { store }
    }

    /// Opens (creating and migrating if needed) the configured schema.
    pub async fn open(config: &PgConfig) -> Result<Arc<PgChannels>, PgError> {
        Ok(Arc::new(PgChannels::new(PgStore::open(config).await?)))
    }

    /// The store the read model lives in.
    pub fn store(&self) -> &PgStore {
        &self.store
    }

    /// One attempt; a `DuplicateMessage` outcome rolled everything back.
    async fn try_apply(
        &self,
        events: Vec<Decoded>,
        checkpoint: Position,
        load_sent: bool,
    ) -> Result<Written, ProjectionError> {
        let id = self.id();
        let mut tx = self.store.begin(&id).await?;
        let mut working = load::load(&mut tx, &Wanted::of(&events, load_sent)).await?;
        if write::apply_and_copy(&mut tx, &mut working, events).await? == Written::DuplicateMessage {
            // Dropping the transaction rolls it back.
            return Ok(Written::DuplicateMessage);
        }
        write::write(&mut tx, &working).await?;
        PgStore::save_checkpoint(&mut tx, &id, checkpoint).await?;
        PgStore::commit(tx).await?;
        Ok(Written::Done)
    }
}

/// Batches at least this long are decoded on two threads, off the async
/// workers.
const PARALLEL_DECODE: usize = 2048;

/// The batch's `channel.*` events, decoded. A long batch (a replay's) takes
/// tens of milliseconds of CPU: it is decoded on the blocking pool, so that
/// the process's other tasks (lease heartbeats, gRPC calls in a process of
/// several roles) keep their workers, and half of it on another thread,
/// since the server waits for the batch meanwhile and the client may use
/// both cores.
async fn decoded(events: &[Arc<RecordedEvent>]) -> Result<Vec<Decoded>, ProjectionError> {
    if events.len() < PARALLEL_DECODE {
        return decode_all(events);
    }
    let events = events.to_vec();
    tokio::task::spawn_blocking(move || decode_on_two_threads(&events))
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
        self.store.load_checkpoint(&self.id()).await
    }

    async fn apply(
        &self,
        events: &[Arc<RecordedEvent>],
        checkpoint: Position,
    ) -> Result<(), ProjectionError> {
        // Applied with the checkpoint in one transaction; again, with sent
        // ids loaded, if a sent id turns out to be stored already.
        if self.try_apply(decoded(events).await?, checkpoint, false).await? == Written::Done {
            return Ok(());
        }
        match self.try_apply(decoded(events).await?, checkpoint, true).await? {
            Written::Done => Ok(()),
            Written::DuplicateMessage => Err(ProjectionError::apply("a sent message id is stored twice")),
        }
    }

    async fn reset(&self) -> Result<(), ProjectionError> {
        let id = self.id();
        let mut tx = self.store.begin(&id).await?;
        sqlx::query!("TRUNCATE channels, channel_members, messages")
            .execute(&mut *tx)
            .await
            .map_err(|error| projection_error("reset channels", error))?;
        PgStore::delete_checkpoint(&mut tx, &id).await?;
        PgStore::commit(tx).await
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
