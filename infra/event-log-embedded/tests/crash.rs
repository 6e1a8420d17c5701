//! Crash safety: a child process appends in a loop and is killed with
//! SIGKILL at random moments; after every kill the log must open, hold every
//! append the child saw acknowledged, and show no partial commit.
//!
//! The child is this same test binary, re-run with `QUIRE_CRASH_CHILD_DIR`
//! set. It prints one `ack` line per acknowledged append.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use bytes::Bytes;
use quire_domain::{Actor, EventMetadata, NewEvent, Position, StreamId};
use quire_event_log::{EventLog, ExpectedVersion};
use quire_event_log_embedded::{EmbeddedLog, EmbeddedLogConfig};
use rand::Rng;
use uuid::Uuid;

const CHILD_ENV: &str = "QUIRE_CRASH_CHILD_DIR";
const KILLS: usize = 25;
const CHILD_WRITERS: usize = 8;
/// Longest wait for a child to acknowledge its first append.
const CHILD_START_TIMEOUT: Duration = Duration::from_secs(60);

fn config(dir: &str) -> EmbeddedLogConfig {
    let mut config = EmbeddedLogConfig::new(dir);
    // Small segments so that kills also land around segment roll-overs.
    config.segment_bytes = 64 << 10;
    config
}

#[test]
fn acknowledged_appends_survive_sigkill() {
    if let Ok(dir) = std::env::var(CHILD_ENV) {
        run_child(&dir);
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let dir_path = dir.path().to_str().expect("utf-8 path").to_owned();
    let mut acked: Vec<Ack> = Vec::new();
    let mut rng = rand::rng();
    for round in 0..KILLS {
        acked.extend(run_and_kill(&dir_path, round, rng.random_range(30..250)));
        verify(&dir_path, &acked);
    }
    eprintln!("{KILLS} kills, {} acknowledged appends verified", acked.len());
}

/// One acknowledged append as the child reported it.
struct Ack {
    stream: String,
    first_position: u64,
    ids: Vec<Uuid>,
}

fn run_and_kill(dir: &str, round: usize, after_ms: u64) -> Vec<Ack> {
    let exe = std::env::current_exe().expect("test binary path");
    let mut child = Command::new(exe)
        .args([
            "--exact",
            "acknowledged_appends_survive_sigkill",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, dir)
        .env("QUIRE_CRASH_ROUND", round.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn child");
    let stdout = child.stdout.take().expect("child stdout");
    let (first_ack_tx, first_ack) = std::sync::mpsc::channel::<()>();
    let reader = std::thread::spawn(move || {
        let mut acks = Vec::new();
        for ack in BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .filter_map(|l| parse_ack(&l))
        {
            acks.push(ack);
            let _ = first_ack_tx.send(());
        }
        acks
    });
    // The kill timer starts once the child is appending, so that a slow
    // start on a loaded machine never turns into a kill before any append.
    let appending = first_ack.recv_timeout(CHILD_START_TIMEOUT).is_ok();
    if appending {
        std::thread::sleep(Duration::from_millis(after_ms));
    }
    child.kill().expect("SIGKILL the child");
    child.wait().expect("reap the child");
    let acks = reader.join().expect("reader thread");
    assert!(
        appending,
        "round {round}: the child acknowledged nothing within {CHILD_START_TIMEOUT:?}"
    );
    acks
}

fn parse_ack(line: &str) -> Option<Ack> {
    let mut parts = line.strip_prefix("ack ")?.split(' ');
    let stream = parts.next()?.to_owned();
    let first_position = parts.next()?.parse().ok()?;
    let ids = parts.map(|id| id.parse().ok()).collect::<Option<Vec<Uuid>>>()?;
    Some(Ack {
        stream,
        first_position,
        ids,
    })
}

fn verify(dir: &str, acked: &[Ack]) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let log = EmbeddedLog::open(config(dir)).expect("the log must open after a crash");
        let head = log.head().await.expect("head");
        let all = log
            .read_all(Position::ZERO, head.0 as usize + 1)
            .await
            .expect("read all");
        assert_eq!(all.len() as u64, head.0, "positions are not dense");
        let by_id: HashMap<Uuid, _> = all.iter().map(|e| (e.event_id, e.clone())).collect();
        for ack in acked {
            for (i, id) in ack.ids.iter().enumerate() {
                let event = by_id
                    .get(id)
                    .unwrap_or_else(|| panic!("acknowledged event {id} is missing"));
                assert_eq!(event.stream_id.as_str(), ack.stream);
                assert_eq!(event.position.0, ack.first_position + i as u64);
            }
        }
        check_no_partial_commit(&all);
        log.close();
    });
}

/// Every append writes `count` events carrying the same command id; a
/// visible partial commit would show fewer.
fn check_no_partial_commit(all: &[std::sync::Arc<quire_domain::RecordedEvent>]) {
    let mut groups: HashMap<&str, (usize, usize)> = HashMap::new();
    for event in all {
        let command = event.metadata.command_id.as_deref().expect("command id");
        let count: usize = command
            .rsplit('/')
            .next()
            .and_then(|n| n.parse().ok())
            .expect("count in command id");
        groups.entry(command).or_insert((0, count)).0 += 1;
    }
    for (command, (seen, count)) in groups {
        assert_eq!(seen, count, "append {command} is only partly in the log");
    }
}

fn run_child(dir: &str) {
    let round = std::env::var("QUIRE_CRASH_ROUND").unwrap_or_default();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let log = EmbeddedLog::open(config(dir)).expect("child: open log");
        let writers = (0..CHILD_WRITERS).map(|writer| {
            let log = log.clone();
            let round = round.clone();
            tokio::spawn(async move { append_forever(&log, &round, writer).await })
        });
        futures::future::join_all(writers).await;
    });
}

async fn append_forever(log: &EmbeddedLog, round: &str, writer: usize) {
    let stream = StreamId::parse(&format!("crash-{round}-{writer}")).expect("stream id");
    for n in 0.. {
        let count = n % 4 + 1;
        let command = format!("{round}/{writer}/{n}/{count}");
        let events: Vec<NewEvent> = (0..count).map(|i| crash_event(&command, i)).collect();
        let ids: Vec<String> = events.iter().map(|e| e.event_id.to_string()).collect();
        let result = log
            .append(&stream, ExpectedVersion::Any, events)
            .await
            .expect("child: append");
        println!("ack {stream} {} {}", result.first_position, ids.join(" "));
    }
}

fn crash_event(command: &str, index: usize) -> NewEvent {
    let mut metadata = EventMetadata::new(Actor::service("crash-test"));
    metadata.command_id = Some(command.to_owned());
    NewEvent {
        event_id: Uuid::now_v7(),
        event_type: "crash.appended".to_owned(),
        schema_version: 1,
        payload: Bytes::from(format!(
            "{{\"index\":{index},\"padding\":\"{}\"}}",
            "x".repeat(index * 40)
        )),
        metadata,
    }
}
