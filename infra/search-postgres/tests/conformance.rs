//! The search index conformance suite of `quire-projections`, run against
//! the PostgreSQL backend: every case gets a fresh schema, dropped after.
//! PostgreSQL must be running (`scripts/services up`); without it every case
//! fails, naming the address.

mod common;

use quire_projections::search::conformance::Fixture;
use quire_projections::search_index_conformance;

search_index_conformance!(|| async {
    let (index, schema) = crate::common::fresh_index().await;
    Fixture::new(index, schema)
});
