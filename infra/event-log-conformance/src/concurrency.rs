//! Many writers at once: 32 tasks append to shared and to their own streams
//! while subscribers follow from the start, from the middle and from the
//! head. Nothing may be lost, duplicated, reordered or skipped.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use futures::StreamExt;
use quire_domain::{Position, StreamId};
use quire_event_log::{Direction, EventFilter, EventLog, ExpectedVersion, LogError};
use uuid::Uuid;

use crate::fixture::{new_event, unique_stream};

const WRITERS: usize = 32;
const SHARED_WRITERS: usize = 16;
const SHARED_STREAMS: usize = 4;
const APPENDS_PER_WRITER: usize = 40;

/// What one writer appended: stream, event ids, result positions.
type Written = Vec<(StreamId, Vec<Uuid>, Position, Position)>;

pub async fn concurrent_writers_and_subscribers(log: &dyn EventLog) {
    let shared: Vec<StreamId> = (0..SHARED_STREAMS).map(|_| unique_stream("channel")).collect();
    let from_start = collect(log, Position::ZERO);
    let writers = futures::future::join_all((0..WRITERS).map(|w| {
        let stream = if w < SHARED_WRITERS {
            shared[w % SHARED_STREAMS].clone()
        } else {
            unique_stream("document")
        };
        write_many(log, w, stream)
    }));
    let middle = async {
        wait_for_head(log, Position(200)).await;
        let head = log.head().await.expect("head");
        let from_middle = Position(head.0 / 2 + 1);
        let from_head = head.next();
        let (middle, live) = futures::join!(collect(log, from_middle), collect(log, from_head));
        (from_middle, middle, from_head, live)
    };
    let (written, all, (from_middle, middle, from_head, live)) = futures::join!(writers, from_start, middle);
    let written: Written = written.into_iter().flatten().collect();
    let total: usize = written.iter().map(|(_, ids, _, _)| ids.len()).sum();

    let stored = log.read_all(Position::ZERO, total + 10).await.expect("read all");
    assert_eq!(
        stored.len(),
        total,
        "the log holds another number of events than were acknowledged"
    );
    let stored_ids: HashSet<Uuid> = stored.iter().map(|e| e.event_id).collect();
    assert_eq!(stored_ids.len(), total, "an event is stored twice");
    for (_, ids, _, _) in &written {
        assert!(
            ids.iter().all(|id| stored_ids.contains(id)),
            "an acknowledged event is missing"
        );
    }
    check_streams_dense(log, &written).await;
    let positions: Vec<Position> = stored.iter().map(|e| e.position).collect();
    check_subscriber("from the start", &all, &positions, Position::ZERO);
    check_subscriber("from the middle", &middle, &positions, from_middle);
    check_subscriber("from the head", &live, &positions, from_head);
}

async fn write_many(log: &dyn EventLog, writer: usize, stream: StreamId) -> Written {
    let mut written = Vec::new();
    for append in 0..APPENDS_PER_WRITER {
        let count = (writer + append) % 3 + 1;
        let events: Vec<_> = (0..count)
            .map(|i| new_event("test.appended", &format!("{writer}-{append}-{i}")))
            .collect();
        let ids = events.iter().map(|e| e.event_id).collect::<Vec<_>>();
        let result = loop {
            let current = log.stream_version(&stream).await.expect("stream version");
            match log
                .append(&stream, ExpectedVersion::from_current(current), events.clone())
                .await
            {
                Ok(result) => break result,
                Err(LogError::WrongExpectedVersion { .. }) => tokio::task::yield_now().await,
                Err(other) => panic!("writer {writer}: append failed: {other}"),
            }
        };
        assert_eq!(result.last_version - result.first_version + 1, count as u64);
        written.push((stream.clone(), ids, result.first_position, result.last_position));
    }
    written
}

async fn wait_for_head(log: &dyn EventLog, at_least: Position) {
    while log.head().await.expect("head") < at_least {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Follows the log from `from` until it has seen every event the writers
/// will write (the writers' total is known: 32 × 40 appends of 1–3 events).
async fn collect(log: &dyn EventLog, from: Position) -> Vec<(Position, Uuid)> {
    let expected_total: u64 = (0..WRITERS)
        .flat_map(|w| (0..APPENDS_PER_WRITER).map(move |a| ((w + a) % 3 + 1) as u64))
        .sum();
    let mut seen = Vec::new();
    let mut stream = log.subscribe(from, EventFilter::all());
    let follow = async {
        while let Some(event) = stream.next().await {
            let event = event.expect("subscription failed");
            seen.push((event.position, event.event_id));
            if event.position.0 >= expected_total {
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), follow)
        .await
        .expect("a subscriber stalled");
    seen
}

async fn check_streams_dense(log: &dyn EventLog, written: &Written) {
    let mut by_stream: HashMap<&StreamId, usize> = HashMap::new();
    for (stream, ids, _, _) in written {
        *by_stream.entry(stream).or_default() += ids.len();
    }
    for (stream, count) in by_stream {
        let events = log
            .read_stream(stream, 0, Direction::Forward, count + 10)
            .await
            .expect("read stream");
        assert_eq!(
            events.len(),
            count,
            "stream {stream} has another number of events than written"
        );
        for (version, event) in events.iter().enumerate() {
            assert_eq!(
                event.stream_version, version as u64,
                "stream {stream} versions are not dense"
            );
        }
        assert!(events.windows(2).all(|w| w[0].position < w[1].position));
    }
}

fn check_subscriber(name: &str, seen: &[(Position, Uuid)], stored: &[Position], from: Position) {
    let expected: Vec<Position> = stored.iter().copied().filter(|p| *p >= from).collect();
    let got: Vec<Position> = seen.iter().map(|(p, _)| *p).collect();
    assert!(
        got.windows(2).all(|w| w[0] < w[1]),
        "subscriber {name} saw positions out of order or twice"
    );
    assert_eq!(got, expected, "subscriber {name} missed or invented events");
    let ids: HashSet<Uuid> = seen.iter().map(|(_, id)| *id).collect();
    assert_eq!(ids.len(), seen.len(), "subscriber {name} received an event twice");
}
