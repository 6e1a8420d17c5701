//! Loads a documents batch's working set in three statements: the documents
//! and projects its events name, and which of the versions it completes
//! exist already.

use quire_domain::{ContentType, DocumentId, Name, ProjectId, Sha256, UserId};
use quire_projections::ProjectionError;

use super::model::{DocumentRow, ProjectRow, Wanted, Working};
use crate::convert::{parse_loaded, position_from_db, timestamp, u32_loaded, u64_loaded};
use crate::error::projection_error;
use crate::store::Tx;

/// The rows `wanted` names, as they are in the store.
pub(super) async fn load(tx: &mut Tx, wanted: &Wanted) -> Result<Working, ProjectionError> {
    let mut working = Working::default();
    if !wanted.documents.is_empty() {
        for row in load_documents(tx, &wanted.documents).await? {
            working.documents.insert(row.id.clone(), row);
        }
    }
    if !wanted.projects.is_empty() {
        for row in load_projects(tx, &wanted.projects).await? {
            working.projects.insert(row.id.clone(), row);
        }
    }
    if !wanted.versions.is_empty() {
        working.side.versions = load_versions(tx, &wanted.versions).await?.into_iter().collect();
    }
    Ok(working)
}

async fn load_documents(tx: &mut Tx, ids: &[String]) -> Result<Vec<DocumentRow>, ProjectionError> {
    let rows = sqlx::query!(
        "SELECT id, applied, name, content_type, size, sha256, owner, project, version,
                pending_version, pending_content_type, deleted_at, created_at, updated_at
         FROM documents WHERE id = ANY($1)",
        ids
    )
    .fetch_all(&mut **tx)
    .await
    .map_err(|error| projection_error("load documents", error))?;
    rows.into_iter()
        .map(|r| {
            let pending = match (r.pending_version, r.pending_content_type) {
                (Some(number), Some(content_type)) => Some((
                    u32_loaded(number, "pending version")?,
                    parse_loaded(&content_type, ContentType::parse, "content type")?,
                )),
                _ => None,
            };
            Ok(DocumentRow {
                applied: position_from_db(r.applied)?,
                id: parse_loaded(&r.id, DocumentId::parse, "document id")?,
                name: parse_loaded(&r.name, Name::parse, "name")?,
                content_type: parse_loaded(&r.content_type, ContentType::parse, "content type")?,
                size: u64_loaded(r.size, "size")?,
                sha256: parse_loaded(&r.sha256, Sha256::parse, "sha256")?,
                owner: parse_loaded(&r.owner, UserId::parse, "user id")?,
                project: r
                    .project
                    .map(|p| parse_loaded(&p, ProjectId::parse, "project id"))
                    .transpose()?,
                version: u32_loaded(r.version, "version")?,
                pending,
                deleted_at: r.deleted_at.map(timestamp),
                created_at: timestamp(r.created_at),
                updated_at: timestamp(r.updated_at),
            })
        })
        .collect()
}

async fn load_projects(tx: &mut Tx, ids: &[String]) -> Result<Vec<ProjectRow>, ProjectionError> {
    let rows = sqlx::query!(
        "SELECT id, applied, name, owner, parent, deleted_at, created_at, updated_at
         FROM projects WHERE id = ANY($1)",
        ids
    )
    .fetch_all(&mut **tx)
    .await
    .map_err(|error| projection_error("load projects", error))?;
    rows.into_iter()
        .map(|r| {
            Ok(ProjectRow {
                applied: position_from_db(r.applied)?,
                id: parse_loaded(&r.id, ProjectId::parse, "project id")?,
                name: parse_loaded(&r.name, Name::parse, "name")?,
                owner: parse_loaded(&r.owner, UserId::parse, "user id")?,
                parent: r
                    .parent
                    .map(|p| parse_loaded(&p, ProjectId::parse, "project id"))
                    .transpose()?,
                deleted_at: r.deleted_at.map(timestamp),
                created_at: timestamp(r.created_at),
                updated_at: timestamp(r.updated_at),
            })
        })
        .collect()
}

async fn load_versions(
    tx: &mut Tx,
    wanted: &[(String, i64)],
) -> Result<Vec<(DocumentId, u32)>, ProjectionError> {
    let (documents, numbers): (Vec<String>, Vec<i64>) = wanted.iter().cloned().unzip();
    let rows = sqlx::query!(
        "SELECT v.document, v.number FROM document_versions v
         JOIN UNNEST($1::text[], $2::bigint[]) AS w(document, number)
           ON v.document = w.document AND v.number = w.number",
        &documents,
        &numbers
    )
    .fetch_all(&mut **tx)
    .await
    .map_err(|error| projection_error("load versions", error))?;
    rows.into_iter()
        .map(|r| {
            Ok((
                parse_loaded(&r.document, DocumentId::parse, "document id")?,
                u32_loaded(r.number, "version")?,
            ))
        })
        .collect()
}
