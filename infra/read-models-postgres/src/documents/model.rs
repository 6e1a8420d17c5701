//! The working set of one documents batch: the rows the batch touches,
//! loaded from the store, changed in memory by the events in order, with
//! the same rules and per-row position guards as the in-memory model
//! (`InMemoryDocuments`), and then written back by `write`.

use std::collections::{HashMap, HashSet};

use quire_domain::document::{self as doc, DocumentEvent, ShareRole};
use quire_domain::project::{self as proj, ProjectEvent};
use quire_domain::{ContentType, DocumentId, Name, Position, ProjectId, Sha256, Timestamp, UserId};
use tracing::warn;

/// An event of the batch, decoded.
#[derive(Debug)]
pub(super) enum Decoded {
    Document(Position, DocumentEvent),
    Project(Position, ProjectEvent),
}

/// One document as stored.
#[derive(Debug, Clone)]
pub(super) struct DocumentRow {
    /// Position of the last event applied: the idempotency guard.
    pub(super) applied: Position,
    pub(super) id: DocumentId,
    pub(super) name: Name,
    pub(super) content_type: ContentType,
    pub(super) size: u64,
    pub(super) sha256: Sha256,
    pub(super) owner: UserId,
    pub(super) project: Option<ProjectId>,
    pub(super) version: u32,
    /// A requested version not yet completed, whose content type the
    /// completion takes.
    pub(super) pending: Option<(u32, ContentType)>,
    pub(super) deleted_at: Option<Timestamp>,
    pub(super) created_at: Timestamp,
    pub(super) updated_at: Timestamp,
}

/// One project as stored.
#[derive(Debug, Clone)]
pub(super) struct ProjectRow {
    pub(super) applied: Position,
    pub(super) id: ProjectId,
    pub(super) name: Name,
    pub(super) owner: UserId,
    pub(super) parent: Option<ProjectId>,
    pub(super) deleted_at: Option<Timestamp>,
    pub(super) created_at: Timestamp,
    pub(super) updated_at: Timestamp,
}

/// A completed version to insert.
#[derive(Debug, Clone)]
pub(super) struct VersionRow {
    pub(super) document: DocumentId,
    pub(super) number: u32,
    pub(super) content_type: ContentType,
    pub(super) size: u64,
    pub(super) sha256: Sha256,
    pub(super) uploaded_by: UserId,
    pub(super) at: Timestamp,
}

/// What the batch writes besides document and project rows.
#[derive(Debug, Default)]
pub(super) struct Side {
    /// Versions that exist: loaded from the store, or added by the batch.
    pub(super) versions: HashSet<(DocumentId, u32)>,
    /// Versions the batch adds, in order.
    pub(super) new_versions: Vec<VersionRow>,
    /// The last share change per document and user: a role, or `None` for
    /// an unshare.
    pub(super) shares: HashMap<(DocumentId, UserId), Option<ShareRole>>,
}

/// Everything one batch reads and changes.
#[derive(Debug, Default)]
pub(super) struct Working {
    pub(super) documents: HashMap<DocumentId, DocumentRow>,
    pub(super) projects: HashMap<ProjectId, ProjectRow>,
    /// Rows to write back.
    pub(super) changed_documents: HashSet<DocumentId>,
    pub(super) changed_projects: HashSet<ProjectId>,
    pub(super) side: Side,
}

/// The ids a batch must load before it is applied.
#[derive(Debug, Default)]
pub(super) struct Wanted {
    pub(super) documents: Vec<String>,
    pub(super) projects: Vec<String>,
    /// `(document, version number)` of every completion.
    pub(super) versions: Vec<(String, i64)>,
}

impl Wanted {
    pub(super) fn of(events: &[Decoded]) -> Wanted {
        let mut wanted = Wanted::default();
        let mut seen_docs = HashSet::new();
        let mut seen_projects = HashSet::new();
        for event in events {
            match event {
                Decoded::Document(_, event) => {
                    let id = document_id(event);
                    if seen_docs.insert(id) {
                        wanted.documents.push(id.to_string());
                    }
                    if let Some(number) = completed_version(event) {
                        wanted.versions.push((id.to_string(), i64::from(number)));
                    }
                }
                Decoded::Project(_, event) => {
                    let id = project_id(event);
                    if seen_projects.insert(id) {
                        wanted.projects.push(id.to_string());
                    }
                }
            }
        }
        wanted
    }
}

impl Working {
    /// Applies one event, unless its row has already seen it.
    pub(super) fn apply(&mut self, event: Decoded) {
        match event {
            Decoded::Document(position, event) => self.apply_document(position, event),
            Decoded::Project(position, event) => self.apply_project(position, event),
        }
    }

    fn apply_document(&mut self, position: Position, event: DocumentEvent) {
        if let DocumentEvent::UploadRequested(e) = event {
            self.create_document(position, e);
            return;
        }
        let id = document_id(&event);
        let Some(row) = self.documents.get_mut(id) else {
            warn!(document = %id, %position, "event for a document that was never created; ignored");
            return;
        };
        if position > row.applied {
            row.applied = position;
            self.changed_documents.insert(row.id.clone());
            change_document(row, &mut self.side, event);
        }
    }

    fn create_document(&mut self, position: Position, e: doc::UploadRequested) {
        if let Some(row) = self.documents.get(&e.document_id) {
            if position > row.applied {
                warn!(document = %e.document_id, %position, "second upload request for a document; ignored");
            }
            return;
        }
        let row = DocumentRow {
            applied: position,
            id: e.document_id,
            name: e.name,
            content_type: e.content_type,
            size: e.size,
            sha256: e.sha256,
            owner: e.owner,
            project: e.project,
            version: 0,
            pending: None,
            deleted_at: None,
            created_at: e.at,
            updated_at: e.at,
        };
        self.changed_documents.insert(row.id.clone());
        self.documents.insert(row.id.clone(), row);
    }

    fn apply_project(&mut self, position: Position, event: ProjectEvent) {
        if let ProjectEvent::Created(e) = event {
            self.create_project(position, e);
            return;
        }
        let id = project_id(&event);
        let Some(row) = self.projects.get_mut(id) else {
            warn!(project = %id, %position, "event for a project that was never created; ignored");
            return;
        };
        if position > row.applied {
            row.applied = position;
            self.changed_projects.insert(row.id.clone());
            change_project(row, event);
        }
    }

    fn create_project(&mut self, position: Position, e: proj::Created) {
        if self.projects.contains_key(&e.project_id) {
            return;
        }
        let row = ProjectRow {
            applied: position,
            id: e.project_id,
            name: e.name,
            owner: e.owner,
            parent: e.parent,
            deleted_at: None,
            created_at: e.at,
            updated_at: e.at,
        };
        self.changed_projects.insert(row.id.clone());
        self.projects.insert(row.id.clone(), row);
    }
}

/// Applies an event other than the creation to a document row.
fn change_document(row: &mut DocumentRow, side: &mut Side, event: DocumentEvent) {
    let at = match event {
        DocumentEvent::UploadRequested(_) | DocumentEvent::TextExtracted(_) => return,
        DocumentEvent::UploadCompleted(e) => {
            let content_type = row.content_type.clone();
            let version = Completion::new(e.version, content_type, e.size, e.sha256, e.by, e.at);
            complete(row, side, version);
            e.at
        }
        DocumentEvent::VersionRequested(e) => {
            row.pending = Some((e.version, e.content_type));
            e.at
        }
        DocumentEvent::VersionCompleted(e) => {
            let content_type = match row.pending.take() {
                Some((number, content_type)) if number == e.version => content_type,
                _ => row.content_type.clone(),
            };
            let version = Completion::new(e.version, content_type, e.size, e.sha256, e.by, e.at);
            complete(row, side, version);
            e.at
        }
        DocumentEvent::Renamed(e) => {
            row.name = e.name;
            e.at
        }
        DocumentEvent::Moved(e) => {
            row.project = e.to;
            e.at
        }
        DocumentEvent::Shared(e) => {
            side.shares.insert((row.id.clone(), e.user), Some(e.role));
            e.at
        }
        DocumentEvent::Unshared(e) => {
            side.shares.insert((row.id.clone(), e.user), None);
            e.at
        }
        DocumentEvent::Deleted(e) => {
            row.deleted_at.get_or_insert(e.at);
            e.at
        }
        DocumentEvent::DeletedWithProject(e) => {
            row.deleted_at.get_or_insert(e.at);
            e.at
        }
        DocumentEvent::Restored(e) => {
            row.deleted_at = None;
            if e.detached_from_project.is_some() {
                row.project = None;
            }
            e.at
        }
    };
    row.updated_at = row.updated_at.max(at);
}

/// A completed version, before it is recorded.
struct Completion {
    number: u32,
    content_type: ContentType,
    size: u64,
    sha256: Sha256,
    by: UserId,
    at: Timestamp,
}

impl Completion {
    fn new(
        number: u32,
        content_type: ContentType,
        size: u64,
        sha256: Sha256,
        by: UserId,
        at: Timestamp,
    ) -> Self {
        Completion {
            number,
            content_type,
            size,
            sha256,
            by,
            at,
        }
    }
}

/// Records a completed version and makes it current if it is the newest.
fn complete(row: &mut DocumentRow, side: &mut Side, v: Completion) {
    if row
        .pending
        .as_ref()
        .is_some_and(|(number, _)| *number <= v.number)
    {
        row.pending = None;
    }
    if !side.versions.insert((row.id.clone(), v.number)) {
        return;
    }
    if v.number >= row.version {
        row.version = v.number;
        row.content_type = v.content_type.clone();
        row.size = v.size;
        row.sha256 = v.sha256.clone();
    }
    side.new_versions.push(VersionRow {
        document: row.id.clone(),
        number: v.number,
        content_type: v.content_type,
        size: v.size,
        sha256: v.sha256,
        uploaded_by: v.by,
        at: v.at,
    });
}

fn change_project(row: &mut ProjectRow, event: ProjectEvent) {
    let at = match event {
        ProjectEvent::Created(e) => e.at,
        ProjectEvent::Renamed(e) => {
            row.name = e.name;
            e.at
        }
        ProjectEvent::Moved(e) => {
            row.parent = e.to;
            e.at
        }
        ProjectEvent::Deleted(e) => {
            row.deleted_at.get_or_insert(e.at);
            e.at
        }
    };
    row.updated_at = row.updated_at.max(at);
}

/// The version number a completion event records.
fn completed_version(event: &DocumentEvent) -> Option<u32> {
    match event {
        DocumentEvent::UploadCompleted(e) => Some(e.version),
        DocumentEvent::VersionCompleted(e) => Some(e.version),
        _ => None,
    }
}

fn document_id(event: &DocumentEvent) -> &DocumentId {
    match event {
        DocumentEvent::UploadRequested(e) => &e.document_id,
        DocumentEvent::UploadCompleted(e) => &e.document_id,
        DocumentEvent::VersionRequested(e) => &e.document_id,
        DocumentEvent::VersionCompleted(e) => &e.document_id,
        DocumentEvent::Renamed(e) => &e.document_id,
        DocumentEvent::Moved(e) => &e.document_id,
        DocumentEvent::Shared(e) => &e.document_id,
        DocumentEvent::Unshared(e) => &e.document_id,
        DocumentEvent::Deleted(e) => &e.document_id,
        DocumentEvent::Restored(e) => &e.document_id,
        DocumentEvent::DeletedWithProject(e) => &e.document_id,
        DocumentEvent::TextExtracted(e) => &e.document_id,
    }
}

fn project_id(event: &ProjectEvent) -> &ProjectId {
    match event {
        ProjectEvent::Created(e) => &e.project_id,
        ProjectEvent::Renamed(e) => &e.project_id,
        ProjectEvent::Moved(e) => &e.project_id,
        ProjectEvent::Deleted(e) => &e.project_id,
    }
}
