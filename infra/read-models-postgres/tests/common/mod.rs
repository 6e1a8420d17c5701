//! Helpers shared by the integration tests: a fresh schema per test on the
//! local PostgreSQL (`quire_read_models_postgres::testing`), opened as a
//! store.

#![allow(dead_code)]

use quire_read_models_postgres::PgStore;
use quire_read_models_postgres::testing::{TestSchema, unreachable};

/// A schema of one test, dropped when this is dropped.
pub type Schema = TestSchema;

/// A new, unique test schema (not yet created).
pub fn unique() -> Schema {
    TestSchema::unique("quire_test_")
}

/// Opens the store of `schema`, failing the test when PostgreSQL is not
/// there.
pub async fn open_or_fail(schema: &Schema) -> PgStore {
    PgStore::open(&schema.config())
        .await
        .unwrap_or_else(|error| panic!("{}", unreachable(error)))
}

/// A fresh schema and its open store.
pub async fn fresh_store() -> (PgStore, Schema) {
    let schema = unique();
    let store = open_or_fail(&schema).await;
    (store, schema)
}
