//! Reads: one stream by version, the whole log by position, the head and a
//! stream's version.
//!
//! A stream's newest message is one `last_by_subj` get away, and every
//! message names its stream's previous message, so reads near the end of a
//! stream (a backward read, a command handler catching up) walk back along
//! those links. Reads far from the end scan the stream's subject forward
//! with an ordered consumer. Global reads locate the message holding the
//! start position (see [`crate::position`]) and read on from there: one get
//! per message for small pages, an ordered consumer for large ones.

use std::sync::Arc;

use quire_domain::{Position, RecordedEvent, StreamId};
use quire_event_log::{Direction, LogError};

use crate::store::{Store, Stored};

/// Reads that start at most this many events before a stream's newest
/// message walk back along the previous-message links.
const WALK_BACK_EVENTS: u64 = 16;

/// Global pages of at most this many events are read one message at a
/// time; larger ones with a consumer.
const DIRECT_READ_EVENTS: usize = 16;

type Events = Vec<Arc<RecordedEvent>>;

pub async fn head(store: &Store) -> Result<Position, LogError> {
    Ok(store
        .head()
        .await?
        .map_or(Position::ZERO, |head| head.message.last_position()))
}

pub async fn stream_version(store: &Store, stream: &StreamId) -> Result<Option<u64>, LogError> {
    let last = store.last(&store.subjects.stream(stream)).await?;
    Ok(last.map(|m| m.message.last_version()))
}

pub async fn read_stream(
    store: &Store,
    stream: &StreamId,
    from_version: u64,
    direction: Direction,
    limit: usize,
) -> Result<Events, LogError> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let subject = store.subjects.stream(stream);
    let Some(last) = store.last(&subject).await? else {
        return Ok(Vec::new());
    };
    let newest = last.message.last_version();
    let Some((lo, hi)) = version_range(direction, from_version, limit, newest) else {
        return Ok(Vec::new());
    };
    let messages = if last.message.first_version().saturating_sub(lo) <= WALK_BACK_EVENTS {
        walk_back(store, last, lo).await?
    } else {
        scan_stream(store, subject, last.seq, lo, hi).await?
    };
    let mut events: Events = messages
        .iter()
        .flat_map(|m| m.message.events.iter())
        .filter(|e| lo <= e.stream_version && e.stream_version <= hi)
        .cloned()
        .collect();
    if direction == Direction::Backward {
        events.reverse();
    }
    Ok(events)
}

/// The versions `lo..=hi` a read of `limit` (at least 1) events from
/// `from` covers in a stream whose newest version is `newest`.
fn version_range(direction: Direction, from: u64, limit: usize, newest: u64) -> Option<(u64, u64)> {
    let span = limit as u64 - 1;
    match direction {
        Direction::Forward if from > newest => None,
        Direction::Forward => Some((from, from.saturating_add(span).min(newest))),
        Direction::Backward => {
            let hi = from.min(newest);
            Some((hi.saturating_sub(span), hi))
        }
    }
}

/// The stream's messages from the one holding version `lo` up to `last`,
/// oldest first, following the previous-message links.
async fn walk_back(store: &Store, last: Stored, lo: u64) -> Result<Vec<Stored>, LogError> {
    let stream = last.message.stream_id().clone();
    let mut messages = vec![last];
    while let Some(oldest) = messages.last() {
        let previous = oldest.message.placement.previous;
        if oldest.message.first_version() <= lo || previous == 0 {
            break;
        }
        // A missing message expired (max_age): the stream's history starts later.
        let Some(message) = store.get(previous).await? else {
            break;
        };
        if message.message.stream_id() != &stream {
            return Err(LogError::Corrupt(format!(
                "message {previous}, named as the previous message of stream {stream}, belongs to {}",
                message.message.stream_id()
            )));
        }
        messages.push(message);
    }
    messages.reverse();
    Ok(messages)
}

/// The stream's messages holding versions `lo..=hi`, scanned from the
/// stream's start.
async fn scan_stream(
    store: &Store,
    subject: String,
    end: u64,
    lo: u64,
    hi: u64,
) -> Result<Vec<Stored>, LogError> {
    let mut messages = Vec::new();
    store
        .scan(1, subject, end, |stored| {
            let last_version = stored.message.last_version();
            if last_version >= lo {
                messages.push(stored);
            }
            last_version < hi
        })
        .await?;
    Ok(messages)
}

pub async fn read_all(store: &Store, from: Position, limit: usize) -> Result<Events, LogError> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let from = from.max(Position::FIRST);
    let Some(head) = store.head().await? else {
        return Ok(Vec::new());
    };
    if from > head.message.last_position() {
        return Ok(Vec::new());
    }
    let Some(first) = store.locate(from, &head).await? else {
        return Ok(Vec::new());
    };
    let mut events = Vec::with_capacity(limit.min(1024));
    take(&mut events, &first, from, limit);
    if events.len() >= limit || first.seq >= head.seq {
        return Ok(events);
    }
    let all = store.subjects.all();
    if limit - events.len() <= DIRECT_READ_EVENTS {
        read_one_by_one(store, &mut events, first.seq, head.seq, from, limit).await?;
    } else {
        let visit = |stored: Stored| {
            take(&mut events, &stored, from, limit);
            events.len() < limit
        };
        store.scan(first.seq + 1, all, head.seq, visit).await?;
    }
    Ok(events)
}

async fn read_one_by_one(
    store: &Store,
    events: &mut Events,
    mut seq: u64,
    end: u64,
    from: Position,
    limit: usize,
) -> Result<(), LogError> {
    let all = store.subjects.all();
    while events.len() < limit && seq < end {
        let Some(next) = store.next_from(seq + 1, &all).await? else {
            break;
        };
        seq = next.seq;
        take(events, &next, from, limit);
    }
    Ok(())
}

/// Appends the events of `stored` at or after `from`, up to `limit` in all.
fn take(events: &mut Events, stored: &Stored, from: Position, limit: usize) {
    let wanted = stored.message.events.iter().filter(|e| e.position >= from);
    for event in wanted {
        if events.len() >= limit {
            return;
        }
        events.push(Arc::clone(event));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quire_event_log::LAST_VERSION;

    #[test]
    fn read_ranges_are_clamped_to_the_stream() {
        assert_eq!(version_range(Direction::Forward, 0, 3, 19), Some((0, 2)));
        assert_eq!(version_range(Direction::Forward, 17, 10, 19), Some((17, 19)));
        assert_eq!(version_range(Direction::Forward, 20, 10, 19), None);
        assert_eq!(
            version_range(Direction::Backward, LAST_VERSION, 3, 19),
            Some((17, 19))
        );
        assert_eq!(version_range(Direction::Backward, 2, 10, 19), Some((0, 2)));
        assert_eq!(
            version_range(Direction::Forward, u64::MAX - 1, usize::MAX, u64::MAX),
            Some((u64::MAX - 1, u64::MAX))
        );
    }
}
