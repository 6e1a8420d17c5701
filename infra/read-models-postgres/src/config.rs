//! [`PgConfig`]: where the read models live (server address and schema) and
//! how many connections they may use.

use std::time::Duration;

use crate::error::PgError;

/// How to reach the read models' PostgreSQL schema.
#[derive(Clone)]
pub struct PgConfig {
    /// A `postgres://user[:password]@host:port/database` URL.
    pub url: String,
    /// The schema holding the tables, created at open if missing. Lowercase
    /// letters, digits and `_`, starting with a letter or `_`, at most 63
    /// bytes.
    pub schema: String,
    /// Largest number of pooled connections.
    pub max_connections: u32,
    /// How long to wait for the server at open, and for a pooled connection
    /// afterwards; a longer wait is an `Unavailable` error.
    pub acquire_timeout: Duration,
    /// Commit batches without waiting for their WAL flush
    /// (`synchronous_commit = off` for the batch's transaction only). A
    /// server crash may then lose the last moments of batches, rows and
    /// checkpoint together, which the projector replays: the read model is
    /// never inconsistent, only briefly behind. On by default.
    pub async_commit: bool,
    /// How many transactions a long batch of the channels read model (a
    /// replay, a projector catching up) is split into, by channel, each on
    /// its own pooled connection, side by side (ADR 0013). 1 applies every
    /// batch in one transaction. At most `max_connections`; 2 by default.
    pub catch_up_partitions: u32,
}

impl PgConfig {
    /// The default schema name.
    pub const DEFAULT_SCHEMA: &'static str = "quire_read_models";

    pub fn new(url: impl Into<String>) -> PgConfig {
        PgConfig {
            url: url.into(),
            schema: Self::DEFAULT_SCHEMA.to_owned(),
            max_connections: 8,
            acquire_timeout: Duration::from_secs(5),
            async_commit: true,
            catch_up_partitions: 2,
        }
    }

    /// The same configuration for another schema.
    pub fn with_schema(mut self, schema: impl Into<String>) -> PgConfig {
        self.schema = schema.into();
        self
    }

    /// Checks the schema name, which is spliced into DDL and `search_path`.
    pub fn checked_schema(&self) -> Result<&str, PgError> {
        let schema = self.schema.as_str();
        let valid_start = schema
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_');
        let valid_rest = schema
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if valid_start && valid_rest && schema.len() <= 63 && !schema.starts_with("pg_") {
            Ok(schema)
        } else {
            Err(PgError::Config(format!(
                "schema {schema:?} is not a lowercase identifier of at most 63 bytes"
            )))
        }
    }
}

/// Shows everything but the URL's password.
impl std::fmt::Debug for PgConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgConfig")
            .field("url", &redacted(&self.url))
            .field("schema", &self.schema)
            .field("max_connections", &self.max_connections)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("async_commit", &self.async_commit)
            .field("catch_up_partitions", &self.catch_up_partitions)
            .finish()
    }
}

/// The URL with any password replaced by `***`.
fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((credentials, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match credentials.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_are_checked() {
        let config = |schema: &str| PgConfig::new("postgres://x@h/d").with_schema(schema);
        for good in ["quire", "quire_test_0a1b", "_x9"] {
            assert!(config(good).checked_schema().is_ok(), "{good}");
        }
        for bad in ["", "Quire", "9x", "a-b", "a;drop", "pg_catalog", &"a".repeat(64)] {
            assert!(config(bad).checked_schema().is_err(), "{bad}");
        }
    }

    #[test]
    fn debug_hides_the_password() {
        let shown = format!("{:?}", PgConfig::new("postgres://u:secret@h:5432/d"));
        assert!(
            !shown.contains("secret") && shown.contains("u:***@h:5432/d"),
            "{shown}"
        );
    }
}
