//! The [`DocumentQueries`] port: every question the rest of Quire asks of
//! documents, projects and shares, answered for a given reader.

use std::collections::BTreeSet;

use async_trait::async_trait;
use quire_domain::document::Access;
use quire_domain::{DocumentId, ProjectId, UserId};

use super::views::{DocumentView, ProjectView, VersionView};
use crate::query::{Page, PageRequest, QueryError};

/// Which documents [`DocumentQueries::list_documents`] lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocumentFilter {
    /// Only documents in this project (`None`: in any project or none).
    pub project: Option<ProjectId>,
    /// Also the reader's own deleted documents (a trash view). Documents
    /// shared with the reader are never listed once deleted.
    pub include_deleted: bool,
    /// Only documents the reader owns, not those shared with them.
    pub owned_only: bool,
}

/// Queries over documents, versions, shares and projects.
///
/// # Visibility
///
/// - A reader sees a document they own or that is shared with them (view
///   or edit). A deleted document (deleted itself, or in a deleted project)
///   is seen by its owner only. Anything else is [`QueryError::NotFound`],
///   exactly as for a document that does not exist.
/// - A reader sees the projects they own (deleted ones through
///   [`get_project`](DocumentQueries::get_project) only).
///
/// # Order and paging
///
/// Documents are listed **newest first**: by creation time descending, then
/// by id descending. The order never changes for a document (renames and
/// moves keep its place), so page tokens stay valid while documents change.
/// Versions are listed newest first; projects by name, then id (bytewise).
/// A malformed page token or page size is [`QueryError::InvalidArgument`];
/// the last page has no `next_page_token`.
#[async_trait]
pub trait DocumentQueries: Send + Sync + 'static {
    /// One document the reader may see.
    async fn get_document(&self, reader: &UserId, id: &DocumentId) -> Result<DocumentView, QueryError>;

    /// The documents the reader owns or has a share on, newest first.
    async fn list_documents(
        &self,
        reader: &UserId,
        filter: DocumentFilter,
        page: PageRequest,
    ) -> Result<Page<DocumentView>, QueryError>;

    /// The completed versions of a document the reader may see, newest
    /// first.
    async fn list_versions(
        &self,
        reader: &UserId,
        id: &DocumentId,
        page: PageRequest,
    ) -> Result<Page<VersionView>, QueryError>;

    /// One project the reader owns, deleted or not.
    async fn get_project(&self, reader: &UserId, id: &ProjectId) -> Result<ProjectView, QueryError>;

    /// The reader's live projects directly under `parent` (`None`: the top
    /// level), by name. A parent the reader does not own is `NotFound`.
    async fn list_projects(
        &self,
        reader: &UserId,
        parent: Option<&ProjectId>,
        page: PageRequest,
    ) -> Result<Page<ProjectView>, QueryError>;

    /// The project's ancestors, nearest first (its parent, that one's
    /// parent, … up to the top level). For the command side, which refuses
    /// moves that would make a cycle; it is not filtered by reader.
    async fn project_ancestors(&self, project: &ProjectId) -> Result<Vec<ProjectId>, QueryError>;

    /// The documents among `ids` that the reader may read and that are not
    /// deleted (for the attachment check of `SendMessage`). Unknown ids are
    /// left out, like unreadable ones.
    async fn readable_documents(
        &self,
        reader: &UserId,
        ids: &[DocumentId],
    ) -> Result<BTreeSet<DocumentId>, QueryError>;

    /// What the reader may do with a document: `None` when they may not see
    /// it (no access, no such document, or deleted and not theirs).
    async fn access_of(&self, reader: &UserId, document: &DocumentId) -> Result<Option<Access>, QueryError>;
}
