//! The project aggregate: a folder of documents, owned by its creator, that
//! can nest under another project.
//!
//! Rules in brief:
//! - Only the owner renames, moves or deletes a project; a deleted project
//!   accepts no command (projects are not restored).
//! - A move carries the target's ancestor chain, read by the handler; the
//!   move is refused when the target is the project itself or the project is
//!   among the target's ancestors (the target is its descendant).
//! - Deletion is soft. A process manager follows `project.deleted` and issues
//!   `DeleteWithProject` to each of the project's documents. Sub-projects are
//!   not cascaded by the domain: that is the process manager's policy.
//! - Existence of parents and targets, and the actor's right to write into
//!   them, are checked by the handler against read models.

mod commands;
mod decide;
mod errors;
mod events;
mod state;
#[cfg(test)]
mod tests;

pub use commands::*;
pub use errors::ProjectError;
pub use events::*;
pub use state::Project;

use crate::aggregate::Aggregate;
use crate::values::Issued;

impl Aggregate for Project {
    const CATEGORY: &'static str = "project";
    type Command = Issued<ProjectCommand>;
    type Event = ProjectEvent;
    type Error = ProjectError;

    fn decide(&self, command: &Self::Command) -> Result<Vec<ProjectEvent>, ProjectError> {
        decide::decide(self, command)
    }

    fn apply(&mut self, event: &ProjectEvent) {
        self.apply_event(event);
    }
}
