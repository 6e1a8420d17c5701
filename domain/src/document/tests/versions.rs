//! New versions: request, completion, replacement of a pending request.

use crate::error_kind::ErrorKind;
use crate::testing::given;

use super::*;

fn request_version(size: u64, digest: char) -> DocumentCommand {
    DocumentCommand::RequestNewVersion(RequestNewVersion {
        document_id: doc_id(),
        content_type: pdf(),
        size,
        sha256: sha(digest),
    })
}

fn complete_version(version: u32, size: u64, digest: char) -> DocumentCommand {
    DocumentCommand::CompleteVersion(CompleteVersion {
        document_id: doc_id(),
        version,
        size,
        sha256: sha(digest),
    })
}

fn version_requested(who: &str, size: u64, digest: char) -> DocumentEvent {
    DocumentEvent::VersionRequested(VersionRequested {
        document_id: doc_id(),
        version: 2,
        content_type: pdf(),
        size,
        sha256: sha(digest),
        by: user(who),
        at: AT,
    })
}

fn with(mut history: Vec<DocumentEvent>, event: DocumentEvent) -> Vec<DocumentEvent> {
    history.push(event);
    history
}

#[test]
fn an_editor_requests_a_new_version_numbered_after_the_current_one() {
    given::<Document>(uploaded_and_shared())
        .when(&by("ed", request_version(200, 'b')))
        .then_expect([version_requested("ed", 200, 'b')]);
}

#[test]
fn a_viewer_cannot_upload_a_version() {
    given::<Document>(uploaded_and_shared())
        .when(&by("vi", request_version(200, 'b')))
        .then_reject(|e| e.kind() == ErrorKind::PermissionDenied);
}

#[test]
fn a_new_version_waits_for_the_first_upload() {
    given::<Document>([requested()])
        .when(&by("ann", request_version(200, 'b')))
        .then_reject(|e| *e == DocumentError::UploadPending);
}

#[test]
fn completing_the_requested_version_makes_it_current() {
    let history = with(uploaded_and_shared(), version_requested("ed", 200, 'b'));
    let doc = given::<Document>(history)
        .when(&by("ed", complete_version(2, 200, 'b')))
        .then_expect([DocumentEvent::VersionCompleted(VersionCompleted {
            document_id: doc_id(),
            version: 2,
            size: 200,
            sha256: sha('b'),
            by: user("ed"),
            at: AT,
        })]);
    assert_eq!(doc.current_version(), 2);
}

#[test]
fn a_version_measured_differently_is_rejected() {
    let history = with(uploaded_and_shared(), version_requested("ed", 200, 'b'));
    given::<Document>(history)
        .when(&by("ed", complete_version(2, 200, 'c')))
        .then_reject(|e| matches!(e, DocumentError::ChecksumMismatch { .. }));
}

#[test]
fn completing_without_a_request_is_rejected() {
    given::<Document>(uploaded_and_shared())
        .when(&by("ed", complete_version(2, 200, 'b')))
        .then_reject(|e| *e == DocumentError::NoPendingVersion { version: 2 });
}

#[test]
fn a_newer_request_replaces_the_pending_one() {
    let mut history = with(uploaded_and_shared(), version_requested("ed", 200, 'b'));
    history.push(version_requested("ann", 300, 'c'));
    given::<Document>(history)
        .when(&by("ed", complete_version(2, 200, 'b')))
        .then_reject(|e| matches!(e, DocumentError::SizeMismatch { measured: 200, .. }));
}

#[test]
fn a_version_completes_only_once() {
    let mut history = with(uploaded_and_shared(), version_requested("ed", 200, 'b'));
    history.push(DocumentEvent::VersionCompleted(VersionCompleted {
        document_id: doc_id(),
        version: 2,
        size: 200,
        sha256: sha('b'),
        by: user("ed"),
        at: AT,
    }));
    given::<Document>(history)
        .when(&by("ed", complete_version(2, 200, 'b')))
        .then_reject(|e| *e == DocumentError::NoPendingVersion { version: 2 });
}
