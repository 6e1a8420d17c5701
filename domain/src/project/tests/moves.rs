//! Moving projects, and refusing cycles.

use crate::error_kind::ErrorKind;
use crate::testing::given;

use super::*;

fn move_to(to: Option<&str>, ancestors: &[&str]) -> ProjectCommand {
    ProjectCommand::Move(Move {
        project_id: pid("p"),
        to: to.map(pid),
        to_ancestors: ancestors.iter().map(|a| pid(a)).collect(),
    })
}

fn moved(from: Option<&str>, to: Option<&str>) -> ProjectEvent {
    ProjectEvent::Moved(Moved {
        project_id: pid("p"),
        from: from.map(pid),
        to: to.map(pid),
        by: user("ann"),
        at: AT,
    })
}

#[test]
fn the_owner_moves_under_another_project() {
    let project = given::<Project>([created(None)])
        .when(&by("ann", move_to(Some("q"), &["root"])))
        .then_expect([moved(None, Some("q"))]);
    assert_eq!(project.parent(), Some(&pid("q")));
}

#[test]
fn the_owner_moves_to_the_top_level() {
    given::<Project>([created(Some("root"))])
        .when(&by("ann", move_to(None, &[])))
        .then_expect([moved(Some("root"), None)]);
}

#[test]
fn moving_to_the_current_parent_changes_nothing() {
    given::<Project>([created(Some("root"))])
        .when(&by("ann", move_to(Some("root"), &[])))
        .then_nothing();
}

#[test]
fn moving_under_itself_is_a_cycle() {
    given::<Project>([created(None)])
        .when(&by("ann", move_to(Some("p"), &[])))
        .then_reject(|e| *e == ProjectError::Cycle { target: pid("p") });
}

#[test]
fn moving_under_a_descendant_is_a_cycle() {
    given::<Project>([created(None)])
        .when(&by("ann", move_to(Some("grandchild"), &["child", "p", "root"])))
        .then_reject(|e| e.kind() == ErrorKind::FailedPrecondition);
}

#[test]
fn only_the_owner_moves() {
    given::<Project>([created(None)])
        .when(&by("bob", move_to(Some("q"), &[])))
        .then_reject(|e| e.kind() == ErrorKind::PermissionDenied);
}

#[test]
fn a_deleted_project_does_not_move() {
    given::<Project>([created(None), deleted()])
        .when(&by("ann", move_to(Some("q"), &[])))
        .then_reject(|e| *e == ProjectError::Deleted);
}
