//! Sharing, access, renaming and moving.

use crate::error_kind::ErrorKind;
use crate::testing::given;

use super::*;

fn share(who: &str, role: ShareRole) -> DocumentCommand {
    DocumentCommand::Share(Share {
        document_id: doc_id(),
        user: user(who),
        role,
    })
}

fn unshare(who: &str) -> DocumentCommand {
    DocumentCommand::Unshare(Unshare {
        document_id: doc_id(),
        user: user(who),
    })
}

fn rename(to: &str) -> DocumentCommand {
    DocumentCommand::Rename(Rename {
        document_id: doc_id(),
        name: name(to),
    })
}

fn move_to(to: Option<&str>) -> DocumentCommand {
    DocumentCommand::Move(Move {
        document_id: doc_id(),
        to: to.map(project),
    })
}

#[test]
fn the_owner_shares_with_a_user() {
    let doc = given::<Document>([requested(), completed()])
        .when(&by("ann", share("bob", ShareRole::View)))
        .then_expect([shared("bob", ShareRole::View)]);
    assert_eq!(doc.access_of(&user("bob")), Some(Access::View));
}

#[test]
fn sharing_again_changes_the_role() {
    let doc = given::<Document>(uploaded_and_shared())
        .when(&by("ann", share("vi", ShareRole::Edit)))
        .then_expect([shared("vi", ShareRole::Edit)]);
    assert_eq!(doc.access_of(&user("vi")), Some(Access::Edit));
}

#[test]
fn sharing_with_the_same_role_changes_nothing() {
    given::<Document>(uploaded_and_shared())
        .when(&by("ann", share("vi", ShareRole::View)))
        .then_nothing();
}

#[test]
fn sharing_with_the_owner_is_rejected() {
    given::<Document>(uploaded_and_shared())
        .when(&by("ann", share("ann", ShareRole::Edit)))
        .then_reject(|e| e.kind() == ErrorKind::InvalidArgument);
}

#[test]
fn editors_cannot_share() {
    given::<Document>(uploaded_and_shared())
        .when(&by("ed", share("bob", ShareRole::View)))
        .then_reject(|e| e.kind() == ErrorKind::PermissionDenied);
}

#[test]
fn unsharing_removes_access() {
    let doc = given::<Document>(uploaded_and_shared())
        .when(&by("ann", unshare("ed")))
        .then_expect([DocumentEvent::Unshared(Unshared {
            document_id: doc_id(),
            user: user("ed"),
            by: user("ann"),
            at: AT,
        })]);
    assert_eq!(doc.access_of(&user("ed")), None);
}

#[test]
fn unsharing_a_user_without_a_share_changes_nothing() {
    given::<Document>(uploaded_and_shared())
        .when(&by("ann", unshare("bob")))
        .then_nothing();
}

#[test]
fn only_the_owner_unshares() {
    given::<Document>(uploaded_and_shared())
        .when(&by("ed", unshare("vi")))
        .then_reject(|e| e.kind() == ErrorKind::PermissionDenied);
}

#[test]
fn access_follows_ownership_and_shares() {
    let doc = given::<Document>(uploaded_and_shared());
    let state = doc.state();
    assert_eq!(state.access_of(&user("ann")), Some(Access::Owner));
    assert_eq!(state.access_of(&user("ed")), Some(Access::Edit));
    assert_eq!(state.access_of(&user("vi")), Some(Access::View));
    assert_eq!(state.access_of(&user("bob")), None);
    assert!(Access::Owner > Access::Edit && Access::Edit > Access::View);
}

#[test]
fn an_editor_renames() {
    let doc = given::<Document>(uploaded_and_shared())
        .when(&by("ed", rename("final.pdf")))
        .then_expect([DocumentEvent::Renamed(Renamed {
            document_id: doc_id(),
            name: name("final.pdf"),
            by: user("ed"),
            at: AT,
        })]);
    assert_eq!(doc.name(), Some(&name("final.pdf")));
}

#[test]
fn a_viewer_cannot_rename() {
    given::<Document>(uploaded_and_shared())
        .when(&by("vi", rename("final.pdf")))
        .then_reject(|e| e.kind() == ErrorKind::PermissionDenied);
}

#[test]
fn renaming_to_the_current_name_changes_nothing() {
    given::<Document>(uploaded_and_shared())
        .when(&by("ann", rename("report.pdf")))
        .then_nothing();
}

#[test]
fn the_owner_moves_to_another_project_or_to_none() {
    let doc = given::<Document>(uploaded_and_shared())
        .when(&by("ann", move_to(Some("p2"))))
        .then_expect([DocumentEvent::Moved(Moved {
            document_id: doc_id(),
            from: Some(project("p1")),
            to: Some(project("p2")),
            by: user("ann"),
            at: AT,
        })]);
    assert_eq!(doc.project(), Some(&project("p2")));
    given::<Document>(uploaded_and_shared())
        .when(&by("ann", move_to(None)))
        .then_expect([DocumentEvent::Moved(Moved {
            document_id: doc_id(),
            from: Some(project("p1")),
            to: None,
            by: user("ann"),
            at: AT,
        })]);
}

#[test]
fn moving_to_the_current_project_changes_nothing() {
    given::<Document>(uploaded_and_shared())
        .when(&by("ann", move_to(Some("p1"))))
        .then_nothing();
}

#[test]
fn an_editor_cannot_move() {
    given::<Document>(uploaded_and_shared())
        .when(&by("ed", move_to(None)))
        .then_reject(|e| e.kind() == ErrorKind::PermissionDenied);
}
