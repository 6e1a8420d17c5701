//! `quire doc …`: upload, download, list and share documents.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use quire_proto::v1;
use quire_proto::v1::document_service_client::DocumentServiceClient;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::connection::{Connection, describe};
use super::output::{emit, time};

#[derive(Debug, Clone, Subcommand)]
pub enum DocCommand {
    /// Upload a file as a new document.
    Upload {
        file: PathBuf,
        /// Put it in this project.
        #[arg(long)]
        project: Option<String>,
        /// Content type (guessed from the extension otherwise).
        #[arg(long)]
        content_type: Option<String>,
    },
    /// Download a document's current (or given) version.
    Download {
        id: String,
        /// Write here instead of the document's name.
        #[arg(short, long)]
        output: Option<PathBuf>,
        #[arg(long, default_value_t = 0)]
        version: u32,
    },
    /// List the documents you own or that are shared with you.
    List(ListArgs),
    /// Share a document with a user.
    Share {
        id: String,
        user: String,
        #[arg(long, value_enum, default_value_t = Role::View)]
        role: Role,
    },
}

#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    #[arg(long)]
    pub project: Option<String>,
    /// Also your deleted documents.
    #[arg(long)]
    pub deleted: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Role {
    View,
    Edit,
}

pub async fn run(connection: Connection, command: DocCommand) -> anyhow::Result<()> {
    match command {
        DocCommand::Upload {
            file,
            project,
            content_type,
        } => upload(connection, &file, project, content_type).await,
        DocCommand::Download { id, output, version } => download(connection, &id, output, version).await,
        DocCommand::List(args) => list(connection, args).await,
        DocCommand::Share { id, user, role } => share(connection, id, user, role).await,
    }
}

fn client(
    connection: &Connection,
) -> DocumentServiceClient<
    tonic::service::interceptor::InterceptedService<tonic::transport::Channel, super::connection::Bearer>,
> {
    DocumentServiceClient::with_interceptor(connection.channel.clone(), connection.bearer.clone())
}

/// A content type from the file extension.
fn guess_content_type(path: &Path) -> &'static str {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("md" | "markdown") => "text/markdown",
        Some("txt" | "text" | "log") => "text/plain",
        Some("html" | "htm") => "text/html",
        Some("pdf") => "application/pdf",
        Some("json") => "application/json",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("docx") => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        _ => "application/octet-stream",
    }
}

async fn upload(
    connection: Connection,
    file: &Path,
    project: Option<String>,
    content_type: Option<String>,
) -> anyhow::Result<()> {
    let bytes = tokio::fs::read(file)
        .await
        .with_context(|| format!("reading {}", file.display()))?;
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .context("the file has no usable name")?
        .to_owned();
    let sha256 = format!("{:x}", Sha256::digest(&bytes));
    let content_type = content_type.unwrap_or_else(|| guess_content_type(file).to_owned());
    let request = v1::RequestUploadRequest {
        command_id: String::new(),
        name: name.clone(),
        content_type: content_type.clone(),
        size: bytes.len() as u64,
        sha256: sha256.clone(),
        project_id: project.unwrap_or_default(),
    };
    let ticket = client(&connection)
        .request_upload(request)
        .await
        .map_err(describe)?
        .into_inner();
    let response = reqwest::Client::new()
        .put(&ticket.upload_url)
        .header("content-type", &content_type)
        .body(bytes.clone())
        .send()
        .await
        .context("sending the file to the blob endpoint")?;
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap_or(serde_json::Value::Null);
    if !status.is_success() {
        anyhow::bail!(
            "upload refused ({status}): {}",
            body.get("error")
                .and_then(|e| e.as_str())
                .unwrap_or("no reason given")
        );
    }
    let position = body
        .get("position")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0);
    emit(
        connection.json,
        json!({"document_id": ticket.document_id, "name": name, "size": bytes.len(), "sha256": sha256, "content_type": content_type, "position": position}),
        || {
            format!(
                "uploaded {name} ({} bytes) as document {}",
                bytes.len(),
                ticket.document_id
            )
        },
    );
    Ok(())
}

async fn download(
    connection: Connection,
    id: &str,
    output: Option<PathBuf>,
    version: u32,
) -> anyhow::Result<()> {
    let mut documents = client(&connection);
    let document = documents
        .get_document(v1::GetDocumentRequest {
            document_id: id.to_owned(),
            read: None,
        })
        .await
        .map_err(describe)?
        .into_inner();
    let url = documents
        .get_download_url(v1::GetDownloadUrlRequest {
            document_id: id.to_owned(),
            version,
            read: None,
        })
        .await
        .map_err(describe)?
        .into_inner();
    let response = reqwest::get(&url.url)
        .await
        .context("fetching from the blob endpoint")?;
    if !response.status().is_success() {
        anyhow::bail!("download refused ({})", response.status());
    }
    let bytes = response.bytes().await.context("reading the download")?;
    let target = output.unwrap_or_else(|| PathBuf::from(&document.name));
    tokio::fs::write(&target, &bytes)
        .await
        .with_context(|| format!("writing {}", target.display()))?;
    emit(
        connection.json,
        json!({"document_id": id, "path": target.display().to_string(), "size": bytes.len()}),
        || {
            format!(
                "saved {} ({} bytes) to {}",
                document.name,
                bytes.len(),
                target.display()
            )
        },
    );
    Ok(())
}

async fn list(connection: Connection, args: ListArgs) -> anyhow::Result<()> {
    let mut documents = client(&connection);
    let mut token = String::new();
    loop {
        let request = v1::ListDocumentsRequest {
            project_id: args.project.clone().unwrap_or_default(),
            include_deleted: args.deleted,
            owned_only: false,
            page: Some(v1::PageRequest {
                page_size: 100,
                page_token: token,
            }),
            read: None,
        };
        let page = documents
            .list_documents(request)
            .await
            .map_err(describe)?
            .into_inner();
        for d in &page.documents {
            emit(
                connection.json,
                json!({"id": d.id, "name": d.name, "content_type": d.content_type, "size": d.size, "owner": d.owner_id,
                       "version": d.version, "ready": d.ready, "deleted": d.deleted, "project_id": d.project_id,
                       "created_at": d.created_at, "shares": d.shares.iter().map(|s| json!({"user": s.user_id, "role": s.role})).collect::<Vec<_>>()}),
                || {
                    let state = if d.deleted {
                        "deleted"
                    } else if d.ready {
                        "ready"
                    } else {
                        "uploading"
                    };
                    format!(
                        "{}  {:<32} {:>10} B  v{}  {:<9} owner={}  {}",
                        d.id,
                        d.name,
                        d.size,
                        d.version,
                        state,
                        d.owner_id,
                        time(d.created_at)
                    )
                },
            );
        }
        if page.next_page_token.is_empty() {
            return Ok(());
        }
        token = page.next_page_token;
    }
}

async fn share(connection: Connection, id: String, user: String, role: Role) -> anyhow::Result<()> {
    let role_value = match role {
        Role::View => v1::ShareRole::View,
        Role::Edit => v1::ShareRole::Edit,
    };
    let request = v1::ShareDocumentRequest {
        command_id: String::new(),
        document_id: id.clone(),
        user_id: user.clone(),
        role: role_value as i32,
    };
    let result = client(&connection)
        .share_document(request)
        .await
        .map_err(describe)?
        .into_inner();
    emit(
        connection.json,
        json!({"document_id": id, "user": user, "role": format!("{role:?}").to_lowercase(), "position": result.position}),
        || {
            format!(
                "shared document {id} with {user} ({})",
                format!("{role:?}").to_lowercase()
            )
        },
    );
    Ok(())
}
