//! `quire dev`: the whole platform in one process with no external service.
//! The embedded event log, blobs, search index, checkpoints and dead letters
//! live under the data directory; the relational read models are rebuilt in
//! memory by replaying the log at start. gRPC listens on 127.0.0.1:50051 and
//! the blob endpoint on 127.0.0.1:50052 by default.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use quire_blob_local::LocalBlobStore;
use quire_blob_local::signed_url::UrlSigner;
use quire_command_handlers::process_managers::{TextExtraction, TextExtractionConfig};
use quire_command_handlers::{CommandPipeline, PipelineConfig};
use quire_domain::values::UserId;
use quire_event_log::EventLog;
use quire_event_log_embedded::{EmbeddedLog, EmbeddedLogConfig};
use quire_projections::checkpoint::FileCheckpointStore;
use quire_projections::dead_letter::FileDeadLetterStore;
use quire_projections::read_models::channels::InMemoryChannels;
use quire_projections::read_models::documents::InMemoryDocuments;
use quire_projections::realtime::{GatewayId, InMemoryPresence};
use quire_projections::search::SearchProjector;
use quire_projections::set::ProjectionSet;
use quire_search_tantivy::{TantivyConfig, TantivySearchIndex};
use rand::RngCore;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::info;

use crate::app::{App, ProjectorNames};
use crate::auth::TokenAuthority;
use crate::blobs::{SignedUrls, UploadsInFlight};
use crate::extraction::ExtractionProjector;
use crate::presence::PresenceTracker;

/// Where `quire dev` keeps its data and listens.
#[derive(Debug, Clone)]
pub struct DevOptions {
    pub data_dir: PathBuf,
    pub grpc_addr: String,
    pub http_addr: String,
}

/// A random secret kept in the data directory, so that `quire token` can
/// mint tokens for a running `quire dev` and signed URLs outlive restarts.
pub fn dev_secret(data_dir: &Path, name: &str) -> anyhow::Result<Vec<u8>> {
    let path = data_dir.join(name);
    if let Ok(secret) = std::fs::read(&path)
        && secret.len() >= 32
    {
        return Ok(secret);
    }
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating data directory {}", data_dir.display()))?;
    let mut secret = vec![0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    std::fs::write(&path, &secret).with_context(|| format!("writing {}", path.display()))?;
    Ok(secret)
}

/// The token secret of a dev data directory.
pub const TOKEN_SECRET: &str = "dev-secret";
const URL_SECRET: &str = "url-secret";

/// Everything `quire dev` runs, assembled and caught up.
pub struct DevStack {
    pub app: Arc<App>,
    /// The projectors running in this process (also `app.projectors`).
    pub projections: Arc<ProjectionSet>,
    pub auth: TokenAuthority,
    pub log: EmbeddedLog,
    pub grpc: TcpListener,
    pub http: TcpListener,
}

impl std::fmt::Debug for DevStack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevStack").field("app", &self.app).finish()
    }
}

/// Opens the data directory, starts every projector, waits until the read
/// models have replayed the log, and binds both listeners.
pub async fn assemble(options: &DevOptions) -> anyhow::Result<DevStack> {
    let dir = &options.data_dir;
    let auth = TokenAuthority::new(&dev_secret(dir, TOKEN_SECRET)?)?;
    let log_dir = dir.join("log");
    let log = tokio::task::spawn_blocking(move || EmbeddedLog::open(EmbeddedLogConfig::new(log_dir)))
        .await?
        .context("opening the event log")?;
    let shared: Arc<dyn EventLog> = Arc::new(log.clone());
    let pipeline = Arc::new(CommandPipeline::new(shared.clone(), PipelineConfig::default()));
    let blobs = Arc::new(LocalBlobStore::open(dir.join("blobs")).context("opening the blob store")?);
    let search = Arc::new(
        TantivySearchIndex::open(dir.join("search"), &TantivyConfig::default())
            .context("opening the search index")?,
    );
    let documents = Arc::new(InMemoryDocuments::new());
    let channels = Arc::new(InMemoryChannels::new());
    let dead_letters =
        Arc::new(FileDeadLetterStore::open(dir.join("dead-letters.json")).context("opening dead letters")?);
    let checkpoints =
        Arc::new(FileCheckpointStore::open(dir.join("checkpoints")).context("opening checkpoints")?);
    let mut projections = ProjectionSet::new(shared.clone()).with_dead_letters(dead_letters);
    projections.spawn(documents.clone())?;
    projections.spawn(channels.clone())?;
    projections.spawn_with_config(
        Arc::new(SearchProjector::new(search.clone())),
        SearchProjector::runner_config(),
    )?;
    let manager = TextExtraction::new(pipeline.clone(), blobs.clone(), TextExtractionConfig::default());
    projections.spawn(Arc::new(ExtractionProjector { manager, checkpoints }))?;
    catch_up(&projections, &shared).await?;
    let grpc = TcpListener::bind(&options.grpc_addr)
        .await
        .with_context(|| format!("binding gRPC on {}", options.grpc_addr))?;
    let http = TcpListener::bind(&options.http_addr)
        .await
        .with_context(|| format!("binding HTTP on {}", options.http_addr))?;
    let urls = SignedUrls {
        signer: UrlSigner::new(&dev_secret(dir, URL_SECRET)?)?,
        base: format!("http://{}", http.local_addr()?),
        upload_ttl: Duration::from_secs(15 * 60),
        download_ttl: Duration::from_secs(5 * 60),
    };
    let projections = Arc::new(projections);
    let app = Arc::new(App {
        log: shared,
        pipeline,
        projectors: projections.clone(),
        names: ProjectorNames {
            documents: InMemoryDocuments::NAME,
            channels: InMemoryChannels::NAME,
            unread: InMemoryChannels::NAME,
            search: SearchProjector::NAME,
        },
        documents,
        unread: channels.clone(),
        channels,
        search,
        fanout: None,
        presence: PresenceTracker::new(Arc::new(InMemoryPresence::new()), GatewayId::new("dev")),
        blobs,
        urls,
        uploads: UploadsInFlight::default(),
        max_upload_bytes: 1 << 30,
        max_stream_upload_bytes: 16 << 20,
        max_read_wait: Duration::from_secs(5),
        shutdown: CancellationToken::new(),
    });
    Ok(DevStack {
        app,
        projections,
        auth,
        log,
        grpc,
        http,
    })
}

/// Waits until every projector has applied the log as it was at start.
async fn catch_up(projections: &ProjectionSet, log: &Arc<dyn EventLog>) -> anyhow::Result<()> {
    let head = log.head().await?;
    let started = Instant::now();
    for handle in projections.handles() {
        handle
            .wait_for(head, Duration::from_secs(600))
            .await
            .with_context(|| format!("projector {} did not catch up", handle.name()))?;
    }
    info!(head = %head, elapsed_ms = started.elapsed().as_millis() as u64, "read models caught up");
    Ok(())
}

/// Serves until `shutdown` resolves, then stops projectors and closes the
/// log.
pub async fn serve(
    stack: DevStack,
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let DevStack {
        app,
        projections,
        auth,
        log,
        grpc,
        http,
    } = stack;
    let served = crate::edges::serve(app, auth, grpc, http, shutdown).await;
    projections.stop_all().await;
    tokio::task::spawn_blocking(move || log.close()).await?;
    served
}

/// Runs until Ctrl-C.
pub async fn run(options: DevOptions) -> anyhow::Result<()> {
    let started = Instant::now();
    let stack = assemble(&options).await?;
    let grpc = stack.grpc.local_addr()?.to_string();
    let token = stack
        .auth
        .mint(&UserId::parse("dev")?, Duration::from_secs(30 * 24 * 3600))?;
    print_welcome(
        &grpc,
        &stack.app.urls.base,
        &options.data_dir,
        &token,
        started.elapsed(),
    );
    serve(stack, async {
        let _ = tokio::signal::ctrl_c().await;
        info!("shutting down");
    })
    .await?;
    info!("stopped cleanly");
    Ok(())
}

fn print_welcome(grpc: &str, http: &str, data_dir: &Path, token: &str, took: Duration) {
    println!("quire dev is running (ready in {} ms)", took.as_millis());
    println!("  gRPC:      http://{grpc}   (grpcurl -plaintext {grpc} list)");
    println!("  blobs:     {http}");
    println!("  data:      {}", data_dir.display());
    println!("  dev token: {token}");
    println!();
    println!("try, in another terminal:");
    println!("  export QUIRE_SERVER=http://{grpc} QUIRE_TOKEN={token}");
    println!("  quire doc upload README.md");
    println!("  quire doc list");
    println!("  quire channel create general --member alice");
    println!("  quire search quire");
    println!("  quire events tail --from 1");
    println!("  quire token --user alice        # a token for another user");
    println!();
    println!("stop with Ctrl-C");
}
