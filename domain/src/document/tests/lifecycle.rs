//! Soft delete, restore, and deletion with the project.

use crate::error_kind::ErrorKind;
use crate::testing::given;

use super::*;

fn delete() -> DocumentCommand {
    DocumentCommand::Delete(Delete {
        document_id: doc_id(),
    })
}

fn restore() -> DocumentCommand {
    DocumentCommand::Restore(Restore {
        document_id: doc_id(),
    })
}

fn delete_with_project(id: &str) -> DocumentCommand {
    DocumentCommand::DeleteWithProject(DeleteWithProject {
        document_id: doc_id(),
        project_id: project(id),
    })
}

fn deleted_with_project() -> DocumentEvent {
    DocumentEvent::DeletedWithProject(DeletedWithProject {
        document_id: doc_id(),
        project_id: project("p1"),
        by: Actor::service("project-cleanup"),
        at: AT,
    })
}

fn restored(detached: Option<&str>) -> DocumentEvent {
    DocumentEvent::Restored(Restored {
        document_id: doc_id(),
        by: user("ann"),
        at: AT,
        detached_from_project: detached.map(project),
    })
}

fn after(event: DocumentEvent) -> Vec<DocumentEvent> {
    let mut history = uploaded_and_shared();
    history.push(event);
    history
}

#[test]
fn the_owner_soft_deletes() {
    let doc = given::<Document>(uploaded_and_shared())
        .when(&by("ann", delete()))
        .then_expect([deleted()]);
    assert!(doc.is_deleted());
}

#[test]
fn an_editor_cannot_delete() {
    given::<Document>(uploaded_and_shared())
        .when(&by("ed", delete()))
        .then_reject(|e| e.kind() == ErrorKind::PermissionDenied);
}

#[test]
fn a_deleted_document_rejects_changes() {
    let changes = [
        delete(),
        DocumentCommand::Rename(Rename {
            document_id: doc_id(),
            name: name("x"),
        }),
        DocumentCommand::Share(Share {
            document_id: doc_id(),
            user: user("bob"),
            role: ShareRole::View,
        }),
        DocumentCommand::RequestNewVersion(RequestNewVersion {
            document_id: doc_id(),
            content_type: pdf(),
            size: 1,
            sha256: sha('b'),
        }),
    ];
    for change in changes {
        given::<Document>(after(deleted()))
            .when(&by("ann", change))
            .then_reject(|e| *e == DocumentError::Deleted);
    }
}

#[test]
fn the_owner_restores() {
    let doc = given::<Document>(after(deleted()))
        .when(&by("ann", restore()))
        .then_expect([restored(None)]);
    assert!(!doc.is_deleted());
    assert_eq!(doc.project(), Some(&project("p1")));
}

#[test]
fn restoring_a_live_document_is_rejected() {
    given::<Document>(uploaded_and_shared())
        .when(&by("ann", restore()))
        .then_reject(|e| *e == DocumentError::NotDeleted);
}

#[test]
fn only_the_owner_restores() {
    given::<Document>(after(deleted()))
        .when(&by("ed", restore()))
        .then_reject(|e| e.kind() == ErrorKind::PermissionDenied);
}

#[test]
fn a_service_deletes_a_document_with_its_project() {
    let doc = given::<Document>(uploaded_and_shared())
        .when(&by_service(delete_with_project("p1")))
        .then_expect([deleted_with_project()]);
    assert!(doc.is_deleted());
}

#[test]
fn users_cannot_delete_with_a_project() {
    given::<Document>(uploaded_and_shared())
        .when(&by("ann", delete_with_project("p1")))
        .then_reject(|e| e.kind() == ErrorKind::PermissionDenied);
}

#[test]
fn deleting_with_another_project_changes_nothing() {
    given::<Document>(uploaded_and_shared())
        .when(&by_service(delete_with_project("p2")))
        .then_nothing();
}

#[test]
fn deleting_with_the_project_twice_changes_nothing() {
    given::<Document>(after(deleted_with_project()))
        .when(&by_service(delete_with_project("p1")))
        .then_nothing();
}

#[test]
fn a_document_deleted_by_its_owner_is_marked_deleted_with_its_project() {
    given::<Document>(after(deleted()))
        .when(&by_service(delete_with_project("p1")))
        .then_expect([deleted_with_project()]);
}

#[test]
fn restoring_after_the_project_was_deleted_detaches_from_it() {
    let doc = given::<Document>(after(deleted_with_project()))
        .when(&by("ann", restore()))
        .then_expect([restored(Some("p1"))]);
    assert_eq!(doc.project(), None);
}
