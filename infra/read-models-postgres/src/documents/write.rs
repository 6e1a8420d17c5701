//! Writes a documents batch's changes back, one multi-row statement per
//! kind of change (`UNNEST` of one array per column): changed documents and
//! projects (upserts), new versions, shares granted or changed, shares
//! withdrawn. A kind with nothing to write costs no statement.

use quire_projections::ProjectionError;

use super::model::{DocumentRow, ProjectRow, Side, VersionRow, Working};
use crate::convert::{position_to_db, role_to_db, to_db};
use crate::error::projection_error;
use crate::store::Tx;

/// Writes every change of the working set.
pub(super) async fn write(tx: &mut Tx, working: &Working) -> Result<(), ProjectionError> {
    let documents: Vec<&DocumentRow> = working
        .changed_documents
        .iter()
        .filter_map(|id| working.documents.get(id))
        .collect();
    if !documents.is_empty() {
        upsert_documents(tx, &documents).await?;
    }
    let projects: Vec<&ProjectRow> = working
        .changed_projects
        .iter()
        .filter_map(|id| working.projects.get(id))
        .collect();
    if !projects.is_empty() {
        upsert_projects(tx, &projects).await?;
    }
    if !working.side.new_versions.is_empty() {
        insert_versions(tx, &working.side.new_versions).await?;
    }
    write_shares(tx, &working.side).await
}

/// One array per column of the `documents` table.
#[derive(Default)]
struct DocumentColumns {
    id: Vec<String>,
    applied: Vec<i64>,
    name: Vec<String>,
    content_type: Vec<String>,
    size: Vec<i64>,
    sha256: Vec<String>,
    owner: Vec<String>,
    project: Vec<Option<String>>,
    version: Vec<i64>,
    pending_version: Vec<Option<i64>>,
    pending_content_type: Vec<Option<String>>,
    deleted_at: Vec<Option<i64>>,
    created_at: Vec<i64>,
    updated_at: Vec<i64>,
}

impl DocumentColumns {
    fn of(rows: &[&DocumentRow]) -> Result<DocumentColumns, ProjectionError> {
        let mut c = DocumentColumns::default();
        for row in rows {
            c.id.push(row.id.to_string());
            c.applied.push(position_to_db(row.applied)?);
            c.name.push(row.name.to_string());
            c.content_type.push(row.content_type.to_string());
            c.size.push(to_db(row.size, "size")?);
            c.sha256.push(row.sha256.to_string());
            c.owner.push(row.owner.to_string());
            c.project.push(row.project.as_ref().map(ToString::to_string));
            c.version.push(i64::from(row.version));
            c.pending_version
                .push(row.pending.as_ref().map(|(n, _)| i64::from(*n)));
            c.pending_content_type
                .push(row.pending.as_ref().map(|(_, t)| t.to_string()));
            c.deleted_at.push(row.deleted_at.map(|t| t.0));
            c.created_at.push(row.created_at.0);
            c.updated_at.push(row.updated_at.0);
        }
        Ok(c)
    }
}

async fn upsert_documents(tx: &mut Tx, rows: &[&DocumentRow]) -> Result<(), ProjectionError> {
    let c = DocumentColumns::of(rows)?;
    sqlx::query!(
        "INSERT INTO documents (id, applied, name, content_type, size, sha256, owner, project, version,
                                pending_version, pending_content_type, deleted_at, created_at, updated_at)
         SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::text[],
                              $7::text[], $8::text[], $9::bigint[], $10::bigint[], $11::text[], $12::bigint[],
                              $13::bigint[], $14::bigint[])
         ON CONFLICT (id) DO UPDATE SET
             applied = EXCLUDED.applied, name = EXCLUDED.name, content_type = EXCLUDED.content_type,
             size = EXCLUDED.size, sha256 = EXCLUDED.sha256, owner = EXCLUDED.owner,
             project = EXCLUDED.project, version = EXCLUDED.version,
             pending_version = EXCLUDED.pending_version,
             pending_content_type = EXCLUDED.pending_content_type,
             deleted_at = EXCLUDED.deleted_at, created_at = EXCLUDED.created_at,
             updated_at = EXCLUDED.updated_at",
        &c.id,
        &c.applied,
        &c.name,
        &c.content_type,
        &c.size,
        &c.sha256,
        &c.owner,
        &c.project as &[Option<String>],
        &c.version,
        &c.pending_version as &[Option<i64>],
        &c.pending_content_type as &[Option<String>],
        &c.deleted_at as &[Option<i64>],
        &c.created_at,
        &c.updated_at,
    )
    .execute(&mut **tx)
    .await
    .map_err(|error| projection_error("write documents", error))?;
    Ok(())
}

async fn upsert_projects(tx: &mut Tx, rows: &[&ProjectRow]) -> Result<(), ProjectionError> {
    let mut id = Vec::with_capacity(rows.len());
    let mut applied = Vec::with_capacity(rows.len());
    let mut name = Vec::with_capacity(rows.len());
    let mut owner = Vec::with_capacity(rows.len());
    let mut parent = Vec::with_capacity(rows.len());
    let mut deleted_at = Vec::with_capacity(rows.len());
    let mut created_at = Vec::with_capacity(rows.len());
    let mut updated_at = Vec::with_capacity(rows.len());
    for row in rows {
        id.push(row.id.to_string());
        applied.push(position_to_db(row.applied)?);
        name.push(row.name.to_string());
        owner.push(row.owner.to_string());
        parent.push(row.parent.as_ref().map(ToString::to_string));
        deleted_at.push(row.deleted_at.map(|t| t.0));
        created_at.push(row.created_at.0);
        updated_at.push(row.updated_at.0);
    }
    sqlx::query!(
        "INSERT INTO projects (id, applied, name, owner, parent, deleted_at, created_at, updated_at)
         SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[],
                              $7::bigint[], $8::bigint[])
         ON CONFLICT (id) DO UPDATE SET
             applied = EXCLUDED.applied, name = EXCLUDED.name, owner = EXCLUDED.owner,
             parent = EXCLUDED.parent, deleted_at = EXCLUDED.deleted_at,
             created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at",
        &id,
        &applied,
        &name,
        &owner,
        &parent as &[Option<String>],
        &deleted_at as &[Option<i64>],
        &created_at,
        &updated_at,
    )
    .execute(&mut **tx)
    .await
    .map_err(|error| projection_error("write projects", error))?;
    Ok(())
}

async fn insert_versions(tx: &mut Tx, rows: &[VersionRow]) -> Result<(), ProjectionError> {
    let mut document = Vec::with_capacity(rows.len());
    let mut number = Vec::with_capacity(rows.len());
    let mut content_type = Vec::with_capacity(rows.len());
    let mut size = Vec::with_capacity(rows.len());
    let mut sha256 = Vec::with_capacity(rows.len());
    let mut uploaded_by = Vec::with_capacity(rows.len());
    let mut at = Vec::with_capacity(rows.len());
    for row in rows {
        document.push(row.document.to_string());
        number.push(i64::from(row.number));
        content_type.push(row.content_type.to_string());
        size.push(to_db(row.size, "size")?);
        sha256.push(row.sha256.to_string());
        uploaded_by.push(row.uploaded_by.to_string());
        at.push(row.at.0);
    }
    sqlx::query!(
        "INSERT INTO document_versions (document, number, content_type, size, sha256, uploaded_by, at)
         SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::bigint[], $5::text[], $6::text[],
                              $7::bigint[])
         ON CONFLICT (document, number) DO NOTHING",
        &document,
        &number,
        &content_type,
        &size,
        &sha256,
        &uploaded_by,
        &at,
    )
    .execute(&mut **tx)
    .await
    .map_err(|error| projection_error("write versions", error))?;
    Ok(())
}

/// Grants and role changes as one upsert, withdrawals as one delete.
async fn write_shares(tx: &mut Tx, side: &Side) -> Result<(), ProjectionError> {
    let (mut granted, mut withdrawn) = ((vec![], vec![], vec![]), (vec![], vec![]));
    for ((document, user), role) in &side.shares {
        match role {
            Some(role) => {
                granted.0.push(document.to_string());
                granted.1.push(user.to_string());
                granted.2.push(role_to_db(*role).to_owned());
            }
            None => {
                withdrawn.0.push(document.to_string());
                withdrawn.1.push(user.to_string());
            }
        }
    }
    if !granted.0.is_empty() {
        sqlx::query!(
            "INSERT INTO document_shares (document, user_id, role)
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[])
             ON CONFLICT (document, user_id) DO UPDATE SET role = EXCLUDED.role",
            &granted.0,
            &granted.1,
            &granted.2,
        )
        .execute(&mut **tx)
        .await
        .map_err(|error| projection_error("write shares", error))?;
    }
    if !withdrawn.0.is_empty() {
        sqlx::query!(
            "DELETE FROM document_shares s USING UNNEST($1::text[], $2::text[]) AS w(document, user_id)
             WHERE s.document = w.document AND s.user_id = w.user_id",
            &withdrawn.0,
            &withdrawn.1,
        )
        .execute(&mut **tx)
        .await
        .map_err(|error| projection_error("withdraw shares", error))?;
    }
    Ok(())
}
