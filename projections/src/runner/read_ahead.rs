//! Read-ahead (`RunnerConfig::read_ahead`): a task that keeps pulling a
//! subscription into a bounded buffer while the runner applies a batch, so
//! that reading the log (pages from disk, or from a remote server) and
//! applying overlap instead of taking turns.

use std::sync::Arc;

use futures::StreamExt;
use quire_domain::RecordedEvent;
use quire_event_log::{EventStream, LogError};
use tokio::sync::mpsc;

type Item = Result<Arc<RecordedEvent>, LogError>;

/// `inner`, read by a task up to `capacity` events ahead of the returned
/// stream. The stream ends after an error or when `inner` ends; dropping
/// it stops the task, also while `inner` waits for new events.
pub(super) fn spawn(inner: EventStream, capacity: usize) -> EventStream {
    let (sender, receiver) = mpsc::channel(capacity.max(1));
    tokio::spawn(forward(inner, sender));
    Box::pin(futures::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|item| (item, receiver))
    }))
}

async fn forward(mut inner: EventStream, sender: mpsc::Sender<Item>) {
    loop {
        let item = tokio::select! {
            item = inner.next() => item,
            () = sender.closed() => return,
        };
        let Some(item) = item else {
            return;
        };
        let failed = item.is_err();
        if sender.send(item).await.is_err() || failed {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quire_domain::{Actor, EventMetadata, Position, StreamId, Timestamp};

    fn event(n: u64) -> Item {
        Ok(Arc::new(RecordedEvent {
            event_id: uuid::Uuid::nil(),
            stream_id: StreamId::for_aggregate("test", "s").expect("stream id"),
            stream_version: n,
            position: Position(n + 1),
            event_type: "test.happened".into(),
            schema_version: 1,
            recorded_at: Timestamp(0),
            metadata: EventMetadata::new(Actor::user("tester")),
            payload: bytes::Bytes::from_static(b"{}"),
        }))
    }

    #[tokio::test]
    async fn events_pass_in_order_and_the_stream_ends_with_the_log() {
        let inner: EventStream = Box::pin(futures::stream::iter((0..100).map(event)));
        let positions: Vec<u64> = spawn(inner, 8)
            .map(|item| item.expect("event").position.0)
            .collect()
            .await;
        assert_eq!(positions, (1..=100).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn an_error_is_the_last_item() {
        let items = vec![event(0), Err(LogError::Unavailable("gone".into())), event(1)];
        let inner: EventStream = Box::pin(futures::stream::iter(items));
        let got: Vec<Item> = spawn(inner, 8).collect().await;
        assert_eq!(got.len(), 2);
        assert!(got[1].is_err());
    }

    #[tokio::test]
    async fn dropping_the_stream_stops_a_task_waiting_for_events() {
        let (sender, receiver) = mpsc::channel::<Item>(1);
        let inner: EventStream = Box::pin(futures::stream::unfold(receiver, |mut r| async move {
            r.recv().await.map(|item| (item, r))
        }));
        drop(spawn(inner, 8));
        // The task drops `inner`, and with it the receiver of `sender`.
        tokio::time::timeout(std::time::Duration::from_secs(5), sender.closed())
            .await
            .expect("the read-ahead task stopped");
    }
}
