//! The [`SearchIndex`] port implemented by [`PgSearchIndex`]: writes go to
//! the overlay (`store`), queries to the database (`search`).

use async_trait::async_trait;
use quire_domain::{ChannelId, Position, UserId};
use quire_projections::query::{Page, PageRequest, QueryError};
use quire_projections::search::{
    EntryKey, SearchEntry, SearchFilter, SearchHit, SearchIndex, SearchIndexError, SearchWrite,
};

use crate::index::PgSearchIndex;

#[async_trait]
impl SearchIndex for PgSearchIndex {
    async fn get(&self, key: &EntryKey) -> Result<Option<SearchEntry>, SearchIndexError> {
        self.lookup(key).await
    }

    async fn upsert(&self, entry: SearchEntry) -> Result<bool, SearchIndexError> {
        Ok(self.write_batch(vec![SearchWrite::Upsert(entry)]).await? == 1)
    }

    async fn delete(&self, key: &EntryKey, position: Position) -> Result<bool, SearchIndexError> {
        let write = SearchWrite::Delete {
            key: key.clone(),
            position,
        };
        Ok(self.write_batch(vec![write]).await? == 1)
    }

    async fn set_member(
        &self,
        channel: &ChannelId,
        user: &UserId,
        member: bool,
        position: Position,
    ) -> Result<bool, SearchIndexError> {
        let write = SearchWrite::Member {
            channel: channel.clone(),
            user: user.clone(),
            member,
            position,
        };
        Ok(self.write_batch(vec![write]).await? == 1)
    }

    /// The lot in at most two statements (the stored guards of the keys
    /// the overlay lacks), then in memory.
    async fn write_all(&self, writes: Vec<SearchWrite>) -> Result<usize, SearchIndexError> {
        self.write_batch(writes).await
    }

    async fn commit(&self, checkpoint: Position) -> Result<(), SearchIndexError> {
        self.commit_overlay(checkpoint).await
    }

    async fn rollback(&self) -> Result<(), SearchIndexError> {
        self.drop_overlay().await;
        Ok(())
    }

    async fn checkpoint(&self) -> Result<Position, SearchIndexError> {
        self.stored_checkpoint().await
    }

    async fn reset(&self) -> Result<(), SearchIndexError> {
        self.reset_all().await
    }

    async fn search(
        &self,
        reader: &UserId,
        query: &str,
        filter: &SearchFilter,
        page: &PageRequest,
    ) -> Result<Page<SearchHit>, QueryError> {
        self.query(reader, query, filter, page).await
    }
}
