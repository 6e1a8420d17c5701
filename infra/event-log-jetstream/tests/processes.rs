//! Two processes (two connections, two writers) appending to the same log
//! at once: every append is serialised by the server, positions stay
//! dense, no stream version forks, and each result matches what is stored.

mod common;

use std::collections::HashMap;

use common::{DeleteOnDrop, LOCAL_NATS, fresh_stream, open_or_fail, unique_config};
use quire_domain::{Position, StreamId};
use quire_event_log::{AppendResult, Direction, EventLog, ExpectedVersion, LogError};
use quire_event_log_conformance::new_event;
use quire_event_log_jetstream::JetStreamLog;
use uuid::Uuid;

const WRITERS: usize = 12;
const APPENDS: usize = 30;
const STREAMS: usize = 3;

/// Two logs on one fresh stream, as two processes open it; the stream is
/// deleted when the guard drops.
async fn two_processes() -> (JetStreamLog, JetStreamLog, DeleteOnDrop) {
    let config = unique_config(LOCAL_NATS);
    let first = open_or_fail(config.clone()).await;
    let second = open_or_fail(config).await;
    let delete = DeleteOnDrop(first.clone());
    (first, second, delete)
}

/// Appends with `Exact` expectations read just before (conflicts retried),
/// every third writer with `Any`.
async fn write(log: JetStreamLog, writer: usize, stream: StreamId) -> Vec<(Vec<Uuid>, AppendResult)> {
    let mut written = Vec::new();
    for append in 0..APPENDS {
        let events: Vec<_> = (0..(writer + append) % 3 + 1)
            .map(|i| new_event("test.appended", &format!("{writer}-{append}-{i}")))
            .collect();
        let result = loop {
            let expected = if writer.is_multiple_of(3) {
                ExpectedVersion::Any
            } else {
                ExpectedVersion::from_current(log.stream_version(&stream).await.expect("version"))
            };
            match log.append(&stream, expected, events.clone()).await {
                Ok(result) => break result,
                Err(LogError::WrongExpectedVersion { .. }) => tokio::task::yield_now().await,
                Err(error) => panic!("writer {writer}: {error}"),
            }
        };
        written.push((events.iter().map(|e| e.event_id).collect(), result));
    }
    written
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_share_one_log() {
    let (first, second, _delete) = two_processes().await;
    let streams: Vec<StreamId> = (0..STREAMS).map(|_| fresh_stream("channel")).collect();
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let log = if w % 2 == 0 { first.clone() } else { second.clone() };
            tokio::spawn(write(log, w, streams[w % STREAMS].clone()))
        })
        .collect();
    let mut written = Vec::new();
    for writer in writers {
        written.extend(writer.await.expect("writer panicked"));
    }

    let total: usize = written.iter().map(|(ids, _)| ids.len()).sum();
    let stored = second
        .read_all(Position::ZERO, total + 10)
        .await
        .expect("read all");
    let positions: Vec<u64> = stored.iter().map(|e| e.position.0).collect();
    assert_eq!(positions, (1..=total as u64).collect::<Vec<_>>());
    let by_id: HashMap<Uuid, (u64, u64)> = stored
        .iter()
        .map(|e| (e.event_id, (e.position.0, e.stream_version)))
        .collect();
    assert_eq!(by_id.len(), total, "an event is stored twice");
    for (ids, result) in &written {
        for (i, id) in ids.iter().enumerate() {
            let stored = by_id.get(id).copied().expect("an acknowledged event is missing");
            let reported = (
                result.first_position.0 + i as u64,
                result.first_version + i as u64,
            );
            assert_eq!(stored, reported, "the result differs from what is stored");
        }
    }
    for stream in &streams {
        let events = first
            .read_stream(stream, 0, Direction::Forward, total)
            .await
            .expect("read");
        let versions: Vec<u64> = events.iter().map(|e| e.stream_version).collect();
        assert_eq!(versions, (0..events.len() as u64).collect::<Vec<_>>());
    }
}

/// A writer checks a stream it cached before another process appended to
/// it, even when its cached version would accept the append: here the
/// first process learns of the other's append only through a refusal on
/// another stream, and must still refuse a stale expectation on the first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_cached_before_another_process_wrote_is_checked_again() {
    let (first, second, _delete) = two_processes().await;
    let shared = fresh_stream("doc");
    let other = fresh_stream("doc");
    let event = |text: &str| vec![new_event("test.appended", text)];

    for stream in [&shared, &other] {
        first
            .append(stream, ExpectedVersion::NoStream, event("first"))
            .await
            .expect("first appends");
    }
    second
        .append(&shared, ExpectedVersion::Exact(0), event("second"))
        .await
        .expect("the other process appends");
    // ...and then elsewhere, so that the log's newest message (which the
    // first process reads after a refusal) does not reveal the first.
    let elsewhere = fresh_stream("doc");
    second
        .append(&elsewhere, ExpectedVersion::NoStream, event("second"))
        .await
        .expect("the other process appends elsewhere");
    // The first process's next append is refused by the whole-log check,
    // re-planned on a fresh tail and stored.
    let result = first
        .append(&other, ExpectedVersion::Exact(0), event("other"))
        .await
        .expect("append to the other stream");
    assert_eq!(result.first_version, 1);
    // Its cache still says `shared` is at version 0; the log says 1.
    match first
        .append(&shared, ExpectedVersion::Exact(0), event("stale"))
        .await
    {
        Err(LogError::WrongExpectedVersion { actual, .. }) => assert_eq!(actual, Some(1)),
        other => panic!("a stale expectation was not refused: {other:?}"),
    }
    let versions: Vec<u64> = second
        .read_stream(&shared, 0, Direction::Forward, 10)
        .await
        .expect("read")
        .iter()
        .map(|e| e.stream_version)
        .collect();
    assert_eq!(versions, vec![0, 1]);
}
