//! What happened to a document: one payload struct per stored event type,
//! registered with [`domain_events!`](crate::domain_events).

use serde::{Deserialize, Serialize};

use crate::envelope::{Actor, Timestamp};
use crate::values::{ContentType, DocumentId, Name, ProjectId, Sha256, UserId};

use super::state::ShareRole;

/// Every event of a `document-<id>` stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocumentEvent {
    UploadRequested(UploadRequested),
    UploadCompleted(UploadCompleted),
    VersionRequested(VersionRequested),
    VersionCompleted(VersionCompleted),
    Renamed(Renamed),
    Moved(Moved),
    Shared(Shared),
    Unshared(Unshared),
    Deleted(Deleted),
    Restored(Restored),
    DeletedWithProject(DeletedWithProject),
    TextExtracted(TextExtracted),
}

crate::domain_events!(DocumentEvent {
    UploadRequested(UploadRequested) => "document.upload_requested" v1,
    UploadCompleted(UploadCompleted) => "document.upload_completed" v1,
    VersionRequested(VersionRequested) => "document.version_requested" v1,
    VersionCompleted(VersionCompleted) => "document.version_completed" v1,
    Renamed(Renamed) => "document.renamed" v1,
    Moved(Moved) => "document.moved" v1,
    Shared(Shared) => "document.shared" v1,
    Unshared(Unshared) => "document.unshared" v1,
    Deleted(Deleted) => "document.deleted" v1,
    Restored(Restored) => "document.restored" v1,
    DeletedWithProject(DeletedWithProject) => "document.deleted_with_project" v1,
    TextExtracted(TextExtracted) => "document.text_extracted" v1,
});

/// The document exists, owned by `owner`; its first content (version 1) is
/// on its way to the blob store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadRequested {
    pub document_id: DocumentId,
    pub owner: UserId,
    pub name: Name,
    pub content_type: ContentType,
    /// Declared size in bytes.
    pub size: u64,
    /// Declared digest.
    pub sha256: Sha256,
    pub project: Option<ProjectId>,
    pub at: Timestamp,
}

/// The first content is stored and matches what was declared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadCompleted {
    pub document_id: DocumentId,
    /// Always 1; present so that version read models need no special case.
    pub version: u32,
    pub size: u64,
    pub sha256: Sha256,
    pub by: UserId,
    pub at: Timestamp,
}

/// New content is on its way; it replaces any pending version request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionRequested {
    pub document_id: DocumentId,
    /// The number the version gets once completed.
    pub version: u32,
    pub content_type: ContentType,
    /// Declared size in bytes.
    pub size: u64,
    /// Declared digest.
    pub sha256: Sha256,
    pub by: UserId,
    pub at: Timestamp,
}

/// The new content is stored and is now the current version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionCompleted {
    pub document_id: DocumentId,
    pub version: u32,
    pub size: u64,
    pub sha256: Sha256,
    pub by: UserId,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Renamed {
    pub document_id: DocumentId,
    pub name: Name,
    pub by: UserId,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Moved {
    pub document_id: DocumentId,
    /// Where it was, so project read models can drop it without a lookup.
    pub from: Option<ProjectId>,
    pub to: Option<ProjectId>,
    pub by: UserId,
    pub at: Timestamp,
}

/// `user` now has `role` (a new share or a changed role).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shared {
    pub document_id: DocumentId,
    pub user: UserId,
    pub role: ShareRole,
    pub by: UserId,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unshared {
    pub document_id: DocumentId,
    pub user: UserId,
    pub by: UserId,
    pub at: Timestamp,
}

/// Soft-deleted by its owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deleted {
    pub document_id: DocumentId,
    pub by: UserId,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Restored {
    pub document_id: DocumentId,
    pub by: UserId,
    pub at: Timestamp,
    /// Set when the document had been deleted with its project: projects are
    /// never restored, so the document comes back in no project.
    pub detached_from_project: Option<ProjectId>,
}

/// Soft-deleted because its project was deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletedWithProject {
    pub document_id: DocumentId,
    pub project_id: ProjectId,
    /// The service (process manager) that issued it.
    pub by: Actor,
    pub at: Timestamp,
}

/// The plain text of one completed version, extracted for search. A later
/// event for the same version replaces the text; readers index the text of
/// the highest version they have seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextExtracted {
    pub document_id: DocumentId,
    /// The version the text was extracted from.
    pub version: u32,
    /// At most 1 MiB of UTF-8, cut at a character boundary.
    pub text: String,
    /// Whether the extracted text was longer and `text` holds its start.
    pub truncated: bool,
    /// The service (process manager) that extracted it.
    pub by: Actor,
    pub at: Timestamp,
}
