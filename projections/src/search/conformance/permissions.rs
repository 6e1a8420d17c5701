//! Permission cases, driven through the search projector: owners, shares
//! and unshares, channel participants at query time.

use std::sync::Arc;

use super::fixture::Harness;
use crate::search::{SearchIndex, SearchKind};

/// A user finds their own documents and never another user's unshared
/// ones; a hit carries the document's id, project, title and a snippet.
pub async fn owners_only(index: Arc<dyn SearchIndex>) {
    let mut h = Harness::new(index);
    h.upload_in("d1", "ann", "Quarterly report", Some("finance"))
        .await;
    h.extract("d1", "Revenue grew in every region this quarter.")
        .await;
    h.upload("d2", "bob", "Bob's revenue notes").await;

    let hits = h.search("ann", "revenue").await;
    assert_eq!(hits.len(), 1, "ann sees only her own document: {hits:?}");
    let hit = &hits[0];
    assert_eq!(hit.kind, SearchKind::Document);
    assert_eq!(hit.id, "d1");
    assert_eq!(hit.container.as_deref(), Some("finance"));
    assert_eq!(hit.title, "Quarterly report");
    assert!(
        hit.snippet.contains("<b>Revenue</b>"),
        "highlighted snippet: {}",
        hit.snippet
    );
    assert!(hit.score > 0.0);

    assert_eq!(h.ids("bob", "revenue").await, ["d2"]);
    assert!(h.ids("carol", "revenue").await.is_empty(), "carol sees nothing");
    assert_eq!(h.ids("ann", "quarterly").await, ["d1"], "titles are searchable");
}

/// Sharing lets the user find the document; unsharing takes it away again,
/// and never from the owner.
pub async fn share_then_unshare(index: Arc<dyn SearchIndex>) {
    let mut h = Harness::new(index);
    h.upload("d1", "ann", "Roadmap").await;
    h.extract("d1", "Launch the kestrel project in spring.").await;
    assert!(h.ids("bob", "kestrel").await.is_empty());

    h.share("d1", "ann", "bob").await;
    assert_eq!(h.ids("bob", "kestrel").await, ["d1"], "shared with bob");
    assert!(h.ids("carol", "kestrel").await.is_empty(), "not with carol");

    h.unshare("d1", "ann", "bob").await;
    assert!(h.ids("bob", "kestrel").await.is_empty(), "unshared from bob");
    assert_eq!(h.ids("ann", "kestrel").await, ["d1"], "the owner keeps it");

    // An unshare naming the owner cannot lock the owner out.
    h.unshare("d1", "ann", "ann").await;
    assert_eq!(h.ids("ann", "kestrel").await, ["d1"]);
}

/// Messages are found by the channel's current participants only: joining
/// reveals the history, leaving hides it.
pub async fn channel_participants_at_query_time(index: Arc<dyn SearchIndex>) {
    let mut h = Harness::new(index);
    h.group("design", "ann", &["ann", "bob"]).await;
    h.send("design", "m1", "ann", "the falcon mockups are ready")
        .await;
    h.send("design", "m2", "bob", "falcon colours need work").await;
    h.group("private", "dan", &["dan"]).await;
    h.send("private", "m1", "dan", "falcon budget is secret").await;

    assert_eq!(h.ids("ann", "falcon").await, ["m1", "m2"]);
    assert_eq!(h.ids("bob", "falcon").await, ["m1", "m2"]);
    assert!(
        h.ids("carol", "falcon").await.is_empty(),
        "carol is in no channel"
    );
    let dan = h.search("dan", "falcon").await;
    assert_eq!(dan.len(), 1, "dan sees only his channel: {dan:?}");
    assert_eq!(dan[0].container.as_deref(), Some("private"));
    assert_eq!(dan[0].kind, SearchKind::Message);

    h.add_member("design", "ann", "carol").await;
    assert_eq!(
        h.ids("carol", "falcon").await,
        ["m1", "m2"],
        "joining reveals the channel's history"
    );

    h.remove_member("design", "ann", "bob").await;
    assert!(h.ids("bob", "falcon").await.is_empty(), "leaving hides it");
    h.add_member("design", "ann", "bob").await;
    assert_eq!(
        h.ids("bob", "falcon").await,
        ["m1", "m2"],
        "rejoining shows it again"
    );
}
