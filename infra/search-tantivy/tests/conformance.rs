//! The search index conformance suite against the tantivy adapter, in RAM
//! and on disk.

use quire_projections::search::conformance::Fixture;
use quire_projections::search_index_conformance;
use quire_search_tantivy::{TantivyConfig, TantivySearchIndex};

/// The smallest writer budget tantivy accepts, so parallel tests stay light.
fn config() -> TantivyConfig {
    TantivyConfig {
        memory_budget_bytes: 15_000_000,
        ..TantivyConfig::default()
    }
}

search_index_conformance!(|| async {
    Fixture::new(TantivySearchIndex::in_ram(&config()).expect("open in RAM"), ())
});

mod on_disk {
    use super::*;

    search_index_conformance!(|| async {
        let dir = tempfile::tempdir().expect("temp dir");
        let index = TantivySearchIndex::open(dir.path(), &config()).expect("open on disk");
        Fixture::new(index, dir)
    });
}
