//! The in-memory index of the embedded log: where each event lies on disk,
//! which positions make up each stream, which event ids exist, and a cache
//! of the newest events so that live subscribers and hot aggregates never
//! touch the disk.
//!
//! Only the writer thread mutates the index, after the events it adds are
//! durable; readers take the read lock just long enough to plan their reads.

use std::collections::VecDeque;
use std::fs::File;
use std::sync::Arc;

use quire_domain::{Position, RecordedEvent, StreamId};
use quire_event_log::Direction;
use rustc_hash::FxHashMap;

/// Where a record lies: segment number, byte offset and length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    pub segment: u32,
    pub offset: u32,
    pub len: u32,
}

/// An event a read will return: from the cache, or still to load from disk.
#[derive(Debug)]
pub enum Slot {
    Cached(Arc<RecordedEvent>),
    OnDisk { file: Arc<File>, location: Location },
}

#[derive(Debug)]
pub struct Index {
    /// `locations[p - 1]` is where the event at position `p` lies.
    locations: Vec<Location>,
    /// Positions of each stream's events, indexed by stream version.
    streams: FxHashMap<StreamId, Vec<Position>>,
    /// The newest events; `tail.back()` is the head.
    tail: VecDeque<Arc<RecordedEvent>>,
    tail_capacity: usize,
    /// Read handles of the segment files, by segment number.
    segments: Vec<Arc<File>>,
}

impl Index {
    pub fn new(tail_capacity: usize) -> Index {
        Index {
            locations: Vec::new(),
            streams: FxHashMap::default(),
            tail: VecDeque::new(),
            tail_capacity,
            segments: Vec::new(),
        }
    }

    /// The last committed position.
    pub fn head(&self) -> Position {
        Position(self.locations.len() as u64)
    }

    pub fn segment_count(&self) -> usize {
        self.segments.len()
    }

    pub fn add_segment(&mut self, file: Arc<File>) {
        self.segments.push(file);
    }

    /// The last version of a stream, `None` if it has no events.
    pub fn stream_version(&self, stream: &str) -> Option<u64> {
        self.streams
            .get(stream)
            .and_then(|positions| (positions.len() as u64).checked_sub(1))
    }

    /// The version within `stream` of the event at `position`, if it is one
    /// of that stream's events.
    pub fn version_in_stream(&self, stream: &str, position: Position) -> Option<u64> {
        let positions = self.streams.get(stream)?;
        positions.binary_search(&position).ok().map(|v| v as u64)
    }

    /// Records an event found on disk while opening the log, checking that
    /// its position and stream version continue the index densely.
    pub fn insert_recovered(
        &mut self,
        stream: &str,
        position: Position,
        version: u64,
        location: Location,
    ) -> Result<(), String> {
        let expected_position = self.head().next();
        if position != expected_position {
            return Err(format!(
                "event at position {position} where {expected_position} was expected"
            ));
        }
        let expected_version = self.stream_version(stream).map_or(0, |v| v + 1);
        if version != expected_version {
            return Err(format!(
                "event {position} of stream `{stream}` has version {version} where {expected_version} was expected"
            ));
        }
        match self.streams.get_mut(stream) {
            Some(positions) => positions.push(position),
            None => {
                let id = StreamId::parse(stream).map_err(|e| format!("event {position}: {e}"))?;
                self.streams.insert(id, vec![position]);
            }
        }
        self.locations.push(location);
        Ok(())
    }

    /// Adds a committed event; `event.position` must be `head + 1`. Returns
    /// the event it pushed out of the tail cache, for the caller to drop
    /// outside the lock.
    pub fn insert_committed(
        &mut self,
        event: Arc<RecordedEvent>,
        location: Location,
    ) -> Option<Arc<RecordedEvent>> {
        self.locations.push(location);
        match self.streams.get_mut(event.stream_id.as_str()) {
            Some(positions) => positions.push(event.position),
            None => {
                self.streams.insert(event.stream_id.clone(), vec![event.position]);
            }
        }
        self.cache(event)
    }

    /// Puts an event into the tail cache (at the back); returns the one it
    /// pushed out.
    pub fn cache(&mut self, event: Arc<RecordedEvent>) -> Option<Arc<RecordedEvent>> {
        if self.tail_capacity == 0 {
            return None;
        }
        let evicted = if self.tail.len() == self.tail_capacity {
            self.tail.pop_front()
        } else {
            None
        };
        self.tail.push_back(event);
        evicted
    }

    fn cached(&self, position: Position) -> Option<&Arc<RecordedEvent>> {
        let first = self.tail.front()?.position;
        let offset = position.0.checked_sub(first.0)?;
        self.tail.get(offset as usize)
    }

    fn slot(&self, position: Position) -> Option<Slot> {
        if let Some(event) = self.cached(position) {
            return Some(Slot::Cached(Arc::clone(event)));
        }
        let location = *self
            .locations
            .get(usize::try_from(position.0.checked_sub(1)?).ok()?)?;
        let file = Arc::clone(self.segments.get(location.segment as usize)?);
        Some(Slot::OnDisk { file, location })
    }

    /// Plans a global read of up to `limit` events from `from` on.
    pub fn plan_read_all(&self, from: Position, limit: usize) -> Vec<Slot> {
        let from = from.max(Position::FIRST).0;
        let end = self
            .head()
            .0
            .min(from.saturating_add(limit as u64).saturating_sub(1));
        (from..=end).filter_map(|p| self.slot(Position(p))).collect()
    }

    /// Plans a stream read.
    pub fn plan_read_stream(
        &self,
        stream: &str,
        from_version: u64,
        direction: Direction,
        limit: usize,
    ) -> Vec<Slot> {
        let Some(positions) = self.streams.get(stream) else {
            return Vec::new();
        };
        let chosen: Vec<Position> = match direction {
            Direction::Forward => {
                let start = usize::try_from(from_version)
                    .unwrap_or(usize::MAX)
                    .min(positions.len());
                positions[start..].iter().take(limit).copied().collect()
            }
            Direction::Backward => {
                let last = positions.len().saturating_sub(1);
                let start = usize::try_from(from_version).unwrap_or(usize::MAX).min(last);
                if positions.is_empty() {
                    Vec::new()
                } else {
                    positions[..=start].iter().rev().take(limit).copied().collect()
                }
            }
        };
        chosen.into_iter().filter_map(|p| self.slot(p)).collect()
    }
}
