//! Lifecycle cases, driven through the search projector: deletes and
//! restores, renames and moves, message edits and deletes, idempotent
//! replay, and failed batches leaving nothing behind.

use std::sync::Arc;

use quire_domain::Position;

use super::fixture::{Harness, doc_id};
use crate::projector::Projector;
use crate::search::{EntryKey, SearchIndex};

/// A deleted document is hidden from everyone; restoring it reveals it.
pub async fn delete_hides_restore_reveals(index: Arc<dyn SearchIndex>) {
    let mut h = Harness::new(index);
    h.upload_in("d1", "ann", "Budget plan", Some("ops")).await;
    h.share("d1", "ann", "bob").await;
    h.delete_document("d1", "ann").await;
    assert!(h.ids("ann", "budget").await.is_empty(), "hidden from the owner");
    assert!(h.ids("bob", "budget").await.is_empty(), "and from a share");

    h.restore("d1", "ann", None).await;
    assert_eq!(h.ids("ann", "budget").await, ["d1"]);
    assert_eq!(h.ids("bob", "budget").await, ["d1"], "shares survive the bin");

    h.delete_with_project("d1", "ops").await;
    assert!(
        h.ids("ann", "budget").await.is_empty(),
        "deleted with its project"
    );
    h.restore("d1", "ann", Some("ops")).await;
    let hits = h.search("ann", "budget").await;
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].container, None, "restored out of its deleted project");
}

/// Renames replace the title; text extraction fills the body.
pub async fn renames_and_extracted_text(index: Arc<dyn SearchIndex>) {
    let mut h = Harness::new(index);
    h.upload("d1", "ann", "draft").await;
    h.rename("d1", "ann", "Heron field guide").await;
    assert!(h.ids("ann", "draft").await.is_empty(), "the old name is gone");
    assert_eq!(h.ids("ann", "heron").await, ["d1"]);
    assert_eq!(h.ids("ann", "title:heron").await, ["d1"], "field syntax");

    h.extract("d1", "Herons wade in shallow water.").await;
    h.extract("d1", "Egrets are herons too.").await;
    assert!(h.ids("ann", "shallow").await.is_empty(), "new text replaces old");
    assert_eq!(h.ids("ann", "egrets").await, ["d1"]);
    let hits = h.search("ann", "heron").await;
    assert_eq!(hits[0].title, "Heron field guide");

    // Extraction of an older version finishing after a newer one's.
    h.extract_version("d1", 3, "Bitterns boom in reed beds.").await;
    h.extract_version("d1", 2, "Cranes dance in spring.").await;
    assert!(
        h.ids("ann", "cranes").await.is_empty(),
        "older text does not replace newer"
    );
    assert_eq!(h.ids("ann", "bitterns").await, ["d1"]);
}

/// An edit replaces a message's text; a delete removes the message.
pub async fn edits_replace_message_text(index: Arc<dyn SearchIndex>) {
    let mut h = Harness::new(index);
    h.group("team", "ann", &["ann", "bob"]).await;
    h.send("team", "m1", "ann", "lunch at noon").await;
    h.edit("team", "m1", "ann", "dinner at eight").await;
    assert!(h.ids("bob", "lunch").await.is_empty(), "the old text is gone");
    let hits = h.search("bob", "dinner").await;
    assert_eq!(hits.len(), 1);
    assert!(hits[0].snippet.contains("<b>dinner</b>"), "{}", hits[0].snippet);

    h.delete_message("team", "m1", "ann").await;
    assert!(h.ids("bob", "dinner").await.is_empty(), "deleted");
    // An edit replayed after the delete does not bring it back.
    h.edit("team", "m1", "ann", "dinner again").await;
    assert!(h.ids("bob", "dinner").await.is_empty());
}

/// Applying the same events again (as one batch, one by one, or an old
/// event after newer ones) leaves the same results.
pub async fn replay_is_idempotent(index: Arc<dyn SearchIndex>) {
    let mut h = Harness::new(Arc::clone(&index));
    let mut batch = vec![
        h.upload_event("d1", "ann", "Osprey census", None),
        h.text_event("d1", "Ospreys nest near the lake."),
        h.rename_event("d1", "ann", "Osprey census 2024"),
        h.group_event("birds", "ann", &["ann", "bob"]),
    ];
    batch.push(h.send_event("birds", "m1", "bob", "saw an osprey today"));
    h.apply(&batch).await;

    let before = results(&h).await;
    assert_eq!(before.0, ["d1", "m1"]);

    h.apply(&batch).await;
    assert_eq!(results(&h).await, before, "the same batch twice");
    for event in &batch {
        h.apply(std::slice::from_ref(event)).await;
    }
    assert_eq!(results(&h).await, before, "each event again");
    // The first name, replayed after the rename, does not win.
    let first = batch[0].clone();
    h.apply(&[first]).await;
    assert_eq!(results(&h).await, before, "an old event after newer ones");

    let entry = index
        .get(&EntryKey::Document(doc_id("d1")))
        .await
        .expect("get")
        .expect("entry");
    assert_eq!(entry.position, batch[2].position, "the guard holds the rename");
}

/// Search results compared across replays.
type Results = (Vec<String>, Vec<String>, Vec<String>, Vec<String>);

async fn results(h: &Harness) -> Results {
    (
        h.ids("ann", "osprey").await,
        h.ids("bob", "osprey").await,
        h.ids("carol", "osprey").await,
        h.search("ann", "census")
            .await
            .into_iter()
            .map(|x| x.title)
            .collect(),
    )
}

/// A batch with an undecodable event fails whole: nothing of it is
/// visible or readable afterwards, and the checkpoint does not move.
pub async fn failed_batch_leaves_nothing(index: Arc<dyn SearchIndex>) {
    let mut h = Harness::new(Arc::clone(&index));
    h.upload("d0", "ann", "Stable thing").await;
    let committed = h.head();
    let good = h.upload_event("d1", "ann", "Pelican notes", None);
    let bad = h.raw(
        "document-d1",
        crate::search::TEXT_EXTRACTED,
        b"{\"text\":42}".to_vec(),
    );
    let result = h.projector.apply(&[good, bad], h.head()).await;
    assert!(result.is_err(), "an undecodable event fails the batch");
    assert!(h.ids("ann", "pelican").await.is_empty());
    assert_eq!(
        index.get(&EntryKey::Document(doc_id("d1"))).await.expect("get"),
        None
    );
    assert_eq!(
        h.projector.load_checkpoint().await.expect("checkpoint"),
        committed
    );
    assert_eq!(h.ids("ann", "stable").await, ["d0"]);
    assert!(committed > Position::ZERO);
}
