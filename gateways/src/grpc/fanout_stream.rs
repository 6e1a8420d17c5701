//! `StreamMessages` of one channel in a fleet: the gateway subscribes to
//! the channel's notices on the [`MessageFanout`] (Redis pub/sub), and turns
//! each into an update read from the channel read model once it has
//! applied the notice's position. Duplicates (a notice published again
//! after a projector failover) are dropped by position; a
//! [`Delivery::Gap`] (the fan-out lost its connection) is filled from the
//! event log, from the last position delivered up to the head.

use std::collections::VecDeque;
use std::sync::Arc;

use futures::StreamExt;
use futures::stream::BoxStream;
use quire_domain::Position;
use quire_domain::values::{ChannelId, UserId};
use quire_projections::realtime::notices::MESSAGE_EVENTS;
use quire_projections::realtime::{Delivery, DeliveryStream, MessageFanout, MessageNotice, NoticeKind};
use quire_proto::v1;
use tonic::Status;

use crate::app::{App, ReadModel};
use crate::grpc::channels::{message_update, update_for};
use crate::grpc::status::from_log;

/// Events read from the log per step while filling a gap.
const GAP_READ: usize = 512;

type Update = Result<v1::MessageUpdate, Status>;

/// The live updates of `channel` for `reader`, from now on.
pub async fn updates(
    app: &Arc<App>,
    fanout: &Arc<dyn MessageFanout>,
    reader: UserId,
    channel: &ChannelId,
) -> Result<BoxStream<'static, Update>, Status> {
    let deliveries = fanout
        .subscribe(std::slice::from_ref(channel))
        .await
        .map_err(|e| Status::unavailable(e.to_string()))?;
    // Subscribed first, then the head: a message committed in between is
    // both announced and at or below the head, and is dropped once.
    let delivered = app.log.head().await.map_err(from_log)?;
    let cursor = Cursor {
        app: app.clone(),
        reader,
        channel: channel.clone(),
        delivered,
        deliveries,
        ready: VecDeque::new(),
    };
    let stream = futures::stream::unfold(cursor, |mut cursor| async move {
        let update = cursor.next().await?;
        Some((update, cursor))
    });
    Ok(stream.take_until(app.shutdown.clone().cancelled_owned()).boxed())
}

struct Cursor {
    app: Arc<App>,
    reader: UserId,
    channel: ChannelId,
    /// The highest position streamed (or skipped as before the start).
    delivered: Position,
    deliveries: DeliveryStream,
    /// Updates found while filling a gap, not yet streamed.
    ready: VecDeque<Update>,
}

impl Cursor {
    /// The next update; `None` when the fan-out has closed.
    async fn next(&mut self) -> Option<Update> {
        loop {
            if let Some(update) = self.ready.pop_front() {
                return Some(update);
            }
            match self.deliveries.next().await? {
                Delivery::Notice(notice) => {
                    if let Some(update) = self.on_notice(notice).await {
                        return Some(update);
                    }
                }
                Delivery::Gap => {
                    if let Err(status) = self.fill_gap().await {
                        return Some(Err(status));
                    }
                }
            }
        }
    }

    async fn on_notice(&mut self, notice: MessageNotice) -> Option<Update> {
        if notice.position <= self.delivered {
            return None;
        }
        self.delivered = notice.position;
        if let Err(status) = self.app.wait_for(ReadModel::Channels, notice.position.0).await {
            return Some(Err(status));
        }
        let kind = match notice.kind {
            NoticeKind::Sent => v1::message_update::Kind::Sent,
            NoticeKind::Edited => v1::message_update::Kind::Edited,
            NoticeKind::Deleted => v1::message_update::Kind::Deleted,
        };
        message_update(
            &self.app,
            &self.reader,
            &notice.channel,
            &notice.message,
            kind,
            notice.position.0,
        )
        .await
    }

    /// Reads the log from the last delivered position to the head and
    /// queues the updates of this channel's message events.
    async fn fill_gap(&mut self) -> Result<(), Status> {
        let head = self.app.log.head().await.map_err(from_log)?;
        while self.delivered < head {
            let events = self
                .app
                .log
                .read_all(self.delivered.next(), GAP_READ)
                .await
                .map_err(from_log)?;
            let Some(last) = events.last().map(|event| event.position) else {
                break;
            };
            let messages = events
                .iter()
                .filter(|event| MESSAGE_EVENTS.contains(&event.event_type.as_str()));
            for event in messages {
                if let Some(update) = update_for(&self.app, &self.reader, Some(&self.channel), event).await {
                    self.ready.push_back(update);
                }
            }
            self.delivered = last;
        }
        Ok(())
    }
}
