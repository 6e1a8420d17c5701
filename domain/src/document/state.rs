//! The document's state as its events left it, how each event changes it
//! (`apply`), and the pure queries other layers ask of it (`access_of`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::values::{DocumentId, Name, ProjectId, Sha256, UserId};

use super::events::DocumentEvent;

/// The role a share grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShareRole {
    /// Read and download.
    View,
    /// Also rename and upload new versions.
    Edit,
}

/// What a user may do with a document. Ordered: each level includes the ones
/// before it (`View < Edit < Owner`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Access {
    View,
    Edit,
    /// Also share, unshare, move, delete and restore.
    Owner,
}

impl From<ShareRole> for Access {
    fn from(role: ShareRole) -> Access {
        match role {
            ShareRole::View => Access::View,
            ShareRole::Edit => Access::Edit,
        }
    }
}

/// The document aggregate: empty until its upload is requested.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Document {
    pub(super) state: Option<DocumentState>,
}

/// The facts the document's rules need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct DocumentState {
    /// Compared with every command's id, so a misrouted command is refused.
    pub(super) id: DocumentId,
    /// Holds every right; set once, at the upload request.
    pub(super) owner: UserId,
    /// Current name; a rename to it changes nothing.
    pub(super) name: Name,
    /// Current project; moves compare with it and `DeleteWithProject` must
    /// match it.
    pub(super) project: Option<ProjectId>,
    /// The users the owner shared with, and their roles.
    pub(super) shares: BTreeMap<UserId, ShareRole>,
    /// Number of completed versions; 0 while the first upload is pending.
    pub(super) versions: u32,
    /// The upload waiting for the blob store's measure, as declared.
    pub(super) pending: Option<PendingUpload>,
    /// Set while soft-deleted; says why, because a restore after the project
    /// went away must leave that project.
    pub(super) deleted: Option<Deletion>,
}

/// An announced upload: what completion must measure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PendingUpload {
    /// 1 for the first upload, then completed versions + 1.
    pub(super) version: u32,
    pub(super) size: u64,
    pub(super) sha256: Sha256,
}

/// Why a document is deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Deletion {
    ByOwner,
    WithProject(ProjectId),
}

impl Document {
    /// What `user` may do with the document; `None` for no access or no
    /// document. Deletion does not change it: the read side decides whether
    /// deleted documents are shown (to the owner, in a trash view).
    pub fn access_of(&self, user: &UserId) -> Option<Access> {
        self.state.as_ref()?.access_of(user)
    }

    pub fn id(&self) -> Option<&DocumentId> {
        self.state.as_ref().map(|s| &s.id)
    }

    pub fn owner(&self) -> Option<&UserId> {
        self.state.as_ref().map(|s| &s.owner)
    }

    pub fn name(&self) -> Option<&Name> {
        self.state.as_ref().map(|s| &s.name)
    }

    pub fn project(&self) -> Option<&ProjectId> {
        self.state.as_ref().and_then(|s| s.project.as_ref())
    }

    /// Number of completed versions (0 while the first upload is pending).
    pub fn current_version(&self) -> u32 {
        self.state.as_ref().map_or(0, |s| s.versions)
    }

    pub fn is_deleted(&self) -> bool {
        self.state.as_ref().is_some_and(|s| s.deleted.is_some())
    }

    /// Folds one event. Events for a document that was never created are
    /// ignored: `apply` never fails.
    pub(super) fn apply_event(&mut self, event: &DocumentEvent) {
        if let DocumentEvent::UploadRequested(e) = event {
            self.state = Some(DocumentState::created(e));
        } else if let Some(state) = self.state.as_mut() {
            state.apply(event);
        }
    }
}

impl DocumentState {
    pub(super) fn access_of(&self, user: &UserId) -> Option<Access> {
        if &self.owner == user {
            return Some(Access::Owner);
        }
        self.shares.get(user).map(|&role| Access::from(role))
    }

    fn created(e: &super::events::UploadRequested) -> DocumentState {
        DocumentState {
            id: e.document_id.clone(),
            owner: e.owner.clone(),
            name: e.name.clone(),
            project: e.project.clone(),
            shares: BTreeMap::new(),
            versions: 0,
            pending: Some(PendingUpload {
                version: 1,
                size: e.size,
                sha256: e.sha256.clone(),
            }),
            deleted: None,
        }
    }

    fn apply(&mut self, event: &DocumentEvent) {
        match event {
            DocumentEvent::UploadRequested(_) => {}
            DocumentEvent::UploadCompleted(e) => self.complete(e.version),
            DocumentEvent::VersionRequested(e) => {
                self.pending = Some(PendingUpload {
                    version: e.version,
                    size: e.size,
                    sha256: e.sha256.clone(),
                });
            }
            DocumentEvent::VersionCompleted(e) => self.complete(e.version),
            DocumentEvent::Renamed(e) => self.name = e.name.clone(),
            DocumentEvent::Moved(e) => self.project = e.to.clone(),
            DocumentEvent::Shared(e) => {
                self.shares.insert(e.user.clone(), e.role);
            }
            DocumentEvent::Unshared(e) => {
                self.shares.remove(&e.user);
            }
            DocumentEvent::Deleted(_) => self.deleted = Some(Deletion::ByOwner),
            DocumentEvent::Restored(e) => self.restore(e.detached_from_project.is_some()),
            DocumentEvent::DeletedWithProject(e) => {
                self.deleted = Some(Deletion::WithProject(e.project_id.clone()));
            }
            // Text is for the read side; no rule depends on it.
            DocumentEvent::TextExtracted(_) => {}
        }
    }

    fn complete(&mut self, version: u32) {
        self.versions = self.versions.max(version);
        self.pending = None;
    }

    fn restore(&mut self, detached: bool) {
        self.deleted = None;
        if detached {
            self.project = None;
        }
    }
}
