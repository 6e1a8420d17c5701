//! Failures and sharing: a commit whose connection dies (or whose
//! statement fails) half-way leaves nothing of itself behind and can be
//! retried; a stale second writer cannot move rows back; commits wait for
//! a concurrent writer's lock; other processes see commits; a server that
//! lost commits is noticed; an unreachable server and a closed pool are
//! reported as outages.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use quire_domain::{ChannelId, DocumentId, Position, Timestamp, UserId};
use quire_projections::query::{PageRequest, QueryError};
use quire_projections::search::{
    EntryKey, Principal, SearchEntry, SearchFilter, SearchIndex, SearchIndexError, SearchWrite,
};
use quire_search_postgres::{PgError, PgSearchConfig, PgSearchIndex};

use common::{fresh_index, open_or_fail};

fn user(id: &str) -> UserId {
    UserId::parse(id).expect("user id")
}

fn key(id: &str) -> EntryKey {
    EntryKey::Document(DocumentId::parse(id).expect("document id"))
}

fn entry(id: &str, body: &str, position: u64) -> SearchEntry {
    SearchEntry {
        key: key(id),
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
            &PageRequest::first(100),
        )
        .await
        .expect("search");
    let mut ids: Vec<String> = page.items.into_iter().map(|h| h.id).collect();
    ids.sort();
    ids
}

fn ids(ids: &[&str]) -> Vec<String> {
    ids.iter().map(|id| (*id).to_owned()).collect()
}

async fn execute(index: &PgSearchIndex, sql: &str) {
    if let Err(error) = sqlx::raw_sql(sql).execute(index.pool()).await {
        panic!("{sql}: {error}");
    }
}

/// The batch of the failure tests: two new entries, a deletion and a
/// membership of user `who` (written last in the transaction).
async fn write_batch(index: &PgSearchIndex, who: &str) {
    let writes = vec![
        SearchWrite::Upsert(entry("d4", "late lapwing", 4)),
        SearchWrite::Upsert(entry("d5", "late lapwing", 5)),
        SearchWrite::Delete {
            key: key("d1"),
            position: Position(6),
        },
        SearchWrite::Member {
            channel: ChannelId::parse("c1").expect("channel id"),
            user: user(who),
            member: true,
            position: Position(7),
        },
    ];
    assert_eq!(index.write_all(writes).await.expect("write_all"), 4);
}

/// What another process (a gateway) sees: committed state only.
async fn committed_state(schema: &common::Schema) -> (Position, Vec<String>, Vec<String>, bool) {
    let other = open_or_fail(schema).await;
    (
        other.checkpoint().await.expect("checkpoint"),
        hits(&other, "ann", "lapwing").await,
        hits(&other, "ann", "early").await,
        other.get(&key("d4")).await.expect("get").is_some(),
    )
}

async fn committed_base(index: &PgSearchIndex) {
    for n in 1..=3 {
        let id = format!("d{n}");
        assert!(
            index
                .upsert(entry(&id, "early lapwing", n))
                .await
                .expect("upsert")
        );
    }
    index.commit(Position(3)).await.expect("commit");
}

#[tokio::test]
async fn a_connection_killed_mid_commit_leaves_nothing_and_the_commit_can_be_retried() {
    let (index, schema) = fresh_index().await;
    committed_base(&index).await;
    // Writing the membership of `crash` (after the entries) kills the
    // committing connection.
    execute(
        &index,
        "CREATE FUNCTION crash_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           IF NEW.user_id = 'crash' THEN PERFORM pg_terminate_backend(pg_backend_pid()); END IF;
           RETURN NEW;
         END $$;
         CREATE TRIGGER crash BEFORE INSERT ON members FOR EACH ROW EXECUTE FUNCTION crash_on_insert();",
    )
    .await;
    write_batch(&index, "crash").await;
    match index.commit(Position(7)).await {
        Err(SearchIndexError::Unavailable(_)) => {}
        other => panic!("a lost connection is an outage, got {other:?}"),
    }
    assert_eq!(
        committed_state(&schema).await,
        (
            Position(3),
            ids(&["d1", "d2", "d3"]),
            ids(&["d1", "d2", "d3"]),
            false
        ),
        "nothing of the failed commit is visible"
    );
    assert!(
        index.get(&key("d4")).await.expect("get").is_some(),
        "the writer keeps its overlay"
    );

    // The outage ends; the runner retries the commit.
    execute(&index, "DROP TRIGGER crash ON members").await;
    index.commit(Position(7)).await.expect("retried commit");
    let (checkpoint, lapwing, early, d4) = committed_state(&schema).await;
    assert_eq!(checkpoint, Position(7));
    assert_eq!(lapwing, ["d2", "d3", "d4", "d5"], "d1 deleted, d4 and d5 added");
    assert_eq!(early, ["d2", "d3"]);
    assert!(d4);
}

#[tokio::test]
async fn a_failing_statement_leaves_nothing_and_blames_the_batch() {
    let (index, schema) = fresh_index().await;
    committed_base(&index).await;
    execute(
        &index,
        "CREATE FUNCTION fail_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           IF NEW.user_id = 'bad' THEN RAISE EXCEPTION 'injected failure'; END IF;
           RETURN NEW;
         END $$;
         CREATE TRIGGER fail BEFORE INSERT ON members FOR EACH ROW EXECUTE FUNCTION fail_on_insert();",
    )
    .await;
    write_batch(&index, "bad").await;
    match index.commit(Position(7)).await {
        Err(SearchIndexError::Corrupt(message)) => assert!(message.contains("injected"), "{message}"),
        other => panic!("a failing statement is not an outage, got {other:?}"),
    }
    index.rollback().await.expect("rollback");
    assert_eq!(index.get(&key("d4")).await.expect("get"), None, "rolled back");
    let (checkpoint, lapwing, _, d4) = committed_state(&schema).await;
    assert_eq!((checkpoint, lapwing.len(), d4), (Position(3), 3, false));
}

#[tokio::test]
async fn a_stale_writer_cannot_move_rows_back() {
    let (current, schema) = fresh_index().await;
    let stale = open_or_fail(&schema).await;
    let channel = ChannelId::parse("c1").expect("channel id");
    // Both build their overlays before either commits.
    assert!(stale.upsert(entry("d1", "stale stint", 3)).await.expect("upsert"));
    assert!(
        stale
            .set_member(&channel, &user("bob"), true, Position(4))
            .await
            .expect("member")
    );
    assert!(
        current
            .upsert(entry("d1", "fresh knot", 5))
            .await
            .expect("upsert")
    );
    assert!(
        current
            .set_member(&channel, &user("bob"), false, Position(6))
            .await
            .expect("member")
    );
    current.commit(Position(6)).await.expect("commit");
    stale.commit(Position(4)).await.expect("stale commit");

    let reader = open_or_fail(&schema).await;
    let stored = reader.get(&key("d1")).await.expect("get").expect("entry");
    assert_eq!(
        (stored.position, stored.body.as_str()),
        (Position(5), "fresh knot")
    );
    assert_eq!(reader.checkpoint().await.expect("checkpoint"), Position(6));
    assert!(
        !reader
            .set_member(&channel, &user("bob"), true, Position(6))
            .await
            .expect("member"),
        "the newer membership guard is stored"
    );
    assert!(hits(&reader, "ann", "stint").await.is_empty());
    assert_eq!(hits(&reader, "ann", "knot").await, ["d1"]);
}

#[tokio::test]
async fn a_commit_waits_for_another_writers_lock() {
    let (index, _schema) = fresh_index().await;
    let mut holder = index.pool().begin().await.expect("begin");
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
        .bind(format!("{}/search", index.schema()))
        .execute(&mut *holder)
        .await
        .expect("lock");
    index.upsert(entry("d1", "ruff", 1)).await.expect("upsert");
    let committing = tokio::spawn({
        let index = index.clone();
        async move { index.commit(Position(1)).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!committing.is_finished(), "the commit waits for the lock");
    holder.rollback().await.expect("release");
    committing.await.expect("join").expect("commit");
    assert_eq!(hits(&index, "ann", "ruff").await, ["d1"]);
}

/// A server that lost the last commit (entries and checkpoint): the next
/// commit is refused as `Rewound`, the replay's commits pass, and a
/// reset by this instance is not a rewind.
#[tokio::test]
async fn a_server_that_lost_commits_is_noticed() {
    let (index, _schema) = fresh_index().await;
    index.upsert(entry("d1", "kept", 3)).await.expect("write");
    index.commit(Position(5)).await.expect("commit");
    index.upsert(entry("d2", "lost", 8)).await.expect("write");
    index.commit(Position(10)).await.expect("commit");
    // The server loses that last commit: its entry and checkpoint.
    execute(
        &index,
        "DELETE FROM entries WHERE position > 5; UPDATE checkpoint SET position = 5",
    )
    .await;

    index.upsert(entry("d3", "after", 12)).await.expect("write");
    match index.commit(Position(12)).await {
        Err(SearchIndexError::Rewound { stored, seen }) => {
            assert_eq!((stored, seen), (Position(5), Position(10)));
        }
        other => panic!("expected a rewind, got {other:?}"),
    }
    index.rollback().await.expect("rollback");
    assert_eq!(index.checkpoint().await.expect("checkpoint"), Position(5));
    assert_eq!(
        hits(&index, "ann", "after").await,
        ids(&[]),
        "the refused commit wrote nothing"
    );

    // The replay from the stored checkpoint commits again.
    index.upsert(entry("d2", "lost", 8)).await.expect("write");
    index.upsert(entry("d3", "after", 12)).await.expect("write");
    index.commit(Position(12)).await.expect("the replay commits");
    assert_eq!(hits(&index, "ann", "lost OR after").await, ids(&["d2", "d3"]));

    index.reset().await.expect("reset");
    index.upsert(entry("d1", "again", 2)).await.expect("write");
    index
        .commit(Position(2))
        .await
        .expect("after a reset, lower checkpoints are fine");
}

#[tokio::test]
async fn text_holding_nul_round_trips() {
    let (index, schema) = fresh_index().await;
    let mut stored = entry("d1", "sanderling\0 flock", 1);
    stored.title = "odd\0title".to_owned();
    index.upsert(stored.clone()).await.expect("upsert");
    index.commit(Position(1)).await.expect("commit");
    let other = open_or_fail(&schema).await;
    assert_eq!(other.get(&key("d1")).await.expect("get"), Some(stored));
    assert_eq!(hits(&other, "ann", "sanderling").await, ["d1"]);
}

#[tokio::test]
async fn an_unreachable_server_is_named() {
    let mut config = PgSearchConfig::new("postgres://postgres@127.0.0.1:1/test");
    config.postgres.acquire_timeout = Duration::from_secs(1);
    match PgSearchIndex::open(&config).await {
        Err(error @ PgError::Unreachable { .. }) => {
            assert!(error.to_string().contains("127.0.0.1:1"), "{error}");
        }
        other => panic!("expected Unreachable, got {other:?}"),
    }
}

#[tokio::test]
async fn a_closed_pool_is_an_outage() {
    let (index, _schema) = fresh_index().await;
    index.upsert(entry("d1", "dotterel", 1)).await.expect("upsert");
    index.pool().close().await;
    match index.commit(Position(1)).await {
        Err(SearchIndexError::Unavailable(_)) => {}
        other => panic!("expected Unavailable, got {other:?}"),
    }
    match index
        .search(
            &user("ann"),
            "dotterel",
            &SearchFilter::all(),
            &PageRequest::first(10),
        )
        .await
    {
        Err(QueryError::Unavailable(_)) => {}
        other => panic!("expected Unavailable, got {other:?}"),
    }
}
