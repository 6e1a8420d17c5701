//! Restarts of nats-server under load, on a private server process: no
//! acknowledged append is lost or doubled, the client reconnects by
//! itself, and a subscriber follows through the restarts. Also: a server
//! that is down makes calls fail as `Unavailable`, and opening against no
//! server names the address.

mod common;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use common::{fresh_stream, open_or_fail, unique_config};
use futures::StreamExt;
use quire_domain::{Position, StreamId};
use quire_event_log::{AppendResult, Direction, EventFilter, EventLog, ExpectedVersion, LogError};
use quire_event_log_conformance::new_event;
use quire_event_log_jetstream::{JetStreamLog, JetStreamLogConfig, OpenError};
use quire_test_servers::{PrivateServer, free_port};
use uuid::Uuid;

const WRITERS: usize = 8;
const SHARED_WRITERS: usize = 3;
const APPENDS: usize = 60;

/// One acknowledged append.
#[derive(Debug, Clone)]
struct Acked {
    ids: Vec<Uuid>,
    result: AppendResult,
}

fn events_of(writer: usize, append: usize) -> usize {
    (writer + append) % 3 + 1
}

fn expected_total() -> usize {
    (0..WRITERS)
        .flat_map(|w| (0..APPENDS).map(move |a| events_of(w, a)))
        .sum()
}

fn restart_config(server: &PrivateServer) -> JetStreamLogConfig {
    let mut config = unique_config(&server.url());
    config.request_timeout = Duration::from_secs(2);
    config.append_timeout = Duration::from_secs(60);
    config.max_reconnect_delay = Duration::from_millis(200);
    config
}

/// Appends `APPENDS` times, retrying an append that failed transiently
/// with the same events, as a command handler would.
async fn write(log: JetStreamLog, writer: usize, stream: StreamId) -> Vec<Acked> {
    let shared = writer < SHARED_WRITERS;
    let mut acked = Vec::new();
    let mut version = None;
    for append in 0..APPENDS {
        let events: Vec<_> = (0..events_of(writer, append))
            .map(|i| new_event("test.appended", &format!("{writer}-{append}-{i}")))
            .collect();
        let expected = if shared {
            ExpectedVersion::Any
        } else {
            ExpectedVersion::from_current(version)
        };
        let result = loop {
            match log.append(&stream, expected, events.clone()).await {
                Ok(result) => break result,
                Err(error) if error.is_transient() => tokio::time::sleep(Duration::from_millis(50)).await,
                Err(error) => panic!("writer {writer}, append {append}: {error}"),
            }
        };
        version = Some(result.last_version);
        let ids = events.iter().map(|e| e.event_id).collect();
        acked.push(Acked { ids, result });
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    acked
}

/// Follows the log from the start until it saw `total` events.
async fn follow(log: JetStreamLog, total: usize) -> Vec<(Position, Uuid)> {
    let mut seen = Vec::new();
    let mut stream = log.subscribe(Position::ZERO, EventFilter::all());
    let follow = async {
        while seen.len() < total {
            match stream.next().await {
                Some(Ok(event)) => seen.push((event.position, event.event_id)),
                Some(Err(error)) => assert!(error.is_transient(), "subscription failed: {error}"),
                None => panic!("the subscription ended"),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(120), follow)
        .await
        .expect("the subscriber stalled");
    seen
}

async fn wait_for_head(log: &JetStreamLog, at_least: u64) {
    loop {
        if log.head().await.is_ok_and(|head| head.0 >= at_least) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_appends_survive_server_restarts() {
    // RUST_LOG=quire_event_log_jetstream=debug shows the retries.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let mut server = PrivateServer::nats();
    let log = open_or_fail(restart_config(&server)).await;
    let shared = fresh_stream("channel");
    let subscriber = tokio::spawn(follow(log.clone(), expected_total()));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let stream = if w < SHARED_WRITERS {
                shared.clone()
            } else {
                fresh_stream("document")
            };
            tokio::spawn(write(log.clone(), w, stream))
        })
        .collect();

    wait_for_head(&log, 150).await;
    server.kill();
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.restart();
    wait_for_head(&log, 450).await;
    server.terminate();
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.restart();

    let mut acked = Vec::new();
    for writer in writers {
        acked.push(writer.await.expect("writer panicked"));
    }
    check_log(&log, &acked).await;
    let seen = subscriber.await.expect("subscriber panicked");
    let positions: Vec<u64> = seen.iter().map(|(p, _)| p.0).collect();
    assert_eq!(positions, (1..=expected_total() as u64).collect::<Vec<_>>());
}

/// Every acknowledged event is stored exactly once, at the position and
/// version its append reported, in the order of its writer's appends.
async fn check_log(log: &JetStreamLog, acked: &[Vec<Acked>]) {
    let total = expected_total();
    let stored = log.read_all(Position::ZERO, total + 10).await.expect("read all");
    let positions: Vec<u64> = stored.iter().map(|e| e.position.0).collect();
    assert_eq!(
        positions,
        (1..=total as u64).collect::<Vec<_>>(),
        "positions are not dense"
    );
    let by_id: HashMap<Uuid, (Position, u64)> = stored
        .iter()
        .map(|e| (e.event_id, (e.position, e.stream_version)))
        .collect();
    assert_eq!(by_id.len(), total, "an event is stored twice");
    for writer in acked {
        let mut last = Position::ZERO;
        for append in writer {
            for (i, id) in append.ids.iter().enumerate() {
                let (position, version) = by_id.get(id).copied().expect("an acknowledged event is missing");
                assert_eq!(position.0, append.result.first_position.0 + i as u64);
                assert_eq!(version, append.result.first_version + i as u64);
                assert!(position > last, "a writer's events are out of order");
                last = position;
            }
        }
    }
    let streams: HashSet<StreamId> = acked
        .iter()
        .flatten()
        .map(|a| a.result.stream_id.clone())
        .collect();
    for stream in streams {
        let events = log
            .read_stream(&stream, 0, Direction::Forward, total)
            .await
            .expect("read");
        let versions: Vec<u64> = events.iter().map(|e| e.stream_version).collect();
        assert_eq!(versions, (0..events.len() as u64).collect::<Vec<_>>());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_fail_as_unavailable_while_the_server_is_down_and_recover() {
    let mut server = PrivateServer::nats();
    let mut config = restart_config(&server);
    config.append_timeout = Duration::from_secs(2);
    config.request_timeout = Duration::from_millis(500);
    let log = open_or_fail(config).await;
    let stream = StreamId::parse("document-down").unwrap();
    log.append(
        &stream,
        ExpectedVersion::NoStream,
        vec![new_event("doc.made", "1")],
    )
    .await
    .expect("append before the outage");
    server.kill();

    let event = new_event("doc.renamed", "2");
    let failed = log
        .append(&stream, ExpectedVersion::Exact(0), vec![event.clone()])
        .await;
    assert!(matches!(&failed, Err(LogError::Unavailable(_))), "{failed:?}");
    assert!(failed.unwrap_err().is_transient());
    let head = log.head().await;
    assert!(
        matches!(&head, Err(LogError::Unavailable(text)) if text.contains(&server.url())),
        "{head:?}"
    );

    server.restart();
    let retried = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            match log
                .append(&stream, ExpectedVersion::Exact(0), vec![event.clone()])
                .await
            {
                Ok(result) => return result,
                Err(error) if error.is_transient() => tokio::time::sleep(Duration::from_millis(100)).await,
                Err(error) => panic!("append after the restart: {error}"),
            }
        }
    })
    .await
    .expect("the client did not reconnect");
    assert_eq!((retried.first_version, retried.last_position), (1, Position(2)));
}

#[tokio::test]
async fn opening_without_a_server_names_its_address() {
    let port = free_port();
    let mut config = JetStreamLogConfig::new([format!("nats://127.0.0.1:{port}")]);
    config.connect_timeout = Duration::from_secs(1);
    let error = JetStreamLog::open(config)
        .await
        .expect_err("nothing listens there");
    assert!(matches!(error, OpenError::Connect { .. }), "{error}");
    assert!(
        error.to_string().contains(&format!("127.0.0.1:{port}")),
        "{error}"
    );
}

/// A retry of an append whose outcome was lost asks the server before it
/// reports a conflict: the append that was stored gets its result even
/// after the stream moved on; one that was not gets the conflict.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_of_lost_appends_are_answered_by_the_server() {
    let log = open_or_fail(unique_config(common::LOCAL_NATS)).await;
    let _delete = common::DeleteOnDrop(log.clone());
    let stream = fresh_stream("document");
    let first = vec![new_event("doc.made", "1"), new_event("doc.named", "2")];
    let stored = log
        .append(&stream, ExpectedVersion::NoStream, first.clone())
        .await
        .expect("first");
    log.append(&stream, ExpectedVersion::Any, vec![new_event("doc.named", "3")])
        .await
        .expect("second");

    let retried = log
        .append_retry(&stream, ExpectedVersion::NoStream, first.clone())
        .await;
    assert_eq!(retried.expect("the retry is answered from the log"), stored);
    let plain = log.append(&stream, ExpectedVersion::NoStream, first).await;
    assert!(
        matches!(plain, Err(LogError::WrongExpectedVersion { actual: Some(2), .. })),
        "{plain:?}"
    );
    let fresh = log
        .append_retry(
            &stream,
            ExpectedVersion::Exact(0),
            vec![new_event("doc.named", "4")],
        )
        .await;
    assert!(
        matches!(fresh, Err(LogError::WrongExpectedVersion { actual: Some(2), .. })),
        "{fresh:?}"
    );
    assert_eq!(log.stream_version(&stream).await.expect("version"), Some(2));
}
