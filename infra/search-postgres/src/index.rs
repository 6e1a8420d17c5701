//! [`PgSearchIndex`]: opening the index (connection pool, schema creation,
//! migrations) and what its handle holds: the pool, the schema, and the
//! writer's uncommitted overlay.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use quire_read_models_postgres::store::connect_pool;
use quire_read_models_postgres::{PgConfig, PgError};
use sqlx::PgPool;
use tokio::sync::Mutex;
use tracing::info;

use crate::config::PgSearchConfig;
use crate::overlay::Overlay;

/// The search index in a PostgreSQL schema, shared by every process that
/// opens that schema: gateways query it, the projector process writes it.
///
/// Cheap to clone: clones share the pool and the writer's overlay.
#[derive(Clone)]
pub struct PgSearchIndex {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) pool: PgPool,
    pub(crate) schema: String,
    pub(crate) address: String,
    /// `synchronous_commit` of commit transactions: `off` or `on`.
    pub(crate) synchronous_commit: &'static str,
    /// Uncommitted writes. An async lock: a batch of writes holds it while
    /// it loads the stored guards it needs.
    pub(crate) overlay: Mutex<Overlay>,
    /// The highest checkpoint this instance committed (0: none yet), which
    /// the stored one may not be below (`PgSearchIndex::commit_overlay`).
    pub(crate) committed: AtomicU64,
}

impl std::fmt::Debug for PgSearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgSearchIndex")
            .field("address", &self.inner.address)
            .field("schema", &self.inner.schema)
            .field("synchronous_commit", &self.inner.synchronous_commit)
            .finish_non_exhaustive()
    }
}

impl PgSearchIndex {
    /// Connects, creates the schema if needed and migrates it.
    pub async fn open(config: &PgSearchConfig) -> Result<PgSearchIndex, PgError> {
        let config = &config.postgres;
        let schema = checked_schema(config)?;
        // Custom plans always: a search's best plan depends on how selective
        // its words and its readers are (see `search`), which a generic plan
        // cannot know; every statement here is cheap to plan.
        let custom_plans = [("plan_cache_mode", "force_custom_plan")];
        let (pool, address) = connect_pool(config, schema, "quire-search", &custom_plans, 64).await?;
        let index = PgSearchIndex {
            inner: Arc::new(Inner {
                pool,
                schema: schema.to_owned(),
                address,
                synchronous_commit: if config.async_commit { "off" } else { "on" },
                overlay: Mutex::new(Overlay::default()),
                committed: AtomicU64::new(0),
            }),
        };
        index.prepare_schema().await?;
        info!(address = %index.inner.address, schema = %index.inner.schema, "search index opened");
        Ok(index)
    }

    /// Creates the schema (a concurrent creation by another process is
    /// fine) and runs the migrations, which serialise through an advisory
    /// lock.
    async fn prepare_schema(&self) -> Result<(), PgError> {
        let create = format!("CREATE SCHEMA IF NOT EXISTS \"{}\"", self.inner.schema);
        if let Err(error) = sqlx::query(&create).execute(&self.inner.pool).await {
            let raced = matches!(&error, sqlx::Error::Database(db) if db.code().as_deref() == Some("23505"));
            if !raced {
                return Err(self.schema_error(error.to_string()));
            }
        }
        sqlx::migrate!()
            .run(&self.inner.pool)
            .await
            .map_err(|error| self.schema_error(error.to_string()))
    }

    fn schema_error(&self, message: String) -> PgError {
        PgError::Schema {
            address: self.inner.address.clone(),
            schema: self.inner.schema.clone(),
            message,
        }
    }

    /// The pool, for statements of one's own (tests, tools).
    pub fn pool(&self) -> &PgPool {
        &self.inner.pool
    }

    /// The schema holding the tables.
    pub fn schema(&self) -> &str {
        &self.inner.schema
    }

    /// The server's `host:port` (or socket path).
    pub fn address(&self) -> &str {
        &self.inner.address
    }
}

/// Checks the schema name (spliced into DDL and `search_path`) as the read
/// models do, and refuses the read models' default schema: two crates'
/// migrations cannot share one schema.
fn checked_schema(config: &PgConfig) -> Result<&str, PgError> {
    let schema = config.checked_schema()?;
    if schema == PgConfig::DEFAULT_SCHEMA {
        return Err(PgError::Config(format!(
            "schema {schema:?} holds the read models; the search index needs its own (default {:?})",
            PgSearchConfig::DEFAULT_SCHEMA
        )));
    }
    Ok(schema)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_are_checked() {
        for good in ["quire_search", "quire_test_0a1b", "_x9"] {
            assert!(
                checked_schema(&PgConfig::new("postgres://x").with_schema(good)).is_ok(),
                "{good}"
            );
        }
        for bad in ["", "Quire", "9x", "a-b", "a;drop", "pg_catalog", &"a".repeat(64)] {
            assert!(
                checked_schema(&PgConfig::new("postgres://x").with_schema(bad)).is_err(),
                "{bad}"
            );
        }
        assert!(
            checked_schema(&PgConfig::new("postgres://x")).is_err(),
            "not the read models'"
        );
    }
}
