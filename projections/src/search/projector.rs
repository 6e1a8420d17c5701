//! The search projector: folds `document.*` and `channel.*` events into a
//! [`SearchIndex`], committing each batch together with its checkpoint.
//!
//! It keeps no state of its own: what it needs to fold the next event (a
//! document's owner, name, text and shares; who is in a channel) is in the
//! index, read back with [`SearchIndex::get`], so a restart resumes from the
//! index's checkpoint with nothing to rebuild in memory.
//!
//! - a document's readers are `user:<owner>` plus `user:<u>` for every
//!   user it is shared with (view or edit);
//! - a message's only reader is `channel:<channel id>`, resolved at query
//!   time against the channel's participants, which the projector records
//!   with [`SearchIndex::set_member`]: a new participant finds the
//!   channel's history, a removed one stops finding it;
//! - deleting a document hides its entry, restoring shows it again;
//!   deleting a message removes its entry (leaving a tombstone).
//! - a document's text is that of the newest version extracted so far:
//!   extraction of an older version finishing late is ignored.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use quire_domain::{DocumentId, Position, RecordedEvent, Timestamp};
use quire_event_log::EventFilter;
use tracing::{debug, warn};

use super::changes::{self, Change};
use super::model::{Container, EntryKey, Principal, SearchEntry};
use super::port::{SearchIndex, SearchIndexError, SearchWrite};
use crate::config::RunnerConfig;
use crate::error::ProjectionError;
use crate::projector::Projector;

/// Keeps a [`SearchIndex`] up to date with documents and messages.
#[derive(Debug, Clone)]
pub struct SearchProjector {
    index: Arc<dyn SearchIndex>,
}

impl SearchProjector {
    /// The projector's name in checkpoints, dead letters and metrics.
    pub const NAME: &'static str = "search";
    /// The version of the index's shape.
    pub const VERSION: u32 = 1;

    pub fn new(index: Arc<dyn SearchIndex>) -> SearchProjector {
        SearchProjector { index }
    }

    /// How its runner should batch: every `apply` ends in an index commit
    /// (a segment flush, an fsync and a reader reload, whatever the batch
    /// size), so applies are paced to ten a second and batches are large.
    /// A message is searchable within about `min_apply_interval` of its
    /// append under load, at once after a quiet spell.
    pub fn runner_config() -> RunnerConfig {
        RunnerConfig {
            max_batch_size: 4096,
            min_apply_interval: Duration::from_millis(100),
            ..RunnerConfig::default()
        }
    }

    /// The index it writes (and queries read).
    pub fn index(&self) -> &Arc<dyn SearchIndex> {
        &self.index
    }

    /// Folds the events into writes, sent to the index together; only an
    /// update (which reads the entry first) sends what has gathered before
    /// it, so that it reads the latest.
    async fn apply_events(&self, events: &[Arc<RecordedEvent>]) -> Result<(), ProjectionError> {
        let mut writes = Writes::default();
        for event in events {
            let change = changes::decode(event).map_err(|e| ProjectionError::apply(e.to_string()))?;
            self.apply_change(change, event.position, &mut writes).await?;
        }
        writes.flush(&*self.index).await?;
        Ok(())
    }

    async fn apply_change(
        &self,
        change: Change,
        position: Position,
        writes: &mut Writes,
    ) -> Result<(), SearchIndexError> {
        match change {
            Change::CreateDocument {
                id,
                owner,
                name,
                project,
                at,
            } => {
                let entry = SearchEntry {
                    key: EntryKey::Document(id),
                    container: project.map(Container::Project),
                    title: name.as_str().to_owned(),
                    body: String::new(),
                    text_version: 0,
                    readers: BTreeSet::from([Principal::User(owner.clone())]),
                    author: owner,
                    hidden: false,
                    created_at: at,
                    updated_at: at,
                    position,
                };
                writes.push(SearchWrite::Upsert(entry));
            }
            Change::Rename { id, name, at } => {
                self.update(writes, id, position, at, |e| e.title = name.as_str().to_owned())
                    .await?;
            }
            Change::Move { id, to, at } => {
                self.update(writes, id, position, at, |e| {
                    e.container = to.map(Container::Project)
                })
                .await?;
            }
            Change::Share { id, user, at } => {
                self.update(writes, id, position, at, |e| {
                    e.readers.insert(Principal::User(user));
                })
                .await?;
            }
            Change::Unshare { id, user, at } => {
                self.update(writes, id, position, at, |e| {
                    if e.author != user {
                        e.readers.remove(&Principal::User(user));
                    }
                })
                .await?;
            }
            Change::Hide { id, at } => self.update(writes, id, position, at, |e| e.hidden = true).await?,
            Change::Restore { id, detached, at } => {
                self.update(writes, id, position, at, |e| {
                    e.hidden = false;
                    if detached {
                        e.container = None;
                    }
                })
                .await?;
            }
            Change::SetText {
                id,
                version,
                text,
                at,
            } => {
                self.update(writes, id, position, at, |e| {
                    if version >= e.text_version {
                        e.body = text;
                        e.text_version = version;
                    }
                })
                .await?;
            }
            Change::Join { channel, users } => {
                for user in users {
                    writes.push(SearchWrite::Member {
                        channel: channel.clone(),
                        user,
                        member: true,
                        position,
                    });
                }
            }
            Change::Leave { channel, user } => {
                writes.push(SearchWrite::Member {
                    channel,
                    user,
                    member: false,
                    position,
                });
            }
            Change::SendMessage {
                channel,
                message,
                author,
                body,
                at,
            } => {
                let entry = SearchEntry {
                    key: EntryKey::Message {
                        channel: channel.clone(),
                        message,
                    },
                    readers: BTreeSet::from([Principal::Channel(channel.clone())]),
                    container: Some(Container::Channel(channel)),
                    title: String::new(),
                    body,
                    text_version: 0,
                    author,
                    hidden: false,
                    created_at: at,
                    updated_at: at,
                    position,
                };
                writes.push(SearchWrite::Upsert(entry));
            }
            Change::EditMessage {
                channel,
                message,
                body,
                at,
            } => {
                let key = EntryKey::Message { channel, message };
                self.update_entry(writes, key, position, at, |e| e.body = body)
                    .await?;
            }
            Change::DeleteMessage { channel, message } => {
                let key = EntryKey::Message { channel, message };
                writes.push(SearchWrite::Delete { key, position });
            }
            Change::Ignore => {}
        }
        Ok(())
    }

    async fn update(
        &self,
        writes: &mut Writes,
        id: DocumentId,
        position: Position,
        at: Timestamp,
        change: impl FnOnce(&mut SearchEntry),
    ) -> Result<(), SearchIndexError> {
        self.update_entry(writes, EntryKey::Document(id), position, at, change)
            .await
    }

    /// Reads the entry, changes it and writes it back with the event's
    /// position, unless the entry already holds this event (or a later one).
    async fn update_entry(
        &self,
        writes: &mut Writes,
        key: EntryKey,
        position: Position,
        at: Timestamp,
        change: impl FnOnce(&mut SearchEntry),
    ) -> Result<(), SearchIndexError> {
        writes.flush(&*self.index).await?;
        let Some(mut entry) = self.index.get(&key).await? else {
            // Its creating event was dead-lettered, or it was deleted:
            // nothing to update, and failing would not help.
            warn!(key = %key.storage_key(), position = %position, "search entry to update is missing, skipping");
            return Ok(());
        };
        if entry.position >= position {
            debug!(key = %key.storage_key(), position = %position, stored = %entry.position, "event already in the search entry");
            return Ok(());
        }
        change(&mut entry);
        entry.position = position;
        entry.updated_at = entry.updated_at.max(at);
        writes.push(SearchWrite::Upsert(entry));
        Ok(())
    }
}

/// The writes gathered from a batch's events, not yet sent to the index.
#[derive(Debug, Default)]
struct Writes(Vec<SearchWrite>);

impl Writes {
    fn push(&mut self, write: SearchWrite) {
        self.0.push(write);
    }

    /// Sends what has gathered in one `write_all`.
    async fn flush(&mut self, index: &dyn SearchIndex) -> Result<(), SearchIndexError> {
        if self.0.is_empty() {
            return Ok(());
        }
        index.write_all(std::mem::take(&mut self.0)).await?;
        Ok(())
    }
}

#[async_trait]
impl Projector for SearchProjector {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn version(&self) -> u32 {
        Self::VERSION
    }

    fn filter(&self) -> EventFilter {
        EventFilter::categories(["document", "channel"])
            .with_event_types(changes::EVENT_TYPES.iter().copied())
    }

    async fn load_checkpoint(&self) -> Result<Position, ProjectionError> {
        Ok(self.index.checkpoint().await?)
    }

    /// Folds the events, then commits them with the checkpoint in one
    /// index commit. On any failure the uncommitted writes are rolled back,
    /// so a retried or isolated batch starts from the last commit.
    async fn apply(
        &self,
        events: &[Arc<RecordedEvent>],
        checkpoint: Position,
    ) -> Result<(), ProjectionError> {
        let result = match self.apply_events(events).await {
            Ok(()) => self.index.commit(checkpoint).await.map_err(ProjectionError::from),
            Err(error) => Err(error),
        };
        if let Err(error) = &result {
            if let Err(rollback) = self.index.rollback().await {
                warn!(projector = Self::NAME, error = %rollback, "search index rollback failed");
            }
            debug!(projector = Self::NAME, error = %error, events = events.len(), "search batch failed, rolled back");
        }
        result
    }

    async fn reset(&self) -> Result<(), ProjectionError> {
        Ok(self.index.reset().await?)
    }
}
