//! Helpers shared by the integration tests: a fresh schema per test on the
//! local PostgreSQL (dropped afterwards), failing the test (never skipping
//! it) with the server's address when PostgreSQL is not there.

#![allow(dead_code)]

use std::str::FromStr;

use quire_read_models_postgres::{PgConfig, PgStore};
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection};

/// The server `scripts/services` runs for the test suite; override with
/// `QUIRE_TEST_POSTGRES_URL`.
pub const LOCAL_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";

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

/// A schema of one test, dropped (with everything in it) when this is
/// dropped.
#[derive(Debug)]
pub struct Schema {
    pub name: String,
}

impl Schema {
    /// A new, unique schema name (not yet created).
    pub fn unique() -> Schema {
        Schema {
            name: format!("quire_test_{}", uuid::Uuid::now_v7().simple()),
        }
    }

    /// A configuration of the test server for this schema.
    pub fn config(&self) -> PgConfig {
        let mut config = PgConfig::new(url()).with_schema(&self.name);
        config.max_connections = 4;
        config
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        // Drop runs inside the test's (single-threaded) runtime: use a
        // thread with a runtime of its own.
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

/// Opens the store of `schema`, failing the test when PostgreSQL is not
/// there.
pub async fn open_or_fail(schema: &Schema) -> PgStore {
    match PgStore::open(&schema.config()).await {
        Ok(store) => store,
        Err(error) => panic!(
            "these tests need PostgreSQL at {} (set QUIRE_TEST_POSTGRES_URL to use another); \
             `scripts/services up` starts one for the test suite: {error}",
            address()
        ),
    }
}

/// A fresh schema and its open store.
pub async fn fresh_store() -> (PgStore, Schema) {
    let schema = Schema::unique();
    let store = open_or_fail(&schema).await;
    (store, schema)
}
