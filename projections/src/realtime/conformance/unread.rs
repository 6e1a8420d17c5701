//! The [`UnreadCounters`] cases: counting, redelivery, read markers, order,
//! the cap, state shared between instances.

use std::collections::BTreeMap;
use std::sync::Arc;

use quire_domain::{ChannelId, Position};

use super::{Fixture, channel, run_guarded, user};
use crate::realtime::{UNREAD_CAP, UnreadCounters};

/// Runs the named case against `fixture`.
pub async fn run(case: &str, fixture: Fixture<dyn UnreadCounters>) {
    let (a, b) = (fixture.first(), fixture.second());
    let case = case.to_owned();
    run_guarded(fixture, async move {
        match case.as_str() {
            "counts_messages" => counts_messages(a).await,
            "redelivery_counts_once" => redelivery_counts_once(a).await,
            "mark_read_resets_up_to_position" => mark_read_resets_up_to_position(a).await,
            "stale_read_marker_is_ignored" => stale_read_marker_is_ignored(a).await,
            "out_of_order_messages" => out_of_order_messages(a).await,
            "saturates_at_cap" => saturates_at_cap(a).await,
            "instances_share_state" => instances_share_state(a, b).await,
            other => panic!("unknown unread counters conformance case {other}"),
        }
    })
    .await;
}

async fn apply(counters: &Arc<dyn UnreadCounters>, who: &str, channel_id: &str, position: u64) -> bool {
    counters
        .apply_message(&user(who), &channel(channel_id), Position(position))
        .await
        .expect("apply")
}

async fn read(counters: &Arc<dyn UnreadCounters>, who: &str, channel_id: &str, position: u64) {
    counters
        .mark_read(&user(who), &channel(channel_id), Position(position))
        .await
        .expect("mark read");
}

async fn counts(counters: &Arc<dyn UnreadCounters>, who: &str) -> BTreeMap<ChannelId, u64> {
    counters.counts(&user(who)).await.expect("counts")
}

fn expect(pairs: &[(&str, u64)]) -> BTreeMap<ChannelId, u64> {
    pairs.iter().map(|(id, count)| (channel(id), *count)).collect()
}

async fn counts_messages(a: Arc<dyn UnreadCounters>) {
    assert_eq!(counts(&a, "ann").await, expect(&[]));
    for position in 1..=3 {
        assert!(apply(&a, "ann", "c1", position).await);
    }
    assert!(apply(&a, "ann", "c2", 4).await);
    assert!(apply(&a, "bob", "c1", 5).await);
    assert_eq!(counts(&a, "ann").await, expect(&[("c1", 3), ("c2", 1)]));
    assert_eq!(counts(&a, "bob").await, expect(&[("c1", 1)]));
    assert_eq!(counts(&a, "cid").await, expect(&[]));
}

async fn redelivery_counts_once(a: Arc<dyn UnreadCounters>) {
    assert!(apply(&a, "ann", "c1", 5).await);
    assert!(
        !apply(&a, "ann", "c1", 5).await,
        "a redelivered message counted again"
    );
    for position in [1, 2, 5] {
        apply(&a, "ann", "c1", position).await;
    }
    for position in [1, 2, 5] {
        assert!(!apply(&a, "ann", "c1", position).await);
    }
    assert_eq!(counts(&a, "ann").await, expect(&[("c1", 3)]));
}

async fn mark_read_resets_up_to_position(a: Arc<dyn UnreadCounters>) {
    for position in 1..=5 {
        apply(&a, "ann", "c1", position).await;
    }
    apply(&a, "ann", "c2", 6).await;
    read(&a, "ann", "c1", 3).await;
    assert_eq!(counts(&a, "ann").await, expect(&[("c1", 2), ("c2", 1)]));
    read(&a, "ann", "c1", 5).await;
    assert_eq!(counts(&a, "ann").await, expect(&[("c2", 1)]));
    assert!(!apply(&a, "ann", "c1", 4).await, "a read message counted again");
    assert!(apply(&a, "ann", "c1", 7).await);
    assert_eq!(counts(&a, "ann").await, expect(&[("c1", 1), ("c2", 1)]));
    read(&a, "ann", "c9", 100).await;
    assert_eq!(counts(&a, "ann").await, expect(&[("c1", 1), ("c2", 1)]));
}

async fn stale_read_marker_is_ignored(a: Arc<dyn UnreadCounters>) {
    for position in 1..=4 {
        apply(&a, "ann", "c1", position).await;
    }
    read(&a, "ann", "c1", 3).await;
    read(&a, "ann", "c1", 2).await;
    read(&a, "ann", "c1", 3).await;
    assert_eq!(counts(&a, "ann").await, expect(&[("c1", 1)]));
}

async fn out_of_order_messages(a: Arc<dyn UnreadCounters>) {
    assert!(apply(&a, "ann", "c1", 5).await);
    assert!(apply(&a, "ann", "c1", 3).await);
    assert!(!apply(&a, "ann", "c1", 3).await);
    assert_eq!(counts(&a, "ann").await, expect(&[("c1", 2)]));
    read(&a, "ann", "c1", 4).await;
    assert_eq!(counts(&a, "ann").await, expect(&[("c1", 1)]));
}

async fn saturates_at_cap(a: Arc<dyn UnreadCounters>) {
    for position in 1..=UNREAD_CAP + 5 {
        apply(&a, "ann", "c1", position).await;
    }
    assert_eq!(counts(&a, "ann").await, expect(&[("c1", UNREAD_CAP)]));
    assert!(
        !apply(&a, "ann", "c1", 1).await,
        "a message dropped by the cap counted again"
    );
    assert_eq!(counts(&a, "ann").await, expect(&[("c1", UNREAD_CAP)]));
    read(&a, "ann", "c1", UNREAD_CAP).await;
    assert_eq!(counts(&a, "ann").await, expect(&[("c1", 5)]));
}

async fn instances_share_state(a: Arc<dyn UnreadCounters>, b: Arc<dyn UnreadCounters>) {
    apply(&a, "ann", "c1", 1).await;
    assert!(!apply(&b, "ann", "c1", 1).await);
    assert_eq!(counts(&b, "ann").await, expect(&[("c1", 1)]));
    read(&b, "ann", "c1", 1).await;
    assert_eq!(counts(&a, "ann").await, expect(&[]));
}
