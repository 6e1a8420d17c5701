//! [`PgDocuments`]: the documents read model (documents, versions, shares,
//! projects) on PostgreSQL, both the projector over `document.*` and
//! `project.*` events and the
//! [`DocumentQueries`](quire_projections::read_models::documents::DocumentQueries)
//! port.
//!
//! - `model` — the batch's working set and how events change it.
//! - `load` — reads the rows a batch touches.
//! - `write` — writes them back, a few multi-row statements per batch.
//! - `queries` — the port's statements and visibility rules.

mod load;
mod model;
mod queries;
mod write;

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use quire_domain::document::{Access, DocumentEvent};
use quire_domain::project::ProjectEvent;
use quire_domain::{DocumentId, DomainEvent, Position, ProjectId, RecordedEvent, UserId};
use quire_event_log::EventFilter;
use quire_projections::query::{Page, PageRequest, QueryError};
use quire_projections::read_models::documents::{
    DocumentFilter, DocumentQueries, DocumentView, ProjectView, VersionView,
};
use quire_projections::{ProjectionError, Projector};

use self::model::{Decoded, Wanted};
use crate::config::PgConfig;
use crate::error::{PgError, projection_error};
use crate::store::PgStore;
use quire_projections::read_models::{decode, event_types};

/// The documents read model in one schema. One value is both the projector
/// (give it to a `ProjectorRunner`) and the query port: share it through an
/// `Arc`.
#[derive(Debug, Clone)]
pub struct PgDocuments {
    store: PgStore,
}

impl PgDocuments {
    /// The projector's name, in checkpoints, dead letters and metrics.
    pub const NAME: &'static str = "documents.postgres";
    /// The read model's shape version.
    pub const VERSION: u32 = 1;
    /// Document event types the read model has no use for.
    const IGNORED: &'static [&'static str] = &["document.text_extracted"];

    /// The read model in an open store's schema.
    pub fn new(store: PgStore) -> PgDocuments {
        PgDocuments { store }
    }

    /// Opens (creating and migrating if needed) the configured schema.
    pub async fn open(config: &PgConfig) -> Result<Arc<PgDocuments>, PgError> {
        Ok(Arc::new(PgDocuments::new(PgStore::open(config).await?)))
    }

    /// The store the read model lives in.
    pub fn store(&self) -> &PgStore {
        &self.store
    }

    /// Applies decoded events and the checkpoint in one transaction.
    async fn apply_decoded(&self, events: Vec<Decoded>, checkpoint: Position) -> Result<(), ProjectionError> {
        let id = self.id();
        let mut tx = self.store.begin(&id).await?;
        let rows = std::slice::from_ref(&id);
        self.store.check_not_rewound(&mut tx, rows).await?;
        let mut working = load::load(&mut tx, &Wanted::of(&events)).await?;
        for event in events {
            working.apply(event);
        }
        write::write(&mut tx, &working).await?;
        PgStore::save_checkpoint(&mut tx, &id, checkpoint).await?;
        PgStore::commit(tx).await?;
        self.store.committed(rows, checkpoint);
        Ok(())
    }
}

/// Decodes by the stream's category; events of other categories are left
/// out.
fn decode_event(event: &RecordedEvent) -> Result<Option<Decoded>, ProjectionError> {
    Ok(match event.stream_id.category() {
        "document" => Some(Decoded::Document(event.position, decode(event)?)),
        "project" => Some(Decoded::Project(event.position, decode(event)?)),
        _ => None,
    })
}

#[async_trait]
impl Projector for PgDocuments {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn version(&self) -> u32 {
        Self::VERSION
    }

    fn filter(&self) -> EventFilter {
        let mut types = event_types(DocumentEvent::catalog(), Self::IGNORED);
        types.extend(event_types(ProjectEvent::catalog(), &[]));
        EventFilter::categories(["document", "project"]).with_event_types(types)
    }

    async fn load_checkpoint(&self) -> Result<Position, ProjectionError> {
        self.store.load_checkpoint(&self.id()).await
    }

    async fn apply(
        &self,
        events: &[Arc<RecordedEvent>],
        checkpoint: Position,
    ) -> Result<(), ProjectionError> {
        let mut decoded = Vec::with_capacity(events.len());
        for event in events {
            decoded.extend(decode_event(event)?);
        }
        self.apply_decoded(decoded, checkpoint).await
    }

    async fn reset(&self) -> Result<(), ProjectionError> {
        let id = self.id();
        let mut tx = self.store.begin(&id).await?;
        sqlx::query!("TRUNCATE documents, document_versions, document_shares, projects")
            .execute(&mut *tx)
            .await
            .map_err(|error| projection_error("reset documents", error))?;
        PgStore::delete_checkpoint(&mut tx, &id).await?;
        PgStore::commit(tx).await?;
        self.store.forget_committed(&id);
        Ok(())
    }
}

#[async_trait]
impl DocumentQueries for PgDocuments {
    async fn get_document(&self, reader: &UserId, id: &DocumentId) -> Result<DocumentView, QueryError> {
        queries::get_document(self.store.pool(), reader, id).await
    }

    async fn list_documents(
        &self,
        reader: &UserId,
        filter: DocumentFilter,
        page: PageRequest,
    ) -> Result<Page<DocumentView>, QueryError> {
        queries::list_documents(self.store.pool(), reader, &filter, &page).await
    }

    async fn list_versions(
        &self,
        reader: &UserId,
        id: &DocumentId,
        page: PageRequest,
    ) -> Result<Page<VersionView>, QueryError> {
        queries::list_versions(self.store.pool(), reader, id, &page).await
    }

    async fn get_project(&self, reader: &UserId, id: &ProjectId) -> Result<ProjectView, QueryError> {
        queries::get_project(self.store.pool(), reader, id).await
    }

    async fn list_projects(
        &self,
        reader: &UserId,
        parent: Option<&ProjectId>,
        page: PageRequest,
    ) -> Result<Page<ProjectView>, QueryError> {
        queries::list_projects(self.store.pool(), reader, parent, &page).await
    }

    async fn project_ancestors(&self, project: &ProjectId) -> Result<Vec<ProjectId>, QueryError> {
        queries::project_ancestors(self.store.pool(), project).await
    }

    async fn readable_documents(
        &self,
        reader: &UserId,
        ids: &[DocumentId],
    ) -> Result<BTreeSet<DocumentId>, QueryError> {
        queries::readable_documents(self.store.pool(), reader, ids).await
    }

    async fn access_of(&self, reader: &UserId, document: &DocumentId) -> Result<Option<Access>, QueryError> {
        queries::access_of(self.store.pool(), reader, document).await
    }
}
