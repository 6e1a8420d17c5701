//! The running application as the services see it: the event log, the
//! command pipeline, the projectors (in this process or elsewhere in the
//! fleet), the read models' query ports, the blob store and the URL signer.

use std::sync::Arc;
use std::time::Duration;

use quire_command_handlers::CommandPipeline;
use quire_command_handlers::blobs::BlobStore;
use quire_domain::Position;
use quire_event_log::EventLog;
use quire_projections::fleet::Projectors;
use quire_projections::read_models::channels::ChannelQueries;
use quire_projections::read_models::documents::DocumentQueries;
use quire_projections::read_models::unread::UnreadQueries;
use quire_projections::realtime::MessageFanout;
use quire_projections::search::SearchIndex;
use tokio_util::sync::CancellationToken;
use tonic::Status;

use crate::blobs::{SignedUrls, UploadsInFlight};
use crate::grpc::status;
use crate::presence::PresenceTracker;

/// The read models queries wait on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadModel {
    Documents,
    Channels,
    /// The unread counts behind `GetUnreadCounts`.
    Unread,
    Search,
}

/// The names of the projectors behind each read model, which differ by
/// backend (`documents.memory`, `documents.postgres`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProjectorNames {
    pub documents: &'static str,
    pub channels: &'static str,
    pub unread: &'static str,
    pub search: &'static str,
}

impl ProjectorNames {
    pub fn of(&self, model: ReadModel) -> &'static str {
        match model {
            ReadModel::Documents => self.documents,
            ReadModel::Channels => self.channels,
            ReadModel::Unread => self.unread,
            ReadModel::Search => self.search,
        }
    }
}

/// Shared state of every service.
pub struct App {
    pub log: Arc<dyn EventLog>,
    pub pipeline: Arc<CommandPipeline>,
    /// Waits, status and control of the projectors, wherever they run.
    pub projectors: Arc<dyn Projectors>,
    /// Which projectors build the read models below.
    pub names: ProjectorNames,
    pub documents: Arc<dyn DocumentQueries>,
    pub channels: Arc<dyn ChannelQueries>,
    /// Unread counts: the channels read model in one process, Redis
    /// counters in a fleet.
    pub unread: Arc<dyn UnreadQueries>,
    pub search: Arc<dyn SearchIndex>,
    /// Where a fleet's gateways learn of new messages in a channel (Redis
    /// pub/sub); `None` in one process, where live streams follow the log.
    pub fanout: Option<Arc<dyn MessageFanout>>,
    /// Who is online: marked while they hold a live message stream on this
    /// gateway (in memory in one process, Redis in a fleet).
    pub presence: Arc<PresenceTracker>,
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
    /// Waits until the projector of `model` has applied `min_position` (0:
    /// no wait).
    pub async fn wait_for(&self, model: ReadModel, min_position: u64) -> Result<(), Status> {
        if min_position == 0 {
            return Ok(());
        }
        self.projectors
            .wait_for(self.names.of(model), Position(min_position), self.max_read_wait)
            .await
            .map_err(status::from_fleet)
    }
}
