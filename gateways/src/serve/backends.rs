//! [`Backends`]: the shared services a `quire serve` process connects to at
//! start (what its role needs of them), each failure naming the service and
//! its address.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use quire_blob_local::LocalBlobStore;
use quire_command_handlers::blobs::BlobStore;
use quire_command_handlers::{CommandPipeline, PipelineConfig};
use quire_coordination_nats::async_nats::Client;
use quire_coordination_nats::{CoordinationConfig, NatsLeases};
use quire_event_log::EventLog;
use quire_event_log_jetstream::{JetStreamLog, JetStreamLogConfig, Storage};
use quire_projections::checkpoint::CheckpointStore;
use quire_projections::dead_letter::DeadLetterStore;
use quire_projections::realtime::{MessageFanout, Presence, UnreadCounters};
use quire_projections::search::SearchIndex;
use quire_read_models_postgres::{PgCheckpointStore, PgConfig, PgDeadLetterStore, PgStore};
use quire_realtime_redis::RedisRealtime;
use quire_search_postgres::{PgSearchConfig, PgSearchIndex};

use super::config::{Role, ServeConfig};

/// Connections shared by everything one process runs.
pub struct Backends {
    pub jetstream: JetStreamLog,
    pub log: Arc<dyn EventLog>,
    pub pipeline: Arc<CommandPipeline>,
    /// The bus connection of leases, progress and control.
    pub nats: Client,
    pub coordination: Arc<CoordinationConfig>,
    pub leases: Arc<NatsLeases>,
    postgres: PgStore,
    search: Option<Arc<PgSearchIndex>>,
    blobs: Option<Arc<LocalBlobStore>>,
    redis: Option<RedisRealtime>,
}

impl std::fmt::Debug for Backends {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backends")
            .field("coordination", &self.coordination)
            .field("postgres", &self.postgres)
            .finish_non_exhaustive()
    }
}

impl Backends {
    /// Connects to NATS (log and coordination), PostgreSQL, and what the
    /// role needs besides.
    pub async fn connect(config: &ServeConfig, node: &str, role: Role) -> anyhow::Result<Backends> {
        let jetstream = JetStreamLog::open(log_config(config, node))
            .await
            .context("event log (NATS JetStream)")?;
        let log: Arc<dyn EventLog> = Arc::new(jetstream.clone());
        let pipeline = Arc::new(CommandPipeline::new(log.clone(), PipelineConfig::default()));
        let coordination = Arc::new(coordination_config(config, node));
        let nats = quire_coordination_nats::connect(&coordination)
            .await
            .context("fleet coordination (NATS)")?;
        let leases = Arc::new(
            NatsLeases::open(nats.clone(), &coordination)
                .await
                .context("fleet coordination (NATS)")?,
        );
        let postgres = PgStore::open(&pg_config(config, &config.postgres.read_models_schema))
            .await
            .context("read models (PostgreSQL)")?;
        let search = match role.serves_clients() || role.runs_projectors() {
            true => Some(open_search(config).await?),
            false => None,
        };
        let blobs = match (role.serves_clients() || role.runs_workers(), &config.blobs.dir) {
            (true, Some(dir)) => Some(Arc::new(
                LocalBlobStore::open(dir).with_context(|| format!("blob store at {}", dir.display()))?,
            )),
            _ => None,
        };
        let redis = match role.serves_clients() || role.runs_projectors() {
            true => Some(
                RedisRealtime::connect(&config.redis.url, &config.redis.key_prefix)
                    .await
                    .context("message fan-out (Redis)")?,
            ),
            false => None,
        };
        Ok(Backends {
            jetstream,
            log,
            pipeline,
            nats,
            coordination,
            leases,
            postgres,
            search,
            blobs,
            redis,
        })
    }

    pub fn postgres(&self) -> PgStore {
        self.postgres.clone()
    }

    pub fn search(&self) -> anyhow::Result<Arc<dyn SearchIndex>> {
        let search = self.search.clone().context("this role has no search index")?;
        Ok(search)
    }

    pub fn blobs(&self) -> anyhow::Result<Arc<dyn BlobStore>> {
        let blobs = self.blobs.clone().context("this role has no blob store")?;
        Ok(blobs)
    }

    /// The message fan-out between gateways.
    pub fn fanout(&self) -> anyhow::Result<Arc<dyn MessageFanout>> {
        let redis = self.redis.as_ref().context("this role has no message fan-out")?;
        Ok(Arc::new(redis.fanout()))
    }

    /// Who is online, across the fleet's gateways.
    pub fn presence(&self) -> anyhow::Result<Arc<dyn Presence>> {
        let redis = self.redis.as_ref().context("this role has no presence store")?;
        Ok(Arc::new(redis.presence()))
    }

    /// Unread counters, written by the `unread-counts` projector and read
    /// by gateways.
    pub fn unread(&self) -> anyhow::Result<Arc<dyn UnreadCounters>> {
        let redis = self.redis.as_ref().context("this role has no unread counters")?;
        Ok(Arc::new(redis.unread()))
    }

    pub fn dead_letters(&self) -> Arc<dyn DeadLetterStore> {
        Arc::new(PgDeadLetterStore::new(self.postgres.clone()))
    }

    pub fn checkpoints(&self) -> Arc<dyn CheckpointStore> {
        Arc::new(PgCheckpointStore::new(self.postgres.clone()))
    }

    /// Flushes and closes the connections.
    pub async fn close(self) {
        let _ = self.nats.flush().await;
    }
}

fn log_config(config: &ServeConfig, node: &str) -> JetStreamLogConfig {
    let mut log = JetStreamLogConfig::new(config.nats.servers.clone());
    log.stream_name = config.nats.stream.clone();
    log.subject_prefix = config.nats.subject_prefix.clone();
    log.replicas = config.nats.replicas;
    log.storage = match config.nats.storage.as_str() {
        "memory" => Storage::Memory,
        _ => Storage::File,
    };
    log.duplicate_window = Duration::from_secs(config.nats.duplicate_window_secs);
    log.max_in_flight = config.nats.max_in_flight;
    log.client_name = format!("quire-log-{node}");
    log
}

fn coordination_config(config: &ServeConfig, node: &str) -> CoordinationConfig {
    let mut coordination = CoordinationConfig::new(config.nats.servers.clone());
    coordination.lease_bucket = config.fleet.lease_bucket.clone();
    coordination.lease_ttl = config.lease_ttl();
    coordination.replicas = config.nats.replicas;
    coordination.subject_prefix = config.fleet.subject_prefix.clone();
    coordination.heartbeat_every = config.heartbeat();
    coordination.client_name = format!("quire-fleet-{node}");
    coordination
}

fn pg_config(config: &ServeConfig, schema: &str) -> PgConfig {
    let mut pg = PgConfig::new(config.postgres.url.clone()).with_schema(schema);
    pg.max_connections = config.postgres.max_connections;
    pg.catch_up_partitions = config.postgres.catch_up_partitions;
    pg
}

async fn open_search(config: &ServeConfig) -> anyhow::Result<Arc<PgSearchIndex>> {
    let search = PgSearchIndex::open(&PgSearchConfig::from(pg_config(
        config,
        &config.postgres.search_schema,
    )))
    .await
    .context("search index (PostgreSQL)")?;
    Ok(Arc::new(search))
}
