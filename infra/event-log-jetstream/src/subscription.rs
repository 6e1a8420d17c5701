//! Subscriptions: catch up, then follow the log live, with one ordered
//! consumer.
//!
//! The subscription locates the message holding its start position, then
//! reads from there with an ordered pull consumer: JetStream delivers the
//! stored messages and then new ones as they are stored, in sequence order,
//! which is position order. The consumer's filter is the category's subject
//! when the filter names exactly one category (a JetStream 2.9 consumer
//! takes one filter subject), the whole log otherwise; the event filter is
//! then applied here. The ordered consumer recreates itself after a gap or
//! a lost connection, from the sequence after the last one delivered; if it
//! fails anyway the subscription opens a new one from there. Positions
//! below the next expected one are dropped, so one subscription never
//! repeats or skips an event.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::consumer::pull;
use futures::StreamExt;
use futures::stream;
use quire_domain::{Position, RecordedEvent};
use quire_event_log::{EventFilter, EventStream, LogError};
use tokio::sync::watch;

use crate::store::Store;
use crate::writer::reconnected;

struct Cursor {
    store: Arc<Store>,
    filter: EventFilter,
    filter_subject: String,
    /// The next position to deliver.
    next: Position,
    /// Where a new consumer starts once one message was read.
    resume_seq: Option<u64>,
    consumer: Option<(String, pull::Ordered)>,
    /// Changes when the client reconnects; the consumer is then recreated
    /// at once rather than after its missed heartbeats.
    reconnects: watch::Receiver<u64>,
    buffer: VecDeque<Arc<RecordedEvent>>,
    failures: u32,
    done: bool,
}

pub fn subscribe(store: Arc<Store>, from: Position, filter: EventFilter) -> EventStream {
    let filter_subject = match filter.categories.as_slice() {
        [category] => store.subjects.category(category),
        _ => store.subjects.all(),
    };
    let mut reconnects = store.reconnects();
    reconnects.borrow_and_update();
    let cursor = Cursor {
        store,
        reconnects,
        filter,
        filter_subject,
        next: from.max(Position::FIRST),
        resume_seq: None,
        consumer: None,
        buffer: VecDeque::new(),
        failures: 0,
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
            if self.consumer.is_none()
                && let Err(error) = self.open().await
            {
                return Some(Err(self.failed(error).await));
            }
            if let Err(error) = self.receive().await {
                self.close();
                let error = self.failed(error).await;
                if !error.is_transient() {
                    return Some(Err(error));
                }
            }
        }
    }

    /// Opens a consumer where the subscription stands.
    async fn open(&mut self) -> Result<(), LogError> {
        let start = match self.resume_seq {
            Some(seq) => seq,
            None => start_seq(&self.store, self.next).await?,
        };
        self.consumer = Some(self.store.consumer(start, self.filter_subject.clone()).await?);
        Ok(())
    }

    /// Waits for the next message and buffers its wanted events.
    async fn receive(&mut self) -> Result<(), LogError> {
        let Some((_, messages)) = self.consumer.as_mut() else {
            return Ok(());
        };
        let next = tokio::select! {
            next = messages.next() => next,
            () = reconnected(&mut self.reconnects) => {
                return Err(self.store.unavailable("subscribing", "reconnected; recreating the consumer"));
            }
        };
        let message = next
            .ok_or_else(|| self.store.unavailable("subscribing", "the consumer ended"))?
            .map_err(|e| self.store.unavailable("subscribing", e))?;
        let seq = message
            .info()
            .map_err(|e| self.store.unavailable("subscribing", e))?
            .stream_sequence;
        let stored = self.store.decode(seq, &message.payload)?;
        self.resume_seq = Some(seq + 1);
        self.failures = 0;
        for event in &stored.message.events {
            if event.position >= self.next && self.filter.matches(event) {
                self.buffer.push_back(Arc::clone(event));
            }
        }
        self.next = self.next.max(stored.message.last_position().next());
        Ok(())
    }

    /// Counts a failure, waits before the next attempt, and ends the
    /// subscription on an error that retrying cannot cure.
    async fn failed(&mut self, error: LogError) -> LogError {
        if !error.is_transient() {
            self.done = true;
            return error;
        }
        self.failures = self.failures.saturating_add(1);
        let exponent = self.failures.saturating_sub(1).min(6);
        tokio::time::sleep(Duration::from_millis(20 << exponent).min(Duration::from_secs(1))).await;
        error
    }

    fn close(&mut self) {
        if let Some((name, messages)) = self.consumer.take() {
            drop(messages);
            self.store.drop_consumer(name);
        }
    }
}

/// The sequence of the first message holding a position at or after
/// `next`; the one after the log's end if there is none yet. An empty log
/// is read from its first sequence: whatever was stored since is wanted.
async fn start_seq(store: &Store, next: Position) -> Result<u64, LogError> {
    let Some(head) = store.head().await? else {
        return Ok(1);
    };
    if next > head.message.last_position() {
        return Ok(head.seq + 1);
    }
    let found = store.locate(next, &head).await?;
    Ok(found.map_or(head.seq + 1, |stored| stored.seq))
}

impl Drop for Cursor {
    fn drop(&mut self) {
        self.close();
    }
}
