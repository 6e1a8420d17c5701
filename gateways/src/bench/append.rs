//! `quire bench append`: durable appends to the embedded log, or to the
//! JetStream log beside bare JetStream publishes of the same messages
//! (`--backend jetstream`: each scenario on a fresh stream, and the same
//! writers publishing the encoded appends without the log's headers on
//! another fresh stream, reported as `<scenario>_raw` with the ratio; the
//! two take turns in rounds of a quarter of `--seconds` each, so that both
//! see the same moments of a shared machine).
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
use quire_event_log_jetstream::{JetStreamLog, JetStreamLogConfig, RawPublisher};
use uuid::Uuid;

use super::report::{ScenarioResult, print};
use crate::cli::{AppendArgs, LogBackend};

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
    match args.backend {
        LogBackend::Embedded => run_embedded(&args).await,
        LogBackend::Jetstream => run_jetstream(&args).await,
    }
}

fn wanted(args: &AppendArgs, name: &str) -> bool {
    args.only.as_deref().is_none_or(|only| name.contains(only))
}

/// Every scenario on a fresh embedded log under `--dir`.
async fn run_embedded(args: &AppendArgs) -> anyhow::Result<()> {
    let base = args.dir.clone().unwrap_or_else(std::env::temp_dir);
    std::fs::create_dir_all(&base)?;
    let duration = Duration::from_secs_f64(args.seconds);
    let open = || -> anyhow::Result<(EmbeddedLog, tempfile::TempDir)> {
        let dir = tempfile::tempdir_in(&base)?;
        Ok((EmbeddedLog::open(EmbeddedLogConfig::new(dir.path()))?, dir))
    };
    for scenario in SCENARIOS.iter().filter(|s| wanted(args, s.name)) {
        let (log, _dir) = open()?;
        let mut writers = Writers::new(scenario)?;
        writers.run(&log, duration, args.payload_bytes).await?;
        log.close();
        print(&writers.result(scenario.name), args.json)?;
    }
    if wanted(args, "live_delivery") {
        let (log, _dir) = open()?;
        let result = run_live_delivery(&log, duration, args.payload_bytes).await?;
        log.close();
        print(&result, args.json)?;
    }
    Ok(())
}

/// How many turns the log and the bare publishes take each within one
/// JetStream scenario.
const ROUNDS: u32 = 4;

/// Every scenario on a fresh JetStream stream, and the same writers
/// publishing the same messages bare on another fresh stream (`<name>_raw`),
/// taking turns in [`ROUNDS`] rounds, with the ratio of the two rates.
async fn run_jetstream(args: &AppendArgs) -> anyhow::Result<()> {
    let duration = Duration::from_secs_f64(args.seconds);
    let config = || {
        let mut config = JetStreamLogConfig::new([args.nats_url.clone()]);
        config.stream_name = format!("QUIRE_BENCH_{}", Uuid::now_v7().simple());
        config.subject_prefix = format!("quire.bench.{}", Uuid::now_v7().simple());
        config
    };
    for scenario in SCENARIOS.iter().filter(|s| wanted(args, s.name)) {
        let log = JetStreamLog::open(config()).await?;
        let bare = Bare(Arc::new(RawPublisher::open(config()).await?));
        let (mut measured, mut baseline) = (Writers::new(scenario)?, Writers::new(scenario)?);
        let turn = duration / ROUNDS;
        let outcome = async {
            for _ in 0..ROUNDS {
                measured.run(&log, turn, args.payload_bytes).await?;
                baseline.run(&bare, turn, args.payload_bytes).await?;
            }
            anyhow::Ok(())
        }
        .await;
        log.delete_stream().await?;
        bare.0.delete_stream().await?;
        outcome?;
        let mut measured = measured.result(scenario.name);
        let baseline = baseline.result(&format!("{}_raw", scenario.name));
        measured.vs_baseline = Some(measured.events_per_sec / baseline.events_per_sec.max(f64::MIN_POSITIVE));
        print(&measured, args.json)?;
        print(&baseline, args.json)?;
    }
    if wanted(args, "live_delivery") {
        let log = JetStreamLog::open(config()).await?;
        let result = run_live_delivery(&log, duration, args.payload_bytes).await;
        log.delete_stream().await?;
        print(&result?, args.json)?;
    }
    Ok(())
}

/// What a scenario's writers append through.
#[async_trait::async_trait]
trait Appender: Send + Sync + 'static {
    /// Appends `events` to `stream` at `expected`; returns the stream's
    /// new last version.
    async fn append(
        &self,
        stream: &StreamId,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> anyhow::Result<u64>;
}

#[async_trait::async_trait]
impl<L: EventLog> Appender for L {
    async fn append(
        &self,
        stream: &StreamId,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> anyhow::Result<u64> {
        Ok(EventLog::append(self, stream, expected, events)
            .await?
            .last_version)
    }
}

/// Bare JetStream publishes, versions counted by the writer itself.
#[derive(Clone)]
struct Bare(Arc<RawPublisher>);

#[async_trait::async_trait]
impl Appender for Bare {
    async fn append(
        &self,
        stream: &StreamId,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> anyhow::Result<u64> {
        let first = match expected {
            ExpectedVersion::Exact(version) => version + 1,
            ExpectedVersion::NoStream | ExpectedVersion::Any => 0,
        };
        self.0.publish(stream, first, &events).await?;
        Ok(first + events.len() as u64 - 1)
    }
}

fn payload(bytes: usize) -> Bytes {
    let body = "m".repeat(bytes.saturating_sub(40));
    Bytes::from(format!("{{\"channel\":\"c-1\",\"body\":\"{body}\"}}"))
}

/// The events of one append: one command's worth, sharing its metadata.
fn events_of(count: usize, payload: &Bytes) -> Vec<NewEvent> {
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

/// A scenario's writers, each on its own stream, across one or more runs:
/// where each stream stands and what was measured so far.
struct Writers {
    batch: usize,
    expected: Vec<ExpectedVersion>,
    events: u64,
    seconds: f64,
    latencies: Histogram<u64>,
}

impl Writers {
    fn new(scenario: &Scenario) -> anyhow::Result<Writers> {
        Ok(Writers {
            batch: scenario.batch,
            expected: vec![ExpectedVersion::NoStream; scenario.writers],
            events: 0,
            seconds: 0.0,
            latencies: histogram()?,
        })
    }

    /// Every writer appends through `log` for `duration`, from where its
    /// stream stands.
    async fn run<A: Appender + Clone>(
        &mut self,
        log: &A,
        duration: Duration,
        payload_bytes: usize,
    ) -> anyhow::Result<()> {
        let payload = payload(payload_bytes);
        let started = Instant::now();
        let deadline = started + duration;
        let tasks: Vec<_> = self
            .expected
            .iter()
            .cloned()
            .enumerate()
            .map(|(writer, expected)| {
                let (log, payload, batch) = (log.clone(), payload.clone(), self.batch);
                tokio::spawn(
                    async move { write_until(&log, writer, expected, batch, &payload, deadline).await },
                )
            })
            .collect();
        for (writer, task) in tasks.into_iter().enumerate() {
            let written = task.await??;
            self.events += written.events;
            self.expected[writer] = written.expected;
            self.latencies.add(&written.latencies)?;
        }
        self.seconds += started.elapsed().as_secs_f64();
        Ok(())
    }

    fn result(&self, name: &str) -> ScenarioResult {
        ScenarioResult {
            scenario: name.to_owned(),
            writers: self.expected.len(),
            batch: self.batch,
            events: self.events,
            seconds: self.seconds,
            events_per_sec: self.events as f64 / self.seconds.max(f64::MIN_POSITIVE),
            p50_us: self.latencies.value_at_quantile(0.50),
            p99_us: self.latencies.value_at_quantile(0.99),
            vs_baseline: None,
        }
    }
}

/// What one writer did in one run.
struct Written {
    events: u64,
    expected: ExpectedVersion,
    latencies: Histogram<u64>,
}

async fn write_until(
    log: &dyn Appender,
    writer: usize,
    mut expected: ExpectedVersion,
    batch: usize,
    payload: &Bytes,
    deadline: Instant,
) -> anyhow::Result<Written> {
    let stream = StreamId::parse(&format!("bench-{writer}"))?;
    let mut latencies = histogram()?;
    let mut events = 0;
    while Instant::now() < deadline {
        let batch_events = events_of(batch, payload);
        let started = Instant::now();
        let last_version = log.append(&stream, expected, batch_events).await?;
        latencies.record(started.elapsed().as_micros().max(1) as u64)?;
        expected = ExpectedVersion::Exact(last_version);
        events += batch as u64;
    }
    Ok(Written {
        events,
        expected,
        latencies,
    })
}

/// An idle log with one subscriber: each event is appended alone, 2 ms
/// apart; latency is from the append call to the subscriber's receipt.
async fn run_live_delivery(
    log: &dyn EventLog,
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
        let append = log.append(&stream, ExpectedVersion::Any, events_of(1, &payload));
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
        vs_baseline: None,
    })
}
