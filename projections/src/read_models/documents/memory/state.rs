//! The rows and indexes of the in-memory documents read model.
//!
//! Rows are keyed by id; the list indexes are ordered sets of small keys in
//! list order, so a page is a range scan from the cursor.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use quire_domain::document::{Access, ShareRole};
use quire_domain::{ContentType, DocumentId, Name, Position, ProjectId, Sha256, Timestamp, UserId};

/// Everything the read model holds, behind one lock.
#[derive(Debug, Default)]
pub(super) struct DocumentsState {
    /// The last checkpoint `apply` was given: what `load_checkpoint` answers.
    pub(super) checkpoint: Position,
    pub(super) documents: HashMap<DocumentId, DocumentRow>,
    pub(super) projects: HashMap<ProjectId, ProjectRow>,
    /// Per user, the documents they own or have a share on, in list order:
    /// listing a reader's documents never scans anyone else's.
    pub(super) by_reader: HashMap<UserId, BTreeSet<DocOrder>>,
    /// Per project, the documents filed in it, in list order: a project
    /// filter scans whichever of this and the reader's set is smaller.
    pub(super) by_project: HashMap<ProjectId, BTreeSet<DocOrder>>,
    /// Per owner and parent (`None`: top level), the live projects in name
    /// order.
    pub(super) children: HashMap<(UserId, Option<ProjectId>), BTreeSet<ProjectOrder>>,
}

/// One document.
#[derive(Debug, Clone)]
pub(super) struct DocumentRow {
    /// Position of the last event applied to this row: the idempotency
    /// guard.
    pub(super) applied: Position,
    pub(super) id: DocumentId,
    pub(super) name: Name,
    /// Of the current version (declared while the first upload is pending).
    pub(super) content_type: ContentType,
    pub(super) size: u64,
    pub(super) sha256: Sha256,
    pub(super) owner: UserId,
    pub(super) project: Option<ProjectId>,
    /// Current version number; 0 while the first upload is pending.
    pub(super) version: u32,
    /// A requested version not yet completed, whose content type the
    /// completion takes.
    pub(super) pending: Option<PendingVersion>,
    /// Completed versions, by number ascending.
    pub(super) versions: Vec<VersionRow>,
    /// Sharees and their roles (the owner is never among them).
    pub(super) shares: BTreeMap<UserId, ShareRole>,
    /// Set while soft-deleted (by the owner or with the project).
    pub(super) deleted_at: Option<Timestamp>,
    pub(super) created_at: Timestamp,
    pub(super) updated_at: Timestamp,
}

/// A requested version, until it completes.
#[derive(Debug, Clone)]
pub(super) struct PendingVersion {
    pub(super) number: u32,
    pub(super) content_type: ContentType,
}

/// One completed version.
#[derive(Debug, Clone)]
pub(super) struct VersionRow {
    pub(super) number: u32,
    pub(super) content_type: ContentType,
    pub(super) size: u64,
    pub(super) sha256: Sha256,
    pub(super) uploaded_by: UserId,
    pub(super) at: Timestamp,
}

/// One project.
#[derive(Debug, Clone)]
pub(super) struct ProjectRow {
    /// Position of the last event applied to this row: the idempotency
    /// guard.
    pub(super) applied: Position,
    pub(super) id: ProjectId,
    pub(super) name: Name,
    pub(super) owner: UserId,
    pub(super) parent: Option<ProjectId>,
    pub(super) deleted_at: Option<Timestamp>,
    pub(super) created_at: Timestamp,
    pub(super) updated_at: Timestamp,
}

/// A document's place in a list: newest first, then id descending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct DocOrder {
    pub(super) created_at: Timestamp,
    pub(super) id: DocumentId,
}

impl Ord for DocOrder {
    fn cmp(&self, other: &DocOrder) -> Ordering {
        other
            .created_at
            .cmp(&self.created_at)
            .then_with(|| other.id.cmp(&self.id))
    }
}

impl PartialOrd for DocOrder {
    fn partial_cmp(&self, other: &DocOrder) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A project's place in a list: by name, then id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct ProjectOrder {
    pub(super) name: Name,
    pub(super) id: ProjectId,
}

impl DocumentRow {
    pub(super) fn order(&self) -> DocOrder {
        DocOrder {
            created_at: self.created_at,
            id: self.id.clone(),
        }
    }

    /// What `user` may do with the document, deletion aside.
    pub(super) fn access_of(&self, user: &UserId) -> Option<Access> {
        if &self.owner == user {
            return Some(Access::Owner);
        }
        self.shares.get(user).map(|&role| Access::from(role))
    }
}

impl ProjectRow {
    pub(super) fn order(&self) -> ProjectOrder {
        ProjectOrder {
            name: self.name.clone(),
            id: self.id.clone(),
        }
    }

    /// The key of the list this project appears in.
    pub(super) fn siblings_key(&self) -> (UserId, Option<ProjectId>) {
        (self.owner.clone(), self.parent.clone())
    }
}

impl DocumentsState {
    /// When the document became deleted, if it is: deleted itself, or filed
    /// in a deleted project (before the project's clean-up reaches it).
    pub(super) fn deleted_at(&self, doc: &DocumentRow) -> Option<Timestamp> {
        doc.deleted_at.or_else(|| {
            let project = self.projects.get(doc.project.as_ref()?)?;
            project.deleted_at
        })
    }

    /// What `reader` may do with the document as the read side shows it: a
    /// deleted document is its owner's alone.
    pub(super) fn visible_access(&self, reader: &UserId, doc: &DocumentRow) -> Option<Access> {
        let access = doc.access_of(reader)?;
        if access < Access::Owner && self.deleted_at(doc).is_some() {
            return None;
        }
        Some(access)
    }

    /// Adds a document to a list index.
    pub(super) fn index<K: std::hash::Hash + Eq>(
        index: &mut HashMap<K, BTreeSet<DocOrder>>,
        key: K,
        order: DocOrder,
    ) {
        index.entry(key).or_default().insert(order);
    }

    /// Removes a document from a list index, dropping emptied sets.
    pub(super) fn unindex<K: std::hash::Hash + Eq>(
        index: &mut HashMap<K, BTreeSet<DocOrder>>,
        key: &K,
        order: &DocOrder,
    ) {
        if let Some(set) = index.get_mut(key) {
            set.remove(order);
            if set.is_empty() {
                index.remove(key);
            }
        }
    }

    /// Adds a live project to its siblings' list.
    pub(super) fn list_project(&mut self, project: &ProjectRow) {
        self.children
            .entry(project.siblings_key())
            .or_default()
            .insert(project.order());
    }

    /// Removes a project from its siblings' list.
    pub(super) fn unlist_project(&mut self, project: &ProjectRow) {
        let key = project.siblings_key();
        if let Some(set) = self.children.get_mut(&key) {
            set.remove(&project.order());
            if set.is_empty() {
                self.children.remove(&key);
            }
        }
    }
}
