//! Given/when/then tests of the document rules, with shared fixtures.

mod codec;
mod extraction;
mod lifecycle;
mod sharing;
mod upload;
mod versions;

use crate::envelope::{Actor, Timestamp};
use crate::values::{ContentType, DocumentId, Issued, Name, ProjectId, Sha256, UserId};

use super::*;

/// The time every fixture command is issued at.
pub(super) const AT: Timestamp = Timestamp(1_700_000_000_000_000);

pub(super) fn doc_id() -> DocumentId {
    DocumentId::parse("doc-1").unwrap()
}

pub(super) fn user(name: &str) -> UserId {
    UserId::parse(name).unwrap()
}

pub(super) fn project(id: &str) -> ProjectId {
    ProjectId::parse(id).unwrap()
}

pub(super) fn name(text: &str) -> Name {
    Name::parse(text).unwrap()
}

pub(super) fn pdf() -> ContentType {
    ContentType::parse("application/pdf").unwrap()
}

/// A digest made of one repeated hex digit.
pub(super) fn sha(digit: char) -> Sha256 {
    Sha256::parse(&digit.to_string().repeat(64)).unwrap()
}

/// `command` issued by user `who`.
pub(super) fn by(who: &str, command: DocumentCommand) -> Issued<DocumentCommand> {
    Issued::new(Actor::user(who), AT, command)
}

/// `command` issued by the project-deletion process manager.
pub(super) fn by_service(command: DocumentCommand) -> Issued<DocumentCommand> {
    Issued::new(Actor::service("project-cleanup"), AT, command)
}

/// Ann asks to upload `report.pdf` (100 bytes, sha `a…`) into project `p1`.
pub(super) fn requested() -> DocumentEvent {
    DocumentEvent::UploadRequested(UploadRequested {
        document_id: doc_id(),
        owner: user("ann"),
        name: name("report.pdf"),
        content_type: pdf(),
        size: 100,
        sha256: sha('a'),
        project: Some(project("p1")),
        at: AT,
    })
}

/// Ann's first upload completed.
pub(super) fn completed() -> DocumentEvent {
    DocumentEvent::UploadCompleted(UploadCompleted {
        document_id: doc_id(),
        version: 1,
        size: 100,
        sha256: sha('a'),
        by: user("ann"),
        at: AT,
    })
}

/// Ann shared the document with `who` as `role`.
pub(super) fn shared(who: &str, role: ShareRole) -> DocumentEvent {
    DocumentEvent::Shared(Shared {
        document_id: doc_id(),
        user: user(who),
        role,
        by: user("ann"),
        at: AT,
    })
}

/// Ann deleted the document.
pub(super) fn deleted() -> DocumentEvent {
    DocumentEvent::Deleted(Deleted {
        document_id: doc_id(),
        by: user("ann"),
        at: AT,
    })
}

/// An uploaded document shared with Ed (edit) and Vi (view).
pub(super) fn uploaded_and_shared() -> Vec<DocumentEvent> {
    vec![
        requested(),
        completed(),
        shared("ed", ShareRole::Edit),
        shared("vi", ShareRole::View),
    ]
}
