//! The HTTP blob endpoint that signed URLs point at: `PUT /blobs/<key>`
//! uploads a document version, `GET /blobs/<key>` downloads one. The
//! signature in the query is the only credential; it names the key, the
//! method, the expiry and (for uploads) the size, type and requester.

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::put;
use futures::{StreamExt, TryStreamExt};
use quire_blob_local::signed_url::{SignatureError, UrlMethod};
use quire_command_handlers::blobs::{BlobError, BlobKey};
use quire_domain::Actor;
use quire_domain::values::{DocumentId, UserId};
use tokio::net::TcpListener;
use tonic::Code;

use crate::app::App;
use crate::auth::Caller;
use crate::blobs::{UploadError, store_and_complete, unix_now};

/// The HTTP routes.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/blobs/{*key}", put(upload).get(download))
        .with_state(app)
}

/// Serves the routes on `listener` until `shutdown` completes.
pub async fn serve(
    app: Arc<App>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(app))
        .with_graceful_shutdown(shutdown)
        .await
}

/// A JSON error naming what went wrong.
fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(serde_json::json!({ "error": message.into() }))).into_response()
}

fn signature_error(e: SignatureError) -> Response {
    match e {
        SignatureError::Expired { .. } => error(StatusCode::FORBIDDEN, "the signed URL has expired"),
        SignatureError::BadSignature => error(StatusCode::FORBIDDEN, "the URL's signature is not valid"),
        SignatureError::Malformed { reason } => {
            error(StatusCode::BAD_REQUEST, format!("malformed signed URL: {reason}"))
        }
    }
}

/// `documents/<id>/v<n>` → (id, n).
fn document_version(key: &BlobKey) -> Option<(DocumentId, u32)> {
    let mut parts = key.as_str().split('/');
    let (Some("documents"), Some(id), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    Some((
        DocumentId::parse(id).ok()?,
        version.strip_prefix('v')?.parse().ok()?,
    ))
}

async fn upload(
    State(app): State<Arc<App>>,
    Path(key): Path<String>,
    RawQuery(query): RawQuery,
    body: Body,
) -> Response {
    let Ok(key) = BlobKey::parse(&key) else {
        return error(StatusCode::NOT_FOUND, "no such blob");
    };
    let grant = match app.urls.signer.verify(
        UrlMethod::Upload,
        &key,
        query.as_deref().unwrap_or(""),
        unix_now(),
    ) {
        Ok(grant) => grant,
        Err(e) => return signature_error(e),
    };
    let Some((id, version)) = document_version(&key) else {
        return error(StatusCode::NOT_FOUND, "no such blob");
    };
    let caller = match grant.terms.actor.as_deref().map(Actor::parse) {
        Some(Ok(Actor::User(user))) => match UserId::parse(&user) {
            Ok(user) => Caller { user },
            Err(_) => return error(StatusCode::FORBIDDEN, "the URL was not issued to a user"),
        },
        _ => return error(StatusCode::FORBIDDEN, "the URL was not issued to a user"),
    };
    let declared = grant.terms.max_size.unwrap_or(0);
    let stream = body.into_data_stream().map_err(std::io::Error::other).boxed();
    match store_and_complete(&app, &id, version, declared, &caller, stream).await {
        Ok(result) => axum::Json(serde_json::json!({
            "document_id": id.as_str(),
            "version": version,
            "position": result.position,
            "replayed": result.replayed,
        }))
        .into_response(),
        Err(e) => upload_error(e),
    }
}

fn upload_error(e: UploadError) -> Response {
    match e {
        UploadError::Blob(BlobError::TooLarge { max }) => error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("size: the content is larger than the declared {max} bytes"),
        ),
        UploadError::Blob(BlobError::Aborted { .. }) => error(
            StatusCode::BAD_REQUEST,
            "the upload was interrupted; nothing was stored",
        ),
        UploadError::Blob(other) => error(StatusCode::SERVICE_UNAVAILABLE, other.to_string()),
        UploadError::InProgress | UploadError::AlreadyUploaded => error(StatusCode::CONFLICT, e.to_string()),
        UploadError::Refused(status) => {
            let code = match status.code() {
                Code::InvalidArgument => StatusCode::UNPROCESSABLE_ENTITY,
                Code::FailedPrecondition | Code::Aborted => StatusCode::CONFLICT,
                Code::PermissionDenied => StatusCode::FORBIDDEN,
                Code::NotFound => StatusCode::NOT_FOUND,
                _ => StatusCode::SERVICE_UNAVAILABLE,
            };
            error(code, status.message())
        }
    }
}

async fn download(
    State(app): State<Arc<App>>,
    Path(key): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let Ok(key) = BlobKey::parse(&key) else {
        return error(StatusCode::NOT_FOUND, "no such blob");
    };
    let grant = match app.urls.signer.verify(
        UrlMethod::Download,
        &key,
        query.as_deref().unwrap_or(""),
        unix_now(),
    ) {
        Ok(grant) => grant,
        Err(e) => return signature_error(e),
    };
    let size = match app.blobs.stat(&key).await {
        Ok(stat) => stat.size,
        Err(BlobError::NotFound { .. }) => return error(StatusCode::NOT_FOUND, "no such blob"),
        Err(other) => return error(StatusCode::SERVICE_UNAVAILABLE, other.to_string()),
    };
    let stream = match app.blobs.get(&key).await {
        Ok(stream) => stream.map_err(std::io::Error::other),
        Err(BlobError::NotFound { .. }) => return error(StatusCode::NOT_FOUND, "no such blob"),
        Err(other) => return error(StatusCode::SERVICE_UNAVAILABLE, other.to_string()),
    };
    let mut response = Response::new(Body::from_stream(stream));
    let content_type = grant
        .terms
        .content_type
        .as_deref()
        .unwrap_or("application/octet-stream");
    if let Ok(value) = HeaderValue::from_str(content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
        .headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    response
}
