//! The on-disk index across a restart: committed entries and the
//! checkpoint survive reopening, uncommitted writes do not, and the search
//! projector resumes from the index's own checkpoint.

use std::collections::BTreeSet;
use std::sync::Arc;

use quire_domain::{DocumentId, Position, Timestamp, UserId};
use quire_projections::Projector;
use quire_projections::query::PageRequest;
use quire_projections::search::conformance::Harness;
use quire_projections::search::{
    EntryKey, Principal, SearchEntry, SearchFilter, SearchIndex, SearchProjector,
};
use quire_search_tantivy::{TantivyConfig, TantivySearchIndex};

fn config() -> TantivyConfig {
    TantivyConfig {
        memory_budget_bytes: 15_000_000,
        ..TantivyConfig::default()
    }
}

fn entry(id: &str, body: &str, position: u64) -> SearchEntry {
    let ann = UserId::parse("ann").expect("test fixture");
    SearchEntry {
        key: EntryKey::Document(DocumentId::parse(id).expect("test fixture")),
        container: None,
        title: id.to_owned(),
        body: body.to_owned(),
        text_version: 0,
        readers: BTreeSet::from([Principal::User(ann.clone())]),
        author: ann,
        hidden: false,
        created_at: Timestamp(1),
        updated_at: Timestamp(1),
        position: Position(position),
    }
}

async fn ids(index: &dyn SearchIndex, reader: &str, query: &str) -> Vec<String> {
    let reader = UserId::parse(reader).expect("test fixture");
    let page = index
        .search(&reader, query, &SearchFilter::all(), &PageRequest::first(50))
        .await
        .expect("test fixture");
    let mut ids: Vec<String> = page.items.into_iter().map(|h| h.id).collect();
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkpoint_and_entries_survive_a_reopen_and_uncommitted_writes_do_not() {
    let dir = tempfile::tempdir().expect("test fixture");
    {
        let index = TantivySearchIndex::open(dir.path(), &config()).expect("test fixture");
        assert_eq!(index.checkpoint().await.expect("test fixture"), Position::ZERO);
        index
            .upsert(entry("d1", "bittern boom", 3))
            .await
            .expect("test fixture");
        index.commit(Position(7)).await.expect("test fixture");
        // Written but never committed: lost with the "crash".
        index
            .upsert(entry("d2", "bittern reeds", 8))
            .await
            .expect("test fixture");
    }
    let index = TantivySearchIndex::open(dir.path(), &config()).expect("test fixture");
    assert_eq!(
        index.checkpoint().await.expect("test fixture"),
        Position(7),
        "checkpoint from the commit payload"
    );
    assert_eq!(ids(&index, "ann", "bittern").await, ["d1"]);
    assert_eq!(
        index.get(&entry("d2", "", 0).key).await.expect("test fixture"),
        None
    );
    assert!(
        !index.upsert(entry("d1", "older", 3)).await.expect("test fixture"),
        "guards survive too"
    );

    index.reset().await.expect("test fixture");
    drop(index);
    let index = TantivySearchIndex::open(dir.path(), &config()).expect("test fixture");
    assert_eq!(
        index.checkpoint().await.expect("test fixture"),
        Position::ZERO,
        "a reset is durable"
    );
    assert!(ids(&index, "ann", "bittern").await.is_empty());
}

/// A record's position may lie above the checkpoint it was committed with;
/// its guard still holds after a reopen (the skip of committed look-ups
/// goes by the highest committed position, not by the checkpoint).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guards_hold_for_records_committed_above_the_checkpoint_across_a_reopen() {
    let dir = tempfile::tempdir().expect("test fixture");
    {
        let index = TantivySearchIndex::open(dir.path(), &config()).expect("test fixture");
        assert!(
            index
                .upsert(entry("d1", "heron", 10))
                .await
                .expect("test fixture")
        );
        index.commit(Position(5)).await.expect("test fixture");
        assert!(
            !index.upsert(entry("d1", "older", 7)).await.expect("test fixture"),
            "guarded before the reopen"
        );
    }
    let index = TantivySearchIndex::open(dir.path(), &config()).expect("test fixture");
    assert!(
        !index.upsert(entry("d1", "older", 7)).await.expect("test fixture"),
        "guarded after the reopen"
    );
    assert!(
        index
            .upsert(entry("d1", "newer", 11))
            .await
            .expect("test fixture")
    );
    index.commit(Position(11)).await.expect("test fixture");
    assert_eq!(ids(&index, "ann", "newer").await, ["d1"]);
    assert!(
        ids(&index, "ann", "heron").await.is_empty(),
        "the newer record replaced it"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_projector_resumes_from_the_index_checkpoint_with_its_state() {
    let dir = tempfile::tempdir().expect("test fixture");
    let index: Arc<dyn SearchIndex> =
        Arc::new(TantivySearchIndex::open(dir.path(), &config()).expect("test fixture"));
    let mut h = Harness::new(Arc::clone(&index));
    h.upload("d1", "ann", "Avocet survey").await;
    h.group("birds", "ann", &["ann", "bob"]).await;
    h.send("birds", "m1", "ann", "avocet on the mudflat").await;
    let head = h.head();
    drop(h);
    drop(index);

    // Restart: nothing in memory; everything the projector needs is in the index.
    let index: Arc<dyn SearchIndex> =
        Arc::new(TantivySearchIndex::open(dir.path(), &config()).expect("test fixture"));
    let projector = SearchProjector::new(Arc::clone(&index));
    assert_eq!(projector.load_checkpoint().await.expect("test fixture"), head);
    let mut h = Harness::new(Arc::clone(&index));
    // Continue the same log past the old head.
    for _ in 0..head.0 {
        h.raw("other-x", "other.skipped", b"{}".to_vec());
    }
    h.share("d1", "ann", "bob").await;
    h.add_member("birds", "ann", "carol").await;
    assert_eq!(
        ids(&*index, "bob", "avocet").await,
        ["d1", "m1"],
        "share applied to the reopened entry"
    );
    assert_eq!(
        ids(&*index, "carol", "avocet").await,
        ["m1"],
        "membership kept across the restart"
    );
    assert_eq!(ids(&*index, "ann", "survey").await, ["d1"]);
}
