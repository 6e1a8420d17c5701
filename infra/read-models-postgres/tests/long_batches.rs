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

use quire_domain::{Position, RecordedEvent};
use quire_projections::Projector;
use quire_projections::query::{MAX_PAGE_SIZE, PageRequest};
use quire_projections::read_models::channels::{ChannelQueries, InMemoryChannels, MessageFilter};
use quire_projections::read_models::conformance::world::{World, cid, mid, uid};
use quire_projections::read_models::unread::UnreadQueries;
use quire_read_models_postgres::PgChannels;

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
    for size in [history.len(), 1_500, 700, 97] {
        let (store, _schema) = common::fresh_store().await;
        let model = PgChannels::new(store);
        deliver(&model, &history, size).await;
        let got = answers(&model, &names).await;
        let first_difference = got.iter().zip(&expected).position(|(a, b)| a != b);
        assert!(
            first_difference.is_none() && got.len() == expected.len(),
            "batches of {size} disagree with memory at answer {first_difference:?}: {:?} vs {:?}",
            first_difference.map(|i| &got[i]),
            first_difference.map(|i| &expected[i]),
        );
    }
}
