//! Replay throughput of the channels read model on PostgreSQL (ignored by
//! default; measurements, not checks). Run them in release mode:
//!
//! ```text
//! cargo test --release -p quire-read-models-postgres --test replay_throughput -- --ignored --nocapture --test-threads=1
//! ```
//!
//! (One test at a time: run side by side, each would measure the other.)
//!
//! Both replay ~230k `channel.*` events (2,000 channels, half direct and
//! half groups of 5; 200,000 messages in random channels; a read marker
//! every 8th message), print events per second, and check the answers
//! against the in-memory backend fed the same events.
//! - `channel_replay_throughput` hands the projector batches of 4,096 and
//!   of 32,768 events (`PgStore::runner_config` gathers up to 65,536 while
//!   catching up); `QUIRE_REPLAY_BATCHES` changes the sizes
//!   (comma-separated).
//! - `channel_replay_through_the_runner` appends the events to an embedded
//!   log, reopens it, and times a `ProjectorRunner` with
//!   `PgStore::runner_config` from start to the log's head: reading the
//!   log, gathering batches and checkpointing included.
//!
//! - `channel_replay_in_two_halves_side_by_side` is the experiment that led
//!   to catch-up partitions (ADR 0013): it splits the events by channel
//!   into two halves and replays each into a schema of its own at once, in
//!   batches of 32,768, so that two server backends insert in parallel, and
//!   prints the events per second of both together.
//!
//! The model splits long batches into the store's default catch-up
//! partitions (2); `QUIRE_REPLAY_PARTITIONS` sets another count.
//! `QUIRE_REPLAY_MESSAGES` changes the message count.

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use quire_domain::channel::{self as ch, ChannelEvent};
use quire_domain::{
    Actor, ChannelId, EventMetadata, MessageId, Name, NewEvent, Position, RecordedEvent, StreamId, Timestamp,
    UserId,
};
use quire_event_log::{EventLog, ExpectedVersion};
use quire_event_log_embedded::{EmbeddedLog, EmbeddedLogConfig};
use quire_projections::query::{MAX_PAGE_SIZE, PageRequest};
use quire_projections::read_models::channels::{ChannelQueries, InMemoryChannels};
use quire_projections::read_models::unread::UnreadQueries;
use quire_projections::{Projector, ProjectorRunner};
use quire_read_models_postgres::{PgChannels, PgStore};

const CHANNELS: usize = 2_000;
const USERS: usize = 1_000;

/// A deterministic pseudo-random sequence (no seed, no dependency).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

/// The scenario's events in log order, each with its stream.
struct Log {
    events: Vec<(StreamId, NewEvent)>,
    /// The time of the next event, a millisecond after the last.
    clock: i64,
}

impl Log {
    fn record(&mut self, channel: usize, event: ChannelEvent) {
        let new = NewEvent::from_domain(&event, EventMetadata::new(Actor::user("bench")));
        let stream = StreamId::for_aggregate("channel", &format!("c{channel}")).expect("stream id");
        self.events.push((stream, new));
        self.clock += 1_000;
    }
}

/// The events as a log would record them: dense positions, stream
/// versions from 0, a millisecond apart.
fn recorded(events: &[(StreamId, NewEvent)]) -> Vec<Arc<RecordedEvent>> {
    let mut versions = std::collections::HashMap::new();
    let clock = 1_700_000_000_000_000;
    events
        .iter()
        .enumerate()
        .map(|(n, (stream, new))| {
            let version = versions.entry(stream.clone()).or_insert(0u64);
            let event = RecordedEvent {
                event_id: new.event_id,
                stream_id: stream.clone(),
                stream_version: *version,
                position: Position(n as u64 + 1),
                event_type: new.event_type.clone(),
                schema_version: new.schema_version,
                recorded_at: Timestamp(clock + n as i64 * 1_000),
                metadata: new.metadata.clone(),
                payload: new.payload.clone(),
            };
            *version += 1;
            Arc::new(event)
        })
        .collect()
}

fn user(n: usize) -> UserId {
    UserId::parse(&format!("u{n}")).expect("user id")
}

fn channel_id(n: usize) -> ChannelId {
    ChannelId::parse(&format!("c{n}")).expect("channel id")
}

/// Channels, then messages in random channels with a read marker now and
/// then.
fn scenario(messages: usize) -> Vec<(StreamId, NewEvent)> {
    let mut rng = Lcg(7);
    let mut log = Log {
        events: Vec::new(),
        clock: 1_700_000_000_000_000,
    };
    let mut members: Vec<Vec<UserId>> = Vec::with_capacity(CHANNELS);
    for c in 0..CHANNELS {
        let size = if c % 2 == 0 { 2 } else { 5 };
        let mut participants: Vec<UserId> = (0..size).map(|i| user((c * 7 + i * 13) % USERS)).collect();
        participants.sort();
        participants.dedup();
        let at = Timestamp(log.clock);
        let event = if size == 2 {
            ChannelEvent::DirectCreated(ch::DirectCreated {
                channel_id: channel_id(c),
                participants: participants.clone(),
                by: participants[0].clone(),
                at,
            })
        } else {
            ChannelEvent::GroupCreated(ch::GroupCreated {
                channel_id: channel_id(c),
                name: Name::parse(&format!("Group {c}")).expect("name"),
                participants: participants.clone(),
                by: participants[0].clone(),
                at,
            })
        };
        log.record(c, event);
        members.push(participants);
    }
    let mut seqs = vec![0u64; CHANNELS];
    for n in 0..messages {
        let c = rng.below(CHANNELS);
        let participants = &members[c];
        let author = participants[rng.below(participants.len())].clone();
        seqs[c] += 1;
        let message_id = MessageId::parse(&format!("0193a4c2-7f00-7abc-8def-{n:012x}")).expect("message id");
        let sent = ChannelEvent::MessageSent(ch::MessageSent {
            channel_id: channel_id(c),
            message_id: message_id.clone(),
            seq: seqs[c],
            author,
            body: format!("message number {n}, with a little text to make it look like chat"),
            thread_parent: None,
            mentions: Vec::new(),
            attachments: Vec::new(),
            at: Timestamp(log.clock),
        });
        log.record(c, sent);
        if n % 8 == 7 {
            let reader = participants[rng.below(participants.len())].clone();
            let marker = ChannelEvent::ReadMarkerMoved(ch::ReadMarkerMoved {
                channel_id: channel_id(c),
                user: reader,
                up_to: message_id,
                up_to_seq: seqs[c],
                at: Timestamp(log.clock),
            });
            log.record(c, marker);
        }
    }
    log.events
}

/// Replays `events` in batches of `size`; returns events per second.
async fn replay(projector: &dyn Projector, events: &[Arc<RecordedEvent>], size: usize) -> f64 {
    projector.reset().await.expect("reset");
    let started = Instant::now();
    for batch in events.chunks(size) {
        let checkpoint = batch.last().map_or(Position::ZERO, |e| e.position);
        projector.apply(batch, checkpoint).await.expect("apply");
    }
    events.len() as f64 / started.elapsed().as_secs_f64()
}

/// What the two backends must agree on, for a sample of users.
async fn answers(q: &(impl ChannelQueries + UnreadQueries)) -> Vec<String> {
    let mut answers = Vec::new();
    for n in (0..USERS).step_by(37) {
        let reader = user(n);
        answers.push(format!("{:?}", q.unread_counts(&reader).await));
        let page = q.list_channels(&reader, PageRequest::first(MAX_PAGE_SIZE)).await;
        answers.push(format!("{page:?}"));
    }
    answers
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "a measurement: run in release mode with --ignored --nocapture"]
async fn channel_replay_throughput() {
    let events = recorded(&scenario(message_count()));
    let (store, _schema) = common::fresh_store().await;
    let model = channels_model(store);

    let memory = InMemoryChannels::new();
    memory
        .apply(&events, events.last().map_or(Position::ZERO, |e| e.position))
        .await
        .expect("memory");
    let expected = answers(&memory).await;

    let sizes: Vec<usize> = std::env::var("QUIRE_REPLAY_BATCHES")
        .ok()
        .map(|list| list.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![4_096, 32_768]);
    for size in sizes {
        let rate = replay(&model, &events, size).await;
        println!(
            "replayed {} channel events in batches of {size}: {rate:.0} events/s",
            events.len()
        );
        assert_eq!(answers(&model).await, expected, "PostgreSQL and memory disagree");
    }
}

/// Appends `events` to `log` in their order within each stream, with up
/// to 256 appends of different streams in flight (one at a time, each
/// waiting for its sync, would take minutes).
async fn append_all(log: &Arc<EmbeddedLog>, events: Vec<(StreamId, NewEvent)>) {
    let mut in_flight = FuturesUnordered::new();
    let mut busy: HashSet<StreamId> = HashSet::new();
    for (stream, event) in events {
        while busy.contains(&stream) || in_flight.len() >= 256 {
            let done: StreamId = in_flight.next().await.expect("an append in flight");
            busy.remove(&done);
        }
        busy.insert(stream.clone());
        let log = Arc::clone(log);
        in_flight.push(async move {
            log.append(&stream, ExpectedVersion::Any, vec![event])
                .await
                .expect("append");
            stream
        });
    }
    while in_flight.next().await.is_some() {}
}

/// The channels model on `store`, with `QUIRE_REPLAY_PARTITIONS` catch-up
/// partitions if set (the store's default otherwise), so that layouts can
/// be compared in one build.
fn channels_model(store: PgStore) -> PgChannels {
    let model = PgChannels::new(store);
    match std::env::var("QUIRE_REPLAY_PARTITIONS")
        .ok()
        .and_then(|n| n.parse().ok())
    {
        Some(partitions) => model.with_catch_up_partitions(partitions),
        None => model,
    }
}

fn message_count() -> usize {
    std::env::var("QUIRE_REPLAY_MESSAGES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200_000)
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "a measurement: run in release mode with --ignored --nocapture"]
async fn channel_replay_through_the_runner() {
    let events = scenario(message_count());
    let memory = InMemoryChannels::new();
    let recorded = recorded(&events);
    memory
        .apply(&recorded, recorded.last().map_or(Position::ZERO, |e| e.position))
        .await
        .expect("memory");
    let expected = answers(&memory).await;
    let count = events.len();

    let dir = tempfile::tempdir().expect("temporary directory");
    let log = Arc::new(EmbeddedLog::open(EmbeddedLogConfig::new(dir.path())).expect("open the log"));
    append_all(&log, events).await;
    log.close();
    // Reopened, as after a restart: the replay reads the log from disk.
    let log = Arc::new(EmbeddedLog::open(EmbeddedLogConfig::new(dir.path())).expect("reopen the log"));
    let head = log.head().await.expect("head");

    let (store, _schema) = common::fresh_store().await;
    let model = Arc::new(channels_model(store));
    let started = Instant::now();
    let handle = ProjectorRunner::new(log, model.clone())
        .config(PgStore::runner_config())
        .spawn();
    handle
        .wait_for(head, Duration::from_secs(600))
        .await
        .expect("the projector catches up");
    let rate = count as f64 / started.elapsed().as_secs_f64();
    handle.stop().await;
    println!("replayed {count} channel events through the runner: {rate:.0} events/s");
    assert_eq!(
        answers(model.as_ref()).await,
        expected,
        "PostgreSQL and memory disagree"
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "a measurement: run in release mode with --ignored --nocapture"]
async fn channel_replay_in_two_halves_side_by_side() {
    let events = recorded(&scenario(message_count()));
    let (mut even, mut odd) = (Vec::new(), Vec::new());
    for event in &events {
        let channel: usize = event
            .stream_id
            .aggregate_id()
            .trim_start_matches('c')
            .parse()
            .expect("channel number");
        if channel.is_multiple_of(2) {
            &mut even
        } else {
            &mut odd
        }
        .push(Arc::clone(event));
    }
    let mut halves = Vec::new();
    for half in [even, odd] {
        let memory = InMemoryChannels::new();
        let last = half.last().map_or(Position::ZERO, |e| e.position);
        memory.apply(&half, last).await.expect("memory");
        // The schema is dropped with its guard, kept until the end.
        let (store, schema) = common::fresh_store().await;
        halves.push((
            half,
            answers(&memory).await,
            PgChannels::new(store).with_catch_up_partitions(1),
            schema,
        ));
    }
    let started = Instant::now();
    let (first, second) = (&halves[0], &halves[1]);
    tokio::join!(
        replay(&first.2, &first.0, 32_768),
        replay(&second.2, &second.0, 32_768)
    );
    let rate = events.len() as f64 / started.elapsed().as_secs_f64();
    println!(
        "replayed {} channel events as two halves side by side: {rate:.0} events/s",
        events.len()
    );
    for (_, expected, model, _) in &halves {
        assert_eq!(&answers(model).await, expected, "PostgreSQL and memory disagree");
    }
}
