//! What callers may ask of a project (folder). The actor and time come from
//! the [`Issued`](crate::values::Issued) wrapper.

use crate::values::{Name, ProjectId};

/// Every command the project aggregate decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProjectCommand {
    Create(Create),
    Rename(Rename),
    Move(Move),
    Delete(Delete),
}

impl ProjectCommand {
    /// The project the command is for: the handler loads `project-<id>`.
    pub fn project_id(&self) -> &ProjectId {
        match self {
            ProjectCommand::Create(c) => &c.project_id,
            ProjectCommand::Rename(c) => &c.project_id,
            ProjectCommand::Move(c) => &c.project_id,
            ProjectCommand::Delete(c) => &c.project_id,
        }
    }
}

/// Creates a project owned by the actor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Create {
    /// New id, chosen by the handler.
    pub project_id: ProjectId,
    pub name: Name,
    /// The project to nest it in; the handler checks it exists and the actor
    /// may write to it. A new project has no children, so no cycle can form.
    pub parent: Option<ProjectId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rename {
    pub project_id: ProjectId,
    pub name: Name,
}

/// Nests the project under another one, or at the top level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Move {
    pub project_id: ProjectId,
    /// The new parent; `None` for the top level.
    pub to: Option<ProjectId>,
    /// The new parent's ancestors (its parent, that one's parent, … up to the
    /// top), read by the handler from the project read model. The aggregate
    /// cannot see other projects, so this is how it refuses cycles.
    pub to_ancestors: Vec<ProjectId>,
}

/// Soft-deletes the project. Its documents follow through a process manager
/// that issues `DeleteWithProject` to each of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delete {
    pub project_id: ProjectId,
}
