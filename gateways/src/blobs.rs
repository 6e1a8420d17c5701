//! Uploads and downloads of document content: signed, expiring URLs, and
//! the upload completion shared by the HTTP endpoint and gRPC streaming.
//!
//! An upload streams into the blob store with the declared size as its
//! limit; the store measures size and sha256; the document's
//! `CompleteUpload`/`CompleteVersion` command checks them against the
//! declaration. If the command refuses them, the blob is deleted, so no
//! partial or mismatched content is ever kept. One upload per document
//! version runs at a time, and a version that has content refuses another.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use quire_blob_local::signed_url::{GrantTerms, UrlMethod, UrlSigner};
use quire_command_handlers::CommandContext;
use quire_command_handlers::blobs::{BlobError, BlobKey, ByteStream};
use quire_domain::document::{CompleteUpload, CompleteVersion, Document, DocumentCommand};
use quire_domain::values::{DocumentId, Issued};
use quire_proto::v1;
use tonic::{Code, Status};

use crate::app::App;
use crate::auth::Caller;
use crate::grpc::command::{Invocation, execute, now};

/// Issues signed URLs for the HTTP blob endpoint.
pub struct SignedUrls {
    pub signer: UrlSigner,
    /// Public base of the HTTP endpoint, e.g. `http://127.0.0.1:50052`.
    pub base: String,
    pub upload_ttl: Duration,
    pub download_ttl: Duration,
}

impl std::fmt::Debug for SignedUrls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedUrls").field("base", &self.base).finish()
    }
}

pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn key_of(id: &DocumentId, version: u32) -> Result<BlobKey, Status> {
    BlobKey::document_version(id, version).map_err(|e| Status::invalid_argument(format!("document_id: {e}")))
}

impl SignedUrls {
    /// A URL to `PUT` version `version` of `id` to, for `caller`.
    pub fn upload(
        &self,
        id: &DocumentId,
        version: u32,
        size: u64,
        content_type: &str,
        caller: &Caller,
    ) -> Result<(String, i64), Status> {
        let key = key_of(id, version)?;
        let expires_at = unix_now() + self.upload_ttl.as_secs();
        let terms = GrantTerms {
            max_size: Some(size),
            content_type: Some(content_type.to_owned()),
            actor: Some(caller.actor().to_string()),
        };
        let query = self.signer.sign(UrlMethod::Upload, &key, expires_at, &terms);
        Ok((format!("{}/blobs/{key}?{query}", self.base), expires_at as i64))
    }

    /// A URL to `GET` version `version` of `id` from.
    pub fn download(
        &self,
        id: &DocumentId,
        version: u32,
        content_type: &str,
    ) -> Result<(String, i64), Status> {
        let key = key_of(id, version)?;
        let expires_at = unix_now() + self.download_ttl.as_secs();
        let terms = GrantTerms {
            max_size: None,
            content_type: Some(content_type.to_owned()),
            actor: None,
        };
        let query = self.signer.sign(UrlMethod::Download, &key, expires_at, &terms);
        Ok((format!("{}/blobs/{key}?{query}", self.base), expires_at as i64))
    }
}

/// Document versions with an upload under way in this process.
#[derive(Debug, Default)]
pub struct UploadsInFlight(Mutex<HashSet<String>>);

/// Holds one document version's upload slot until dropped.
struct UploadSlot<'a> {
    set: &'a UploadsInFlight,
    key: String,
}

impl Drop for UploadSlot<'_> {
    fn drop(&mut self) {
        self.set.0.lock().remove(&self.key);
    }
}

impl UploadsInFlight {
    fn claim(&self, key: &BlobKey) -> Option<UploadSlot<'_>> {
        let key = key.as_str().to_owned();
        self.0
            .lock()
            .insert(key.clone())
            .then_some(UploadSlot { set: self, key })
    }
}

/// Why an upload failed.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("{0}")]
    Blob(#[from] BlobError),
    #[error("{}", .0.message())]
    Refused(Status),
    #[error("an upload of this document version is already under way")]
    InProgress,
    #[error("this document version already has its content")]
    AlreadyUploaded,
}

impl UploadError {
    pub fn into_status(self) -> Status {
        match self {
            UploadError::Blob(BlobError::TooLarge { max }) => Status::invalid_argument(format!(
                "size: the content is larger than the declared {max} bytes"
            )),
            UploadError::Blob(BlobError::Aborted { .. }) => {
                Status::cancelled("the upload was interrupted; nothing was stored")
            }
            UploadError::Blob(BlobError::InvalidKey { .. }) => {
                Status::invalid_argument("document_id: not a valid blob key")
            }
            UploadError::Blob(other) => Status::unavailable(other.to_string()),
            UploadError::Refused(status) => status,
            UploadError::InProgress | UploadError::AlreadyUploaded => {
                Status::failed_precondition(self.to_string())
            }
        }
    }
}

/// Stores `body` as version `version` of `id` and completes the upload in
/// `caller`'s name.
pub async fn store_and_complete(
    app: &App,
    id: &DocumentId,
    version: u32,
    declared_size: u64,
    caller: &Caller,
    body: ByteStream,
) -> Result<v1::CommandResult, UploadError> {
    let key = BlobKey::document_version(id, version)?;
    let _slot = app.uploads.claim(&key).ok_or(UploadError::InProgress)?;
    match app.blobs.stat(&key).await {
        Ok(_) => return Err(UploadError::AlreadyUploaded),
        Err(BlobError::NotFound { .. }) => {}
        Err(other) => return Err(other.into()),
    }
    let info = app.blobs.put(&key, body, declared_size).await?;
    let command = if version == 1 {
        DocumentCommand::CompleteUpload(CompleteUpload {
            document_id: id.clone(),
            size: info.size,
            sha256: info.sha256,
        })
    } else {
        DocumentCommand::CompleteVersion(CompleteVersion {
            document_id: id.clone(),
            version,
            size: info.size,
            sha256: info.sha256,
        })
    };
    let invocation = Invocation {
        caller: caller.clone(),
        context: CommandContext::new(caller.actor()).with_command_id(format!("complete:v{version}")),
        keyed: true,
    };
    let issued = Issued::new(caller.actor(), now(), command);
    match execute::<Document>(app, id.as_str(), &issued, &invocation).await {
        Ok(result) => Ok(result),
        Err(status) => {
            if matches!(
                status.code(),
                Code::InvalidArgument | Code::FailedPrecondition | Code::PermissionDenied | Code::NotFound
            ) {
                let _ = app.blobs.delete(&key).await;
            }
            Err(UploadError::Refused(status))
        }
    }
}

/// Shared handle type for the HTTP layer.
pub type SharedApp = Arc<App>;
