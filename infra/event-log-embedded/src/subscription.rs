//! Subscriptions: catch up from the log, then follow it live.
//!
//! A subscriber keeps its own cursor and reads from the index (the tail cache
//! when it is close to the head, the disk otherwise). When it reaches the
//! head it waits on the head's watch channel, which the writer updates right
//! after each durable commit: delivery is pushed, with no polling interval,
//! and a slow subscriber never holds up the writer or other subscribers.

use std::collections::VecDeque;
use std::sync::Arc;

use futures::stream::{self, StreamExt};
use quire_domain::{Position, RecordedEvent};
use quire_event_log::{EventFilter, EventStream, LogError};
use tokio::sync::watch;

use crate::EmbeddedLog;

/// Events read per step while catching up.
const PAGE: usize = 512;

struct Cursor {
    log: EmbeddedLog,
    next: Position,
    filter: EventFilter,
    head: watch::Receiver<Position>,
    buffer: VecDeque<Arc<RecordedEvent>>,
    done: bool,
}

pub fn subscribe(
    log: EmbeddedLog,
    from: Position,
    filter: EventFilter,
    head: watch::Receiver<Position>,
) -> EventStream {
    let cursor = Cursor {
        log,
        next: from.max(Position::FIRST),
        filter,
        head,
        buffer: VecDeque::new(),
        done: false,
    };
    stream::unfold(cursor, |mut cursor| async move {
        let item = cursor.next_event().await?;
        Some((item, cursor))
    })
    .boxed()
}

impl Cursor {
    async fn next_event(&mut self) -> Option<Result<Arc<RecordedEvent>, LogError>> {
        loop {
            if let Some(event) = self.buffer.pop_front() {
                return Some(Ok(event));
            }
            if self.done {
                return None;
            }
            let head = *self.head.borrow_and_update();
            if self.next <= head {
                if let Err(error) = self.fill().await {
                    self.done = true;
                    return Some(Err(error));
                }
                continue;
            }
            if self.head.changed().await.is_err() {
                self.done = true;
                return Some(Err(LogError::Unavailable("the event log was closed".to_owned())));
            }
        }
    }

    async fn fill(&mut self) -> Result<(), LogError> {
        let events = self.log.read_from(self.next, PAGE).await?;
        let Some(last) = events.last() else {
            return Err(LogError::Corrupt(format!(
                "position {} is below the head but cannot be read",
                self.next
            )));
        };
        self.next = last.position.next();
        self.buffer
            .extend(events.into_iter().filter(|e| self.filter.matches(e)));
        Ok(())
    }
}
