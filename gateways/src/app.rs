//! The running application as the services see it: the event log, the
//! command pipeline, the projectors, the read models' query ports, the blob
//! store and the URL signer.

use std::sync::Arc;
use std::time::Duration;

use quire_command_handlers::CommandPipeline;
use quire_command_handlers::blobs::BlobStore;
use quire_domain::Position;
use quire_event_log::EventLog;
use quire_projections::read_models::channels::ChannelQueries;
use quire_projections::read_models::documents::DocumentQueries;
use quire_projections::search::SearchIndex;
use quire_projections::set::ProjectionSet;
use tokio_util::sync::CancellationToken;
use tonic::Status;

use crate::blobs::{SignedUrls, UploadsInFlight};
use crate::grpc::status;

/// The projector behind document and project queries.
pub const DOCUMENTS_PROJECTOR: &str = "documents.memory";
/// The projector behind channel and message queries.
pub const CHANNELS_PROJECTOR: &str = "channels.memory";
/// The projector behind search.
pub const SEARCH_PROJECTOR: &str = "search";

/// Shared state of every service.
pub struct App {
    pub log: Arc<dyn EventLog>,
    pub pipeline: Arc<CommandPipeline>,
    pub projections: Arc<ProjectionSet>,
    pub documents: Arc<dyn DocumentQueries>,
    pub channels: Arc<dyn ChannelQueries>,
    pub search: Arc<dyn SearchIndex>,
    pub blobs: Arc<dyn BlobStore>,
    pub urls: SignedUrls,
    pub uploads: UploadsInFlight,
    /// Largest document accepted through a signed URL.
    pub max_upload_bytes: u64,
    /// Largest document accepted through gRPC streaming.
    pub max_stream_upload_bytes: u64,
    /// Longest a query waits for its `min_position`.
    pub max_read_wait: Duration,
    /// Cancelled when the server shuts down: live streams end with it, so
    /// a graceful shutdown never waits on a client that keeps tailing.
    pub shutdown: CancellationToken,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("urls", &self.urls)
            .field("max_read_wait", &self.max_read_wait)
            .finish()
    }
}

impl App {
    /// Waits until projector `name` has applied `min_position` (0: no wait).
    pub async fn wait_for(&self, name: &str, min_position: u64) -> Result<(), Status> {
        if min_position == 0 {
            return Ok(());
        }
        let handle = self
            .projections
            .get(name)
            .ok_or_else(|| Status::internal(format!("projector {name} is not running")))?;
        handle
            .wait_for(Position(min_position), self.max_read_wait)
            .await
            .map_err(status::from_wait)
    }
}
