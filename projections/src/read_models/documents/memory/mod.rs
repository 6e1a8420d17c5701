//! [`InMemoryDocuments`]: the embedded backend of [`DocumentQueries`], and
//! the projector that builds it from `document.*` and `project.*` events.
//!
//! - `state` — rows and list indexes.
//! - `apply` — events to rows, guarded by each row's last applied position.
//! - `queries` — visibility checks and paged range scans.

mod apply;
mod queries;
mod state;

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use parking_lot::RwLock;
use quire_domain::document::{Access, DocumentEvent};
use quire_domain::project::ProjectEvent;
use quire_domain::{DocumentId, DomainEvent, Position, ProjectId, RecordedEvent, UserId};
use quire_event_log::EventFilter;

use self::apply::Decoded;
use self::state::DocumentsState;
use super::port::{DocumentFilter, DocumentQueries};
use super::views::{DocumentView, ProjectView, VersionView};
use crate::error::ProjectionError;
use crate::projector::Projector;
use crate::query::{Page, PageRequest, QueryError};
use crate::read_models::event_types;

/// Documents, versions, shares and projects in memory, rebuilt by replaying
/// the log at start. One value is both the projector (give it to a
/// [`ProjectorRunner`](crate::ProjectorRunner)) and the query port: share it
/// through an `Arc`.
#[derive(Debug, Default)]
pub struct InMemoryDocuments {
    /// Rows, indexes and the checkpoint; the projector takes the write lock
    /// once per batch, queries take the read lock and never await under it.
    state: RwLock<DocumentsState>,
}

impl InMemoryDocuments {
    /// The projector's name, in checkpoints, dead letters and metrics.
    pub const NAME: &'static str = "documents.memory";
    /// The read model's shape version.
    pub const VERSION: u32 = 1;
    /// Document event types the read model has no use for.
    const IGNORED: &'static [&'static str] = &["document.text_extracted"];

    pub fn new() -> InMemoryDocuments {
        InMemoryDocuments::default()
    }

    /// A new, empty read model behind an `Arc`, to hand out as both
    /// `Arc<dyn Projector>` and `Arc<dyn DocumentQueries>`.
    pub fn shared() -> Arc<InMemoryDocuments> {
        Arc::new(InMemoryDocuments::new())
    }
}

#[async_trait]
impl Projector for InMemoryDocuments {
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
        *self.state.write() = DocumentsState::default();
        Ok(())
    }
}

#[async_trait]
impl DocumentQueries for InMemoryDocuments {
    async fn get_document(&self, reader: &UserId, id: &DocumentId) -> Result<DocumentView, QueryError> {
        self.state.read().get_document(reader, id)
    }

    async fn list_documents(
        &self,
        reader: &UserId,
        filter: DocumentFilter,
        page: PageRequest,
    ) -> Result<Page<DocumentView>, QueryError> {
        self.state.read().list_documents(reader, &filter, &page)
    }

    async fn list_versions(
        &self,
        reader: &UserId,
        id: &DocumentId,
        page: PageRequest,
    ) -> Result<Page<VersionView>, QueryError> {
        self.state.read().list_versions(reader, id, &page)
    }

    async fn get_project(&self, reader: &UserId, id: &ProjectId) -> Result<ProjectView, QueryError> {
        self.state.read().get_project(reader, id)
    }

    async fn list_projects(
        &self,
        reader: &UserId,
        parent: Option<&ProjectId>,
        page: PageRequest,
    ) -> Result<Page<ProjectView>, QueryError> {
        self.state.read().list_projects(reader, parent, &page)
    }

    async fn project_ancestors(&self, project: &ProjectId) -> Result<Vec<ProjectId>, QueryError> {
        self.state.read().project_ancestors(project)
    }

    async fn readable_documents(
        &self,
        reader: &UserId,
        ids: &[DocumentId],
    ) -> Result<BTreeSet<DocumentId>, QueryError> {
        Ok(self.state.read().readable_documents(reader, ids))
    }

    async fn access_of(&self, reader: &UserId, document: &DocumentId) -> Result<Option<Access>, QueryError> {
        Ok(self.state.read().access_of(reader, document))
    }
}
