//! The project's state as its events left it, and how each event changes it.

use crate::values::{Name, ProjectId, UserId};

use super::events::ProjectEvent;

/// The project aggregate: empty until created.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Project {
    pub(super) state: Option<ProjectState>,
}

/// The facts the project's rules need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ProjectState {
    /// Compared with every command's id, so a misrouted command is refused,
    /// and with a move's target and its ancestors, to refuse cycles.
    pub(super) id: ProjectId,
    /// The only user who may change the project.
    pub(super) owner: UserId,
    /// Current name; a rename to it changes nothing.
    pub(super) name: Name,
    /// Current parent; a move to it changes nothing.
    pub(super) parent: Option<ProjectId>,
    /// Deleted projects accept no command (projects are not restored).
    pub(super) deleted: bool,
}

impl Project {
    pub fn id(&self) -> Option<&ProjectId> {
        self.state.as_ref().map(|s| &s.id)
    }

    pub fn owner(&self) -> Option<&UserId> {
        self.state.as_ref().map(|s| &s.owner)
    }

    pub fn name(&self) -> Option<&Name> {
        self.state.as_ref().map(|s| &s.name)
    }

    pub fn parent(&self) -> Option<&ProjectId> {
        self.state.as_ref().and_then(|s| s.parent.as_ref())
    }

    pub fn is_deleted(&self) -> bool {
        self.state.as_ref().is_some_and(|s| s.deleted)
    }

    /// Folds one event; events before creation are ignored.
    pub(super) fn apply_event(&mut self, event: &ProjectEvent) {
        match (event, self.state.as_mut()) {
            (ProjectEvent::Created(e), _) => {
                self.state = Some(ProjectState {
                    id: e.project_id.clone(),
                    owner: e.owner.clone(),
                    name: e.name.clone(),
                    parent: e.parent.clone(),
                    deleted: false,
                });
            }
            (ProjectEvent::Renamed(e), Some(state)) => state.name = e.name.clone(),
            (ProjectEvent::Moved(e), Some(state)) => state.parent = e.to.clone(),
            (ProjectEvent::Deleted(_), Some(state)) => state.deleted = true,
            (_, None) => {}
        }
    }
}
