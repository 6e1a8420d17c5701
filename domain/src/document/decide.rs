//! The document's rules: which command is allowed for whom in which state,
//! and which events record it.

use crate::envelope::Timestamp;
use crate::values::{Issued, Sha256, UserId};

use super::commands::*;
use super::errors::DocumentError;
use super::events::{self, DocumentEvent};
use super::state::{Access, Deletion, Document, DocumentState, PendingUpload};

type Decision = Result<Vec<DocumentEvent>, DocumentError>;

/// A user allowed to change an existing document, and when they do.
struct By {
    user: UserId,
    at: Timestamp,
}

/// Routes a command to its rule.
pub(super) fn decide(doc: &Document, issued: &Issued<DocumentCommand>) -> Decision {
    let command = &issued.command;
    let Some(state) = doc.state.as_ref() else {
        return match command {
            DocumentCommand::RequestUpload(c) => request_upload(issued, c),
            _ => Err(DocumentError::NotFound(command.document_id().clone())),
        };
    };
    if &state.id != command.document_id() {
        return Err(DocumentError::NotFound(command.document_id().clone()));
    }
    decide_existing(state, issued)
}

/// The rules for a document that exists.
fn decide_existing(state: &DocumentState, issued: &Issued<DocumentCommand>) -> Decision {
    const UPLOAD: &str = "only the owner completes the first upload";
    const EDIT: &str = "only the owner and editors change the content or name";
    const OWN: &str = "only the owner moves, shares, deletes or restores a document";
    match &issued.command {
        DocumentCommand::RequestUpload(c) => Err(DocumentError::AlreadyExists(c.document_id.clone())),
        DocumentCommand::CompleteUpload(c) => {
            complete_upload(state, live(state, issued, Access::Owner, UPLOAD)?, c)
        }
        DocumentCommand::RequestNewVersion(c) => {
            request_version(state, live(state, issued, Access::Edit, EDIT)?, c)
        }
        DocumentCommand::CompleteVersion(c) => {
            complete_version(state, live(state, issued, Access::Edit, EDIT)?, c)
        }
        DocumentCommand::Rename(c) => rename(state, live(state, issued, Access::Edit, EDIT)?, c),
        DocumentCommand::Move(c) => move_to(state, live(state, issued, Access::Owner, OWN)?, c),
        DocumentCommand::Share(c) => share(state, live(state, issued, Access::Owner, OWN)?, c),
        DocumentCommand::Unshare(c) => unshare(state, live(state, issued, Access::Owner, OWN)?, c),
        DocumentCommand::Delete(_) => delete(state, live(state, issued, Access::Owner, OWN)?),
        DocumentCommand::Restore(_) => restore(state, permit(state, issued, Access::Owner, OWN)?),
        DocumentCommand::DeleteWithProject(c) => delete_with_project(state, issued, c),
        DocumentCommand::RecordExtractedText(c) => record_extracted_text(state, issued, c),
    }
}

/// Checks that a user with at least `needed` access issued the command.
fn permit(
    state: &DocumentState,
    issued: &Issued<DocumentCommand>,
    needed: Access,
    reason: &'static str,
) -> Result<By, DocumentError> {
    let user = issued
        .user()
        .ok_or(DocumentError::denied("only users change documents"))?;
    match state.access_of(&user) {
        Some(access) if access >= needed => Ok(By { user, at: issued.at }),
        _ => Err(DocumentError::denied(reason)),
    }
}

/// [`permit`], and the document must not be deleted.
fn live(
    state: &DocumentState,
    issued: &Issued<DocumentCommand>,
    needed: Access,
    reason: &'static str,
) -> Result<By, DocumentError> {
    let by = permit(state, issued, needed, reason)?;
    match state.deleted {
        Some(_) => Err(DocumentError::Deleted),
        None => Ok(by),
    }
}

fn request_upload(issued: &Issued<DocumentCommand>, c: &RequestUpload) -> Decision {
    let owner = issued
        .user()
        .ok_or(DocumentError::denied("only users upload documents"))?;
    Ok(vec![DocumentEvent::UploadRequested(events::UploadRequested {
        document_id: c.document_id.clone(),
        owner,
        name: c.name.clone(),
        content_type: c.content_type.clone(),
        size: c.size,
        sha256: c.sha256.clone(),
        project: c.project.clone(),
        at: issued.at,
    })])
}

/// The blob store's measure must equal what the upload declared.
fn check_measure(pending: &PendingUpload, size: u64, sha256: &Sha256) -> Result<(), DocumentError> {
    if pending.size != size {
        return Err(DocumentError::SizeMismatch {
            declared: pending.size,
            measured: size,
        });
    }
    if &pending.sha256 != sha256 {
        return Err(DocumentError::ChecksumMismatch {
            declared: pending.sha256.clone(),
            measured: sha256.clone(),
        });
    }
    Ok(())
}

fn complete_upload(state: &DocumentState, by: By, c: &CompleteUpload) -> Decision {
    let pending = match (&state.pending, state.versions) {
        (Some(pending), 0) => pending,
        _ => return Err(DocumentError::UploadAlreadyCompleted),
    };
    check_measure(pending, c.size, &c.sha256)?;
    Ok(vec![DocumentEvent::UploadCompleted(events::UploadCompleted {
        document_id: state.id.clone(),
        version: 1,
        size: c.size,
        sha256: c.sha256.clone(),
        by: by.user,
        at: by.at,
    })])
}

fn request_version(state: &DocumentState, by: By, c: &RequestNewVersion) -> Decision {
    if state.versions == 0 {
        return Err(DocumentError::UploadPending);
    }
    Ok(vec![DocumentEvent::VersionRequested(events::VersionRequested {
        document_id: state.id.clone(),
        version: state.versions.saturating_add(1),
        content_type: c.content_type.clone(),
        size: c.size,
        sha256: c.sha256.clone(),
        by: by.user,
        at: by.at,
    })])
}

fn complete_version(state: &DocumentState, by: By, c: &CompleteVersion) -> Decision {
    if state.versions == 0 {
        return Err(DocumentError::UploadPending);
    }
    let pending = state
        .pending
        .as_ref()
        .filter(|pending| pending.version == c.version)
        .ok_or(DocumentError::NoPendingVersion { version: c.version })?;
    check_measure(pending, c.size, &c.sha256)?;
    Ok(vec![DocumentEvent::VersionCompleted(events::VersionCompleted {
        document_id: state.id.clone(),
        version: c.version,
        size: c.size,
        sha256: c.sha256.clone(),
        by: by.user,
        at: by.at,
    })])
}

fn rename(state: &DocumentState, by: By, c: &Rename) -> Decision {
    if state.name == c.name {
        return Ok(vec![]);
    }
    Ok(vec![DocumentEvent::Renamed(events::Renamed {
        document_id: state.id.clone(),
        name: c.name.clone(),
        by: by.user,
        at: by.at,
    })])
}

fn move_to(state: &DocumentState, by: By, c: &Move) -> Decision {
    if state.project == c.to {
        return Ok(vec![]);
    }
    Ok(vec![DocumentEvent::Moved(events::Moved {
        document_id: state.id.clone(),
        from: state.project.clone(),
        to: c.to.clone(),
        by: by.user,
        at: by.at,
    })])
}

fn share(state: &DocumentState, by: By, c: &Share) -> Decision {
    if c.user == state.owner {
        return Err(DocumentError::InvalidArgument {
            field: "user",
            reason: "the owner already has every right".to_owned(),
        });
    }
    if state.shares.get(&c.user) == Some(&c.role) {
        return Ok(vec![]);
    }
    Ok(vec![DocumentEvent::Shared(events::Shared {
        document_id: state.id.clone(),
        user: c.user.clone(),
        role: c.role,
        by: by.user,
        at: by.at,
    })])
}

fn unshare(state: &DocumentState, by: By, c: &Unshare) -> Decision {
    if !state.shares.contains_key(&c.user) {
        return Ok(vec![]);
    }
    Ok(vec![DocumentEvent::Unshared(events::Unshared {
        document_id: state.id.clone(),
        user: c.user.clone(),
        by: by.user,
        at: by.at,
    })])
}

fn delete(state: &DocumentState, by: By) -> Decision {
    Ok(vec![DocumentEvent::Deleted(events::Deleted {
        document_id: state.id.clone(),
        by: by.user,
        at: by.at,
    })])
}

fn restore(state: &DocumentState, by: By) -> Decision {
    let detached_from_project = match &state.deleted {
        None => return Err(DocumentError::NotDeleted),
        Some(Deletion::ByOwner) => None,
        Some(Deletion::WithProject(project)) => Some(project.clone()),
    };
    Ok(vec![DocumentEvent::Restored(events::Restored {
        document_id: state.id.clone(),
        by: by.user,
        at: by.at,
        detached_from_project,
    })])
}

/// Idempotent, for the process manager: a document no longer in the project,
/// or already deleted with it, is left alone. A document its owner deleted
/// before is marked as deleted with the project, so a restore detaches it.
fn delete_with_project(
    state: &DocumentState,
    issued: &Issued<DocumentCommand>,
    c: &DeleteWithProject,
) -> Decision {
    if !issued.is_service() {
        return Err(DocumentError::denied(
            "only a service deletes documents with their project",
        ));
    }
    let in_project = state.project.as_ref() == Some(&c.project_id);
    let already = matches!(state.deleted, Some(Deletion::WithProject(_)));
    if !in_project || already {
        return Ok(vec![]);
    }
    Ok(vec![DocumentEvent::DeletedWithProject(
        events::DeletedWithProject {
            document_id: state.id.clone(),
            project_id: c.project_id.clone(),
            by: issued.actor.clone(),
            at: issued.at,
        },
    )])
}

/// Allowed on a deleted document: extraction runs after the upload and may
/// finish after a delete; search hides deleted documents by their flag, and
/// a restored document then has its text without extracting again.
fn record_extracted_text(
    state: &DocumentState,
    issued: &Issued<DocumentCommand>,
    c: &RecordExtractedText,
) -> Decision {
    if !issued.is_service() {
        return Err(DocumentError::denied(
            "only the text-extraction service records extracted text",
        ));
    }
    if c.version == 0 || c.version > state.versions {
        return Err(DocumentError::VersionNotCompleted { version: c.version });
    }
    let (text, truncated) = truncate_at_char_boundary(&c.text, RecordExtractedText::MAX_TEXT_BYTES);
    Ok(vec![DocumentEvent::TextExtracted(events::TextExtracted {
        document_id: state.id.clone(),
        version: c.version,
        text: text.to_owned(),
        truncated,
        by: issued.actor.clone(),
        at: issued.at,
    })])
}

/// The longest prefix of `text` of at most `max` bytes that ends on a
/// character boundary, and whether it is shorter than `text`.
fn truncate_at_char_boundary(text: &str, max: usize) -> (&str, bool) {
    if text.len() <= max {
        return (text, false);
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (&text[..end], true)
}
