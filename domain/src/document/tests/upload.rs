//! Requesting and completing the first upload.

use crate::error_kind::ErrorKind;
use crate::testing::given;

use super::*;

fn request() -> DocumentCommand {
    DocumentCommand::RequestUpload(RequestUpload {
        document_id: doc_id(),
        name: name("report.pdf"),
        content_type: pdf(),
        size: 100,
        sha256: sha('a'),
        project: Some(project("p1")),
    })
}

fn complete(size: u64, digest: char) -> DocumentCommand {
    DocumentCommand::CompleteUpload(CompleteUpload {
        document_id: doc_id(),
        size,
        sha256: sha(digest),
    })
}

#[test]
fn requesting_an_upload_creates_the_document_owned_by_the_actor() {
    let doc = given::<Document>([])
        .when(&by("ann", request()))
        .then_expect([requested()]);
    assert_eq!(doc.owner(), Some(&user("ann")));
    assert_eq!(doc.current_version(), 0);
}

#[test]
fn requesting_an_upload_of_an_existing_document_is_rejected() {
    given::<Document>([requested()])
        .when(&by("ann", request()))
        .then_reject(|e| e.kind() == ErrorKind::AlreadyExists);
}

#[test]
fn a_service_cannot_own_a_document() {
    given::<Document>([])
        .when(&by_service(request()))
        .then_reject(|e| e.kind() == ErrorKind::PermissionDenied);
}

#[test]
fn completing_with_the_declared_measure_makes_version_one() {
    let doc = given::<Document>([requested()])
        .when(&by("ann", complete(100, 'a')))
        .then_expect([completed()]);
    assert_eq!(doc.current_version(), 1);
}

#[test]
fn completing_with_another_size_is_rejected() {
    given::<Document>([requested()])
        .when(&by("ann", complete(99, 'a')))
        .then_reject(|e| {
            *e == DocumentError::SizeMismatch {
                declared: 100,
                measured: 99,
            } && e.kind() == ErrorKind::InvalidArgument
        });
}

#[test]
fn completing_with_another_checksum_is_rejected() {
    given::<Document>([requested()])
        .when(&by("ann", complete(100, 'b')))
        .then_reject(|e| matches!(e, DocumentError::ChecksumMismatch { .. }));
}

#[test]
fn an_upload_completes_only_once() {
    given::<Document>([requested(), completed()])
        .when(&by("ann", complete(100, 'a')))
        .then_reject(|e| *e == DocumentError::UploadAlreadyCompleted);
}

#[test]
fn only_the_owner_completes_the_first_upload() {
    given::<Document>([requested()])
        .when(&by("mallory", complete(100, 'a')))
        .then_reject(|e| e.kind() == ErrorKind::PermissionDenied);
}

#[test]
fn commands_for_a_missing_document_are_not_found() {
    given::<Document>([])
        .when(&by("ann", complete(100, 'a')))
        .then_reject(|e| *e == DocumentError::NotFound(doc_id()));
}

#[test]
fn a_command_for_another_document_is_not_found() {
    let other = DocumentCommand::Delete(Delete {
        document_id: DocumentId::parse("doc-2").unwrap(),
    });
    given::<Document>([requested()])
        .when(&by("ann", other))
        .then_reject(|e| e.kind() == ErrorKind::NotFound);
}
