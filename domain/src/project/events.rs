//! What happened to a project: one payload struct per stored event type.

use serde::{Deserialize, Serialize};

use crate::envelope::Timestamp;
use crate::values::{Name, ProjectId, UserId};

/// Every event of a `project-<id>` stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProjectEvent {
    Created(Created),
    Renamed(Renamed),
    Moved(Moved),
    Deleted(Deleted),
}

crate::domain_events!(ProjectEvent {
    Created(Created) => "project.created" v1,
    Renamed(Renamed) => "project.renamed" v1,
    Moved(Moved) => "project.moved" v1,
    Deleted(Deleted) => "project.deleted" v1,
});

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Created {
    pub project_id: ProjectId,
    pub name: Name,
    /// The creator; the only user who may change the project.
    pub owner: UserId,
    pub parent: Option<ProjectId>,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Renamed {
    pub project_id: ProjectId,
    pub name: Name,
    pub by: UserId,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Moved {
    pub project_id: ProjectId,
    /// The previous parent, so tree read models need no lookup.
    pub from: Option<ProjectId>,
    pub to: Option<ProjectId>,
    pub by: UserId,
    pub at: Timestamp,
}

/// The project is deleted; the document clean-up process manager reacts to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deleted {
    pub project_id: ProjectId,
    pub by: UserId,
    pub at: Timestamp,
}
