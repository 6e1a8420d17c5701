//! The channels read model at scale: by default 1,000,000 messages in
//! 10,000 channels (`QUIRE_SCALE_MESSAGES`, `QUIRE_SCALE_CHANNELS` change
//! it). Measures the process's resident memory and the cost of a page of 50
//! at the far end of the largest channel. Ignored by default; run it with
//! `cargo test --release -p quire-projections --test read_models -- --ignored --nocapture scale`.

use std::sync::Arc;
use std::time::Instant;

use quire_domain::channel::{ChannelEvent, GroupCreated, MessageSent, ReadMarkerMoved};
use quire_domain::{
    Actor, ChannelId, EventMetadata, MessageId, Name, NewEvent, Position, RecordedEvent, StreamId, Timestamp,
    UserId,
};
use quire_projections::Projector;
use quire_projections::query::PageRequest;
use quire_projections::read_models::channels::{ChannelQueries, InMemoryChannels, MessageFilter};
use quire_projections::read_models::unread::UnreadQueries;
use uuid::Uuid;

/// Resident memory of this process, in bytes (Linux).
fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Records `event` on `channel`'s stream at `position`.
fn record(channel: &ChannelId, version: u64, position: u64, event: &ChannelEvent) -> Arc<RecordedEvent> {
    let new = NewEvent::from_domain(event, EventMetadata::new(Actor::service("scale")));
    Arc::new(RecordedEvent {
        event_id: new.event_id,
        stream_id: StreamId::for_aggregate("channel", channel.as_str()).expect("valid stream id"),
        stream_version: version,
        position: Position(position),
        event_type: new.event_type,
        schema_version: new.schema_version,
        recorded_at: Timestamp(position as i64),
        metadata: new.metadata,
        payload: new.payload,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a scale measurement; run in release"]
async fn scale_a_million_messages_in_ten_thousand_channels() {
    let messages = env_or("QUIRE_SCALE_MESSAGES", 1_000_000);
    let channels = env_or("QUIRE_SCALE_CHANNELS", 10_000).max(1);
    let users: Vec<UserId> = (0..2_000)
        .map(|n| UserId::parse(&format!("user-{n}")).expect("valid user id"))
        .collect();
    let ids: Vec<ChannelId> = (0..channels)
        .map(|n| ChannelId::parse(&format!("channel-{n}")).expect("valid channel id"))
        .collect();
    let model = InMemoryChannels::shared();
    let baseline = resident_bytes();
    let started = Instant::now();

    let mut position = 0u64;
    let mut versions = vec![0u64; channels];
    let mut seqs = vec![0u64; channels];
    let mut batch = Vec::with_capacity(10_000);
    let flush = |batch: &mut Vec<Arc<RecordedEvent>>, position: u64| {
        let events = std::mem::take(batch);
        let model = Arc::clone(&model);
        async move {
            model
                .apply(&events, Position(position))
                .await
                .expect("apply a batch")
        }
    };
    for (n, id) in ids.iter().enumerate() {
        // 8 participants per channel, from a pool of 2,000 users.
        let participants: Vec<UserId> = (0..8)
            .map(|k| users[(n * 7 + k * 13) % users.len()].clone())
            .collect();
        let mut participants = participants;
        participants.sort();
        participants.dedup();
        position += 1;
        let event = ChannelEvent::GroupCreated(GroupCreated {
            channel_id: id.clone(),
            name: Name::parse(&format!("Channel {n}")).expect("valid name"),
            participants,
            by: users[n % users.len()].clone(),
            at: Timestamp(position as i64),
        });
        batch.push(record(id, versions[n], position, &event));
        versions[n] += 1;
        if batch.len() == batch.capacity() {
            flush(&mut batch, position).await;
        }
    }
    // Channel 0 gets a tenth of all messages; the rest are spread evenly.
    for m in 0..messages {
        let n = if m % 10 == 0 { 0 } else { m % channels };
        let author = users[(n * 7 + (m % 8) * 13) % users.len()].clone();
        seqs[n] += 1;
        position += 1;
        let event = ChannelEvent::MessageSent(MessageSent {
            channel_id: ids[n].clone(),
            message_id: MessageId::parse(&Uuid::now_v7().hyphenated().to_string()).expect("valid message id"),
            seq: seqs[n],
            author: author.clone(),
            body: format!("message {m}: a typical line of chat, about eighty bytes long......"),
            thread_parent: None,
            mentions: Vec::new(),
            attachments: Vec::new(),
            at: Timestamp(position as i64),
        });
        batch.push(record(&ids[n], versions[n], position, &event));
        versions[n] += 1;
        if m % 50 == 49 {
            position += 1;
            let marker = ChannelEvent::ReadMarkerMoved(ReadMarkerMoved {
                channel_id: ids[n].clone(),
                user: author,
                up_to: MessageId::parse("ignored").expect("valid message id"),
                up_to_seq: seqs[n],
                at: Timestamp(position as i64),
            });
            batch.push(record(&ids[n], versions[n], position, &marker));
            versions[n] += 1;
        }
        if batch.len() >= batch.capacity() {
            flush(&mut batch, position).await;
        }
    }
    flush(&mut batch, position).await;
    drop(batch);
    let built_in = started.elapsed();
    let resident = resident_bytes().saturating_sub(baseline);

    // Every page of 50 of the largest channel, newest to oldest.
    let reader = users[0].clone();
    let largest = &ids[0];
    let started = Instant::now();
    let mut pages = 0u32;
    let mut listed = 0usize;
    let mut token = None;
    loop {
        let page = model
            .list_messages(
                &reader,
                largest,
                MessageFilter::default(),
                PageRequest {
                    page_size: 50,
                    page_token: token,
                },
            )
            .await
            .expect("a page of messages");
        pages += 1;
        listed += page.items.len();
        token = page.next_page_token;
        if token.is_none() {
            break;
        }
    }
    let per_page = started.elapsed() / pages;
    assert_eq!(listed as u64, seqs[0]);
    let unread_started = Instant::now();
    let unread = model.unread_counts(&reader).await.expect("unread counts");
    let unread_took = unread_started.elapsed();

    println!(
        "{messages} messages in {channels} channels: built in {built_in:?}, {:.1} MiB resident \
         ({:.0} bytes per message); {pages} pages of 50 through a channel of {} messages: {per_page:?} each; \
         unread counts of {} channels: {unread_took:?}",
        resident as f64 / (1024.0 * 1024.0),
        resident as f64 / messages.max(1) as f64,
        seqs[0],
        unread.len(),
    );
    assert!(resident < 1024 * 1024 * 1024, "more than 1 GiB resident");
}
