//! `quire bench append`: durable appends to the embedded log.
//!
//! Scenarios: single-event appends with 1, 16, 64 and 256 concurrent
//! writers (each on its own stream, with an exact expected version);
//! batches of 100 and 1000 events with 1 and 4 writers; and live delivery,
//! where one writer appends an event every 2 ms to an otherwise idle log and
//! a subscriber measures the time from the append call to receipt. Every
//! scenario gets a fresh log on disk; every append is fsynced before it is
//! acknowledged.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt;
use hdrhistogram::Histogram;
use quire_domain::{Actor, EventMetadata, NewEvent, StreamId};
use quire_event_log::{EventFilter, EventLog, ExpectedVersion};
use quire_event_log_embedded::{EmbeddedLog, EmbeddedLogConfig};
use uuid::Uuid;

use super::report::{ScenarioResult, print};
use crate::cli::AppendArgs;

/// One append scenario: `writers` tasks appending `batch` events per call.
struct Scenario {
    name: &'static str,
    writers: usize,
    batch: usize,
}

const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "single_w1",
        writers: 1,
        batch: 1,
    },
    Scenario {
        name: "single_w16",
        writers: 16,
        batch: 1,
    },
    Scenario {
        name: "single_w64",
        writers: 64,
        batch: 1,
    },
    Scenario {
        name: "single_w256",
        writers: 256,
        batch: 1,
    },
    Scenario {
        name: "batch100_w1",
        writers: 1,
        batch: 100,
    },
    Scenario {
        name: "batch1000_w1",
        writers: 1,
        batch: 1000,
    },
    Scenario {
        name: "batch100_w4",
        writers: 4,
        batch: 100,
    },
    Scenario {
        name: "batch1000_w4",
        writers: 4,
        batch: 1000,
    },
];

pub async fn run(args: AppendArgs) -> anyhow::Result<()> {
    let base = args.dir.clone().unwrap_or_else(std::env::temp_dir);
    std::fs::create_dir_all(&base)?;
    let wanted = |name: &str| args.only.as_deref().is_none_or(|only| name.contains(only));
    let duration = Duration::from_secs_f64(args.seconds);
    for scenario in SCENARIOS.iter().filter(|s| wanted(s.name)) {
        let dir = tempfile::tempdir_in(&base)?;
        let log = Arc::new(EmbeddedLog::open(EmbeddedLogConfig::new(dir.path()))?);
        let result = run_appends(&log, scenario, duration, args.payload_bytes).await?;
        log.close();
        print(&result, args.json)?;
    }
    if wanted("live_delivery") {
        let dir = tempfile::tempdir_in(&base)?;
        let log = Arc::new(EmbeddedLog::open(EmbeddedLogConfig::new(dir.path()))?);
        let result = run_live_delivery(&log, duration, args.payload_bytes).await?;
        log.close();
        print(&result, args.json)?;
    }
    Ok(())
}

fn payload(bytes: usize) -> Bytes {
    let body = "m".repeat(bytes.saturating_sub(40));
    Bytes::from(format!("{{\"channel\":\"c-1\",\"body\":\"{body}\"}}"))
}

/// The events of one append: one command's worth, sharing its metadata.
fn events(count: usize, payload: &Bytes) -> Vec<NewEvent> {
    let metadata = EventMetadata::new(Actor::user("bench"));
    (0..count)
        .map(|_| NewEvent {
            event_id: Uuid::now_v7(),
            event_type: "channel.message_sent".to_owned(),
            schema_version: 1,
            payload: payload.clone(),
            metadata: metadata.clone(),
        })
        .collect()
}

fn histogram() -> anyhow::Result<Histogram<u64>> {
    Ok(Histogram::new_with_bounds(1, 60_000_000, 3)?)
}

async fn run_appends(
    log: &Arc<EmbeddedLog>,
    scenario: &Scenario,
    duration: Duration,
    payload_bytes: usize,
) -> anyhow::Result<ScenarioResult> {
    let payload = payload(payload_bytes);
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..scenario.writers)
        .map(|writer| {
            let log = Arc::clone(log);
            let payload = payload.clone();
            let batch = scenario.batch;
            tokio::spawn(async move { write_until(&log, writer, batch, &payload, deadline).await })
        })
        .collect();
    let mut latencies = histogram()?;
    let mut events = 0;
    for task in tasks {
        let (written, histogram) = task.await??;
        events += written;
        latencies.add(histogram)?;
    }
    let seconds = started.elapsed().as_secs_f64();
    Ok(ScenarioResult {
        scenario: scenario.name.to_owned(),
        writers: scenario.writers,
        batch: scenario.batch,
        events,
        seconds,
        events_per_sec: events as f64 / seconds,
        p50_us: latencies.value_at_quantile(0.50),
        p99_us: latencies.value_at_quantile(0.99),
    })
}

async fn write_until(
    log: &EmbeddedLog,
    writer: usize,
    batch: usize,
    payload: &Bytes,
    deadline: Instant,
) -> anyhow::Result<(u64, Histogram<u64>)> {
    let stream = StreamId::parse(&format!("bench-{writer}"))?;
    let mut latencies = histogram()?;
    let mut expected = ExpectedVersion::NoStream;
    let mut written = 0;
    while Instant::now() < deadline {
        let batch_events = events(batch, payload);
        let started = Instant::now();
        let result = log.append(&stream, expected, batch_events).await?;
        latencies.record(started.elapsed().as_micros().max(1) as u64)?;
        expected = ExpectedVersion::Exact(result.last_version);
        written += batch as u64;
    }
    Ok((written, latencies))
}

/// An idle log with one subscriber: each event is appended alone, 2 ms
/// apart; latency is from the append call to the subscriber's receipt.
async fn run_live_delivery(
    log: &Arc<EmbeddedLog>,
    duration: Duration,
    payload_bytes: usize,
) -> anyhow::Result<ScenarioResult> {
    let payload = payload(payload_bytes);
    let stream = StreamId::parse("bench-live")?;
    let mut subscription = log.subscribe(quire_domain::Position::FIRST, EventFilter::all());
    let mut latencies = histogram()?;
    let started = Instant::now();
    let mut delivered = 0;
    while started.elapsed() < duration {
        let sent = Instant::now();
        let append = log.append(&stream, ExpectedVersion::Any, events(1, &payload));
        let receive = async { (subscription.next().await, Instant::now()) };
        let (appended, (received, received_at)) = tokio::join!(append, receive);
        appended?;
        received.ok_or_else(|| anyhow::anyhow!("subscription ended"))??;
        latencies.record(received_at.duration_since(sent).as_micros().max(1) as u64)?;
        delivered += 1;
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let seconds = started.elapsed().as_secs_f64();
    Ok(ScenarioResult {
        scenario: "live_delivery".to_owned(),
        writers: 1,
        batch: 1,
        events: delivered,
        seconds,
        events_per_sec: delivered as f64 / seconds,
        p50_us: latencies.value_at_quantile(0.50),
        p99_us: latencies.value_at_quantile(0.99),
    })
}
