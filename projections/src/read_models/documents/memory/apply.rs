//! How `document.*` and `project.*` events change the in-memory documents
//! read model. Every change is guarded by the row's `applied` position, so
//! an event delivered again changes nothing.

use quire_domain::document::{self as doc, DocumentEvent};
use quire_domain::project::{self as proj, ProjectEvent};
use quire_domain::{ContentType, DocumentId, Position, ProjectId, RecordedEvent, Sha256, Timestamp, UserId};
use tracing::warn;

use super::state::{DocumentRow, DocumentsState, PendingVersion, ProjectRow, VersionRow};
use crate::error::ProjectionError;
use crate::read_models::decode;

/// An event decoded before the store is locked.
#[derive(Debug)]
pub(super) enum Decoded {
    Document(Position, DocumentEvent),
    Project(Position, ProjectEvent),
    /// Outside this read model's categories; nothing to do.
    Other,
}

impl Decoded {
    /// Decodes by the stream's category.
    pub(super) fn from_event(event: &RecordedEvent) -> Result<Decoded, ProjectionError> {
        Ok(match event.stream_id.category() {
            "document" => Decoded::Document(event.position, decode(event)?),
            "project" => Decoded::Project(event.position, decode(event)?),
            _ => Decoded::Other,
        })
    }
}

impl DocumentsState {
    /// Applies one decoded event, unless its row has already seen it.
    pub(super) fn apply(&mut self, event: Decoded) {
        match event {
            Decoded::Document(position, event) => self.apply_document(position, event),
            Decoded::Project(position, event) => self.apply_project(position, event),
            Decoded::Other => {}
        }
    }

    fn apply_document(&mut self, position: Position, event: DocumentEvent) {
        if let DocumentEvent::UploadRequested(e) = event {
            self.create_document(position, e);
            return;
        }
        let id = document_id(&event);
        let Some(mut row) = self.documents.remove(id) else {
            warn!(document = %id, %position, "event for a document that was never created; ignored");
            return;
        };
        if position > row.applied {
            row.applied = position;
            self.change_document(&mut row, event);
        }
        self.documents.insert(row.id.clone(), row);
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
            versions: Vec::new(),
            shares: Default::default(),
            deleted_at: None,
            created_at: e.at,
            updated_at: e.at,
        };
        Self::index(&mut self.by_reader, row.owner.clone(), row.order());
        if let Some(project) = &row.project {
            Self::index(&mut self.by_project, project.clone(), row.order());
        }
        self.documents.insert(row.id.clone(), row);
    }

    /// Applies an event (other than the creation) to a row taken out of the
    /// map, so the indexes can be updated beside it.
    fn change_document(&mut self, row: &mut DocumentRow, event: DocumentEvent) {
        let at = match event {
            DocumentEvent::UploadRequested(_) => return,
            DocumentEvent::UploadCompleted(e) => {
                let content_type = row.content_type.clone();
                complete(row, e.version, content_type, e.size, e.sha256, e.by, e.at);
                e.at
            }
            DocumentEvent::VersionRequested(e) => {
                row.pending = Some(PendingVersion {
                    number: e.version,
                    content_type: e.content_type,
                });
                e.at
            }
            DocumentEvent::VersionCompleted(e) => {
                let content_type = match row.pending.take() {
                    Some(pending) if pending.number == e.version => pending.content_type,
                    _ => row.content_type.clone(),
                };
                complete(row, e.version, content_type, e.size, e.sha256, e.by, e.at);
                e.at
            }
            DocumentEvent::Renamed(e) => {
                row.name = e.name;
                e.at
            }
            DocumentEvent::Moved(e) => {
                self.refile(row, e.to);
                e.at
            }
            DocumentEvent::Shared(e) => {
                if row.shares.insert(e.user.clone(), e.role).is_none() {
                    Self::index(&mut self.by_reader, e.user, row.order());
                }
                e.at
            }
            DocumentEvent::Unshared(e) => {
                if row.shares.remove(&e.user).is_some() {
                    Self::unindex(&mut self.by_reader, &e.user, &row.order());
                }
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
                    self.refile(row, None);
                }
                e.at
            }
            // Extracted text is for search; nothing here shows it.
            DocumentEvent::TextExtracted(_) => return,
        };
        row.updated_at = row.updated_at.max(at);
    }

    /// Moves a document to another project (or none), with its index entry.
    fn refile(&mut self, row: &mut DocumentRow, to: Option<ProjectId>) {
        if row.project == to {
            return;
        }
        let order = row.order();
        if let Some(from) = &row.project {
            Self::unindex(&mut self.by_project, from, &order);
        }
        if let Some(to) = &to {
            Self::index(&mut self.by_project, to.clone(), order);
        }
        row.project = to;
    }

    fn apply_project(&mut self, position: Position, event: ProjectEvent) {
        if let ProjectEvent::Created(e) = event {
            self.create_project(position, e);
            return;
        }
        let id = project_id(&event);
        let Some(mut row) = self.projects.remove(id) else {
            warn!(project = %id, %position, "event for a project that was never created; ignored");
            return;
        };
        if position > row.applied {
            row.applied = position;
            self.change_project(&mut row, event);
        }
        self.projects.insert(row.id.clone(), row);
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
        self.list_project(&row);
        self.projects.insert(row.id.clone(), row);
    }

    fn change_project(&mut self, row: &mut ProjectRow, event: ProjectEvent) {
        let live = row.deleted_at.is_none();
        if live {
            self.unlist_project(row);
        }
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
        if row.deleted_at.is_none() {
            self.list_project(row);
        }
    }
}

/// Records a completed version and makes it current.
fn complete(
    row: &mut DocumentRow,
    number: u32,
    content_type: ContentType,
    size: u64,
    sha256: Sha256,
    by: UserId,
    at: Timestamp,
) {
    if row.pending.as_ref().is_some_and(|p| p.number <= number) {
        row.pending = None;
    }
    if row.versions.iter().any(|v| v.number == number) {
        return;
    }
    let version = VersionRow {
        number,
        content_type,
        size,
        sha256,
        uploaded_by: by,
        at,
    };
    let place = row.versions.partition_point(|v| v.number < number);
    row.versions.insert(place, version);
    if number >= row.version {
        let current = &row.versions[place];
        row.version = number;
        row.content_type = current.content_type.clone();
        row.size = current.size;
        row.sha256 = current.sha256.clone();
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
