//! How the in-memory documents read model answers [`DocumentQueries`]
//! questions: visibility checks, then range scans of the list indexes from
//! the page cursor.

use std::collections::{BTreeSet, HashSet};
use std::ops::Bound;

use quire_domain::document::Access;
use quire_domain::{DocumentId, ProjectId, Timestamp, UserId};
use serde::{Deserialize, Serialize};

use super::state::{DocOrder, DocumentRow, DocumentsState, ProjectOrder, ProjectRow};
use crate::query::{Page, PageRequest, QueryError};
use crate::read_models::documents::port::DocumentFilter;
use crate::read_models::documents::views::{DocumentView, ProjectView, ShareView, UploadState, VersionView};
use crate::read_models::paging::page_of;

/// Where a document list page ends: the last document's place.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DocumentCursor {
    created_at: i64,
    document: String,
}

/// Where a version list page ends: the last version's number.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct VersionCursor {
    below_version: u32,
}

/// Where a project list page ends: the last project's place.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProjectCursor {
    name: String,
    project: String,
}

fn not_found_document(id: &DocumentId) -> QueryError {
    QueryError::NotFound(format!("document {id}"))
}

fn not_found_project(id: &ProjectId) -> QueryError {
    QueryError::NotFound(format!("project {id}"))
}

impl DocumentsState {
    /// The document and the reader's access, if the reader may see it.
    fn visible(&self, reader: &UserId, id: &DocumentId) -> Result<(&DocumentRow, Access), QueryError> {
        let doc = self.documents.get(id).ok_or_else(|| not_found_document(id))?;
        let access = self
            .visible_access(reader, doc)
            .ok_or_else(|| not_found_document(id))?;
        Ok((doc, access))
    }

    pub(super) fn get_document(&self, reader: &UserId, id: &DocumentId) -> Result<DocumentView, QueryError> {
        let (doc, access) = self.visible(reader, id)?;
        Ok(self.document_view(doc, access))
    }

    pub(super) fn list_documents(
        &self,
        reader: &UserId,
        filter: &DocumentFilter,
        page: &PageRequest,
    ) -> Result<Page<DocumentView>, QueryError> {
        let size = page.size()?;
        let after = match page.cursor::<DocumentCursor>()? {
            Some(cursor) => Bound::Excluded(DocOrder {
                created_at: Timestamp(cursor.created_at),
                id: DocumentId::parse(&cursor.document).map_err(|_| QueryError::foreign_page_token())?,
            }),
            None => Bound::Unbounded,
        };
        let empty = BTreeSet::new();
        let mine = self.by_reader.get(reader).unwrap_or(&empty);
        // With a project filter, scan the smaller of the two sets.
        let scan = match &filter.project {
            Some(project) => {
                let filed = self.by_project.get(project).unwrap_or(&empty);
                if filed.len() < mine.len() { filed } else { mine }
            }
            None => mine,
        };
        let rows = scan
            .range((after, Bound::Unbounded))
            .filter_map(|order| self.documents.get(&order.id))
            .filter_map(|doc| {
                let access = doc.access_of(reader)?;
                let deleted = self.deleted_at(doc).is_some();
                let wanted = (filter.project.is_none() || doc.project == filter.project)
                    && (!filter.owned_only || access == Access::Owner)
                    && (!deleted || (filter.include_deleted && access == Access::Owner));
                wanted.then_some((doc, access))
            });
        page_of(
            rows,
            size,
            |(doc, _)| DocumentCursor {
                created_at: doc.created_at.0,
                document: doc.id.to_string(),
            },
            |(doc, access)| Ok(self.document_view(doc, *access)),
        )
    }

    pub(super) fn list_versions(
        &self,
        reader: &UserId,
        id: &DocumentId,
        page: &PageRequest,
    ) -> Result<Page<VersionView>, QueryError> {
        let size = page.size()?;
        let below = page.cursor::<VersionCursor>()?.map(|c| c.below_version);
        let (doc, _) = self.visible(reader, id)?;
        let end = match below {
            Some(number) => doc.versions.partition_point(|v| v.number < number),
            None => doc.versions.len(),
        };
        let rows = doc.versions[..end].iter().rev();
        page_of(
            rows,
            size,
            |v| VersionCursor {
                below_version: v.number,
            },
            |v| {
                Ok(VersionView {
                    number: v.number,
                    content_type: v.content_type.clone(),
                    size: v.size,
                    sha256: v.sha256.clone(),
                    uploaded_by: v.uploaded_by.clone(),
                    at: v.at,
                })
            },
        )
    }

    /// The project, if the reader owns it.
    fn own_project(&self, reader: &UserId, id: &ProjectId) -> Result<&ProjectRow, QueryError> {
        self.projects
            .get(id)
            .filter(|p| &p.owner == reader)
            .ok_or_else(|| not_found_project(id))
    }

    pub(super) fn get_project(&self, reader: &UserId, id: &ProjectId) -> Result<ProjectView, QueryError> {
        self.own_project(reader, id).map(project_view)
    }

    pub(super) fn list_projects(
        &self,
        reader: &UserId,
        parent: Option<&ProjectId>,
        page: &PageRequest,
    ) -> Result<Page<ProjectView>, QueryError> {
        let size = page.size()?;
        let after = match page.cursor::<ProjectCursor>()? {
            Some(cursor) => Bound::Excluded(ProjectOrder {
                name: quire_domain::Name::parse(&cursor.name)
                    .map_err(|_| QueryError::foreign_page_token())?,
                id: ProjectId::parse(&cursor.project).map_err(|_| QueryError::foreign_page_token())?,
            }),
            None => Bound::Unbounded,
        };
        if let Some(parent) = parent {
            self.own_project(reader, parent)?;
        }
        let key = (reader.clone(), parent.cloned());
        let Some(children) = self.children.get(&key) else {
            return Ok(Page::last(Vec::new()));
        };
        let rows = children
            .range((after, Bound::Unbounded))
            .filter_map(|order| self.projects.get(&order.id));
        page_of(
            rows,
            size,
            |p| ProjectCursor {
                name: p.name.to_string(),
                project: p.id.to_string(),
            },
            |p| Ok(project_view(p)),
        )
    }

    pub(super) fn project_ancestors(&self, id: &ProjectId) -> Result<Vec<ProjectId>, QueryError> {
        let mut project = self.projects.get(id).ok_or_else(|| not_found_project(id))?;
        let mut ancestors = Vec::new();
        let mut seen = HashSet::from([id]);
        while let Some(parent) = &project.parent {
            // A cycle cannot be written (the domain refuses it); stop rather
            // than loop if one ever were.
            if !seen.insert(parent) {
                break;
            }
            ancestors.push(parent.clone());
            match self.projects.get(parent) {
                Some(next) => project = next,
                None => break,
            }
        }
        Ok(ancestors)
    }

    pub(super) fn readable_documents(&self, reader: &UserId, ids: &[DocumentId]) -> BTreeSet<DocumentId> {
        ids.iter()
            .filter(|id| {
                self.documents
                    .get(*id)
                    .is_some_and(|doc| doc.access_of(reader).is_some() && self.deleted_at(doc).is_none())
            })
            .cloned()
            .collect()
    }

    pub(super) fn access_of(&self, reader: &UserId, id: &DocumentId) -> Option<Access> {
        let doc = self.documents.get(id)?;
        self.visible_access(reader, doc)
    }

    fn document_view(&self, doc: &DocumentRow, access: Access) -> DocumentView {
        let deleted_at = self.deleted_at(doc);
        let shares = match access {
            Access::Owner => doc
                .shares
                .iter()
                .map(|(user, role)| ShareView {
                    user: user.clone(),
                    role: *role,
                })
                .collect(),
            Access::Edit | Access::View => Vec::new(),
        };
        DocumentView {
            id: doc.id.clone(),
            name: doc.name.clone(),
            content_type: doc.content_type.clone(),
            size: doc.size,
            sha256: doc.sha256.clone(),
            owner: doc.owner.clone(),
            project: doc.project.clone(),
            version: doc.version,
            upload: if doc.version == 0 {
                UploadState::Pending
            } else {
                UploadState::Ready
            },
            deleted: deleted_at.is_some(),
            deleted_at,
            created_at: doc.created_at,
            updated_at: doc.updated_at,
            access,
            shares,
        }
    }
}

fn project_view(p: &ProjectRow) -> ProjectView {
    ProjectView {
        id: p.id.clone(),
        name: p.name.clone(),
        owner: p.owner.clone(),
        parent: p.parent.clone(),
        deleted: p.deleted_at.is_some(),
        deleted_at: p.deleted_at,
        created_at: p.created_at,
        updated_at: p.updated_at,
    }
}
