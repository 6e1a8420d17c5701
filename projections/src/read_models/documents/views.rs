//! What the documents read model answers: documents, their versions and
//! shares, and projects, as a given reader sees them.

use quire_domain::document::{Access, ShareRole};
use quire_domain::{ContentType, DocumentId, Name, ProjectId, Sha256, Timestamp, UserId};

/// Whether a document's first content has reached the blob store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UploadState {
    /// Requested, not completed: there is no content to download yet.
    Pending,
    /// At least one version is stored.
    Ready,
}

/// A document as one reader sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentView {
    pub id: DocumentId,
    pub name: Name,
    /// Of the current version (the declared one while the first upload is
    /// pending).
    pub content_type: ContentType,
    /// Size in bytes of the current version (declared while pending).
    pub size: u64,
    /// Digest of the current version (declared while pending).
    pub sha256: Sha256,
    pub owner: UserId,
    pub project: Option<ProjectId>,
    /// Number of the current version; 0 while the first upload is pending.
    pub version: u32,
    pub upload: UploadState,
    /// Soft-deleted by its owner or with its project; only the owner sees
    /// deleted documents.
    pub deleted: bool,
    /// When it was deleted (the project's deletion time when it goes with a
    /// deleted project).
    pub deleted_at: Option<Timestamp>,
    /// When the upload was requested.
    pub created_at: Timestamp,
    /// When the document last changed (any change: content, name, project,
    /// shares, deletion).
    pub updated_at: Timestamp,
    /// What the reader may do with it.
    pub access: Access,
    /// Who the owner shared it with, sorted by user; empty unless the reader
    /// is the owner (sharees do not see each other).
    pub shares: Vec<ShareView>,
}

/// One share of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareView {
    pub user: UserId,
    pub role: ShareRole,
}

/// One completed version of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionView {
    /// 1 for the first upload, then one more per new version.
    pub number: u32,
    pub content_type: ContentType,
    pub size: u64,
    pub sha256: Sha256,
    /// Who completed it.
    pub uploaded_by: UserId,
    /// When it was completed.
    pub at: Timestamp,
}

/// A project (folder) as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectView {
    pub id: ProjectId,
    pub name: Name,
    pub owner: UserId,
    pub parent: Option<ProjectId>,
    /// Deleted projects are never restored; only `get_project` shows them.
    pub deleted: bool,
    pub deleted_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}
