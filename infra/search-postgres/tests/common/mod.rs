//! Helpers shared by the integration tests: a fresh schema per test on the
//! local PostgreSQL (`quire_read_models_postgres::testing`), opened as a
//! search index.

#![allow(dead_code)]

use quire_read_models_postgres::testing::{TestSchema, unreachable};
use quire_search_postgres::{PgSearchConfig, PgSearchIndex};

/// A schema of one test, dropped when this is dropped.
pub type Schema = TestSchema;

/// A new, unique test schema (not yet created).
pub fn unique() -> Schema {
    TestSchema::unique("quire_test_search_")
}

/// The search configuration of `schema`.
pub fn config(schema: &Schema) -> PgSearchConfig {
    PgSearchConfig::from(schema.config())
}

/// Opens the index in `schema`, failing the test when PostgreSQL is not
/// there.
pub async fn open_or_fail(schema: &Schema) -> PgSearchIndex {
    PgSearchIndex::open(&config(schema))
        .await
        .unwrap_or_else(|error| panic!("{}", unreachable(error)))
}

/// A fresh schema and its open index.
pub async fn fresh_index() -> (PgSearchIndex, Schema) {
    let schema = unique();
    let index = open_or_fail(&schema).await;
    (index, schema)
}
