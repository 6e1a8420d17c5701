//! Measured figures (ignored by default; run with `cargo test --release -p
//! quire-search-postgres --test timings -- --ignored --nocapture`): commit
//! throughput of message batches and the latency of one page of a query,
//! for a rare and a common word.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use quire_domain::{ChannelId, MessageId, Position, Timestamp, UserId};
use quire_projections::query::PageRequest;
use quire_projections::search::{
    Container, EntryKey, Principal, SearchEntry, SearchFilter, SearchIndex, SearchWrite,
};

const CHANNELS: u64 = 50;
const MESSAGES: u64 = 50_000;
const BATCH: u64 = 2_000;
const WORDS: [&str; 16] = [
    "plover",
    "curlew",
    "dunlin",
    "godwit",
    "knot",
    "ruff",
    "snipe",
    "stint",
    "avocet",
    "redshank",
    "greenshank",
    "turnstone",
    "sanderling",
    "whimbrel",
    "lapwing",
    "dotterel",
];

/// A deterministic pseudo-random sequence (no dependency needed).
fn next(state: &mut u64) -> u64 {
    *state = state
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    *state >> 33
}

fn message(n: u64, state: &mut u64) -> SearchWrite {
    let channel = ChannelId::parse(&format!("c{}", n % CHANNELS)).expect("channel");
    let mut body: Vec<&str> = (0..12).map(|_| WORDS[(next(state) % 16) as usize]).collect();
    if n.is_multiple_of(1000) {
        body.push("phalarope");
    }
    SearchWrite::Upsert(SearchEntry {
        key: EntryKey::Message {
            channel: channel.clone(),
            message: MessageId::parse(&format!("m{n}")).expect("message"),
        },
        container: Some(Container::Channel(channel.clone())),
        title: String::new(),
        body: body.join(" "),
        text_version: 0,
        author: UserId::parse("ann").expect("user"),
        readers: BTreeSet::from([Principal::Channel(channel)]),
        hidden: false,
        created_at: Timestamp(n as i64),
        updated_at: Timestamp(n as i64),
        position: Position(n + 1),
    })
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement; run in release mode"]
async fn commit_and_query_timings() {
    let (index, _schema) = common::fresh_index().await;
    // ann reads 10 of the 50 channels, bob one.
    let members = (0..10).map(|c| ("ann", c)).chain([("bob", 0)]);
    let writes = members
        .map(|(user, c)| SearchWrite::Member {
            channel: ChannelId::parse(&format!("c{c}")).expect("channel"),
            user: UserId::parse(user).expect("user"),
            member: true,
            position: Position(1),
        })
        .collect();
    index.write_all(writes).await.expect("members");
    let mut state = 7;
    let mut commits = Vec::new();
    let started = Instant::now();
    for first in (0..MESSAGES).step_by(BATCH as usize) {
        let writes: Vec<SearchWrite> = (first..first + BATCH).map(|n| message(n, &mut state)).collect();
        let t = Instant::now();
        index.write_all(writes).await.expect("write_all");
        index.commit(Position(first + BATCH)).await.expect("commit");
        commits.push(t.elapsed());
    }
    let total = started.elapsed();
    println!(
        "{MESSAGES} messages in batches of {BATCH}: {total:?} ({:.0} entries/s), median commit {:?}",
        MESSAGES as f64 / total.as_secs_f64(),
        median(commits)
    );
    sqlx::query("ANALYZE")
        .execute(index.pool())
        .await
        .expect("analyze");

    for reader in ["ann", "bob"] {
        let reader = UserId::parse(reader).expect("user");
        for (label, query) in [
            ("rare", "phalarope"),
            ("common", "plover"),
            ("two words", "plover curlew"),
        ] {
            let (found, time) = page_time(&index, &reader, query).await;
            println!("{reader}: query {label} ({query:?}): page of {found}, median {time:?}");
        }
    }
}

/// The median time of a first page of 20 hits, and how many it held.
async fn page_time(index: &dyn SearchIndex, reader: &UserId, query: &str) -> (usize, Duration) {
    let mut times = Vec::new();
    let mut found = 0;
    for _ in 0..21 {
        let t = Instant::now();
        let page = index
            .search(reader, query, &SearchFilter::all(), &PageRequest::first(20))
            .await
            .expect("search");
        times.push(t.elapsed());
        found = page.items.len();
    }
    (found, median(times))
}
