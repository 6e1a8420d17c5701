//! [`InMemoryChannels`]: the embedded backend of [`ChannelQueries`], and the
//! projector that builds it from `channel.*` events.
//!
//! - `state` — channels, members, messages; the memory layout.
//! - `message_key` — compact message ids.
//! - `apply` — events to rows, guarded by each channel's last applied
//!   position, keeping unread counts current.
//! - `queries` — participant checks and cursor paging.

mod apply;
mod message_key;
mod queries;
mod state;

use std::sync::Arc;

use async_trait::async_trait;
use parking_lot::RwLock;
use quire_domain::channel::ChannelEvent;
use quire_domain::{ChannelId, DomainEvent, MessageId, Position, RecordedEvent, UserId};
use quire_event_log::EventFilter;

use self::apply::Decoded;
use self::state::ChannelsState;
use super::port::{ChannelQueries, MessageFilter};
use super::views::{ChannelView, MessageView, UnreadCount};
use crate::error::ProjectionError;
use crate::projector::Projector;
use crate::query::{Page, PageRequest, QueryError};
use crate::read_models::event_types;
use crate::read_models::unread::UnreadQueries;

/// Channels, participants, messages, read markers and unread counts in
/// memory, rebuilt by replaying the log at start. One value is both the
/// projector (give it to a [`ProjectorRunner`](crate::ProjectorRunner)) and
/// the query port: share it through an `Arc`.
#[derive(Debug, Default)]
pub struct InMemoryChannels {
    /// Rows and the checkpoint; the projector takes the write lock once per
    /// batch, queries take the read lock and never await under it.
    state: RwLock<ChannelsState>,
}

impl InMemoryChannels {
    /// The projector's name, in checkpoints, dead letters and metrics.
    pub const NAME: &'static str = "channels.memory";
    /// The read model's shape version.
    pub const VERSION: u32 = 1;

    pub fn new() -> InMemoryChannels {
        InMemoryChannels::default()
    }

    /// A new, empty read model behind an `Arc`, to hand out as both
    /// `Arc<dyn Projector>` and `Arc<dyn ChannelQueries>`.
    pub fn shared() -> Arc<InMemoryChannels> {
        Arc::new(InMemoryChannels::new())
    }
}

#[async_trait]
impl Projector for InMemoryChannels {
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
        Ok(self.state.read().checkpoint)
    }

    async fn apply(
        &self,
        events: &[Arc<RecordedEvent>],
        checkpoint: Position,
    ) -> Result<(), ProjectionError> {
        let decoded = events
            .iter()
            .map(|event| Decoded::from_event(event))
            .collect::<Result<Vec<_>, _>>()?;
        let mut state = self.state.write();
        for event in decoded {
            state.apply(event);
        }
        state.checkpoint = state.checkpoint.max(checkpoint);
        Ok(())
    }

    async fn reset(&self) -> Result<(), ProjectionError> {
        *self.state.write() = ChannelsState::default();
        Ok(())
    }
}

#[async_trait]
impl ChannelQueries for InMemoryChannels {
    async fn get_channel(&self, reader: &UserId, id: &ChannelId) -> Result<ChannelView, QueryError> {
        self.state.read().get_channel(reader, id)
    }

    async fn list_channels(
        &self,
        reader: &UserId,
        page: PageRequest,
    ) -> Result<Page<ChannelView>, QueryError> {
        self.state.read().list_channels(reader, &page)
    }

    async fn list_messages(
        &self,
        reader: &UserId,
        channel: &ChannelId,
        filter: MessageFilter,
        page: PageRequest,
    ) -> Result<Page<MessageView>, QueryError> {
        self.state.read().list_messages(reader, channel, &filter, &page)
    }

    async fn get_message(
        &self,
        reader: &UserId,
        channel: &ChannelId,
        message: &MessageId,
    ) -> Result<MessageView, QueryError> {
        self.state.read().get_message(reader, channel, message)
    }

    async fn is_participant(&self, reader: &UserId, channel: &ChannelId) -> Result<bool, QueryError> {
        Ok(self.state.read().is_participant(reader, channel))
    }
}

#[async_trait]
impl UnreadQueries for InMemoryChannels {
    async fn unread_counts(&self, reader: &UserId) -> Result<Vec<UnreadCount>, QueryError> {
        Ok(self.state.read().unread_counts(reader))
    }
}
