//! Single-writer cases: round trips, expected versions, idempotency, invalid
//! appends and paging.

use quire_domain::Position;
use quire_event_log::{Direction, EventLog, ExpectedVersion, LAST_VERSION, LogError};

use crate::fixture::{new_event, unique_stream};

/// Appended events read back with every envelope field intact.
pub async fn append_and_read_back(log: &dyn EventLog) {
    let stream = unique_stream("document");
    let events = vec![
        new_event("document.uploaded", "a"),
        new_event("document.renamed", "b"),
        new_event("document.shared", "c"),
    ];
    let result = log
        .append(&stream, ExpectedVersion::NoStream, events.clone())
        .await
        .expect("append");
    assert_eq!((result.first_version, result.last_version), (0, 2));
    assert!(result.first_position < result.last_position);
    assert_eq!(log.head().await.expect("head"), result.last_position);
    assert_eq!(log.stream_version(&stream).await.expect("version"), Some(2));

    let read = log
        .read_stream(&stream, 0, Direction::Forward, 10)
        .await
        .expect("read");
    assert_eq!(read.len(), 3);
    for (i, (recorded, sent)) in read.iter().zip(&events).enumerate() {
        assert_eq!(recorded.event_id, sent.event_id);
        assert_eq!(recorded.stream_id, stream);
        assert_eq!(recorded.stream_version, i as u64);
        assert_eq!(recorded.event_type, sent.event_type);
        assert_eq!(recorded.schema_version, sent.schema_version);
        assert_eq!(recorded.payload, sent.payload);
        assert_eq!(recorded.metadata, sent.metadata);
        assert!(recorded.recorded_at.unix_micros() > 0);
    }
    assert_eq!(read[0].position, result.first_position);
    assert_eq!(read[2].position, result.last_position);
    assert!(read.windows(2).all(|w| w[0].position < w[1].position));

    let all = log.read_all(Position::ZERO, 100).await.expect("read all");
    assert_eq!(
        all.iter().map(|e| e.event_id).collect::<Vec<_>>(),
        events.iter().map(|e| e.event_id).collect::<Vec<_>>()
    );
    assert!(
        log.read_stream(&unique_stream("document"), 0, Direction::Forward, 10)
            .await
            .expect("read")
            .is_empty()
    );
    assert_eq!(
        log.stream_version(&unique_stream("document"))
            .await
            .expect("version"),
        None
    );
}

/// A version conflict writes nothing and reports the actual version.
pub async fn expected_version_rules(log: &dyn EventLog) {
    let stream = unique_stream("channel");
    match log
        .append(
            &stream,
            ExpectedVersion::Exact(0),
            vec![new_event("channel.created", "x")],
        )
        .await
    {
        Err(LogError::WrongExpectedVersion { actual: None, .. }) => {}
        other => panic!("expected a conflict with no stream, got {other:?}"),
    }
    log.append(
        &stream,
        ExpectedVersion::NoStream,
        vec![
            new_event("channel.created", "1"),
            new_event("channel.joined", "2"),
        ],
    )
    .await
    .expect("first append");
    let head = log.head().await.expect("head");
    for expected in [
        ExpectedVersion::NoStream,
        ExpectedVersion::Exact(0),
        ExpectedVersion::Exact(5),
    ] {
        match log
            .append(&stream, expected, vec![new_event("channel.renamed", "late")])
            .await
        {
            Err(LogError::WrongExpectedVersion {
                actual: Some(1),
                expected: reported,
                stream: s,
            }) => {
                assert_eq!(reported, expected);
                assert_eq!(s, stream);
            }
            other => panic!("expected a conflict at version 1 for {expected:?}, got {other:?}"),
        }
    }
    assert_eq!(
        log.head().await.expect("head"),
        head,
        "a conflicting append wrote something"
    );
    assert_eq!(
        log.read_stream(&stream, 0, Direction::Forward, 10)
            .await
            .expect("read")
            .len(),
        2
    );

    let exact = log
        .append(
            &stream,
            ExpectedVersion::Exact(1),
            vec![new_event("channel.renamed", "3")],
        )
        .await
        .expect("exact");
    assert_eq!(exact.first_version, 2);
    let any = log
        .append(
            &stream,
            ExpectedVersion::Any,
            vec![new_event("channel.renamed", "4")],
        )
        .await
        .expect("any");
    assert_eq!(any.first_version, 3);
    let fresh = unique_stream("channel");
    let any_new = log
        .append(
            &fresh,
            ExpectedVersion::Any,
            vec![new_event("channel.created", "5")],
        )
        .await
        .expect("any new");
    assert_eq!(any_new.first_version, 0);
}

/// Re-appending the same event ids appends nothing and returns the first
/// result; reusing ids any other way is refused.
pub async fn idempotent_retries(log: &dyn EventLog) {
    let stream = unique_stream("document");
    let events = vec![
        new_event("document.uploaded", "1"),
        new_event("document.renamed", "2"),
    ];
    let first = log
        .append(&stream, ExpectedVersion::NoStream, events.clone())
        .await
        .expect("first");
    let head = log.head().await.expect("head");
    let retry = log
        .append(&stream, ExpectedVersion::NoStream, events.clone())
        .await
        .expect("retry");
    assert_eq!(retry, first);
    let retry_any = log
        .append(&stream, ExpectedVersion::Any, events.clone())
        .await
        .expect("retry any");
    assert_eq!(retry_any, first);
    assert_eq!(log.head().await.expect("head"), head, "a retry wrote events");
    assert_eq!(log.stream_version(&stream).await.expect("version"), Some(1));

    let partial = vec![events[0].clone(), new_event("document.renamed", "3")];
    assert!(matches!(
        log.append(&stream, ExpectedVersion::Any, partial).await,
        Err(LogError::IdempotencyConflict { .. })
    ));
    let elsewhere = unique_stream("document");
    assert!(matches!(
        log.append(&elsewhere, ExpectedVersion::Any, events.clone()).await,
        Err(LogError::IdempotencyConflict { .. })
    ));
    assert_eq!(
        log.head().await.expect("head"),
        head,
        "a refused append wrote events"
    );
}

/// Malformed appends are refused with `InvalidAppend` and write nothing.
pub async fn invalid_appends(log: &dyn EventLog) {
    let stream = unique_stream("document");
    assert!(matches!(
        log.append(&stream, ExpectedVersion::Any, vec![]).await,
        Err(LogError::InvalidAppend(_))
    ));
    let event = new_event("document.uploaded", "dup");
    assert!(matches!(
        log.append(&stream, ExpectedVersion::Any, vec![event.clone(), event])
            .await,
        Err(LogError::InvalidAppend(_))
    ));
    assert_eq!(log.head().await.expect("head"), Position::ZERO);
}

/// Stream reads page forwards and backwards from any version.
pub async fn read_stream_paging(log: &dyn EventLog) {
    let stream = unique_stream("channel");
    for chunk in 0..4 {
        let events = (0..5)
            .map(|i| new_event("channel.message_sent", &format!("{chunk}-{i}")))
            .collect();
        log.append(&stream, ExpectedVersion::Any, events)
            .await
            .expect("append");
    }
    let versions = |events: Vec<std::sync::Arc<quire_domain::RecordedEvent>>| {
        events.iter().map(|e| e.stream_version).collect::<Vec<_>>()
    };
    let read = |from, direction, limit| log.read_stream(&stream, from, direction, limit);
    assert_eq!(
        versions(read(0, Direction::Forward, 3).await.expect("read")),
        vec![0, 1, 2]
    );
    assert_eq!(
        versions(read(17, Direction::Forward, 10).await.expect("read")),
        vec![17, 18, 19]
    );
    assert!(read(20, Direction::Forward, 10).await.expect("read").is_empty());
    assert_eq!(
        versions(read(LAST_VERSION, Direction::Backward, 3).await.expect("read")),
        vec![19, 18, 17]
    );
    assert_eq!(
        versions(read(2, Direction::Backward, 10).await.expect("read")),
        vec![2, 1, 0]
    );
    assert_eq!(
        versions(read(100, Direction::Backward, 1).await.expect("read")),
        vec![19]
    );
    assert!(read(0, Direction::Forward, 0).await.expect("read").is_empty());
}

/// Global reads page by position without skipping or repeating.
pub async fn read_all_paging(log: &dyn EventLog) {
    for i in 0..25 {
        let stream = unique_stream(if i % 2 == 0 { "document" } else { "channel" });
        log.append(
            &stream,
            ExpectedVersion::NoStream,
            vec![new_event("x.happened", &i.to_string())],
        )
        .await
        .expect("append");
    }
    let mut from = Position::ZERO;
    let mut seen = Vec::new();
    loop {
        let page = log.read_all(from, 7).await.expect("read all");
        let Some(last) = page.last() else { break };
        assert!(page.len() <= 7);
        from = last.position.next();
        seen.extend(page.iter().map(|e| e.position));
    }
    assert_eq!(seen.len(), 25);
    assert!(seen.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(*seen.last().expect("events"), log.head().await.expect("head"));
    let from_middle = log.read_all(seen[10], 100).await.expect("read all");
    assert_eq!(from_middle.first().map(|e| e.position), Some(seen[10]));
    assert_eq!(from_middle.len(), 15);
}
