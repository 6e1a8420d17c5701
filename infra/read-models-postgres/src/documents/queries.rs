//! How [`PgDocuments`](super::PgDocuments) answers
//! [`DocumentQueries`](quire_projections::read_models::documents::DocumentQueries):
//! one statement per answer where it can (a document comes with the
//! reader's share, its project's deletion and, for its owner, its shares),
//! then the visibility rules of the port applied to the rows.
//!
//! A document's deletion is its own or its project's (`COALESCE`), so a
//! project's deletion reaches its documents before the clean-up does.

use std::collections::BTreeSet;

use quire_domain::document::Access;
use quire_domain::{ContentType, DocumentId, Name, ProjectId, Sha256, UserId};
use quire_projections::query::{Page, PageRequest, QueryError};
use quire_projections::read_models::documents::{
    DocumentFilter, DocumentView, ProjectView, ShareView, UploadState, VersionView,
};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;

use crate::convert::{parse_read, role_from_db, timestamp, u32_read, u64_read};
use crate::error::query_error;
use crate::paging::{fetch_limit, page_of};

/// A document row with what the reader's view needs.
#[derive(Debug)]
pub(super) struct DocRecord {
    id: String,
    name: String,
    content_type: String,
    size: i64,
    sha256: String,
    owner: String,
    project: Option<String>,
    version: i64,
    /// Its own deletion, else its project's.
    deleted_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
    /// The reader's share, if any.
    reader_role: Option<String>,
    /// Shares sorted by user; empty unless the reader is the owner.
    share_users: Vec<String>,
    share_roles: Vec<String>,
}

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

impl DocRecord {
    /// What the reader may do with it as the read side shows it: a deleted
    /// document is its owner's alone.
    fn access(&self, reader: &UserId) -> Result<Option<Access>, QueryError> {
        let access = if self.owner == reader.as_str() {
            Some(Access::Owner)
        } else {
            self.reader_role
                .as_deref()
                .map(role_from_db)
                .transpose()?
                .map(Access::from)
        };
        Ok(access.filter(|access| *access == Access::Owner || self.deleted_at.is_none()))
    }

    fn view(self, access: Access) -> Result<DocumentView, QueryError> {
        let shares = match access {
            Access::Owner => self
                .share_users
                .iter()
                .zip(&self.share_roles)
                .map(|(user, role)| {
                    Ok(ShareView {
                        user: parse_read(user, UserId::parse, "user id")?,
                        role: role_from_db(role)?,
                    })
                })
                .collect::<Result<Vec<_>, QueryError>>()?,
            Access::Edit | Access::View => Vec::new(),
        };
        let version = u32_read(self.version, "version")?;
        Ok(DocumentView {
            id: parse_read(&self.id, DocumentId::parse, "document id")?,
            name: parse_read(&self.name, Name::parse, "name")?,
            content_type: parse_read(&self.content_type, ContentType::parse, "content type")?,
            size: u64_read(self.size, "size")?,
            sha256: parse_read(&self.sha256, Sha256::parse, "sha256")?,
            owner: parse_read(&self.owner, UserId::parse, "user id")?,
            project: self
                .project
                .as_deref()
                .map(|p| parse_read(p, ProjectId::parse, "project id"))
                .transpose()?,
            version,
            upload: if version == 0 {
                UploadState::Pending
            } else {
                UploadState::Ready
            },
            deleted: self.deleted_at.is_some(),
            deleted_at: self.deleted_at.map(timestamp),
            created_at: timestamp(self.created_at),
            updated_at: timestamp(self.updated_at),
            access,
            shares,
        })
    }
}

/// The document and the reader's access, if they may see it.
pub(super) async fn visible(
    pool: &PgPool,
    reader: &UserId,
    id: &DocumentId,
) -> Result<(DocRecord, Access), QueryError> {
    let record = sqlx::query_as!(
        DocRecord,
        r#"SELECT d.id AS "id!", d.name AS "name!", d.content_type AS "content_type!", d.size AS "size!",
                  d.sha256 AS "sha256!", d.owner AS "owner!", d.project AS "project?",
                  d.version AS "version!", COALESCE(d.deleted_at, p.deleted_at) AS "deleted_at?",
                  d.created_at AS "created_at!", d.updated_at AS "updated_at!", s.role AS "reader_role?",
                  CASE WHEN d.owner = $2 THEN ARRAY(SELECT x.user_id FROM document_shares x
                       WHERE x.document = d.id ORDER BY x.user_id) ELSE '{}' END AS "share_users!",
                  CASE WHEN d.owner = $2 THEN ARRAY(SELECT x.role FROM document_shares x
                       WHERE x.document = d.id ORDER BY x.user_id) ELSE '{}' END AS "share_roles!"
           FROM documents d
           LEFT JOIN projects p ON p.id = d.project
           LEFT JOIN document_shares s ON s.document = d.id AND s.user_id = $2
           WHERE d.id = $1"#,
        id.as_str(),
        reader.as_str()
    )
    .fetch_optional(pool)
    .await
    .map_err(|error| query_error("get document", error))?
    .ok_or_else(|| not_found_document(id))?;
    let access = record.access(reader)?.ok_or_else(|| not_found_document(id))?;
    Ok((record, access))
}

pub(super) async fn get_document(
    pool: &PgPool,
    reader: &UserId,
    id: &DocumentId,
) -> Result<DocumentView, QueryError> {
    let (record, access) = visible(pool, reader, id).await?;
    record.view(access)
}

/// The reader's documents: those they own (a trash view adds their deleted
/// ones) merged with the live ones shared with them, newest first.
pub(super) async fn list_documents(
    pool: &PgPool,
    reader: &UserId,
    filter: &DocumentFilter,
    page: &PageRequest,
) -> Result<Page<DocumentView>, QueryError> {
    let size = page.size()?;
    let cursor = page.cursor::<DocumentCursor>()?;
    if let Some(cursor) = &cursor {
        DocumentId::parse(&cursor.document).map_err(|_| QueryError::foreign_page_token())?;
    }
    let (after_time, after_id) = cursor.map(|c| (c.created_at, c.document)).unzip();
    let project = filter.project.as_ref().map(ProjectId::as_str);
    let rows = sqlx::query_as!(
        DocRecord,
        r#"SELECT id AS "id!", name AS "name!", content_type AS "content_type!", size AS "size!",
                  sha256 AS "sha256!", owner AS "owner!", project AS "project?", version AS "version!",
                  deleted_at AS "deleted_at?", created_at AS "created_at!", updated_at AS "updated_at!",
                  reader_role AS "reader_role?", share_users AS "share_users!", share_roles AS "share_roles!"
           FROM (
             (SELECT d.id, d.name, d.content_type, d.size, d.sha256, d.owner, d.project, d.version,
                     COALESCE(d.deleted_at, p.deleted_at) AS deleted_at, d.created_at, d.updated_at,
                     NULL::text AS reader_role,
                     ARRAY(SELECT x.user_id FROM document_shares x WHERE x.document = d.id
                           ORDER BY x.user_id) AS share_users,
                     ARRAY(SELECT x.role FROM document_shares x WHERE x.document = d.id
                           ORDER BY x.user_id) AS share_roles
              FROM documents d LEFT JOIN projects p ON p.id = d.project
              WHERE d.owner = $1
                AND ($2::text IS NULL OR d.project = $2)
                AND ($3 OR COALESCE(d.deleted_at, p.deleted_at) IS NULL)
                AND ($4::bigint IS NULL OR (d.created_at, d.id) < ($4, $5::text))
              ORDER BY d.created_at DESC, d.id DESC LIMIT $6)
             UNION ALL
             (SELECT d.id, d.name, d.content_type, d.size, d.sha256, d.owner, d.project, d.version,
                     COALESCE(d.deleted_at, p.deleted_at) AS deleted_at, d.created_at, d.updated_at,
                     s.role AS reader_role, '{}'::text[] AS share_users, '{}'::text[] AS share_roles
              FROM document_shares s
              JOIN documents d ON d.id = s.document
              LEFT JOIN projects p ON p.id = d.project
              WHERE s.user_id = $1 AND d.owner <> $1 AND NOT $7
                AND ($2::text IS NULL OR d.project = $2)
                AND COALESCE(d.deleted_at, p.deleted_at) IS NULL
                AND ($4::bigint IS NULL OR (d.created_at, d.id) < ($4, $5::text))
              ORDER BY d.created_at DESC, d.id DESC LIMIT $6)
           ) AS listed
           ORDER BY created_at DESC, id DESC LIMIT $6"#,
        reader.as_str(),
        project,
        filter.include_deleted,
        after_time,
        after_id,
        fetch_limit(size),
        filter.owned_only,
    )
    .fetch_all(pool)
    .await
    .map_err(|error| query_error("list documents", error))?;
    page_of(
        rows,
        size,
        |r| DocumentCursor {
            created_at: r.created_at,
            document: r.id.clone(),
        },
        |r| {
            let access = r
                .access(reader)?
                .ok_or_else(|| QueryError::Unavailable("listed an invisible document".into()))?;
            r.view(access)
        },
    )
}

pub(super) async fn list_versions(
    pool: &PgPool,
    reader: &UserId,
    id: &DocumentId,
    page: &PageRequest,
) -> Result<Page<VersionView>, QueryError> {
    let size = page.size()?;
    let below = page
        .cursor::<VersionCursor>()?
        .map(|c| i64::from(c.below_version));
    visible(pool, reader, id).await?;
    let rows = sqlx::query!(
        "SELECT number, content_type, size, sha256, uploaded_by, at FROM document_versions
         WHERE document = $1 AND ($2::bigint IS NULL OR number < $2)
         ORDER BY number DESC LIMIT $3",
        id.as_str(),
        below,
        fetch_limit(size)
    )
    .fetch_all(pool)
    .await
    .map_err(|error| query_error("list versions", error))?;
    page_of(
        rows,
        size,
        |r| VersionCursor {
            below_version: u32::try_from(r.number).unwrap_or(u32::MAX),
        },
        |r| {
            Ok(VersionView {
                number: u32_read(r.number, "version")?,
                content_type: parse_read(&r.content_type, ContentType::parse, "content type")?,
                size: u64_read(r.size, "size")?,
                sha256: parse_read(&r.sha256, Sha256::parse, "sha256")?,
                uploaded_by: parse_read(&r.uploaded_by, UserId::parse, "user id")?,
                at: timestamp(r.at),
            })
        },
    )
}

/// A project row as stored.
#[derive(Debug)]
struct ProjectRecord {
    id: String,
    name: String,
    owner: String,
    parent: Option<String>,
    deleted_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl ProjectRecord {
    fn view(self) -> Result<ProjectView, QueryError> {
        Ok(ProjectView {
            id: parse_read(&self.id, ProjectId::parse, "project id")?,
            name: parse_read(&self.name, Name::parse, "name")?,
            owner: parse_read(&self.owner, UserId::parse, "user id")?,
            parent: self
                .parent
                .as_deref()
                .map(|p| parse_read(p, ProjectId::parse, "project id"))
                .transpose()?,
            deleted: self.deleted_at.is_some(),
            deleted_at: self.deleted_at.map(timestamp),
            created_at: timestamp(self.created_at),
            updated_at: timestamp(self.updated_at),
        })
    }
}

/// The project, if the reader owns it (deleted or not).
pub(super) async fn get_project(
    pool: &PgPool,
    reader: &UserId,
    id: &ProjectId,
) -> Result<ProjectView, QueryError> {
    let record = sqlx::query_as!(
        ProjectRecord,
        "SELECT id, name, owner, parent, deleted_at, created_at, updated_at FROM projects
         WHERE id = $1 AND owner = $2",
        id.as_str(),
        reader.as_str()
    )
    .fetch_optional(pool)
    .await
    .map_err(|error| query_error("get project", error))?
    .ok_or_else(|| not_found_project(id))?;
    record.view()
}

pub(super) async fn list_projects(
    pool: &PgPool,
    reader: &UserId,
    parent: Option<&ProjectId>,
    page: &PageRequest,
) -> Result<Page<ProjectView>, QueryError> {
    let size = page.size()?;
    let cursor = page.cursor::<ProjectCursor>()?;
    if let Some(cursor) = &cursor {
        Name::parse(&cursor.name).map_err(|_| QueryError::foreign_page_token())?;
        ProjectId::parse(&cursor.project).map_err(|_| QueryError::foreign_page_token())?;
    }
    if let Some(parent) = parent {
        get_project(pool, reader, parent).await?;
    }
    let (after_name, after_id) = cursor.map(|c| (c.name, c.project)).unzip();
    let rows = sqlx::query_as!(
        ProjectRecord,
        "SELECT id, name, owner, parent, deleted_at, created_at, updated_at FROM projects
         WHERE owner = $1 AND parent IS NOT DISTINCT FROM $2::text AND deleted_at IS NULL
           AND ($3::text IS NULL OR (name, id) > ($3, $4::text))
         ORDER BY name, id LIMIT $5",
        reader.as_str(),
        parent.map(ProjectId::as_str),
        after_name,
        after_id,
        fetch_limit(size)
    )
    .fetch_all(pool)
    .await
    .map_err(|error| query_error("list projects", error))?;
    page_of(
        rows,
        size,
        |r| ProjectCursor {
            name: r.name.clone(),
            project: r.id.clone(),
        },
        ProjectRecord::view,
    )
}

/// The project's ancestors, nearest first; an ancestor that is not stored
/// ends the list (it is listed), and so does a cycle (it is not).
pub(super) async fn project_ancestors(pool: &PgPool, id: &ProjectId) -> Result<Vec<ProjectId>, QueryError> {
    let chain = sqlx::query!(
        r#"WITH RECURSIVE chain(id, parent, depth, path) AS (
             SELECT id, parent, 0, ARRAY[id] FROM projects WHERE id = $1
             UNION ALL
             SELECT p.id, p.parent, c.depth + 1, c.path || p.id
             FROM chain c JOIN projects p ON p.id = c.parent
             WHERE NOT p.id = ANY(c.path)
           )
           SELECT id AS "id!", parent FROM chain ORDER BY depth"#,
        id.as_str()
    )
    .fetch_all(pool)
    .await
    .map_err(|error| query_error("project ancestors", error))?;
    if chain.is_empty() {
        return Err(not_found_project(id));
    }
    let mut seen = BTreeSet::from([id.as_str().to_owned()]);
    let mut ancestors = Vec::new();
    for link in &chain {
        let Some(parent) = &link.parent else { break };
        if !seen.insert(parent.clone()) {
            break;
        }
        ancestors.push(parse_read(parent, ProjectId::parse, "project id")?);
    }
    Ok(ancestors)
}

pub(super) async fn readable_documents(
    pool: &PgPool,
    reader: &UserId,
    ids: &[DocumentId],
) -> Result<BTreeSet<DocumentId>, QueryError> {
    if ids.is_empty() {
        return Ok(BTreeSet::new());
    }
    let wanted: Vec<String> = ids.iter().map(ToString::to_string).collect();
    let rows = sqlx::query_scalar!(
        "SELECT d.id FROM documents d LEFT JOIN projects p ON p.id = d.project
         WHERE d.id = ANY($1) AND COALESCE(d.deleted_at, p.deleted_at) IS NULL
           AND (d.owner = $2 OR EXISTS (SELECT 1 FROM document_shares s
                                        WHERE s.document = d.id AND s.user_id = $2))",
        &wanted,
        reader.as_str()
    )
    .fetch_all(pool)
    .await
    .map_err(|error| query_error("readable documents", error))?;
    rows.iter()
        .map(|id| parse_read(id, DocumentId::parse, "document id"))
        .collect()
}

pub(super) async fn access_of(
    pool: &PgPool,
    reader: &UserId,
    id: &DocumentId,
) -> Result<Option<Access>, QueryError> {
    match visible(pool, reader, id).await {
        Ok((_, access)) => Ok(Some(access)),
        Err(QueryError::NotFound(_)) => Ok(None),
        Err(error) => Err(error),
    }
}
