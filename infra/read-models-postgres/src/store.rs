//! [`PgStore`]: the connection pool of one schema, shared by the read
//! models that live in it. Opening it creates the schema if missing and runs
//! the crate's migrations (`migrations/`, embedded with `sqlx::migrate!`);
//! every pooled connection has the schema as its `search_path`, so the
//! statements name tables without a schema.
//!
//! It also holds what both projectors do the same way: the transaction of a
//! batch (which first takes an advisory lock, so two processes running the
//! same projector on the same schema take turns instead of interleaving),
//! and the checkpoint row written inside it (the statements live in
//! [`checkpoints`](crate::checkpoints), shared with the checkpoint store),
//! checked against what this process committed before
//! ([`committed`](crate::committed)) so that a server that lost batches is
//! noticed.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use quire_domain::Position;
use quire_projections::{ProjectionError, ProjectorId, RunnerConfig};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, Transaction};

use crate::checkpoints;
use crate::committed::CommittedCheckpoints;
use crate::config::PgConfig;
use crate::error::{PgError, projection_error};

/// An open transaction on the store.
pub(crate) type Tx = Transaction<'static, Postgres>;

/// One schema's pool. Cheap to clone: clones share the pool.
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    schema: Arc<str>,
    address: Arc<str>,
    /// `synchronous_commit` of batch transactions: `off` or `on`.
    synchronous_commit: &'static str,
    /// Transactions a long batch may be split into ([`PgConfig`]).
    catch_up_partitions: usize,
    /// The checkpoint rows this process committed, shared by its clones.
    committed: Arc<CommittedCheckpoints>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("address", &self.address)
            .field("schema", &self.schema)
            .field("synchronous_commit", &self.synchronous_commit)
            .field("catch_up_partitions", &self.catch_up_partitions)
            .finish_non_exhaustive()
    }
}

/// A pool on `config`'s server whose connections have `schema` as their
/// `search_path` and JIT compilation off (plus `settings`), and the
/// server's `host:port` (or socket path) for messages. Shared by every
/// PostgreSQL backend; an unreachable server is [`PgError::Unreachable`]
/// naming that address.
///
/// JIT is off because no statement here runs long enough to repay it,
/// while the planner's cost estimate of a large catch-up batch (its
/// `UNNEST` arrays, a recount per participant) easily passes
/// `jit_above_cost`: one 32,768-event batch spent 190 ms compiling a
/// participants update that then ran in 60 ms.
pub async fn connect_pool(
    config: &PgConfig,
    schema: &str,
    application: &str,
    settings: &[(&str, &str)],
    statement_cache: usize,
) -> Result<(PgPool, String), PgError> {
    let mut parameters = vec![("search_path", schema), ("jit", "off")];
    parameters.extend_from_slice(settings);
    let options = PgConnectOptions::from_str(&config.url)
        .map_err(|error| PgError::Config(format!("bad PostgreSQL URL: {error}")))?
        .options(parameters)
        .application_name(application)
        .statement_cache_capacity(statement_cache);
    let address = match options.get_socket() {
        Some(socket) => socket.display().to_string(),
        None => format!("{}:{}", options.get_host(), options.get_port()),
    };
    let pool = PgPoolOptions::new()
        .max_connections(config.max_connections.max(1))
        .acquire_timeout(config.acquire_timeout)
        .connect_with(options)
        .await
        .map_err(|source| PgError::Unreachable {
            address: address.clone(),
            source,
        })?;
    Ok((pool, address))
}

impl PgStore {
    /// How the runners of the read models in a store should batch. Each
    /// `apply` costs a transaction and one statement per kind of change
    /// whatever its size, and a row changed many times in a batch (a busy
    /// channel's counters) is written once, so a projector catching up
    /// takes up to 65,536 events at a time, gathering them for up to
    /// 100 ms, while the runner reads as many ahead (replay measurements
    /// in `docs/benchmarks.md`: through the runner, 65,536-event batches
    /// gave ~15 % more than 32,768, which gave about 1.5× 4,096). A live
    /// projector still applies each event as soon as it is ready: batches
    /// only grow while the log is ahead.
    pub fn runner_config() -> RunnerConfig {
        RunnerConfig {
            max_batch_size: 65_536,
            max_batch_wait: Duration::from_millis(100),
            read_ahead: 65_536,
            ..RunnerConfig::default()
        }
    }

    /// Connects, creates the schema if needed and migrates it.
    pub async fn open(config: &PgConfig) -> Result<PgStore, PgError> {
        let schema = config.checked_schema()?;
        let (pool, address) = connect_pool(config, schema, "quire-read-models", &[], 256).await?;
        let store = PgStore {
            pool,
            schema: schema.into(),
            address: address.into(),
            synchronous_commit: if config.async_commit { "off" } else { "on" },
            catch_up_partitions: config.catch_up_partitions.clamp(1, config.max_connections.max(1)) as usize,
            committed: Arc::default(),
        };
        store.prepare_schema().await?;
        Ok(store)
    }

    /// Creates the schema (a concurrent creation by another process is
    /// fine) and runs the migrations, which serialise through an advisory
    /// lock.
    async fn prepare_schema(&self) -> Result<(), PgError> {
        let create = format!("CREATE SCHEMA IF NOT EXISTS \"{}\"", self.schema);
        if let Err(error) = sqlx::query(&create).execute(&self.pool).await {
            let raced = matches!(&error, sqlx::Error::Database(db) if db.code().as_deref() == Some("23505"));
            if !raced {
                return Err(self.schema_error(error.to_string()));
            }
        }
        sqlx::migrate!()
            .run(&self.pool)
            .await
            .map_err(|error| self.schema_error(error.to_string()))
    }

    fn schema_error(&self, message: String) -> PgError {
        PgError::Schema {
            address: self.address.to_string(),
            schema: self.schema.to_string(),
            message,
        }
    }

    /// The pool, for statements of one's own (tests, tools).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The schema holding the tables.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// How many transactions, side by side, a long batch of a read model
    /// whose rows split by key (channels) is applied in.
    pub fn catch_up_partitions(&self) -> usize {
        self.catch_up_partitions
    }

    /// The server's `host:port` (or socket path).
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Begins the transaction of a batch (or a reset) of `projector`, which
    /// holds the projector's advisory lock until it ends and sets its
    /// `synchronous_commit` (one statement for both).
    pub(crate) async fn begin(&self, projector: &ProjectorId) -> Result<Tx, ProjectionError> {
        let mut tx = self.open_transaction().await?;
        let key = self.lock_key(projector);
        sqlx::query!(
            r#"SELECT 1 AS "locked!"
               FROM (SELECT pg_advisory_xact_lock(hashtext($1)),
                            set_config('synchronous_commit', $2, true)) AS lock"#,
            key,
            self.synchronous_commit
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(|error| projection_error("lock projector", error))?;
        Ok(tx)
    }

    /// Begins the transaction of one partition of a batch of `projector`
    /// (`channels::partitions`): it holds the projector's advisory lock
    /// shared, so the partitions of one batch run side by side while a
    /// whole-batch transaction (which holds it exclusively) waits for them,
    /// and the partition's own lock exclusively, so two processes applying
    /// the same partition take turns.
    pub(crate) async fn begin_partition(
        &self,
        projector: &ProjectorId,
        partition: &ProjectorId,
    ) -> Result<Tx, ProjectionError> {
        let mut tx = self.open_transaction().await?;
        let (whole, part) = (self.lock_key(projector), self.lock_key(partition));
        sqlx::query!(
            r#"SELECT 1 AS "locked!"
               FROM (SELECT pg_advisory_xact_lock_shared(hashtext($1)), pg_advisory_xact_lock(hashtext($2)),
                            set_config('synchronous_commit', $3, true)) AS lock"#,
            whole,
            part,
            self.synchronous_commit
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(|error| projection_error("lock projector", error))?;
        Ok(tx)
    }

    async fn open_transaction(&self) -> Result<Tx, ProjectionError> {
        self.pool
            .begin()
            .await
            .map_err(|error| projection_error("begin", error))
    }

    /// The advisory lock key of a projector (or partition) in this schema.
    fn lock_key(&self, projector: &ProjectorId) -> String {
        format!("{}/{projector}", self.schema)
    }

    /// The projector's stored checkpoint, `Position::ZERO` if none.
    pub(crate) async fn load_checkpoint(&self, projector: &ProjectorId) -> Result<Position, ProjectionError> {
        checkpoints::load(&self.pool, projector).await
    }

    /// Fails with [`ProjectionError::Rewound`] if a checkpoint row the
    /// batch in `tx` will raise is below what this process committed to it
    /// (the server lost batches: see [`committed`](crate::committed)).
    /// Runs first in the batch, before anything is applied to rows the
    /// server may have lost. One statement, skipped while this process has
    /// committed none of the rows.
    pub(crate) async fn check_not_rewound(
        &self,
        tx: &mut Tx,
        rows: &[ProjectorId],
    ) -> Result<(), ProjectionError> {
        if !self.committed.knows_any(rows) {
            return Ok(());
        }
        let stored = checkpoints::stored(&mut **tx, rows).await?;
        self.committed.check(&stored)
    }

    /// Records that a batch raising `rows` to `position` committed.
    pub(crate) fn committed(&self, rows: &[ProjectorId], position: Position) {
        self.committed.committed(rows, position);
    }

    /// Forgets what this process committed to `projector`'s rows, after it
    /// reset them.
    pub(crate) fn forget_committed(&self, projector: &ProjectorId) {
        self.committed.forget_family(projector);
    }

    /// Raises the projector's checkpoint to `position` (never lowers it)
    /// inside the batch's transaction.
    pub(crate) async fn save_checkpoint(
        tx: &mut Tx,
        projector: &ProjectorId,
        position: Position,
    ) -> Result<(), ProjectionError> {
        checkpoints::raise(&mut **tx, std::slice::from_ref(projector), position).await
    }

    /// Forgets the projector's checkpoint inside a reset's transaction.
    pub(crate) async fn delete_checkpoint(
        tx: &mut Tx,
        projector: &ProjectorId,
    ) -> Result<(), ProjectionError> {
        checkpoints::delete(&mut **tx, projector).await
    }

    /// Commits a batch's transaction.
    pub(crate) async fn commit(tx: Tx) -> Result<(), ProjectionError> {
        tx.commit()
            .await
            .map_err(|error| projection_error("commit", error))
    }
}
