//! `quire bench load`: fills a data directory with `--messages` messages in
//! `--channels` group channels, fast, for `quire bench restart`.
//!
//! The events are real: each channel's commands (one `CreateGroup`, then
//! its share of `SendMessage`s by participants chosen at random) go through
//! the `Channel` aggregate's `decide`, and the events it returns are applied
//! to its state and encoded as the command pipeline would encode them (same
//! metadata shape, one command id per command). They skip gRPC and the
//! pipeline: each channel's events are appended straight to the embedded
//! log in batches of up to [`BATCH`] events with an exact expected version,
//! by a few concurrent writers. Only the log is written; the read models,
//! the search index and the checkpoints are built by the first `quire dev`
//! on the directory.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use quire_command_handlers::CommandContext;
use quire_domain::channel::{Channel, ChannelCommand, CreateGroup, SendMessage};
use quire_domain::{
    Actor, Aggregate, ChannelId, Issued, MessageId, Name, NewEvent, StreamId, Timestamp, UserId,
};
use quire_event_log::{EventLog, ExpectedVersion};
use quire_event_log_embedded::{EmbeddedLog, EmbeddedLogConfig};
use tokio::task::JoinSet;
use tracing::info;
use uuid::Uuid;

use super::report::{LoadResult, print_load};
use crate::cli::LoadArgs;

/// Most events in one append.
const BATCH: usize = 1_000;
/// Concurrent writers (each builds a channel's events, then appends them).
const WRITERS: usize = 4;
/// Words message bodies are made of (plus a number, so bodies differ).
const WORDS: &[&str] = &[
    "plan",
    "budget",
    "review",
    "deploy",
    "meeting",
    "design",
    "release",
    "invoice",
    "draft",
    "roadmap",
    "customer",
    "report",
    "sprint",
    "backlog",
    "ticket",
    "launch",
    "metrics",
    "hiring",
    "quarter",
    "contract",
    "feedback",
    "support",
    "incident",
    "migration",
    "schema",
    "search",
    "channel",
    "document",
    "project",
    "question",
    "answer",
    "lunch",
    "coffee",
    "travel",
    "office",
];

pub async fn run(args: LoadArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.channels > 0, "--channels must be at least 1");
    anyhow::ensure!(
        args.participants > 0 && args.participants <= args.users,
        "--participants must be between 1 and --users"
    );
    let log_dir = args.dir.join("log");
    let log = tokio::task::spawn_blocking(move || EmbeddedLog::open(EmbeddedLogConfig::new(log_dir)))
        .await?
        .context("opening the event log")?;
    let plan = Arc::new(Plan {
        channels: args.channels,
        messages: args.messages,
        participants: args.participants,
        users: args.users,
        body_bytes: args.body_bytes,
        epoch: now_micros() - 30 * 24 * 3600 * 1_000_000,
        next: AtomicUsize::new(0),
    });
    let started = Instant::now();
    let mut writers = JoinSet::new();
    for _ in 0..WRITERS {
        let (log, plan) = (log.clone(), plan.clone());
        writers.spawn(async move { plan.write_channels(&log).await });
    }
    let mut events = 0;
    while let Some(written) = writers.join_next().await {
        events += written??;
    }
    let seconds = started.elapsed().as_secs_f64();
    let closing = log.clone();
    tokio::task::spawn_blocking(move || closing.close()).await?;
    let result = LoadResult {
        scenario: "load".to_owned(),
        channels: args.channels,
        messages: args.messages,
        events,
        seconds,
        events_per_sec: events as f64 / seconds,
        log_bytes: dir_bytes(&args.dir.join("log"))?,
    };
    print_load(&result, args.json)
}

/// What to write, and the next channel to hand to a writer.
struct Plan {
    channels: usize,
    messages: u64,
    participants: usize,
    users: usize,
    body_bytes: usize,
    /// Time of the first event; each channel's events follow 1 ms apart.
    epoch: i64,
    next: AtomicUsize,
}

impl Plan {
    /// Takes channels until none is left; returns the events written.
    async fn write_channels(&self, log: &EmbeddedLog) -> anyhow::Result<u64> {
        let mut written = 0;
        loop {
            let channel = self.next.fetch_add(1, Ordering::Relaxed);
            if channel >= self.channels {
                return Ok(written);
            }
            let events = self.channel_events(channel)?;
            written += events.events.len() as u64;
            let stream = StreamId::for_aggregate(Channel::CATEGORY, events.id.as_str())?;
            let mut expected = ExpectedVersion::NoStream;
            let mut batches = events.events.into_iter().peekable();
            while batches.peek().is_some() {
                let batch: Vec<NewEvent> = batches.by_ref().take(BATCH).collect();
                let result = log.append(&stream, expected, batch).await?;
                expected = ExpectedVersion::Exact(result.last_version);
            }
            if channel % 1_000 == 999 {
                info!(channels = channel + 1, "channels written");
            }
        }
    }

    /// Messages of channel number `channel`: an even share, the first
    /// channels taking the remainder.
    fn messages_in(&self, channel: usize) -> u64 {
        let channels = self.channels as u64;
        self.messages / channels + u64::from((channel as u64) < self.messages % channels)
    }

    /// The events of one channel, decided by the aggregate.
    fn channel_events(&self, channel: usize) -> anyhow::Result<ChannelEvents> {
        let mut random = fastrand_seed(channel as u64);
        let id = ChannelId::parse(&Uuid::now_v7().simple().to_string())?;
        let mut members = BTreeSet::new();
        while members.len() < self.participants {
            members.insert(UserId::parse(&format!("u{}", random.below(self.users)))?);
        }
        let members: Vec<UserId> = members.into_iter().collect();
        let creator = members[0].clone();
        let mut at = self.epoch + channel as i64 * 1_000;
        let mut state = Channel::default();
        let mut events = Vec::with_capacity(self.messages_in(channel) as usize + 1);
        let create = ChannelCommand::CreateGroup(CreateGroup {
            channel_id: id.clone(),
            name: Name::parse(&format!("channel {channel}"))?,
            members: members[1..].to_vec(),
        });
        decide(&mut state, &creator, at, create, &mut events)?;
        for n in 0..self.messages_in(channel) {
            at += 1_000;
            let author = &members[random.below(members.len())];
            let send = ChannelCommand::SendMessage(SendMessage {
                channel_id: id.clone(),
                message_id: MessageId::parse(&Uuid::now_v7().simple().to_string())?,
                body: self.body(&mut random, n),
                thread_parent: None,
                mentions: Vec::new(),
                attachments: Vec::new(),
                readable_documents: BTreeSet::new(),
            });
            decide(&mut state, author, at, send, &mut events)?;
        }
        Ok(ChannelEvents { id, events })
    }

    /// A body of about `body_bytes` bytes of words and a number.
    fn body(&self, random: &mut XorShift, n: u64) -> String {
        let mut body = format!("message {n}");
        while body.len() < self.body_bytes {
            body.push(' ');
            body.push_str(WORDS[random.below(WORDS.len())]);
        }
        body
    }
}

/// One channel's events, in order.
struct ChannelEvents {
    id: ChannelId,
    events: Vec<NewEvent>,
}

/// Decides `command` as `user` at `at`, applies the events to `state` and
/// adds them, encoded with fresh command metadata, to `out`.
fn decide(
    state: &mut Channel,
    user: &UserId,
    at: i64,
    command: ChannelCommand,
    out: &mut Vec<NewEvent>,
) -> anyhow::Result<()> {
    let actor = Actor::user(user.as_str());
    let issued = Issued::new(actor.clone(), Timestamp::from_unix_micros(at), command);
    let events = state
        .decide(&issued)
        .map_err(|e| anyhow::anyhow!("the channel refused a generated command: {e}"))?;
    let metadata = CommandContext::new(actor).metadata();
    for event in &events {
        state.apply(event);
        out.push(NewEvent::from_domain(event, metadata.clone()));
    }
    Ok(())
}

fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_micros() as i64
}

/// Total size of the files under `dir`.
fn dir_bytes(dir: &Path) -> anyhow::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            dir_bytes(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}

fn fastrand_seed(seed: u64) -> XorShift {
    XorShift(seed.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
}

/// A tiny PRNG, so a channel's members and authors need no shared state.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}
