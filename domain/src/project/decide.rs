//! The project's rules: only the owner changes a project, a deleted project
//! accepts nothing, and a move never nests a project inside itself.

use crate::envelope::Timestamp;
use crate::values::{Issued, ProjectId, UserId};

use super::commands::*;
use super::errors::ProjectError;
use super::events::{self, ProjectEvent};
use super::state::{Project, ProjectState};

type Decision = Result<Vec<ProjectEvent>, ProjectError>;

/// The owner, allowed to change a live project, and when they do.
struct By {
    user: UserId,
    at: Timestamp,
}

/// Routes a command to its rule.
pub(super) fn decide(project: &Project, issued: &Issued<ProjectCommand>) -> Decision {
    let command = &issued.command;
    let Some(state) = project.state.as_ref() else {
        return match command {
            ProjectCommand::Create(c) => create(issued, c),
            _ => Err(ProjectError::NotFound(command.project_id().clone())),
        };
    };
    if &state.id != command.project_id() {
        return Err(ProjectError::NotFound(command.project_id().clone()));
    }
    match command {
        ProjectCommand::Create(c) => Err(ProjectError::AlreadyExists(c.project_id.clone())),
        ProjectCommand::Rename(c) => rename(state, owner(state, issued)?, c),
        ProjectCommand::Move(c) => move_to(state, owner(state, issued)?, c),
        ProjectCommand::Delete(_) => delete(state, owner(state, issued)?),
    }
}

/// Checks the owner issued the command and the project is not deleted.
fn owner(state: &ProjectState, issued: &Issued<ProjectCommand>) -> Result<By, ProjectError> {
    match issued.user() {
        Some(user) if user == state.owner => {}
        _ => {
            return Err(ProjectError::PermissionDenied {
                reason: "only the owner changes a project",
            });
        }
    }
    if state.deleted {
        return Err(ProjectError::Deleted);
    }
    Ok(By {
        user: state.owner.clone(),
        at: issued.at,
    })
}

fn create(issued: &Issued<ProjectCommand>, c: &Create) -> Decision {
    let owner = issued.user().ok_or(ProjectError::PermissionDenied {
        reason: "only users create projects",
    })?;
    if c.parent.as_ref() == Some(&c.project_id) {
        return Err(ProjectError::InvalidArgument {
            field: "parent",
            reason: "a project cannot be its own parent".to_owned(),
        });
    }
    Ok(vec![ProjectEvent::Created(events::Created {
        project_id: c.project_id.clone(),
        name: c.name.clone(),
        owner,
        parent: c.parent.clone(),
        at: issued.at,
    })])
}

fn rename(state: &ProjectState, by: By, c: &Rename) -> Decision {
    if state.name == c.name {
        return Ok(vec![]);
    }
    Ok(vec![ProjectEvent::Renamed(events::Renamed {
        project_id: state.id.clone(),
        name: c.name.clone(),
        by: by.user,
        at: by.at,
    })])
}

fn move_to(state: &ProjectState, by: By, c: &Move) -> Decision {
    if let Some(target) = &c.to {
        refuse_cycle(state, target, &c.to_ancestors)?;
    }
    if state.parent == c.to {
        return Ok(vec![]);
    }
    Ok(vec![ProjectEvent::Moved(events::Moved {
        project_id: state.id.clone(),
        from: state.parent.clone(),
        to: c.to.clone(),
        by: by.user,
        at: by.at,
    })])
}

/// The target may be neither the project nor one of its descendants (which
/// have the project among their ancestors).
fn refuse_cycle(
    state: &ProjectState,
    target: &ProjectId,
    ancestors: &[ProjectId],
) -> Result<(), ProjectError> {
    if target == &state.id || ancestors.contains(&state.id) {
        return Err(ProjectError::Cycle {
            target: target.clone(),
        });
    }
    Ok(())
}

fn delete(state: &ProjectState, by: By) -> Decision {
    Ok(vec![ProjectEvent::Deleted(events::Deleted {
        project_id: state.id.clone(),
        by: by.user,
        at: by.at,
    })])
}
