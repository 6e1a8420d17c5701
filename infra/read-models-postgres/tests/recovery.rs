//! Crash convergence: a batch that fails half-way through its transaction
//! (its connection killed, or a statement failing) leaves nothing behind,
//! and replaying from the stored checkpoint gives exactly the answers of a
//! clean replay. Also: an unreachable server and a closed pool are
//! reported as outages (`Unavailable`), which the runner retries.

mod common;

use std::sync::Arc;
use std::time::Duration;

use quire_domain::channel::ChannelEvent;
use quire_domain::document::ShareRole;
use quire_domain::{NewEvent, Position, RecordedEvent};
use quire_projections::query::{MAX_PAGE_SIZE, PageRequest, QueryError};
use quire_projections::read_models::channels::{ChannelQueries, InMemoryChannels, MessageFilter};
use quire_projections::read_models::conformance::World;
use quire_projections::read_models::conformance::world::{cid, deliver, doc_id, mid, pid, uid};
use quire_projections::read_models::documents::{DocumentFilter, DocumentQueries};
use quire_projections::read_models::unread::UnreadQueries;
use quire_projections::{ProjectionError, Projector};
use quire_read_models_postgres::{PgChannels, PgConfig, PgDocuments, PgError, PgStore};

use common::{fresh_store, open_or_fail};

/// Delivers `history` in batches of `size`, each with its last position as
/// checkpoint, stopping at the first failure, which it returns.
async fn deliver_until_failure(
    projector: &dyn Projector,
    history: &[Arc<RecordedEvent>],
    size: usize,
) -> Option<quire_projections::ProjectionError> {
    let filter = projector.filter();
    for batch in history.chunks(size) {
        let checkpoint = batch.last().map_or(Position::ZERO, |e| e.position);
        let matching: Vec<_> = batch.iter().filter(|e| filter.matches(e)).cloned().collect();
        if let Err(error) = projector.apply(&matching, checkpoint).await {
            return Some(error);
        }
    }
    None
}

/// Replays what follows the stored checkpoint (after redelivering the
/// batch before it, as a restarted runner may), in batches of `size`.
async fn resume(projector: &dyn Projector, history: &[Arc<RecordedEvent>], size: usize) {
    let checkpoint = projector.load_checkpoint().await.expect("checkpoint");
    let done = history.iter().take_while(|e| e.position <= checkpoint).count();
    let overlap = done.saturating_sub(size);
    deliver(projector, &history[overlap..done], checkpoint).await;
    for batch in history[done..].chunks(size) {
        let last = batch.last().map_or(checkpoint, |e| e.position);
        deliver(projector, batch, last).await;
    }
}

async fn execute(store: &PgStore, sql: &str) {
    if let Err(error) = sqlx::raw_sql(sql).execute(store.pool()).await {
        panic!("{sql}: {error}");
    }
}

// Channels -------------------------------------------------------------------

/// Every kind of channel event, with a message `crash` two thirds in.
fn channel_world() -> World {
    let mut world = World::new();
    world
        .group("ann", "g1", "Team", &["bob", "cy"])
        .direct("ann", "dee", "dm");
    for n in 0..24 {
        let (author, channel) = [("ann", "g1"), ("bob", "g1"), ("dee", "dm"), ("cy", "g1")][n % 4];
        world.send(author, channel, &format!("m{n}"));
        if n % 5 == 4 {
            world.mark_read("bob", "g1", "m1");
        }
    }
    world
        .reply("bob", "g1", "r1", "m0")
        .edit("bob", "g1", "m1", "edited")
        .delete_message("ann", "g1", "m4")
        .mark_read("cy", "g1", "m5")
        .remove_participant("ann", "g1", "cy")
        .send("ann", "g1", "crash")
        .add_participant("bob", "g1", "dee")
        .delete_message("bob", "g1", "m1")
        .edit("ann", "g1", "crash", "after the crash")
        .mark_read("dee", "g1", "r1")
        .send("dee", "dm", "late")
        .mark_read("ann", "dm", "late");
    world
}

async fn channel_answers(q: &dyn ChannelQueries) -> Vec<String> {
    let all = PageRequest::first(MAX_PAGE_SIZE);
    let mut answers = Vec::new();
    for reader in ["ann", "bob", "cy", "dee"].map(uid) {
        answers.push(format!("{:?}", q.list_channels(&reader, all.clone()).await));
        for channel in ["g1", "dm"].map(cid) {
            answers.push(format!("{:?}", q.get_channel(&reader, &channel).await));
            let filter = MessageFilter::default();
            answers.push(format!(
                "{:?}",
                q.list_messages(&reader, &channel, filter, all.clone()).await
            ));
            let thread = MessageFilter {
                thread: Some(mid("m0")),
            };
            answers.push(format!(
                "{:?}",
                q.list_messages(&reader, &channel, thread, all.clone()).await
            ));
        }
    }
    answers
}

#[tokio::test]
async fn channels_killed_mid_transaction_converge_on_replay() {
    let history = channel_world().history();
    let (clean_store, _clean_schema) = fresh_store().await;
    let clean = PgChannels::new(clean_store);
    assert!(deliver_until_failure(&clean, &history, 7).await.is_none());
    let expected = channel_answers(&clean).await;

    let schema = common::unique();
    let store = open_or_fail(&schema).await;
    // The backend inserting message `crash` kills its own connection.
    execute(
        &store,
        "CREATE FUNCTION crash_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           IF NEW.id = 'crash' THEN PERFORM pg_terminate_backend(pg_backend_pid()); END IF;
           RETURN NEW;
         END $$;
         CREATE TRIGGER crash BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION crash_on_insert();",
    )
    .await;
    let crashing = PgChannels::new(store.clone());
    let failure = deliver_until_failure(&crashing, &history, 7).await;
    let failure = failure.expect("the batch with message `crash` fails");
    assert!(
        failure.is_transient(),
        "a lost connection is an outage: {failure}"
    );
    let crash_at = history
        .iter()
        .position(|e| {
            e.event_type == "channel.message_sent" && e.payload.windows(7).any(|w| w == b"\"crash\"")
        })
        .expect("the crash message");
    let stored = crashing.load_checkpoint().await.expect("checkpoint");
    assert_eq!(
        stored,
        history[crash_at / 7 * 7 - 1].position,
        "the failed batch left no checkpoint"
    );
    assert_ne!(channel_answers(&crashing).await, expected);

    // The outage ends; a new process resumes from the stored checkpoint.
    execute(&store, "DROP TRIGGER crash ON messages").await;
    drop(crashing);
    let resumed = PgChannels::new(open_or_fail(&schema).await);
    resume(&resumed, &history, 5).await;
    assert_eq!(
        channel_answers(&resumed).await,
        expected,
        "resumed read model differs from a clean replay"
    );
    assert_eq!(
        resumed.load_checkpoint().await.expect("checkpoint"),
        history.last().map_or(Position::ZERO, |e| e.position)
    );
}

// Documents ------------------------------------------------------------------

/// Every kind of document and project event, with a version of content
/// type `application/x-crash` half-way.
fn document_world() -> World {
    let mut world = World::new();
    world
        .create_project("ann", "p1", "Work", None)
        .create_project("ann", "p2", "Sub", Some("p1"))
        .upload("ann", "d1", "a.txt", Some("p1"))
        .share("ann", "d1", "bob", ShareRole::View)
        .upload("bob", "d2", "b.txt", None)
        .share("bob", "d2", "ann", ShareRole::Edit)
        .share("bob", "d2", "cy", ShareRole::View);
    world.new_version("ann", "d2", "text/markdown");
    world.new_version("ann", "d1", "application/x-crash");
    world
        .unshare("bob", "d2", "cy")
        .rename_document("ann", "d2", "b2.txt")
        .upload("ann", "d3", "c.txt", Some("p2"))
        .delete_project("ann", "p2")
        .delete_with_project("d3", "p2")
        .delete_document("ann", "d1")
        .restore_document("ann", "d1")
        .move_document("ann", "d1", None)
        .rename_project("ann", "p1", "Work2");
    world.new_version("bob", "d2", "text/plain");
    world
}

async fn document_answers(q: &dyn DocumentQueries) -> Vec<String> {
    let all = PageRequest::first(MAX_PAGE_SIZE);
    let mut answers = Vec::new();
    for reader in ["ann", "bob", "cy"].map(uid) {
        for include_deleted in [false, true] {
            let filter = DocumentFilter {
                include_deleted,
                ..DocumentFilter::default()
            };
            answers.push(format!(
                "{:?}",
                q.list_documents(&reader, filter, all.clone()).await
            ));
        }
        for doc in ["d1", "d2", "d3"].map(doc_id) {
            answers.push(format!("{:?}", q.get_document(&reader, &doc).await));
            answers.push(format!("{:?}", q.list_versions(&reader, &doc, all.clone()).await));
        }
        for project in ["p1", "p2"].map(pid) {
            answers.push(format!("{:?}", q.get_project(&reader, &project).await));
            answers.push(format!(
                "{:?}",
                q.list_projects(&reader, Some(&project), all.clone()).await
            ));
        }
        answers.push(format!("{:?}", q.list_projects(&reader, None, all.clone()).await));
    }
    answers.push(format!("{:?}", q.project_ancestors(&pid("p2")).await));
    answers
}

#[tokio::test]
async fn documents_rolled_back_mid_transaction_converge_on_replay() {
    let history = document_world().history();
    let (clean_store, _clean_schema) = fresh_store().await;
    let clean = PgDocuments::new(clean_store);
    assert!(deliver_until_failure(&clean, &history, 4).await.is_none());
    let expected = document_answers(&clean).await;

    let schema = common::unique();
    let store = open_or_fail(&schema).await;
    // Inserting a version of the crash type fails after the batch's
    // document rows were written.
    execute(
        &store,
        "CREATE FUNCTION fail_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           IF NEW.content_type = 'application/x-crash' THEN RAISE EXCEPTION 'injected failure'; END IF;
           RETURN NEW;
         END $$;
         CREATE TRIGGER fail BEFORE INSERT ON document_versions
           FOR EACH ROW EXECUTE FUNCTION fail_on_insert();",
    )
    .await;
    let failing = PgDocuments::new(store.clone());
    let failure = deliver_until_failure(&failing, &history, 4).await;
    let failure = failure.expect("the batch with the crash version fails");
    assert!(
        !failure.is_transient(),
        "a failing statement blames the events: {failure}"
    );
    let before = failing.load_checkpoint().await.expect("checkpoint");
    assert!(before < history.last().map_or(Position::ZERO, |e| e.position));

    execute(&store, "DROP TRIGGER fail ON document_versions").await;
    let resumed = PgDocuments::new(open_or_fail(&schema).await);
    resume(&resumed, &history, 3).await;
    assert_eq!(
        document_answers(&resumed).await,
        expected,
        "resumed read model differs from a clean replay"
    );
}

// A server that lost committed batches ---------------------------------------

/// Copies `tables` aside (a backup) or back over themselves (a restore).
async fn backup(store: &PgStore, tables: &[&str]) {
    for table in tables {
        execute(store, &format!("CREATE TABLE backup_{table} AS TABLE {table}")).await;
    }
}

async fn restore(store: &PgStore, tables: &[&str]) {
    for table in tables {
        execute(
            store,
            &format!("DELETE FROM {table}; INSERT INTO {table} TABLE backup_{table}"),
        )
        .await;
    }
}

/// Applies `history` in batches of `size` until a third of it, backs the
/// schema up, applies the next third, restores the backup (what a server
/// that lost those batches holds), then goes on: the next batch is refused
/// as `Rewound` to the backup's checkpoint, and the replay from the stored
/// checkpoint that the runner then starts gives a clean replay's answers.
async fn lost_batches_are_noticed_and_replayed(
    projector: &dyn Projector,
    store: &PgStore,
    history: &[Arc<RecordedEvent>],
    tables: &[&str],
) {
    let size = 5;
    let (first, rest) = history.split_at(history.len() / 3 / size * size);
    let (second, third) = rest.split_at(rest.len() / 2 / size * size);
    assert!(deliver_until_failure(projector, first, size).await.is_none());
    let backed_up = first.last().expect("a first third").position;
    backup(store, tables).await;
    assert!(deliver_until_failure(projector, second, size).await.is_none());
    let lost = second.last().expect("a second third").position;
    restore(store, tables).await;

    let refused = deliver_until_failure(projector, third, size).await;
    assert!(
        matches!(refused, Some(ProjectionError::Rewound { stored, seen }) if stored == backed_up && seen == lost),
        "{refused:?}"
    );
    assert_eq!(projector.load_checkpoint().await.expect("checkpoint"), backed_up);
    resume(projector, history, size).await;
    assert_eq!(
        projector.load_checkpoint().await.expect("checkpoint"),
        history.last().map_or(Position::ZERO, |e| e.position)
    );
}

#[tokio::test]
async fn channels_notice_a_server_that_lost_batches_and_replay_them() {
    let history = channel_world().history();
    let (clean_store, _clean_schema) = fresh_store().await;
    let clean = PgChannels::new(clean_store);
    assert!(deliver_until_failure(&clean, &history, 5).await.is_none());

    let (store, _schema) = fresh_store().await;
    let model = PgChannels::new(store.clone());
    let tables = ["channels", "channel_members", "messages", "checkpoints"];
    lost_batches_are_noticed_and_replayed(&model, &store, &history, &tables).await;
    assert_eq!(channel_answers(&model).await, channel_answers(&clean).await);
    assert_eq!(
        format!("{:?}", model.unread_counts(&uid("bob")).await),
        format!("{:?}", clean.unread_counts(&uid("bob")).await)
    );

    // A reset by this process is not a rewind.
    model.reset().await.expect("reset");
    assert!(deliver_until_failure(&model, &history, 5).await.is_none());
    assert_eq!(channel_answers(&model).await, channel_answers(&clean).await);
}

#[tokio::test]
async fn documents_notice_a_server_that_lost_batches_and_replay_them() {
    let history = document_world().history();
    let (clean_store, _clean_schema) = fresh_store().await;
    let clean = PgDocuments::new(clean_store);
    assert!(deliver_until_failure(&clean, &history, 5).await.is_none());

    let (store, _schema) = fresh_store().await;
    let model = PgDocuments::new(store.clone());
    let tables = [
        "documents",
        "document_versions",
        "document_shares",
        "projects",
        "checkpoints",
    ];
    lost_batches_are_noticed_and_replayed(&model, &store, &history, &tables).await;
    assert_eq!(document_answers(&model).await, document_answers(&clean).await);

    model.reset().await.expect("reset");
    assert!(deliver_until_failure(&model, &history, 5).await.is_none());
    assert_eq!(document_answers(&model).await, document_answers(&clean).await);
}

// A sent id already stored --------------------------------------------------

/// `event` again as a new message `seq` at `position` (what no valid log
/// holds: the domain never reuses a message id in a channel).
fn resent(event: &RecordedEvent, seq: u64, position: Position) -> Arc<RecordedEvent> {
    let mut decoded: ChannelEvent = event.decode().expect("decodes");
    if let ChannelEvent::MessageSent(sent) = &mut decoded {
        sent.seq = seq;
        sent.body = "a second body".to_owned();
    }
    let new = NewEvent::from_domain(&decoded, event.metadata.clone());
    Arc::new(RecordedEvent {
        event_id: new.event_id,
        stream_id: event.stream_id.clone(),
        stream_version: event.stream_version + 100,
        position,
        event_type: new.event_type,
        schema_version: new.schema_version,
        recorded_at: event.recorded_at,
        metadata: new.metadata,
        payload: new.payload,
    })
}

#[tokio::test]
async fn a_message_id_sent_twice_is_ignored_as_in_memory() {
    let mut world = World::new();
    world
        .group("ann", "g1", "Team", &["bob"])
        .send("ann", "g1", "m1")
        .send("bob", "g1", "m2")
        .send("ann", "g1", "m3");
    let mut history = world.history();
    history.push(resent(&history[1], 4, world.head().next()));
    let head = world.head().next();
    let memory = InMemoryChannels::new();
    let (store, _schema) = fresh_store().await;
    let postgres = PgChannels::new(store);
    // m1 is stored when a batch sends it again, after m3.
    for projector in [&memory as &dyn Projector, &postgres] {
        deliver(projector, &history[..3], history[2].position).await;
        deliver(projector, &history[3..], head).await;
    }
    assert_eq!(channel_answers(&postgres).await, channel_answers(&memory).await);
    let timeline = postgres
        .list_messages(
            &uid("bob"),
            &cid("g1"),
            MessageFilter::default(),
            PageRequest::default(),
        )
        .await
        .expect("messages");
    assert_eq!(timeline.items.len(), 3, "the second m1 is ignored");
    assert_eq!(postgres.load_checkpoint().await.expect("checkpoint"), head);
}

// Outages --------------------------------------------------------------------

#[tokio::test]
async fn an_unreachable_server_is_named() {
    let mut config = PgConfig::new("postgres://postgres@127.0.0.1:1/test").with_schema("quire_unreachable");
    config.acquire_timeout = Duration::from_secs(1);
    match PgStore::open(&config).await {
        Err(error @ PgError::Unreachable { .. }) => {
            assert!(error.to_string().contains("127.0.0.1:1"), "{error}");
        }
        other => panic!("expected Unreachable, got {other:?}"),
    }
}

#[tokio::test]
async fn a_closed_pool_is_an_outage() {
    let (store, _schema) = fresh_store().await;
    let channels = PgChannels::new(store.clone());
    store.pool().close().await;
    let error = channels.apply(&[], Position(1)).await.expect_err("pool closed");
    assert!(error.is_transient(), "{error}");
    match channels.unread_counts(&uid("ann")).await {
        Err(QueryError::Unavailable(_)) => {}
        other => panic!("expected Unavailable, got {other:?}"),
    }
}
