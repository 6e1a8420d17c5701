//! Creating, renaming and deleting projects.

use crate::error_kind::ErrorKind;
use crate::testing::given;

use super::*;

fn create(parent: Option<&str>) -> ProjectCommand {
    ProjectCommand::Create(Create {
        project_id: pid("p"),
        name: name("Plans"),
        parent: parent.map(pid),
    })
}

fn rename(to: &str) -> ProjectCommand {
    ProjectCommand::Rename(Rename {
        project_id: pid("p"),
        name: name(to),
    })
}

fn delete() -> ProjectCommand {
    ProjectCommand::Delete(Delete { project_id: pid("p") })
}

#[test]
fn a_user_creates_a_project_they_own() {
    let project = given::<Project>([])
        .when(&by("ann", create(Some("root"))))
        .then_expect([created(Some("root"))]);
    assert_eq!(project.owner(), Some(&user("ann")));
    assert_eq!(project.parent(), Some(&pid("root")));
}

#[test]
fn creating_an_existing_project_is_rejected() {
    given::<Project>([created(None)])
        .when(&by("ann", create(None)))
        .then_reject(|e| e.kind() == ErrorKind::AlreadyExists);
}

#[test]
fn a_project_cannot_be_created_inside_itself() {
    given::<Project>([])
        .when(&by("ann", create(Some("p"))))
        .then_reject(|e| e.kind() == ErrorKind::InvalidArgument);
}

#[test]
fn services_do_not_create_projects() {
    given::<Project>([])
        .when(&Issued::new(Actor::service("x"), AT, create(None)))
        .then_reject(|e| e.kind() == ErrorKind::PermissionDenied);
}

#[test]
fn the_owner_renames() {
    let project = given::<Project>([created(None)])
        .when(&by("ann", rename("Roadmap")))
        .then_expect([ProjectEvent::Renamed(Renamed {
            project_id: pid("p"),
            name: name("Roadmap"),
            by: user("ann"),
            at: AT,
        })]);
    assert_eq!(project.name(), Some(&name("Roadmap")));
}

#[test]
fn renaming_to_the_current_name_changes_nothing() {
    given::<Project>([created(None)])
        .when(&by("ann", rename("Plans")))
        .then_nothing();
}

#[test]
fn only_the_owner_changes_a_project() {
    for command in [rename("Mine"), delete()] {
        given::<Project>([created(None)])
            .when(&by("bob", command))
            .then_reject(|e| e.kind() == ErrorKind::PermissionDenied);
    }
}

#[test]
fn changing_a_missing_project_is_not_found() {
    given::<Project>([])
        .when(&by("ann", delete()))
        .then_reject(|e| *e == ProjectError::NotFound(pid("p")));
}

#[test]
fn the_owner_deletes() {
    let project = given::<Project>([created(None)])
        .when(&by("ann", delete()))
        .then_expect([deleted()]);
    assert!(project.is_deleted());
}

#[test]
fn a_deleted_project_accepts_nothing() {
    for command in [rename("Again"), delete()] {
        given::<Project>([created(None), deleted()])
            .when(&by("ann", command))
            .then_reject(|e| *e == ProjectError::Deleted);
    }
}
