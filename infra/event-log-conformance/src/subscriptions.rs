//! Subscription cases: filters by category and type, and live delivery.

use std::time::Duration;

use futures::StreamExt;
use quire_domain::Position;
use quire_event_log::{EventFilter, EventLog, ExpectedVersion};

use crate::fixture::{new_event, unique_stream};

/// Filters keep exactly the events of the named categories and types.
pub async fn filters(log: &dyn EventLog) {
    let document = unique_stream("document");
    let channel = unique_stream("channel");
    log.append(
        &document,
        ExpectedVersion::Any,
        vec![
            new_event("document.uploaded", "d1"),
            new_event("document.renamed", "d2"),
        ],
    )
    .await
    .expect("append");
    log.append(
        &channel,
        ExpectedVersion::Any,
        vec![
            new_event("channel.created", "c1"),
            new_event("channel.message_sent", "c2"),
        ],
    )
    .await
    .expect("append");
    // Collects `count` events, then checks that no further one arrives.
    let take = |filter: EventFilter, count: usize| async move {
        let mut stream = log.subscribe(Position::ZERO, filter);
        let mut types = Vec::new();
        for _ in 0..count {
            let event = tokio::time::timeout(Duration::from_secs(10), stream.next())
                .await
                .expect("a matching event was not delivered")
                .expect("subscription ended")
                .expect("subscription failed");
            types.push(event.event_type.clone());
        }
        let extra = tokio::time::timeout(Duration::from_millis(200), stream.next()).await;
        assert!(extra.is_err(), "the filter let through more events than match");
        types
    };
    let every = EventFilter::all();
    assert_eq!(take(every, 4).await.len(), 4);
    let documents = take(EventFilter::categories(["document", "marker"]), 2).await;
    assert_eq!(documents, vec!["document.uploaded", "document.renamed"]);
    let sent = take(
        EventFilter::categories(["channel"]).with_event_types(["channel.message_sent"]),
        1,
    )
    .await;
    assert_eq!(sent, vec!["channel.message_sent"]);
    let by_type = take(
        EventFilter::default().with_event_types(["document.renamed", "channel.created"]),
        2,
    )
    .await;
    assert_eq!(by_type, vec!["document.renamed", "channel.created"]);
}

/// A subscriber at the head receives events appended after it subscribed.
pub async fn live_delivery(log: &dyn EventLog) {
    let stream = unique_stream("channel");
    log.append(
        &stream,
        ExpectedVersion::NoStream,
        vec![new_event("channel.created", "before")],
    )
    .await
    .expect("append");
    let from = log.head().await.expect("head").next();
    let mut subscription = log.subscribe(from, EventFilter::all());
    for round in 0..20 {
        let event = new_event("channel.message_sent", &round.to_string());
        let id = event.event_id;
        let appended = log
            .append(&stream, ExpectedVersion::Any, vec![event])
            .await
            .expect("append");
        let received = tokio::time::timeout(Duration::from_secs(10), subscription.next())
            .await
            .expect("live event not delivered")
            .expect("subscription ended")
            .expect("subscription failed");
        assert_eq!(received.event_id, id);
        assert_eq!(received.position, appended.last_position);
    }
}
