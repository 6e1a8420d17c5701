//! Helpers shared by the integration tests: a fresh schema per test on the
//! local PostgreSQL (dropped afterwards), failing the test (never skipping
//! it) with the server's address when PostgreSQL is not there.

#![allow(dead_code)]

use std::str::FromStr;

use quire_search_postgres::{PgSearchConfig, PgSearchIndex};
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
            name: format!("quire_test_search_{}", uuid::Uuid::now_v7().simple()),
        }
    }

    /// A configuration of the test server for this schema.
    pub fn config(&self) -> PgSearchConfig {
        let mut config = PgSearchConfig::new(url()).with_schema(&self.name);
        config.postgres.max_connections = 4;
        config
    }
}

impl Drop for Schema {
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

/// Opens the index in `schema`, failing the test when PostgreSQL is not
/// there.
pub async fn open_or_fail(schema: &Schema) -> PgSearchIndex {
    match PgSearchIndex::open(&schema.config()).await {
        Ok(index) => index,
        Err(error) => panic!(
            "these tests need PostgreSQL at {} (set QUIRE_TEST_POSTGRES_URL to use another); \
             `scripts/services up` starts one for the test suite: {error}",
            address()
        ),
    }
}

/// A fresh schema and its open index.
pub async fn fresh_index() -> (PgSearchIndex, Schema) {
    let schema = Schema::unique();
    let index = open_or_fail(&schema).await;
    (index, schema)
}
