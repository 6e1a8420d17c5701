//! Given/when/then tests of the project rules, with shared fixtures.

mod codec;
mod lifecycle;
mod moves;

use crate::envelope::{Actor, Timestamp};
use crate::values::{Issued, Name, ProjectId, UserId};

use super::*;

/// The time every fixture command is issued at.
pub(super) const AT: Timestamp = Timestamp(1_700_000_000_000_000);

pub(super) fn pid(id: &str) -> ProjectId {
    ProjectId::parse(id).unwrap()
}

pub(super) fn user(name: &str) -> UserId {
    UserId::parse(name).unwrap()
}

pub(super) fn name(text: &str) -> Name {
    Name::parse(text).unwrap()
}

/// `command` issued by user `who`.
pub(super) fn by(who: &str, command: ProjectCommand) -> Issued<ProjectCommand> {
    Issued::new(Actor::user(who), AT, command)
}

/// Ann created project `p` named `Plans` under `parent`.
pub(super) fn created(parent: Option<&str>) -> ProjectEvent {
    ProjectEvent::Created(Created {
        project_id: pid("p"),
        name: name("Plans"),
        owner: user("ann"),
        parent: parent.map(pid),
        at: AT,
    })
}

/// Ann deleted project `p`.
pub(super) fn deleted() -> ProjectEvent {
    ProjectEvent::Deleted(Deleted {
        project_id: pid("p"),
        by: user("ann"),
        at: AT,
    })
}
