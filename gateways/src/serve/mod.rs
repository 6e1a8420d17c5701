//! `quire serve --config quire.toml --role gateway|projector|worker|all`:
//! one process of a fleet on the distributed backends — the event log on
//! NATS JetStream, the read models and search index on PostgreSQL, message
//! notices, presence and unread counters on Redis, blobs in a shared directory — coordinated through NATS
//! (leases, progress, remote control; ADR 0012).
//!
//! - a **gateway** serves gRPC and the blob endpoint; its queries read
//!   PostgreSQL (unread counts: Redis) and wait on the projectors' progress
//!   over NATS;
//! - a **projector** competes for the lease of every read model's projector
//!   and runs those it holds; another process takes a projector over
//!   within the lease TTL when its holder dies;
//! - a **worker** does the same for the process managers (text extraction);
//! - **all** is the three in one process.
//!
//! Any number of each may run. Every service is reached at start, and one
//! that cannot be is reported by name and address with a non-zero exit.
//!
//! # Layout
//! - [`config`] — `quire.toml`, environment overrides, validation.
//! - [`backends`] — connecting the shared services.
//! - [`leased`] — starting leased projectors and their beacons.

pub mod backends;
pub mod config;
pub mod leased;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use quire_blob_local::signed_url::UrlSigner;
use quire_command_handlers::process_managers::{TextExtraction, TextExtractionConfig};
use quire_coordination_nats::NatsProjectors;
use quire_projections::realtime::{GatewayId, NoticePublisher, UnreadCounts};
use quire_projections::search::SearchProjector;
use quire_read_models_postgres::{PgChannels, PgDocuments, PgStore};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::info;

use self::backends::Backends;
use self::config::{Role, ServeConfig};
use self::leased::LeasedSet;
use crate::app::{App, ProjectorNames};
use crate::auth::TokenAuthority;
use crate::blobs::{SignedUrls, UploadsInFlight};
use crate::extraction::ExtractionProjector;
use crate::presence::PresenceTracker;

/// The arguments of `quire serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// The configuration file (see docs/fleet.md); without one, defaults
    /// and `QUIRE_<SECTION>__<KEY>` variables only.
    #[arg(long, env = "QUIRE_CONFIG")]
    pub config: Option<PathBuf>,
    /// What this process does.
    #[arg(long, value_enum, default_value_t = Role::All)]
    pub role: Role,
}

/// The names of the distributed read models' projectors.
pub const PROJECTOR_NAMES: ProjectorNames = ProjectorNames {
    documents: PgDocuments::NAME,
    channels: PgChannels::NAME,
    unread: UnreadCounts::NAME,
    search: SearchProjector::NAME,
};

/// Runs the role until Ctrl-C or SIGTERM.
pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let config = ServeConfig::load(args.config.as_deref())?;
    config.validate(args.role)?;
    let node = config.node_name(args.role);
    info!(%node, role = ?args.role, "starting");
    let backends = Backends::connect(&config, &node, args.role).await?;
    let stop = CancellationToken::new();
    let signal = stop.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        info!("shutting down");
        signal.cancel();
    });
    run_role(&config, &backends, &node, args.role, stop).await?;
    backends.close().await;
    info!("stopped cleanly");
    Ok(())
}

/// Starts what `role` runs, serves until `stop` is cancelled, and stops it
/// all again: edges first, then the leased projectors (which release their
/// leases so successors start at once).
pub async fn run_role(
    config: &ServeConfig,
    backends: &Backends,
    node: &str,
    role: Role,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    let mut leased = LeasedSet::new(backends, node);
    if role.runs_projectors() {
        start_projectors(&mut leased, backends)?;
    }
    if role.runs_workers() {
        start_workers(&mut leased, backends)?;
    }
    let served = if role.serves_clients() {
        serve_clients(config, backends, role, stop.clone()).await
    } else {
        println!("quire {node} is running ({} leased projectors)", leased.len());
        stop.cancelled().await;
        Ok(())
    };
    leased.stop_all().await;
    served
}

fn start_projectors(leased: &mut LeasedSet, backends: &Backends) -> anyhow::Result<()> {
    let store = backends.postgres();
    let search = backends.search()?;
    leased.start(
        Arc::new(PgDocuments::new(store.clone())),
        PgStore::runner_config(),
    );
    leased.start(Arc::new(PgChannels::new(store.clone())), PgStore::runner_config());
    leased.start(
        Arc::new(SearchProjector::new(search)),
        SearchProjector::runner_config(),
    );
    let notices = NoticePublisher::new(backends.fanout()?, backends.checkpoints());
    leased.start(Arc::new(notices), Default::default());
    leased.start(
        Arc::new(UnreadCounts::new(backends.unread()?)),
        UnreadCounts::runner_config(),
    );
    Ok(())
}

fn start_workers(leased: &mut LeasedSet, backends: &Backends) -> anyhow::Result<()> {
    let manager = TextExtraction::new(
        backends.pipeline.clone(),
        backends.blobs()?,
        TextExtractionConfig::default(),
    );
    let checkpoints = backends.checkpoints();
    leased.start(
        Arc::new(ExtractionProjector { manager, checkpoints }),
        Default::default(),
    );
    Ok(())
}

async fn serve_clients(
    config: &ServeConfig,
    backends: &Backends,
    role: Role,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    let auth = TokenAuthority::new(&config.token_secret(role)?)?;
    let grpc = TcpListener::bind(&config.grpc.listen)
        .await
        .with_context(|| format!("binding gRPC on {}", config.grpc.listen))?;
    let http = TcpListener::bind(&config.http.listen)
        .await
        .with_context(|| format!("binding HTTP on {}", config.http.listen))?;
    let base = match &config.http.public_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => format!("http://{}", http.local_addr()?),
    };
    let projectors = NatsProjectors::open(backends.nats.clone(), backends.coordination.clone()).await?;
    let store = backends.postgres();
    let app = Arc::new(App {
        log: backends.log.clone(),
        pipeline: backends.pipeline.clone(),
        projectors: Arc::new(projectors),
        names: PROJECTOR_NAMES,
        documents: Arc::new(PgDocuments::new(store.clone())),
        channels: Arc::new(PgChannels::new(store.clone())),
        unread: Arc::new(UnreadCounts::new(backends.unread()?)),
        search: backends.search()?,
        fanout: Some(backends.fanout()?),
        presence: PresenceTracker::new(backends.presence()?, GatewayId::new(config.node_name(role))),
        blobs: backends.blobs()?,
        urls: SignedUrls {
            signer: UrlSigner::new(&config.url_secret(role)?)?,
            base: base.clone(),
            upload_ttl: Duration::from_secs(15 * 60),
            download_ttl: Duration::from_secs(5 * 60),
        },
        uploads: UploadsInFlight::default(),
        max_upload_bytes: config.http.max_upload_bytes,
        max_stream_upload_bytes: 16 << 20,
        max_read_wait: Duration::from_secs(5),
        shutdown: CancellationToken::new(),
    });
    println!(
        "quire gateway is running: gRPC http://{}  blobs {base}",
        grpc.local_addr()?
    );
    crate::edges::serve(app, auth, grpc, http, stop.cancelled_owned()).await
}

/// Ctrl-C, or SIGTERM from a service manager.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
