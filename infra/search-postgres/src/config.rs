//! [`PgSearchConfig`]: where the search index lives. The connection
//! settings are the read models' [`PgConfig`] (one way to configure every
//! PostgreSQL-backed store), with the index's own schema.

use quire_read_models_postgres::PgConfig;

/// How to reach the search index's PostgreSQL schema.
#[derive(Debug, Clone)]
pub struct PgSearchConfig {
    /// Server URL, schema (the index's own: its migrations are not the
    /// read models'), pool size, acquire timeout, and whether commits wait
    /// for their WAL flush (`async_commit`: a server crash may then lose
    /// the last commits, entries and checkpoint together, which the
    /// projector replays).
    pub postgres: PgConfig,
}

impl PgSearchConfig {
    /// The default schema of the search index.
    pub const DEFAULT_SCHEMA: &'static str = "quire_search";

    /// The server at `url`, schema [`DEFAULT_SCHEMA`](Self::DEFAULT_SCHEMA).
    pub fn new(url: impl Into<String>) -> PgSearchConfig {
        PgSearchConfig {
            postgres: PgConfig::new(url).with_schema(Self::DEFAULT_SCHEMA),
        }
    }

    /// The same configuration for another schema.
    pub fn with_schema(mut self, schema: impl Into<String>) -> PgSearchConfig {
        self.postgres.schema = schema.into();
        self
    }
}

/// Takes the connection settings as they are, schema included.
impl From<PgConfig> for PgSearchConfig {
    fn from(postgres: PgConfig) -> PgSearchConfig {
        PgSearchConfig { postgres }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_schema_is_the_index_own() {
        let config = PgSearchConfig::new("postgres://x@h/d");
        assert_eq!(config.postgres.schema, PgSearchConfig::DEFAULT_SCHEMA);
        assert_eq!(config.with_schema("other").postgres.schema, "other");
        let from = PgSearchConfig::from(PgConfig::new("postgres://x@h/d").with_schema("s"));
        assert_eq!(from.postgres.schema, "s");
    }
}
