//! Two gateway instances on one Redis: every notice one publishes reaches
//! the other's subscriber, in order (the publish → receive latency is
//! printed, not asserted: figures belong in benchmarks); two instances
//! applying one batch of unread changes at once count it once; a reset
//! leaves no key of the old generation.

mod common;

use std::time::Instant;

use hdrhistogram::Histogram;
use quire_domain::{MessageId, Position, Timestamp};
use quire_projections::realtime::conformance::fanout::{next_notice, notice};
use quire_projections::realtime::conformance::{channel, user};
use quire_projections::realtime::{ChannelChange, MessageFanout, UnreadChange, UnreadCounters, UnreadCounts};

/// Notices timed in the latency test.
const NOTICES: u64 = 1_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notices_reach_another_gateway_in_order() {
    let (a, b) = common::two_gateways().await;
    let (publisher, subscriber) = (a.fanout(), b.fanout());
    let mut stream = subscriber.subscribe(&[channel("c1")]).await.expect("subscribe");
    let mut micros = Histogram::<u64>::new(3).expect("histogram");
    for position in 1..=NOTICES {
        let sent = notice("c1", position);
        let start = Instant::now();
        publisher.publish(&sent).await.expect("publish");
        assert_eq!(next_notice(&mut stream).await, sent);
        micros.record(start.elapsed().as_micros() as u64).expect("record");
    }
    let ms = |q: f64| micros.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "publish→receive across two connections, {NOTICES} notices: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        ms(0.5),
        ms(0.99),
        micros.max() as f64 / 1000.0
    );
    a.delete_all().await.expect("cleanup");
}

/// A channel opened by ann and bob, then `messages` messages by ann.
fn ann_writes(messages: u64) -> Vec<ChannelChange> {
    let opened = ChannelChange {
        channel: channel("c1"),
        position: Position(1),
        change: UnreadChange::Opened {
            created_at: Timestamp::from_unix_micros(1),
            participants: vec![user("ann"), user("bob")],
        },
    };
    let sent = (1..=messages).map(|seq| ChannelChange {
        channel: channel("c1"),
        position: Position(seq + 1),
        change: UnreadChange::Sent {
            message: MessageId::parse(&format!("m{seq}")).expect("id"),
            seq,
            author: user("ann"),
        },
    });
    std::iter::once(opened).chain(sent).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_applying_one_batch_count_it_once() {
    let (a, b) = common::two_gateways().await;
    let (first, second) = (a.unread(), b.unread());
    let batch = ann_writes(200);
    let head = Position(201);
    // Both holders have the channel up to position 100 (the stored
    // checkpoint the new one starts from); then a lease is handed over while
    // the old holder still writes, and both apply the rest at once.
    first.apply(&batch[..100], Position(100)).await.expect("apply");
    let (one, two) = tokio::join!(
        first.apply(&batch[100..], head),
        second.apply(&batch[100..], head)
    );
    one.expect("apply");
    two.expect("apply");
    let counts = first.counts(&user("bob")).await.expect("counts");
    assert_eq!(counts.len(), 1);
    assert_eq!(counts[0].unread, 200);
    assert_eq!(second.checkpoint().await.expect("checkpoint"), head);
    a.delete_all().await.expect("cleanup");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_starts_a_new_generation_and_deletes_the_old_keys() {
    let (a, _b) = common::two_gateways().await;
    let counters = a.unread();
    counters.apply(&ann_writes(3), Position(4)).await.expect("apply");
    counters.reset().await.expect("reset");
    let pattern = a.keys().unread_generation_pattern(0);
    let mut connection = redis::Client::open(common::URL)
        .expect("client")
        .get_multiplexed_async_connection()
        .await
        .expect("connect");
    let (_, left): (u64, Vec<String>) = redis::cmd("SCAN")
        .arg(0)
        .arg("MATCH")
        .arg(&pattern)
        .arg("COUNT")
        .arg(10_000)
        .query_async(&mut connection)
        .await
        .expect("scan");
    assert!(left.is_empty(), "keys of the old generation are left: {left:?}");
    assert_eq!(counters.checkpoint().await.expect("checkpoint"), Position::ZERO);
    counters.apply(&ann_writes(2), Position(3)).await.expect("apply");
    assert_eq!(counters.counts(&user("bob")).await.expect("counts")[0].unread, 2);
    a.delete_all().await.expect("cleanup");
}

/// Batches of the projector's size, timed (printed, not asserted): how
/// long one script holds Redis, and what one reader's counts cost. Redis's
/// own figure (`INFO commandstats`, `cmdstat_evalsha`) is the script alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_and_count_times() {
    const CHANNELS: u64 = 50;
    const BATCHES: u64 = 80;
    let batch_size = UnreadCounts::runner_config().max_batch_size;
    const BATCH: usize = 256;
    assert_eq!(batch_size, BATCH, "time the batches the projector makes");
    let (a, _b) = common::two_gateways().await;
    let counters = a.unread();
    let members = || ["ann", "bob", "cy", "dee", "eve"].map(user).to_vec();
    let opened: Vec<ChannelChange> = (0..CHANNELS)
        .map(|n| ChannelChange {
            channel: channel(&format!("c{n}")),
            position: Position(n + 1),
            change: UnreadChange::Opened {
                created_at: Timestamp::from_unix_micros(n as i64),
                participants: members(),
            },
        })
        .collect();
    counters.apply(&opened, Position(CHANNELS)).await.expect("open");
    let mut position = CHANNELS;
    let mut batch_micros = Histogram::<u64>::new(3).expect("histogram");
    for _ in 0..BATCHES {
        let batch: Vec<ChannelChange> = (0..BATCH)
            .map(|_| {
                position += 1;
                ChannelChange {
                    channel: channel(&format!("c{}", position % CHANNELS)),
                    position: Position(position),
                    change: UnreadChange::Sent {
                        message: MessageId::parse(&format!("m{position}")).expect("id"),
                        seq: position,
                        author: user(["ann", "cy"][(position % 2) as usize]),
                    },
                }
            })
            .collect();
        let start = Instant::now();
        counters.apply(&batch, Position(position)).await.expect("apply");
        batch_micros
            .record(start.elapsed().as_micros() as u64)
            .expect("record");
    }
    let start = Instant::now();
    let counts = counters.counts(&user("bob")).await.expect("counts");
    let count_time = start.elapsed();
    assert_eq!(counts.len() as u64, CHANNELS);
    println!(
        "unread batches of {BATCH} sends over {CHANNELS} channels: p50 {:.2} ms, max {:.2} ms; \
         one reader's counts over {CHANNELS} channels: {:.2} ms",
        batch_micros.value_at_quantile(0.5) as f64 / 1000.0,
        batch_micros.max() as f64 / 1000.0,
        count_time.as_secs_f64() * 1000.0
    );
    a.delete_all().await.expect("cleanup");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_redis_fails_with_a_clear_error() {
    let error = quire_realtime_redis::RedisRealtime::connect("redis://127.0.0.1:1", "x")
        .await
        .expect_err("nothing listens on port 1");
    assert!(error.to_string().contains("127.0.0.1:1"), "{error}");
}
