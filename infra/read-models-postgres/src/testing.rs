//! Test support for every crate with PostgreSQL backends (feature
//! `testing`): the local test server and a fresh schema per test, dropped
//! afterwards. Tests fail, never skip, when PostgreSQL is not there.

use std::str::FromStr;

use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection};

use crate::config::PgConfig;

/// The server `scripts/services` runs for the test suite; override with
/// `QUIRE_TEST_POSTGRES_URL`.
pub const LOCAL_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The test server's URL.
pub fn url() -> String {
    std::env::var("QUIRE_TEST_POSTGRES_URL").unwrap_or_else(|_| LOCAL_POSTGRES.to_owned())
}

/// `host:port` of the test server, for messages.
pub fn address() -> String {
    match PgConnectOptions::from_str(&url()) {
        Ok(options) => format!("{}:{}", options.get_host(), options.get_port()),
        Err(_) => url(),
    }
}

/// The panic message of a test that could not open its store.
pub fn unreachable(error: impl std::fmt::Display) -> String {
    format!(
        "these tests need PostgreSQL at {} (set QUIRE_TEST_POSTGRES_URL to use another); \
         `scripts/services up` starts one for the test suite: {error}",
        address()
    )
}

/// A schema of one test, dropped (with everything in it) when this is
/// dropped.
#[derive(Debug)]
pub struct TestSchema {
    pub name: String,
}

impl TestSchema {
    /// A new, unique schema name starting with `prefix` (not yet created).
    pub fn unique(prefix: &str) -> TestSchema {
        TestSchema {
            name: format!("{prefix}{}", uuid::Uuid::now_v7().simple()),
        }
    }

    /// A configuration of the test server for this schema, with a small
    /// pool so that parallel tests stay light.
    pub fn config(&self) -> PgConfig {
        let mut config = PgConfig::new(url()).with_schema(&self.name);
        config.max_connections = 4;
        config
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        // Drop may run inside a runtime: use a thread with a runtime of
        // its own.
        let (url, name) = (url(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async {
                let mut conn = PgConnection::connect(&url).await.map_err(|e| e.to_string())?;
                sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE"))
                    .execute(&mut conn)
                    .await
                    .map_err(|e| e.to_string())?;
                Ok::<(), String>(())
            })
        })
        .join();
        if let Ok(Err(error)) = dropped {
            eprintln!("could not drop test schema {}: {error}", self.name);
        }
    }
}
