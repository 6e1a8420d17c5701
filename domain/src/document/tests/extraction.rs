//! Recording extracted text: who may, for which version, truncation, and
//! deleted documents.

use crate::error_kind::ErrorKind;
use crate::testing::given;

use super::*;

fn record(version: u32, text: &str) -> DocumentCommand {
    DocumentCommand::RecordExtractedText(RecordExtractedText {
        document_id: doc_id(),
        version,
        text: text.to_owned(),
    })
}

fn by_extractor(command: DocumentCommand) -> Issued<DocumentCommand> {
    Issued::new(Actor::service("text-extraction"), AT, command)
}

fn extracted(version: u32, text: &str, truncated: bool) -> DocumentEvent {
    DocumentEvent::TextExtracted(TextExtracted {
        document_id: doc_id(),
        version,
        text: text.to_owned(),
        truncated,
        by: Actor::service("text-extraction"),
        at: AT,
    })
}

fn with_second_version_requested() -> Vec<DocumentEvent> {
    let mut history = uploaded_and_shared();
    history.push(DocumentEvent::VersionRequested(VersionRequested {
        document_id: doc_id(),
        version: 2,
        content_type: pdf(),
        size: 7,
        sha256: sha('b'),
        by: user("ann"),
        at: AT,
    }));
    history
}

#[test]
fn the_extraction_service_records_text_of_a_completed_version() {
    let doc = given::<Document>(uploaded_and_shared())
        .when(&by_extractor(record(1, "quarterly figures")))
        .then_expect([extracted(1, "quarterly figures", false)]);
    assert_eq!(doc.current_version(), 1);
}

#[test]
fn users_cannot_record_extracted_text() {
    for who in ["ann", "ed"] {
        given::<Document>(uploaded_and_shared())
            .when(&by(who, record(1, "forged")))
            .then_reject(|e| e.kind() == ErrorKind::PermissionDenied);
    }
}

#[test]
fn text_for_a_version_not_completed_is_rejected() {
    given::<Document>([requested()])
        .when(&by_extractor(record(1, "too early")))
        .then_reject(|e| *e == DocumentError::VersionNotCompleted { version: 1 });
    given::<Document>(with_second_version_requested())
        .when(&by_extractor(record(2, "still pending")))
        .then_reject(|e| {
            *e == DocumentError::VersionNotCompleted { version: 2 }
                && e.kind() == ErrorKind::FailedPrecondition
        });
    given::<Document>(uploaded_and_shared())
        .when(&by_extractor(record(0, "no such version")))
        .then_reject(|e| *e == DocumentError::VersionNotCompleted { version: 0 });
}

#[test]
fn text_for_an_older_completed_version_is_accepted() {
    let mut history = with_second_version_requested();
    history.push(DocumentEvent::VersionCompleted(VersionCompleted {
        document_id: doc_id(),
        version: 2,
        size: 7,
        sha256: sha('b'),
        by: user("ann"),
        at: AT,
    }));
    given::<Document>(history)
        .when(&by_extractor(record(1, "first draft")))
        .then_expect([extracted(1, "first draft", false)]);
}

#[test]
fn text_of_exactly_the_cap_is_kept_whole() {
    let text = "a".repeat(RecordExtractedText::MAX_TEXT_BYTES);
    given::<Document>(uploaded_and_shared())
        .when(&by_extractor(record(1, &text)))
        .then_expect([extracted(1, &text, false)]);
}

#[test]
fn longer_text_is_cut_at_a_char_boundary_and_marked_truncated() {
    // Two ASCII bytes, then 3-byte characters: the cap (2^20 = 2 + 3k + 2)
    // falls two bytes into one, which is dropped whole.
    let text = format!("xy{}", "€".repeat(RecordExtractedText::MAX_TEXT_BYTES / 3 + 1));
    assert!(!text.is_char_boundary(RecordExtractedText::MAX_TEXT_BYTES));
    let kept = &text[..RecordExtractedText::MAX_TEXT_BYTES - 2];
    given::<Document>(uploaded_and_shared())
        .when(&by_extractor(record(1, &text)))
        .then_expect([extracted(1, kept, true)]);
}

#[test]
fn text_is_recorded_for_a_deleted_document() {
    let mut history = uploaded_and_shared();
    history.push(deleted());
    let doc = given::<Document>(history)
        .when(&by_extractor(record(1, "still searchable once restored")))
        .then_expect([extracted(1, "still searchable once restored", false)]);
    assert!(doc.is_deleted());
}

#[test]
fn text_for_a_missing_document_is_not_found() {
    given::<Document>([])
        .when(&by_extractor(record(1, "orphan")))
        .then_reject(|e| *e == DocumentError::NotFound(doc_id()));
}
