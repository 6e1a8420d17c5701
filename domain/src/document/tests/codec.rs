//! Every document event survives its stored form.

use proptest::prelude::*;

use crate::event::DomainEvent;
use crate::strategies as arb;
use crate::testing::{assert_catalog_covered, assert_round_trips};

use super::*;

fn upload_requested() -> impl Strategy<Value = DocumentEvent> {
    (
        (
            arb::document_id(),
            arb::user_id(),
            arb::name(),
            arb::content_type(),
        ),
        (
            any::<u64>(),
            arb::sha256(),
            arb::project_id_opt(),
            arb::timestamp(),
        ),
    )
        .prop_map(
            |((document_id, owner, name, content_type), (size, sha256, project, at))| {
                DocumentEvent::UploadRequested(UploadRequested {
                    document_id,
                    owner,
                    name,
                    content_type,
                    size,
                    sha256,
                    project,
                    at,
                })
            },
        )
}

fn upload_completed() -> impl Strategy<Value = DocumentEvent> {
    (
        arb::document_id(),
        any::<u64>(),
        arb::sha256(),
        arb::user_id(),
        arb::timestamp(),
    )
        .prop_map(|(document_id, size, sha256, by, at)| {
            DocumentEvent::UploadCompleted(UploadCompleted {
                document_id,
                version: 1,
                size,
                sha256,
                by,
                at,
            })
        })
}

fn versions() -> impl Strategy<Value = DocumentEvent> {
    (
        (
            arb::document_id(),
            any::<u32>(),
            arb::content_type(),
            any::<u64>(),
        ),
        (arb::sha256(), arb::user_id(), arb::timestamp(), any::<bool>()),
    )
        .prop_map(
            |((document_id, version, content_type, size), (sha256, by, at, done))| {
                if done {
                    DocumentEvent::VersionCompleted(VersionCompleted {
                        document_id,
                        version,
                        size,
                        sha256,
                        by,
                        at,
                    })
                } else {
                    DocumentEvent::VersionRequested(VersionRequested {
                        document_id,
                        version,
                        content_type,
                        size,
                        sha256,
                        by,
                        at,
                    })
                }
            },
        )
}

fn metadata_changes() -> impl Strategy<Value = DocumentEvent> {
    (
        (
            arb::document_id(),
            arb::name(),
            arb::project_id_opt(),
            arb::project_id_opt(),
        ),
        (arb::user_id(), arb::user_id(), any::<bool>(), arb::timestamp()),
    )
        .prop_flat_map(|((document_id, name, from, to), (user, by, edit, at))| {
            let role = if edit { ShareRole::Edit } else { ShareRole::View };
            prop_oneof![
                Just(DocumentEvent::Renamed(Renamed {
                    document_id: document_id.clone(),
                    name,
                    by: by.clone(),
                    at,
                })),
                Just(DocumentEvent::Moved(Moved {
                    document_id: document_id.clone(),
                    from,
                    to: to.clone(),
                    by: by.clone(),
                    at,
                })),
                Just(DocumentEvent::Shared(Shared {
                    document_id: document_id.clone(),
                    user: user.clone(),
                    role,
                    by: by.clone(),
                    at,
                })),
                Just(DocumentEvent::Unshared(Unshared {
                    document_id: document_id.clone(),
                    user,
                    by: by.clone(),
                    at,
                })),
                Just(DocumentEvent::Deleted(Deleted {
                    document_id: document_id.clone(),
                    by: by.clone(),
                    at,
                })),
                Just(DocumentEvent::Restored(Restored {
                    document_id,
                    by,
                    at,
                    detached_from_project: to,
                })),
            ]
        })
}

fn deleted_with_project() -> impl Strategy<Value = DocumentEvent> {
    (
        arb::document_id(),
        arb::project_id(),
        arb::service_actor(),
        arb::timestamp(),
    )
        .prop_map(|(document_id, project_id, by, at)| {
            DocumentEvent::DeletedWithProject(DeletedWithProject {
                document_id,
                project_id,
                by,
                at,
            })
        })
}

fn text_extracted() -> impl Strategy<Value = DocumentEvent> {
    (
        (
            arb::document_id(),
            any::<u32>(),
            "[\\PC\\n\\t]{0,200}",
            any::<bool>(),
        ),
        (arb::service_actor(), arb::timestamp()),
    )
        .prop_map(|((document_id, version, text, truncated), (by, at))| {
            DocumentEvent::TextExtracted(TextExtracted {
                document_id,
                version,
                text,
                truncated,
                by,
                at,
            })
        })
}

/// Any document event, of any variant.
fn document_event() -> impl Strategy<Value = DocumentEvent> {
    prop_oneof![
        upload_requested(),
        upload_completed(),
        versions(),
        metadata_changes(),
        deleted_with_project(),
        text_extracted(),
    ]
}

proptest! {
    #[test]
    fn every_document_event_round_trips(event in document_event()) {
        assert_round_trips(&event);
    }
}

/// One event of every variant, from fixed values.
fn samples() -> Vec<DocumentEvent> {
    let (document_id, ann, at) = (doc_id(), user("ann"), AT);
    vec![
        requested(),
        completed(),
        DocumentEvent::VersionRequested(VersionRequested {
            document_id: document_id.clone(),
            version: 2,
            content_type: pdf(),
            size: 7,
            sha256: sha('b'),
            by: ann.clone(),
            at,
        }),
        DocumentEvent::VersionCompleted(VersionCompleted {
            document_id: document_id.clone(),
            version: 2,
            size: 7,
            sha256: sha('b'),
            by: ann.clone(),
            at,
        }),
        DocumentEvent::Renamed(Renamed {
            document_id: document_id.clone(),
            name: name("notes \u{201c}2025\u{201d}.md"),
            by: ann.clone(),
            at,
        }),
        DocumentEvent::Moved(Moved {
            document_id: document_id.clone(),
            from: Some(project("p1")),
            to: None,
            by: ann.clone(),
            at,
        }),
        shared("bob", ShareRole::Edit),
        DocumentEvent::Unshared(Unshared {
            document_id: document_id.clone(),
            user: user("bob"),
            by: ann.clone(),
            at,
        }),
        deleted(),
        DocumentEvent::Restored(Restored {
            document_id: document_id.clone(),
            by: ann,
            at,
            detached_from_project: Some(project("p1")),
        }),
        DocumentEvent::DeletedWithProject(DeletedWithProject {
            document_id: document_id.clone(),
            project_id: project("p1"),
            by: Actor::service("project-cleanup"),
            at,
        }),
        DocumentEvent::TextExtracted(TextExtracted {
            document_id,
            version: 1,
            text: "Quarterly report\n\n\u{201c}Revenue\u{201d} rose \u{1f4c8}\tand \"quotes\" stay"
                .to_owned(),
            truncated: false,
            by: Actor::service("text-extraction"),
            at,
        }),
    ]
}

#[test]
fn samples_cover_the_catalog_and_round_trip() {
    let samples = samples();
    assert_catalog_covered(&samples);
    for event in &samples {
        assert_round_trips(event);
    }
}

/// The search projector reads these JSON field names; they must not change.
#[test]
fn text_extracted_payload_has_the_documented_field_names() {
    let event = DocumentEvent::TextExtracted(TextExtracted {
        document_id: doc_id(),
        version: 3,
        text: "hello".to_owned(),
        truncated: true,
        by: Actor::service("text-extraction"),
        at: AT,
    });
    assert_eq!(
        (event.event_type(), event.schema_version()),
        ("document.text_extracted", 1)
    );
    let json: serde_json::Value = serde_json::from_slice(&event.encode_payload()).unwrap();
    assert_eq!(json["document_id"], "doc-1");
    assert_eq!(json["version"], 3);
    assert_eq!(json["text"], "hello");
    assert_eq!(json["truncated"], true);
    assert_eq!(json["by"], "service:text-extraction");
}
