//! Replay throughput of the channels read model on PostgreSQL (ignored by
//! default; a measurement, not a check). Run it in release mode:
//!
//! ```text
//! cargo test --release -p quire-read-models-postgres --test replay_throughput -- --ignored --nocapture
//! ```
//!
//! It replays ~230k `channel.*` events (2,000 channels, half direct and half
//! groups of 5; 200,000 messages; a read marker every 8th message) in
//! batches of 512 (the runner's default) and of 2,048, prints events per
//! second for each, and checks the answers against the in-memory backend
//! fed the same events. `QUIRE_REPLAY_MESSAGES` changes the message count,
//! `QUIRE_REPLAY_BATCHES` the batch sizes (comma-separated).

mod common;

use std::sync::Arc;
use std::time::Instant;

use quire_domain::channel::{self as ch, ChannelEvent};
use quire_domain::{
    Actor, ChannelId, EventMetadata, MessageId, Name, NewEvent, Position, RecordedEvent, StreamId, Timestamp,
    UserId,
};
use quire_projections::Projector;
use quire_projections::query::{MAX_PAGE_SIZE, PageRequest};
use quire_projections::read_models::channels::{ChannelQueries, InMemoryChannels};
use quire_read_models_postgres::PgChannels;

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

struct Log {
    events: Vec<Arc<RecordedEvent>>,
    versions: Vec<u64>,
    clock: i64,
}

impl Log {
    fn record(&mut self, channel: usize, event: ChannelEvent) {
        let new = NewEvent::from_domain(&event, EventMetadata::new(Actor::user("bench")));
        let stream = StreamId::for_aggregate("channel", &format!("c{channel}")).expect("stream id");
        self.events.push(Arc::new(RecordedEvent {
            event_id: new.event_id,
            stream_id: stream,
            stream_version: self.versions[channel],
            position: Position(self.events.len() as u64 + 1),
            event_type: new.event_type,
            schema_version: new.schema_version,
            recorded_at: Timestamp(self.clock),
            metadata: new.metadata,
            payload: new.payload,
        }));
        self.versions[channel] += 1;
        self.clock += 1_000;
    }
}

fn user(n: usize) -> UserId {
    UserId::parse(&format!("u{n}")).expect("user id")
}

fn channel_id(n: usize) -> ChannelId {
    ChannelId::parse(&format!("c{n}")).expect("channel id")
}

/// Channels, then messages in random channels with a read marker now and
/// then.
fn scenario(messages: usize) -> Vec<Arc<RecordedEvent>> {
    let mut rng = Lcg(7);
    let mut log = Log {
        events: Vec::new(),
        versions: vec![0; CHANNELS],
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
async fn answers(q: &dyn ChannelQueries) -> Vec<String> {
    let mut answers = Vec::new();
    for n in (0..USERS).step_by(37) {
        let reader = user(n);
        answers.push(format!("{:?}", q.unread_counts(&reader).await));
        let page = q.list_channels(&reader, PageRequest::first(MAX_PAGE_SIZE)).await;
        answers.push(format!("{page:?}"));
    }
    answers
}

#[tokio::test]
#[ignore = "a measurement: run in release mode with --ignored --nocapture"]
async fn channel_replay_throughput() {
    let messages = std::env::var("QUIRE_REPLAY_MESSAGES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200_000);
    let events = scenario(messages);
    let (store, _schema) = common::fresh_store().await;
    let model = PgChannels::new(store);

    let memory = InMemoryChannels::new();
    memory
        .apply(&events, events.last().map_or(Position::ZERO, |e| e.position))
        .await
        .expect("memory");
    let expected = answers(&memory).await;

    let sizes: Vec<usize> = std::env::var("QUIRE_REPLAY_BATCHES")
        .ok()
        .map(|list| list.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![512, 2_048]);
    for size in sizes {
        let rate = replay(&model, &events, size).await;
        println!(
            "replayed {} channel events in batches of {size}: {rate:.0} events/s",
            events.len()
        );
        assert_eq!(answers(&model).await, expected, "PostgreSQL and memory disagree");
    }
}
