//! Two gateway instances on one Redis: every notice one publishes reaches
//! the other's subscriber, in order (the publish → receive latency is
//! printed, not asserted: figures belong in benchmarks), and unread
//! counting is idempotent under redelivery.

mod common;

use std::time::Instant;

use hdrhistogram::Histogram;
use quire_domain::Position;
use quire_projections::realtime::conformance::fanout::{next_notice, notice};
use quire_projections::realtime::conformance::{channel, user};
use quire_projections::realtime::{MessageFanout, UnreadCounters};

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redelivered_messages_count_once() {
    let (a, b) = common::two_gateways().await;
    let (first, second) = (a.unread(), b.unread());
    let (ann, c1) = (user("ann"), channel("c1"));
    for position in 1..=10 {
        assert!(
            first
                .apply_message(&ann, &c1, Position(position))
                .await
                .expect("apply")
        );
    }
    // A projector restarted from an older checkpoint, on another instance.
    for position in 5..=10 {
        assert!(
            !second
                .apply_message(&ann, &c1, Position(position))
                .await
                .expect("redeliver")
        );
    }
    let counts = first.counts(&ann).await.expect("counts");
    assert_eq!(counts.get(&c1), Some(&10));
    let (applied_a, applied_b) = tokio::join!(
        first.apply_message(&ann, &c1, Position(11)),
        second.apply_message(&ann, &c1, Position(11))
    );
    let newly = [applied_a.expect("apply"), applied_b.expect("apply")];
    assert_eq!(
        newly.iter().filter(|counted| **counted).count(),
        1,
        "concurrent redelivery counted twice"
    );
    assert_eq!(first.counts(&ann).await.expect("counts").get(&c1), Some(&11));
    a.delete_all().await.expect("cleanup");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_redis_fails_with_a_clear_error() {
    let error = quire_realtime_redis::RedisRealtime::connect("redis://127.0.0.1:1", "x")
        .await
        .expect_err("nothing listens on port 1");
    assert!(error.to_string().contains("127.0.0.1:1"), "{error}");
}
