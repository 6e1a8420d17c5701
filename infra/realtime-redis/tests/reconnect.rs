//! A subscriber whose connection the server kills reports a gap,
//! reconnects, resubscribes, and receives notices again. Alone in its
//! binary: it finds its subscriber among the server's pub/sub clients.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use futures::StreamExt;
use quire_projections::realtime::conformance::channel;
use quire_projections::realtime::conformance::fanout::{next_notice, notice};
use quire_projections::realtime::{Delivery, MessageFanout};
use quire_realtime_redis::RedisRealtime;

/// The ids of the server's pub/sub clients.
async fn pubsub_clients() -> BTreeSet<u64> {
    let client = redis::Client::open(common::URL).expect("client");
    let mut connection = client.get_multiplexed_async_connection().await.expect("connect");
    let list: String = redis::cmd("CLIENT")
        .arg("LIST")
        .arg("TYPE")
        .arg("pubsub")
        .query_async(&mut connection)
        .await
        .expect("list");
    list.lines()
        .filter_map(|line| line.split(' ').find_map(|field| field.strip_prefix("id=")))
        .filter_map(|id| id.parse().ok())
        .collect()
}

async fn kill(id: u64) {
    let client = redis::Client::open(common::URL).expect("client");
    let mut connection = client.get_multiplexed_async_connection().await.expect("connect");
    let _: () = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("ID")
        .arg(id)
        .query_async(&mut connection)
        .await
        .expect("kill");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriber_resubscribes_after_its_connection_is_killed() {
    let (a, b): (RedisRealtime, RedisRealtime) = common::two_gateways().await;
    let (publisher, subscriber) = (a.fanout(), b.fanout());
    let before = pubsub_clients().await;
    let mut stream = subscriber.subscribe(&[channel("c1")]).await.expect("subscribe");
    let ours: Vec<u64> = pubsub_clients().await.difference(&before).copied().collect();
    assert!(
        !ours.is_empty(),
        "the subscriber's connection is not among the pub/sub clients"
    );
    publisher.publish(&notice("c1", 1)).await.expect("publish");
    assert_eq!(next_notice(&mut stream).await, notice("c1", 1));

    for id in ours {
        kill(id).await;
    }
    let gap = tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .expect("a gap within 5 s");
    assert_eq!(gap, Some(Delivery::Gap));

    // Notices published before the resubscription are lost (pub/sub); keep
    // publishing until one arrives.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut position = 2;
    let received = loop {
        publisher.publish(&notice("c1", position)).await.expect("publish");
        if let Ok(Some(Delivery::Notice(received))) =
            tokio::time::timeout(Duration::from_millis(100), stream.next()).await
        {
            break received;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no notice after the reconnect within 10 s"
        );
        position += 1;
    };
    assert_eq!(received.channel, channel("c1"));
    a.delete_all().await.expect("cleanup");
}
