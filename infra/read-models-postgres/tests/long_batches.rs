//! Batches longer than one part of the messages' `COPY` stream (the
//! channels projector applies and streams a batch 512 events at a time),
//! with edits and deletions of messages sent earlier in the same batch,
//! replies, participants leaving and coming back, and read markers both
//! past and before their channel's newest stored message (unread counts
//! the batch tells itself, and counts the store must make). PostgreSQL
//! must agree with the in-memory model fed the same history, whatever the
//! batch size.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use quire_domain::{Position, RecordedEvent};
use quire_projections::Projector;
use quire_projections::query::{MAX_PAGE_SIZE, PageRequest};
use quire_projections::read_models::channels::{ChannelQueries, InMemoryChannels, MessageFilter};
use quire_projections::read_models::conformance::world::{World, cid, mid, uid};
use quire_projections::read_models::unread::UnreadQueries;
use quire_read_models_postgres::{PgChannels, PgStore};
use sqlx::{Connection, PgConnection};

const READERS: [&str; 4] = ["ann", "bob", "cy", "dee"];
const CHANNELS: [&str; 3] = ["g1", "g2", "dm"];

/// The channel each step writes in, and who may write there.
fn members(channel: &str, cy_in_g1: bool) -> Vec<&'static str> {
    match channel {
        "g1" if cy_in_g1 => vec!["ann", "bob", "cy", "dee"],
        "g1" => vec!["ann", "bob", "dee"],
        "g2" => vec!["bob", "cy"],
        _ => vec!["ann", "dee"],
    }
}

/// A message so far: its name, author and whether it is deleted.
struct Sent {
    name: String,
    author: &'static str,
    deleted: bool,
}

/// About 2,500 events in three channels.
fn history() -> (World, Vec<String>) {
    let mut world = World::new();
    world
        .group("ann", "g1", "Team", &["bob", "cy", "dee"])
        .group("bob", "g2", "Pair", &["cy"])
        .direct("ann", "dee", "dm");
    let mut sent: HashMap<&str, Vec<Sent>> = HashMap::new();
    let mut markers: HashMap<(&str, &str), usize> = HashMap::new();
    let mut names = Vec::new();
    let mut cy_in_g1 = true;
    for n in 0..1_800usize {
        if n == 900 {
            world.remove_participant("ann", "g1", "cy");
            cy_in_g1 = false;
        }
        if n == 1_250 {
            world.add_participant("ann", "g1", "cy");
            cy_in_g1 = true;
        }
        let channel = CHANNELS[(n * 7 / 3) % 3];
        let people = members(channel, cy_in_g1);
        let author = people[n % people.len()];
        let name = format!("m{n}");
        let messages = sent.entry(channel).or_default();
        match messages.len().checked_sub(3) {
            Some(parent) if n.is_multiple_of(17) && !messages[parent].deleted => {
                world.reply(author, channel, &name, &messages[parent].name.clone());
            }
            _ => {
                world.send(author, channel, &name);
            }
        }
        messages.push(Sent {
            name: name.clone(),
            author,
            deleted: false,
        });
        names.push(name);
        change_an_earlier_message(&mut world, channel, messages, n);
        if n.is_multiple_of(5) {
            let reader = people[(n / 5) % people.len()];
            let back = [0, 20, 200][(n / 5) % 3];
            let up_to = messages.len().saturating_sub(back + 1);
            let marker = markers.entry((reader, channel)).or_insert(0);
            if up_to > *marker {
                *marker = up_to;
                world.mark_read(reader, channel, &messages[up_to].name.clone());
            }
        }
    }
    (world, names)
}

/// Every 9th step edits, every 13th deletes, an own message sent 40 or
/// 300 steps before (within one batch, or across batches).
fn change_an_earlier_message(world: &mut World, channel: &str, messages: &mut [Sent], n: usize) {
    let back = if n.is_multiple_of(2) { 40 } else { 300 };
    let Some(index) = messages.len().checked_sub(back) else {
        return;
    };
    let target = &mut messages[index];
    if target.deleted {
        return;
    }
    if n.is_multiple_of(13) {
        world.delete_message(target.author, channel, &target.name);
        target.deleted = true;
    } else if n.is_multiple_of(9) {
        world.edit(
            target.author,
            channel,
            &target.name,
            &format!("edited at step {n}"),
        );
    }
}

async fn answers(q: &(impl ChannelQueries + UnreadQueries), names: &[String]) -> Vec<String> {
    let page = PageRequest::first(MAX_PAGE_SIZE);
    let mut answers = Vec::new();
    for reader in READERS.map(uid) {
        answers.push(format!("{:?}", q.list_channels(&reader, page.clone()).await));
        answers.push(format!("{:?}", q.unread_counts(&reader).await));
        for channel in CHANNELS.map(cid) {
            answers.push(format!("{:?}", q.get_channel(&reader, &channel).await));
            let all = MessageFilter::default();
            answers.push(format!(
                "{:?}",
                q.list_messages(&reader, &channel, all, page.clone()).await
            ));
            for name in names.iter().step_by(11) {
                answers.push(format!(
                    "{:?}",
                    q.get_message(&reader, &channel, &mid(name)).await
                ));
            }
        }
    }
    answers
}

async fn deliver(projector: &dyn Projector, history: &[Arc<RecordedEvent>], size: usize) {
    for batch in history.chunks(size) {
        let checkpoint = batch.last().map_or(Position::ZERO, |e| e.position);
        projector.apply(batch, checkpoint).await.expect("apply");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn long_batches_agree_with_memory_whatever_their_size() {
    let (world, names) = history();
    let history = world.history();
    let memory = InMemoryChannels::new();
    deliver(&memory, &history, history.len()).await;
    let expected = answers(&memory, &names).await;
    // The whole history is one long batch, split into 1, 2 or 3
    // partitions; the shorter ones are applied whole.
    let runs = [
        (history.len(), 1),
        (history.len(), 2),
        (history.len(), 3),
        (1_500, 2),
        (700, 2),
        (97, 2),
    ];
    for (size, partitions) in runs {
        let (store, _schema) = common::fresh_store().await;
        let model = PgChannels::new(store).with_catch_up_partitions(partitions);
        deliver(&model, &history, size).await;
        assert_agree(
            &answers(&model, &names).await,
            &expected,
            &format!("batches of {size} in {partitions}"),
        );
        let last = history.last().map(|e| e.position);
        assert_eq!(
            model.load_checkpoint().await.ok(),
            last,
            "checkpoint after batches of {size}"
        );
    }
}

fn assert_agree(got: &[String], expected: &[String], what: &str) {
    let first_difference = got.iter().zip(expected).position(|(a, b)| a != b);
    assert!(
        first_difference.is_none() && got.len() == expected.len(),
        "{what} disagree with memory at answer {first_difference:?}: {:?} vs {:?}",
        first_difference.map(|i| &got[i]),
        first_difference.map(|i| &expected[i]),
    );
}

/// A long batch whose partitions commit one by one, cut off after some
/// committed and before the others (as when the process dies): the
/// checkpoint stays where the batch began, even though one partition's row
/// is past it, and delivering the batch again gives what memory has. Once
/// as the first batch of all (no row says how far partition 1 got), once
/// after batches applied whole in the layout of one partition.
#[tokio::test(flavor = "multi_thread")]
async fn a_batch_cut_off_between_its_partitions_resumes_where_it_began() {
    for before in [0, 200] {
        cut_off_and_resume(before).await;
    }
}

async fn cut_off_and_resume(before: usize) {
    let (world, names) = history();
    let history = world.history();
    let memory = InMemoryChannels::new();
    deliver(&memory, &history, history.len()).await;
    let expected = answers(&memory, &names).await;
    let (store, schema) = common::fresh_store().await;

    let (before, batch) = history.split_at(before);
    let began = before.last().map_or(Position::ZERO, |e| e.position);
    if !before.is_empty() {
        deliver(
            &PgChannels::new(store.clone()).with_catch_up_partitions(1),
            before,
            before.len(),
        )
        .await;
    }

    // Partition 1 of 2 (channel g1) cannot take its lock, so only
    // partition 0 (g2 and dm) commits before the batch is given up.
    let model = PgChannels::new(store.clone()).with_catch_up_partitions(2);
    let mut blocker = PgConnection::connect(&schema.config().url)
        .await
        .expect("connect");
    let key = format!(
        "{}/{}#1/2@v{}",
        store.schema(),
        PgChannels::NAME,
        PgChannels::VERSION
    );
    sqlx::query("SELECT pg_advisory_lock(hashtext($1))")
        .bind(&key)
        .execute(&mut blocker)
        .await
        .expect("lock partition 1");
    let end = batch.last().expect("a batch").position;
    assert!(batch.len() >= 2_048, "a long batch: {} events", batch.len());
    // The apply is given up (dropped) once partition 0 has committed.
    let partition_0 = format!("{}#0/2", PgChannels::NAME);
    let committed = async {
        loop {
            if checkpoint_rows(&store)
                .await
                .iter()
                .any(|(name, at)| *name == partition_0 && *at == end.0 as i64)
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::select! {
        applied = model.apply(batch, end) => panic!("the batch must wait for partition 1: {applied:?}"),
        () = committed => {}
        () = tokio::time::sleep(Duration::from_secs(60)) => panic!("partition 0 never committed"),
    }
    blocker.close().await.expect("unlock");

    let rows = checkpoint_rows(&store).await;
    assert_eq!(
        model.load_checkpoint().await.expect("checkpoint"),
        began,
        "{rows:?}"
    );

    model.apply(batch, end).await.expect("the batch again");
    assert_agree(&answers(&model, &names).await, &expected, "a batch applied again");
    assert_eq!(model.load_checkpoint().await.expect("checkpoint"), end);
}

async fn checkpoint_rows(store: &PgStore) -> Vec<(String, i64)> {
    sqlx::query_as("SELECT projector, position FROM checkpoints ORDER BY projector")
        .fetch_all(store.pool())
        .await
        .expect("checkpoint rows")
}
