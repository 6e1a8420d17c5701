//! The [`SearchIndex`] port implemented by [`TantivySearchIndex`]: every
//! call runs on the blocking pool; writes go through the writer's lock.

use async_trait::async_trait;
use quire_domain::{ChannelId, Position, UserId};
use quire_projections::query::{Page, PageRequest, QueryError};
use quire_projections::search::{
    EntryKey, SearchEntry, SearchFilter, SearchHit, SearchIndex, SearchIndexError, SearchWrite,
};

use crate::index::TantivySearchIndex;
use crate::record::Record;

#[async_trait]
impl SearchIndex for TantivySearchIndex {
    async fn get(&self, key: &EntryKey) -> Result<Option<SearchEntry>, SearchIndexError> {
        let key = key.storage_key();
        self.blocking(move |inner| {
            let state = inner.writer.lock();
            Ok(inner.lookup(&state, &key)?.and_then(Record::into_entry))
        })
        .await
    }

    async fn upsert(&self, entry: SearchEntry) -> Result<bool, SearchIndexError> {
        self.blocking(move |inner| inner.write(&mut inner.writer.lock(), Record::Entry { entry }))
            .await
    }

    async fn delete(&self, key: &EntryKey, position: Position) -> Result<bool, SearchIndexError> {
        let record = Record::Tombstone {
            key: key.clone(),
            position,
        };
        self.blocking(move |inner| inner.write(&mut inner.writer.lock(), record))
            .await
    }

    async fn set_member(
        &self,
        channel: &ChannelId,
        user: &UserId,
        member: bool,
        position: Position,
    ) -> Result<bool, SearchIndexError> {
        let record = Record::Member {
            channel: channel.clone(),
            user: user.clone(),
            member,
            position,
        };
        self.blocking(move |inner| inner.write(&mut inner.writer.lock(), record))
            .await
    }

    /// All the writes in one trip to the blocking pool, under one lock.
    async fn write_all(&self, writes: Vec<SearchWrite>) -> Result<usize, SearchIndexError> {
        self.blocking(move |inner| {
            let mut state = inner.writer.lock();
            let mut written = 0;
            for write in writes {
                written += usize::from(inner.write(&mut state, Record::from(write))?);
            }
            Ok(written)
        })
        .await
    }

    async fn commit(&self, checkpoint: Position) -> Result<(), SearchIndexError> {
        self.blocking(move |inner| {
            let mut state = inner.writer.lock();
            let checkpoint = state.checkpoint.max(checkpoint);
            inner.commit(&mut state, checkpoint)
        })
        .await
    }

    async fn rollback(&self) -> Result<(), SearchIndexError> {
        self.blocking(|inner| inner.rollback(&mut inner.writer.lock()))
            .await
    }

    async fn checkpoint(&self) -> Result<Position, SearchIndexError> {
        Ok(self.inner.writer.lock().checkpoint)
    }

    async fn reset(&self) -> Result<(), SearchIndexError> {
        self.blocking(|inner| inner.reset(&mut inner.writer.lock())).await
    }

    async fn search(
        &self,
        reader: &UserId,
        query: &str,
        filter: &SearchFilter,
        page: &PageRequest,
    ) -> Result<Page<SearchHit>, QueryError> {
        let (reader, query, filter, page) = (reader.clone(), query.to_owned(), filter.clone(), page.clone());
        let inner = std::sync::Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || inner.search(&reader, &query, &filter, &page))
            .await
            .map_err(|e| QueryError::Unavailable(format!("search task failed: {e}")))?
    }
}
