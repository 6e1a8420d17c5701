//! What callers may ask of a document. Every command names the document it is
//! for; the actor and time come from the [`Issued`](crate::values::Issued)
//! wrapper.

use crate::values::{ContentType, DocumentId, Name, ProjectId, Sha256, UserId};

use super::state::ShareRole;

/// Every command the document aggregate decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocumentCommand {
    RequestUpload(RequestUpload),
    CompleteUpload(CompleteUpload),
    RequestNewVersion(RequestNewVersion),
    CompleteVersion(CompleteVersion),
    Rename(Rename),
    Move(Move),
    Share(Share),
    Unshare(Unshare),
    Delete(Delete),
    Restore(Restore),
    DeleteWithProject(DeleteWithProject),
    RecordExtractedText(RecordExtractedText),
}

impl DocumentCommand {
    /// The document the command is for: the handler loads `document-<id>`.
    pub fn document_id(&self) -> &DocumentId {
        match self {
            DocumentCommand::RequestUpload(c) => &c.document_id,
            DocumentCommand::CompleteUpload(c) => &c.document_id,
            DocumentCommand::RequestNewVersion(c) => &c.document_id,
            DocumentCommand::CompleteVersion(c) => &c.document_id,
            DocumentCommand::Rename(c) => &c.document_id,
            DocumentCommand::Move(c) => &c.document_id,
            DocumentCommand::Share(c) => &c.document_id,
            DocumentCommand::Unshare(c) => &c.document_id,
            DocumentCommand::Delete(c) => &c.document_id,
            DocumentCommand::Restore(c) => &c.document_id,
            DocumentCommand::DeleteWithProject(c) => &c.document_id,
            DocumentCommand::RecordExtractedText(c) => &c.document_id,
        }
    }
}

/// Creates the document and announces its first content, which the client
/// then sends to the blob store. The actor becomes the owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestUpload {
    /// New id, chosen by the handler.
    pub document_id: DocumentId,
    pub name: Name,
    pub content_type: ContentType,
    /// Declared size in bytes; the completion must measure the same.
    pub size: u64,
    /// Declared digest; the completion must measure the same.
    pub sha256: Sha256,
    /// The folder to file it in; the handler checks it exists and the actor
    /// may write to it.
    pub project: Option<ProjectId>,
}

/// Records that the blob store holds the first content, as it measured it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompleteUpload {
    pub document_id: DocumentId,
    /// Size the blob store measured.
    pub size: u64,
    /// Digest the blob store measured.
    pub sha256: Sha256,
}

/// Announces new content for an existing document. A new request replaces a
/// pending one (an abandoned upload must not block the document).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestNewVersion {
    pub document_id: DocumentId,
    pub content_type: ContentType,
    /// Declared size in bytes.
    pub size: u64,
    /// Declared digest.
    pub sha256: Sha256,
}

/// Records that the blob store holds a new version's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompleteVersion {
    pub document_id: DocumentId,
    /// The version number the request announced; a completion of a replaced
    /// request is rejected.
    pub version: u32,
    /// Size the blob store measured.
    pub size: u64,
    /// Digest the blob store measured.
    pub sha256: Sha256,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rename {
    pub document_id: DocumentId,
    pub name: Name,
}

/// Files the document in a project, or in none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Move {
    pub document_id: DocumentId,
    /// The handler checks the target exists and the actor may write to it.
    pub to: Option<ProjectId>,
}

/// Gives a user a role, or changes the role they have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    pub document_id: DocumentId,
    pub user: UserId,
    pub role: ShareRole,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unshare {
    pub document_id: DocumentId,
    pub user: UserId,
}

/// Soft delete by the owner; the owner can restore it until it is purged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delete {
    pub document_id: DocumentId,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restore {
    pub document_id: DocumentId,
}

/// Soft delete because the document's project was deleted. Issued only by
/// the process manager that follows `project.deleted` (a service actor).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteWithProject {
    pub document_id: DocumentId,
    /// The deleted project; a document no longer in it is left alone.
    pub project_id: ProjectId,
}

/// Records the plain text extracted from one completed version, for search.
/// Issued only by the text-extraction process manager (a service actor).
///
/// Text longer than [`RecordExtractedText::MAX_TEXT_BYTES`] is cut at a
/// character boundary and the event says `truncated: true`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordExtractedText {
    pub document_id: DocumentId,
    /// A completed version of the document.
    pub version: u32,
    /// The extracted text.
    pub text: String,
}

impl RecordExtractedText {
    /// Longest text an event carries, in bytes of UTF-8 (1 MiB).
    pub const MAX_TEXT_BYTES: usize = 1 << 20;
}
