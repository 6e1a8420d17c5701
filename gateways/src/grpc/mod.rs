//! The gRPC server: Quire's services behind bearer-token authentication,
//! plus the standard health and reflection services (open, so `grpcurl`
//! works with no proto files).
//!
//! # Layout
//! - `status` — the one mapping of errors to gRPC statuses.
//! - `convert` — protobuf ↔ domain conversions.
//! - `command` — running a command from an RPC (caller, key, trace).
//! - `documents`, `projects`, `channels`, `search`, `events`, `admin` — one
//!   service each.

pub mod admin;
pub mod channels;
pub mod command;
pub mod convert;
pub mod documents;
pub mod events;
pub mod fanout_stream;
pub mod projects;
pub mod search;
pub mod status;

use std::future::Future;
use std::sync::Arc;

use quire_proto::v1::admin_service_server::AdminServiceServer;
use quire_proto::v1::channel_service_server::ChannelServiceServer;
use quire_proto::v1::document_service_server::DocumentServiceServer;
use quire_proto::v1::event_service_server::EventServiceServer;
use quire_proto::v1::project_service_server::ProjectServiceServer;
use quire_proto::v1::search_service_server::SearchServiceServer;
use tokio::net::TcpListener;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;

use crate::app::App;
use crate::auth::TokenAuthority;

/// Errors starting the gRPC server.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("building the reflection service: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    #[error("gRPC transport: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// Serves every service on `listener` until `shutdown` completes.
pub async fn serve(
    app: Arc<App>,
    auth: TokenAuthority,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServeError> {
    let (health_reporter, health) = tonic_health::server::health_reporter();
    health_reporter
        .set_serving::<EventServiceServer<events::EventApi>>()
        .await;
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(quire_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let auth = auth.interceptor();
    Server::builder()
        .add_service(health)
        .add_service(reflection)
        .add_service(DocumentServiceServer::with_interceptor(
            documents::DocumentApi { app: app.clone() },
            auth.clone(),
        ))
        .add_service(ProjectServiceServer::with_interceptor(
            projects::ProjectApi { app: app.clone() },
            auth.clone(),
        ))
        .add_service(ChannelServiceServer::with_interceptor(
            channels::ChannelApi { app: app.clone() },
            auth.clone(),
        ))
        .add_service(SearchServiceServer::with_interceptor(
            search::SearchApi { app: app.clone() },
            auth.clone(),
        ))
        .add_service(EventServiceServer::with_interceptor(
            events::EventApi { app: app.clone() },
            auth.clone(),
        ))
        .add_service(AdminServiceServer::with_interceptor(
            admin::AdminApi { app: app.clone() },
            auth,
        ))
        // Accepted sockets get TCP_NODELAY: without it Nagle's algorithm
        // holds small response frames back until earlier ones are acked.
        .serve_with_incoming_shutdown(TcpIncoming::from(listener).with_nodelay(Some(true)), shutdown)
        .await?;
    Ok(())
}
