//! Store cases, straight through the port: position guards and tombstones,
//! uncommitted writes and rollback, checkpoints, reset.

use std::collections::BTreeSet;
use std::sync::Arc;

use quire_domain::{Position, Timestamp};

use super::fixture::{channel_id, doc_id, message_id, user};
use crate::query::PageRequest;
use crate::search::{Container, EntryKey, Principal, SearchEntry, SearchFilter, SearchIndex, SearchWrite};

fn entry(id: &str, body: &str, position: u64) -> SearchEntry {
    SearchEntry {
        key: EntryKey::Document(doc_id(id)),
        container: None,
        title: format!("title of {id}"),
        body: body.to_owned(),
        text_version: 0,
        author: user("ann"),
        readers: BTreeSet::from([Principal::User(user("ann"))]),
        hidden: false,
        created_at: Timestamp(1),
        updated_at: Timestamp(position as i64),
        position: Position(position),
    }
}

async fn hits(index: &dyn SearchIndex, reader: &str, query: &str) -> Vec<String> {
    let page = index
        .search(
            &user(reader),
            query,
            &SearchFilter::all(),
            &PageRequest::first(50),
        )
        .await
        .expect("search");
    let mut ids: Vec<String> = page.items.into_iter().map(|h| h.id).collect();
    ids.sort();
    ids
}

/// A write at or below the stored position is skipped; a delete leaves a
/// tombstone that older writes cannot pass; memberships are guarded alike.
pub async fn position_guards(index: Arc<dyn SearchIndex>) {
    let key = EntryKey::Document(doc_id("d1"));
    assert!(index.upsert(entry("d1", "first text", 5)).await.expect("upsert"));
    assert!(
        !index.upsert(entry("d1", "older text", 4)).await.expect("upsert"),
        "older skipped"
    );
    assert!(
        !index.upsert(entry("d1", "same text", 5)).await.expect("upsert"),
        "equal skipped"
    );
    let stored = index.get(&key).await.expect("get").expect("entry");
    assert_eq!(stored, entry("d1", "first text", 5), "every field round-trips");
    index.commit(Position(5)).await.expect("commit");
    assert_eq!(hits(&*index, "ann", "first").await, ["d1"]);

    assert!(
        !index.delete(&key, Position(5)).await.expect("delete"),
        "delete not newer"
    );
    assert!(index.delete(&key, Position(7)).await.expect("delete"));
    assert!(
        !index.upsert(entry("d1", "revived", 6)).await.expect("upsert"),
        "tombstone holds"
    );
    assert_eq!(index.get(&key).await.expect("get"), None);
    index.commit(Position(7)).await.expect("commit");
    assert!(hits(&*index, "ann", "first OR revived").await.is_empty());
    assert!(
        index.upsert(entry("d1", "reborn", 8)).await.expect("upsert"),
        "newer passes"
    );
    index.commit(Position(8)).await.expect("commit");
    assert_eq!(hits(&*index, "ann", "reborn").await, ["d1"]);

    let channel = channel_id("c1");
    let bob = user("bob");
    let message = SearchEntry {
        key: EntryKey::Message {
            channel: channel.clone(),
            message: message_id("m1"),
        },
        container: Some(Container::Channel(channel.clone())),
        readers: BTreeSet::from([Principal::Channel(channel.clone())]),
        author: user("ann"),
        ..entry("unused", "grouse spotted", 9)
    };
    assert!(index.upsert(message).await.expect("upsert"));
    assert!(
        index
            .set_member(&channel, &bob, true, Position(10))
            .await
            .expect("member")
    );
    assert!(
        index
            .set_member(&channel, &bob, false, Position(12))
            .await
            .expect("member")
    );
    assert!(
        !index
            .set_member(&channel, &bob, true, Position(11))
            .await
            .expect("member"),
        "an older join cannot undo a later leave"
    );
    index.commit(Position(12)).await.expect("commit");
    assert!(hits(&*index, "bob", "grouse").await.is_empty());
    assert!(
        index
            .set_member(&channel, &bob, true, Position(13))
            .await
            .expect("member")
    );
    index.commit(Position(13)).await.expect("commit");
    assert_eq!(hits(&*index, "bob", "grouse").await, ["m1"]);
    assert!(
        hits(&*index, "ann", "grouse").await.is_empty(),
        "authors read through membership too"
    );
}

/// Uncommitted writes are readable by the writer but not searchable;
/// rollback drops them; commit publishes them.
pub async fn commit_and_rollback(index: Arc<dyn SearchIndex>) {
    let key = EntryKey::Document(doc_id("d1"));
    index.upsert(entry("d1", "curlew call", 3)).await.expect("upsert");
    assert!(
        index.get(&key).await.expect("get").is_some(),
        "own writes are readable"
    );
    assert!(
        hits(&*index, "ann", "curlew").await.is_empty(),
        "not searchable before commit"
    );
    index.rollback().await.expect("rollback");
    assert_eq!(index.get(&key).await.expect("get"), None, "rolled back");
    assert_eq!(index.checkpoint().await.expect("checkpoint"), Position::ZERO);

    index.upsert(entry("d1", "curlew call", 3)).await.expect("upsert");
    index.commit(Position(3)).await.expect("commit");
    assert_eq!(
        hits(&*index, "ann", "curlew").await,
        ["d1"],
        "visible once commit returns"
    );
    assert!(hits(&*index, "bob", "curlew").await.is_empty());
}

/// The checkpoint is committed with the writes, never moves back, and
/// reset empties the index and the checkpoint.
pub async fn checkpoints_and_reset(index: Arc<dyn SearchIndex>) {
    assert_eq!(index.checkpoint().await.expect("checkpoint"), Position::ZERO);
    index.commit(Position(4)).await.expect("commit with no writes");
    assert_eq!(index.checkpoint().await.expect("checkpoint"), Position(4));
    index
        .upsert(entry("d1", "dunlin flock", 5))
        .await
        .expect("upsert");
    assert_eq!(
        index.checkpoint().await.expect("checkpoint"),
        Position(4),
        "not before commit"
    );
    index.commit(Position(9)).await.expect("commit");
    assert_eq!(index.checkpoint().await.expect("checkpoint"), Position(9));
    index.commit(Position(6)).await.expect("commit");
    assert_eq!(
        index.checkpoint().await.expect("checkpoint"),
        Position(9),
        "never back"
    );

    index.reset().await.expect("reset");
    assert_eq!(index.checkpoint().await.expect("checkpoint"), Position::ZERO);
    assert!(hits(&*index, "ann", "dunlin").await.is_empty());
    assert_eq!(
        index.get(&EntryKey::Document(doc_id("d1"))).await.expect("get"),
        None
    );
    assert!(
        index
            .upsert(entry("d1", "dunlin again", 1))
            .await
            .expect("upsert"),
        "guards reset too"
    );
    index.commit(Position(1)).await.expect("commit");
    assert_eq!(hits(&*index, "ann", "dunlin").await, ["d1"]);
}

/// A batch of writes behaves as the same writes one by one: each is
/// guarded against what is stored and against the batch's earlier writes.
pub async fn batched_writes(index: Arc<dyn SearchIndex>) {
    index
        .upsert(entry("d0", "stored snipe", 10))
        .await
        .expect("upsert");
    let channel = channel_id("c1");
    let writes = vec![
        SearchWrite::Upsert(entry("d1", "plover first", 3)),
        SearchWrite::Upsert(entry("d1", "plover older", 2)),
        SearchWrite::Upsert(entry("d1", "plover newest", 4)),
        SearchWrite::Upsert(entry("d0", "stale snipe", 9)),
        SearchWrite::Upsert(entry("d2", "godwit", 5)),
        SearchWrite::Delete {
            key: EntryKey::Document(doc_id("d2")),
            position: Position(6),
        },
        SearchWrite::Upsert(entry("d2", "godwit revived", 5)),
        SearchWrite::Member {
            channel: channel.clone(),
            user: user("bob"),
            member: true,
            position: Position(7),
        },
    ];
    let written = index.write_all(writes).await.expect("write_all");
    assert_eq!(written, 5, "two older upserts and the revival were skipped");
    let d1 = index.get(&EntryKey::Document(doc_id("d1"))).await.expect("get");
    assert_eq!(d1.map(|e| e.body), Some("plover newest".to_owned()));
    assert_eq!(
        index.get(&EntryKey::Document(doc_id("d2"))).await.expect("get"),
        None
    );
    index.commit(Position(10)).await.expect("commit");
    assert_eq!(hits(&*index, "ann", "plover").await, ["d1"]);
    assert_eq!(hits(&*index, "ann", "snipe").await, ["d0"]);
    assert!(hits(&*index, "ann", "stale OR godwit").await.is_empty());
    assert!(
        !index
            .set_member(&channel, &user("bob"), false, Position(7))
            .await
            .expect("member"),
        "the batch's membership holds its guard"
    );
    assert_eq!(index.write_all(Vec::new()).await.expect("empty batch"), 0);
}
