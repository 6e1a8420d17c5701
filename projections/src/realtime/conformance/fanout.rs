//! The [`MessageFanout`] cases: delivery across instances, channel filters,
//! order, several subscribers, dropped subscriptions.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use quire_domain::{MessageId, Position};

use super::{Fixture, channel, run_guarded, user};
use crate::realtime::{Delivery, DeliveryStream, MessageFanout, MessageNotice, NoticeKind};

/// How long a case waits for a notice before failing.
const PATIENCE: Duration = Duration::from_secs(5);

/// Runs the named case against `fixture`.
pub async fn run(case: &str, fixture: Fixture<dyn MessageFanout>) {
    let (a, b) = (fixture.first(), fixture.second());
    let case = case.to_owned();
    run_guarded(fixture, async move {
        match case.as_str() {
            "notice_reaches_other_instance" => notice_reaches_other_instance(a, b).await,
            "only_subscribed_channels" => only_subscribed_channels(a, b).await,
            "order_per_publisher" => order_per_publisher(a, b).await,
            "every_subscriber_receives" => every_subscriber_receives(a, b).await,
            "dropped_subscription_is_harmless" => dropped_subscription_is_harmless(a, b).await,
            other => panic!("unknown message fan-out conformance case {other}"),
        }
    })
    .await;
}

/// A notice in `channel_id` at `position`; the kinds vary with the
/// position, so every kind crosses the backend.
pub fn notice(channel_id: &str, position: u64) -> MessageNotice {
    MessageNotice {
        channel: channel(channel_id),
        message: MessageId::parse(&format!("m{position}")).expect("valid message id"),
        position: Position(position),
        author: user("ann"),
        kind: match position % 3 {
            1 => NoticeKind::Edited,
            2 => NoticeKind::Deleted,
            _ => NoticeKind::Sent,
        },
    }
}

/// The next notice of `stream` (skipping gaps), failing after [`PATIENCE`].
pub async fn next_notice(stream: &mut DeliveryStream) -> MessageNotice {
    let wait = async {
        loop {
            match stream.next().await {
                Some(Delivery::Notice(notice)) => return notice,
                Some(Delivery::Gap) => {}
                None => panic!("the subscription ended"),
            }
        }
    };
    tokio::time::timeout(PATIENCE, wait)
        .await
        .expect("no notice arrived within 5 s")
}

async fn publish(fanout: &Arc<dyn MessageFanout>, notice: &MessageNotice) {
    fanout.publish(notice).await.expect("publish");
}

async fn notice_reaches_other_instance(a: Arc<dyn MessageFanout>, b: Arc<dyn MessageFanout>) {
    let mut stream = b.subscribe(&[channel("c1")]).await.expect("subscribe");
    let sent = notice("c1", 7);
    publish(&a, &sent).await;
    assert_eq!(next_notice(&mut stream).await, sent);
}

async fn only_subscribed_channels(a: Arc<dyn MessageFanout>, b: Arc<dyn MessageFanout>) {
    let mut stream = b
        .subscribe(&[channel("c1"), channel("c2")])
        .await
        .expect("subscribe");
    publish(&a, &notice("c3", 1)).await;
    publish(&a, &notice("c2", 2)).await;
    publish(&a, &notice("c1", 3)).await;
    publish(&a, &notice("c3", 4)).await;
    assert_eq!(next_notice(&mut stream).await, notice("c2", 2));
    assert_eq!(next_notice(&mut stream).await, notice("c1", 3));
    let extra = tokio::time::timeout(Duration::from_millis(200), stream.next()).await;
    assert!(
        extra.is_err(),
        "a notice of an unsubscribed channel arrived: {extra:?}"
    );
}

async fn order_per_publisher(a: Arc<dyn MessageFanout>, b: Arc<dyn MessageFanout>) {
    let mut stream = b.subscribe(&[channel("c1")]).await.expect("subscribe");
    for position in 1..=200 {
        publish(&a, &notice("c1", position)).await;
    }
    for position in 1..=200 {
        assert_eq!(next_notice(&mut stream).await.position, Position(position));
    }
}

async fn every_subscriber_receives(a: Arc<dyn MessageFanout>, b: Arc<dyn MessageFanout>) {
    let mut on_a = a.subscribe(&[channel("c1")]).await.expect("subscribe");
    let mut on_b = b.subscribe(&[channel("c1")]).await.expect("subscribe");
    let mut other = b
        .subscribe(&[channel("c1"), channel("c9")])
        .await
        .expect("subscribe");
    let sent = notice("c1", 11);
    publish(&b, &sent).await;
    assert_eq!(next_notice(&mut on_a).await, sent);
    assert_eq!(next_notice(&mut on_b).await, sent);
    assert_eq!(next_notice(&mut other).await, sent);
}

async fn dropped_subscription_is_harmless(a: Arc<dyn MessageFanout>, b: Arc<dyn MessageFanout>) {
    publish(&a, &notice("c1", 1)).await;
    let dropped = b.subscribe(&[channel("c1")]).await.expect("subscribe");
    drop(dropped);
    publish(&a, &notice("c1", 2)).await;
    let mut stream = b.subscribe(&[channel("c1")]).await.expect("subscribe again");
    publish(&a, &notice("c1", 3)).await;
    assert_eq!(next_notice(&mut stream).await, notice("c1", 3));
}
