//! `DocumentService`: uploads (signed URL or streamed), downloads, versions,
//! rename, move, share, delete and restore over gRPC.

use std::sync::Arc;

use futures::StreamExt;
use quire_domain::StreamId;
use quire_domain::document::Access;
use quire_domain::document::{
    Delete, Document, DocumentCommand, DocumentEvent, Move, Rename, RequestNewVersion, RequestUpload,
    Restore, Share, ShareRole, Unshare,
};
use quire_domain::values::{ContentType, DocumentId, Issued, Name, ProjectId, Sha256, UserId};
use quire_event_log::{Direction, LAST_VERSION};
use quire_projections::read_models::documents::{DocumentFilter, DocumentView, UploadState, VersionView};
use quire_proto::v1;
use quire_proto::v1::document_service_server::DocumentService;
use tonic::{Request, Response, Status, Streaming};

use crate::app::{App, ReadModel};
use crate::auth::caller;
use crate::blobs::{self, UploadError};
use crate::grpc::command::{Invocation, execute, now};
use crate::grpc::convert::{optional, page_request, read_options};
use crate::grpc::status::{from_log, from_query, invalid};

#[derive(Debug)]
pub struct DocumentApi {
    pub app: Arc<App>,
}

fn document_id(text: &str) -> Result<DocumentId, Status> {
    DocumentId::parse(text).map_err(|e| invalid("document_id", e))
}

fn access_to_proto(access: Access) -> i32 {
    match access {
        Access::View => v1::Access::View as i32,
        Access::Edit => v1::Access::Edit as i32,
        Access::Owner => v1::Access::Owner as i32,
    }
}

fn role_to_proto(role: ShareRole) -> i32 {
    match role {
        ShareRole::View => v1::ShareRole::View as i32,
        ShareRole::Edit => v1::ShareRole::Edit as i32,
    }
}

fn document_to_proto(view: &DocumentView) -> v1::Document {
    v1::Document {
        id: view.id.as_str().to_owned(),
        name: view.name.as_str().to_owned(),
        content_type: view.content_type.as_str().to_owned(),
        size: view.size,
        sha256: view.sha256.as_str().to_owned(),
        owner_id: view.owner.as_str().to_owned(),
        project_id: view
            .project
            .as_ref()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default(),
        version: view.version,
        ready: matches!(view.upload, UploadState::Ready),
        deleted: view.deleted,
        created_at: view.created_at.unix_micros(),
        updated_at: view.updated_at.unix_micros(),
        shares: view
            .shares
            .iter()
            .map(|s| v1::Share {
                user_id: s.user.as_str().to_owned(),
                role: role_to_proto(s.role),
            })
            .collect(),
        access: access_to_proto(view.access),
    }
}

fn version_to_proto(view: &VersionView) -> v1::DocumentVersion {
    v1::DocumentVersion {
        version: view.number,
        size: view.size,
        sha256: view.sha256.as_str().to_owned(),
        uploaded_by: view.uploaded_by.as_str().to_owned(),
        uploaded_at: view.at.unix_micros(),
        ready: true,
    }
}

/// The declared content of an upload, validated field by field.
struct Declared {
    name: Name,
    content_type: ContentType,
    size: u64,
    sha256: Sha256,
    project: Option<ProjectId>,
}

impl Declared {
    fn parse(
        name: &str,
        content_type: &str,
        size: u64,
        sha256: &str,
        project: &str,
        max: u64,
    ) -> Result<Declared, Status> {
        if size > max {
            return Err(invalid(
                "size",
                format!("{size} bytes is more than the maximum of {max}"),
            ));
        }
        Ok(Declared {
            name: Name::parse(name).map_err(|e| invalid("name", e))?,
            content_type: ContentType::parse(content_type).map_err(|e| invalid("content_type", e))?,
            size,
            sha256: Sha256::parse(sha256).map_err(|e| invalid("sha256", e))?,
            project: optional(project)
                .map(|p| ProjectId::parse(p).map_err(|e| invalid("project_id", e)))
                .transpose()?,
        })
    }
}

impl DocumentApi {
    async fn run(
        &self,
        id: &DocumentId,
        command: DocumentCommand,
        invocation: &Invocation,
    ) -> Result<v1::CommandResult, Status> {
        let issued = Issued::new(invocation.caller.actor(), now(), command);
        execute::<Document>(&self.app, id.as_str(), &issued, invocation).await
    }

    /// Checks that `project` is a live project of the caller.
    async fn check_project(&self, reader: &UserId, project: Option<&ProjectId>) -> Result<(), Status> {
        let Some(project) = project else { return Ok(()) };
        let view = self
            .app
            .documents
            .get_project(reader, project)
            .await
            .map_err(|e| Status::not_found(format!("project_id: {}", from_query(e).message())))?;
        if view.deleted {
            return Err(Status::failed_precondition(format!(
                "project_id: project {} is deleted",
                project.as_str()
            )));
        }
        Ok(())
    }

    /// Requests the upload of a new document; returns its id and result.
    async fn request_upload(
        &self,
        invocation: &Invocation,
        declared: Declared,
    ) -> Result<(DocumentId, v1::CommandResult), Status> {
        self.check_project(&invocation.caller.user, declared.project.as_ref())
            .await?;
        let id = document_id(&invocation.new_id("document"))?;
        let command = DocumentCommand::RequestUpload(RequestUpload {
            document_id: id.clone(),
            name: declared.name,
            content_type: declared.content_type,
            size: declared.size,
            sha256: declared.sha256,
            project: declared.project,
        });
        let result = self.run(&id, command, invocation).await?;
        Ok((id, result))
    }

    /// The version number the last `version_requested` event of the
    /// document assigned.
    async fn requested_version(&self, id: &DocumentId) -> Result<u32, Status> {
        let stream =
            StreamId::for_aggregate("document", id.as_str()).map_err(|e| invalid("document_id", e))?;
        let events = self
            .app
            .log
            .read_stream(&stream, LAST_VERSION, Direction::Backward, 16)
            .await
            .map_err(from_log)?;
        events
            .iter()
            .find_map(|e| match e.decode::<DocumentEvent>() {
                Ok(DocumentEvent::VersionRequested(requested)) => Some(requested.version),
                _ => None,
            })
            .ok_or_else(|| Status::internal("the new version was not recorded"))
    }
}

#[tonic::async_trait]
impl DocumentService for DocumentApi {
    async fn request_upload(
        &self,
        request: Request<v1::RequestUploadRequest>,
    ) -> Result<Response<v1::UploadTicket>, Status> {
        let invocation = Invocation::of(&request, &request.get_ref().command_id)?;
        let r = request.into_inner();
        let declared = Declared::parse(
            &r.name,
            &r.content_type,
            r.size,
            &r.sha256,
            &r.project_id,
            self.app.max_upload_bytes,
        )?;
        let content_type = declared.content_type.as_str().to_owned();
        let (id, result) = DocumentApi::request_upload(self, &invocation, declared).await?;
        let (upload_url, expires_at) =
            self.app
                .urls
                .upload(&id, 1, r.size, &content_type, &invocation.caller)?;
        Ok(Response::new(v1::UploadTicket {
            document_id: id.as_str().to_owned(),
            version: 1,
            upload_url,
            expires_at,
            result: Some(result),
        }))
    }

    async fn upload_document(
        &self,
        request: Request<Streaming<v1::UploadChunk>>,
    ) -> Result<Response<v1::UploadDocumentResponse>, Status> {
        let invocation = Invocation::of(&request, "")?;
        let mut chunks = request.into_inner();
        let metadata = match chunks.message().await? {
            Some(v1::UploadChunk {
                chunk: Some(v1::upload_chunk::Chunk::Metadata(metadata)),
            }) => metadata,
            _ => {
                return Err(invalid(
                    "metadata",
                    "the first message must carry the upload's metadata",
                ));
            }
        };
        let mut invocation = invocation;
        if !metadata.command_id.is_empty() {
            invocation.context = invocation.context.with_command_id(&metadata.command_id);
            invocation.keyed = true;
        }
        let m = &metadata;
        let declared = Declared::parse(
            &m.name,
            &m.content_type,
            m.size,
            &m.sha256,
            &m.project_id,
            self.app.max_stream_upload_bytes,
        )?;
        let (id, _) = DocumentApi::request_upload(self, &invocation, declared).await?;
        let body = chunks
            .map(|chunk| match chunk {
                Ok(v1::UploadChunk {
                    chunk: Some(v1::upload_chunk::Chunk::Data(data)),
                }) => Ok(bytes::Bytes::from(data)),
                Ok(_) => Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "only data may follow the metadata",
                )),
                Err(status) => Err(std::io::Error::other(status.message().to_owned())),
            })
            .boxed();
        let result = blobs::store_and_complete(&self.app, &id, 1, m.size, &invocation.caller, body)
            .await
            .map_err(UploadError::into_status)?;
        Ok(Response::new(v1::UploadDocumentResponse {
            document_id: id.as_str().to_owned(),
            result: Some(result),
        }))
    }

    async fn request_new_version(
        &self,
        request: Request<v1::RequestNewVersionRequest>,
    ) -> Result<Response<v1::UploadTicket>, Status> {
        let invocation = Invocation::of(&request, &request.get_ref().command_id)?;
        let r = request.into_inner();
        let id = document_id(&r.document_id)?;
        if r.size > self.app.max_upload_bytes {
            return Err(invalid(
                "size",
                format!(
                    "{} bytes is more than the maximum of {}",
                    r.size, self.app.max_upload_bytes
                ),
            ));
        }
        let command = DocumentCommand::RequestNewVersion(RequestNewVersion {
            document_id: id.clone(),
            content_type: ContentType::parse(&r.content_type).map_err(|e| invalid("content_type", e))?,
            size: r.size,
            sha256: Sha256::parse(&r.sha256).map_err(|e| invalid("sha256", e))?,
        });
        let result = self.run(&id, command, &invocation).await?;
        let version = self.requested_version(&id).await?;
        let (upload_url, expires_at) =
            self.app
                .urls
                .upload(&id, version, r.size, &r.content_type, &invocation.caller)?;
        Ok(Response::new(v1::UploadTicket {
            document_id: id.as_str().to_owned(),
            version,
            upload_url,
            expires_at,
            result: Some(result),
        }))
    }

    async fn get_download_url(
        &self,
        request: Request<v1::GetDownloadUrlRequest>,
    ) -> Result<Response<v1::DownloadUrl>, Status> {
        let reader = caller(&request)?.user;
        let r = request.into_inner();
        self.app
            .wait_for(ReadModel::Documents, read_options(&r.read))
            .await?;
        let id = document_id(&r.document_id)?;
        let view = self
            .app
            .documents
            .get_document(&reader, &id)
            .await
            .map_err(from_query)?;
        if !matches!(view.upload, UploadState::Ready) {
            return Err(Status::failed_precondition(
                "the document's upload has not completed",
            ));
        }
        let version = if r.version == 0 { view.version } else { r.version };
        if version > view.version {
            return Err(invalid(
                "version",
                format!("the document has no version {version}"),
            ));
        }
        let (url, expires_at) = self.app.urls.download(&id, version, view.content_type.as_str())?;
        Ok(Response::new(v1::DownloadUrl { url, expires_at }))
    }

    async fn get_document(
        &self,
        request: Request<v1::GetDocumentRequest>,
    ) -> Result<Response<v1::Document>, Status> {
        let reader = caller(&request)?.user;
        let r = request.into_inner();
        self.app
            .wait_for(ReadModel::Documents, read_options(&r.read))
            .await?;
        let view = self
            .app
            .documents
            .get_document(&reader, &document_id(&r.document_id)?)
            .await
            .map_err(from_query)?;
        Ok(Response::new(document_to_proto(&view)))
    }

    async fn list_documents(
        &self,
        request: Request<v1::ListDocumentsRequest>,
    ) -> Result<Response<v1::ListDocumentsResponse>, Status> {
        let reader = caller(&request)?.user;
        let r = request.into_inner();
        self.app
            .wait_for(ReadModel::Documents, read_options(&r.read))
            .await?;
        let filter = DocumentFilter {
            project: optional(&r.project_id)
                .map(|p| ProjectId::parse(p).map_err(|e| invalid("project_id", e)))
                .transpose()?,
            include_deleted: r.include_deleted,
            owned_only: r.owned_only,
        };
        let page = self
            .app
            .documents
            .list_documents(&reader, filter, page_request(&r.page))
            .await
            .map_err(from_query)?;
        Ok(Response::new(v1::ListDocumentsResponse {
            documents: page.items.iter().map(document_to_proto).collect(),
            next_page_token: page.next_page_token.unwrap_or_default(),
        }))
    }

    async fn list_versions(
        &self,
        request: Request<v1::ListVersionsRequest>,
    ) -> Result<Response<v1::ListVersionsResponse>, Status> {
        let reader = caller(&request)?.user;
        let r = request.into_inner();
        self.app
            .wait_for(ReadModel::Documents, read_options(&r.read))
            .await?;
        let id = document_id(&r.document_id)?;
        let page = self
            .app
            .documents
            .list_versions(&reader, &id, page_request(&r.page))
            .await
            .map_err(from_query)?;
        Ok(Response::new(v1::ListVersionsResponse {
            versions: page.items.iter().map(version_to_proto).collect(),
            next_page_token: page.next_page_token.unwrap_or_default(),
        }))
    }

    async fn rename_document(
        &self,
        request: Request<v1::RenameDocumentRequest>,
    ) -> Result<Response<v1::CommandResult>, Status> {
        let invocation = Invocation::of(&request, &request.get_ref().command_id)?;
        let r = request.into_inner();
        let id = document_id(&r.document_id)?;
        let name = Name::parse(&r.name).map_err(|e| invalid("name", e))?;
        Ok(Response::new(
            self.run(
                &id,
                DocumentCommand::Rename(Rename {
                    document_id: id.clone(),
                    name,
                }),
                &invocation,
            )
            .await?,
        ))
    }

    async fn move_document(
        &self,
        request: Request<v1::MoveDocumentRequest>,
    ) -> Result<Response<v1::CommandResult>, Status> {
        let invocation = Invocation::of(&request, &request.get_ref().command_id)?;
        let r = request.into_inner();
        let id = document_id(&r.document_id)?;
        let to = optional(&r.project_id)
            .map(|p| ProjectId::parse(p).map_err(|e| invalid("project_id", e)))
            .transpose()?;
        self.check_project(&invocation.caller.user, to.as_ref()).await?;
        Ok(Response::new(
            self.run(
                &id,
                DocumentCommand::Move(Move {
                    document_id: id.clone(),
                    to,
                }),
                &invocation,
            )
            .await?,
        ))
    }

    async fn share_document(
        &self,
        request: Request<v1::ShareDocumentRequest>,
    ) -> Result<Response<v1::CommandResult>, Status> {
        let invocation = Invocation::of(&request, &request.get_ref().command_id)?;
        let r = request.into_inner();
        let id = document_id(&r.document_id)?;
        let user = UserId::parse(&r.user_id).map_err(|e| invalid("user_id", e))?;
        let role = match v1::ShareRole::try_from(r.role) {
            Ok(v1::ShareRole::View) => ShareRole::View,
            Ok(v1::ShareRole::Edit) => ShareRole::Edit,
            _ => return Err(invalid("role", "must be SHARE_ROLE_VIEW or SHARE_ROLE_EDIT")),
        };
        let command = DocumentCommand::Share(Share {
            document_id: id.clone(),
            user,
            role,
        });
        Ok(Response::new(self.run(&id, command, &invocation).await?))
    }

    async fn unshare_document(
        &self,
        request: Request<v1::UnshareDocumentRequest>,
    ) -> Result<Response<v1::CommandResult>, Status> {
        let invocation = Invocation::of(&request, &request.get_ref().command_id)?;
        let r = request.into_inner();
        let id = document_id(&r.document_id)?;
        let user = UserId::parse(&r.user_id).map_err(|e| invalid("user_id", e))?;
        let command = DocumentCommand::Unshare(Unshare {
            document_id: id.clone(),
            user,
        });
        Ok(Response::new(self.run(&id, command, &invocation).await?))
    }

    async fn delete_document(
        &self,
        request: Request<v1::DeleteDocumentRequest>,
    ) -> Result<Response<v1::CommandResult>, Status> {
        let invocation = Invocation::of(&request, &request.get_ref().command_id)?;
        let id = document_id(&request.get_ref().document_id)?;
        Ok(Response::new(
            self.run(
                &id,
                DocumentCommand::Delete(Delete {
                    document_id: id.clone(),
                }),
                &invocation,
            )
            .await?,
        ))
    }

    async fn restore_document(
        &self,
        request: Request<v1::RestoreDocumentRequest>,
    ) -> Result<Response<v1::CommandResult>, Status> {
        let invocation = Invocation::of(&request, &request.get_ref().command_id)?;
        let id = document_id(&request.get_ref().document_id)?;
        Ok(Response::new(
            self.run(
                &id,
                DocumentCommand::Restore(Restore {
                    document_id: id.clone(),
                }),
                &invocation,
            )
            .await?,
        ))
    }
}
