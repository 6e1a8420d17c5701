//! [`RedisFanout`]: notices as JSON on one pub/sub channel per chat channel.
//!
//! Publishing goes through the shared command connection. Each
//! subscription owns a dedicated RESP3 connection manager whose pushes
//! arrive on a channel; the manager reconnects after a disconnection and
//! resubscribes to the same channels by itself, and the stream reports the
//! disconnection as a [`Delivery::Gap`] (what was published meanwhile is
//! lost). A keep-alive PING every few seconds makes the manager notice a
//! dead connection, and retry, even when nothing is published.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use quire_domain::ChannelId;
use quire_projections::realtime::{Delivery, DeliveryStream, MessageFanout, MessageNotice, RealtimeError};
use redis::aio::ConnectionManager;
use redis::{Client, PushInfo, PushKind, Value};
use tokio::sync::mpsc;
use tokio::time::{Interval, MissedTickBehavior};

use crate::{Keys, manager_config, unavailable};

/// How often an idle subscription checks its connection.
const KEEPALIVE: Duration = Duration::from_secs(5);

/// The message fan-out on Redis pub/sub.
#[derive(Clone)]
pub struct RedisFanout {
    client: Client,
    commands: ConnectionManager,
    keys: Arc<Keys>,
}

impl std::fmt::Debug for RedisFanout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisFanout")
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

impl RedisFanout {
    pub(crate) fn new(client: Client, commands: ConnectionManager, keys: Arc<Keys>) -> RedisFanout {
        RedisFanout {
            client,
            commands,
            keys,
        }
    }
}

#[async_trait]
impl MessageFanout for RedisFanout {
    async fn publish(&self, notice: &MessageNotice) -> Result<(), RealtimeError> {
        let payload = notice.to_json()?;
        let mut connection = self.commands.clone();
        let _receivers: u64 = redis::cmd("PUBLISH")
            .arg(self.keys.fanout(&notice.channel))
            .arg(payload)
            .query_async(&mut connection)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn subscribe(&self, channels: &[ChannelId]) -> Result<DeliveryStream, RealtimeError> {
        let (sender, pushes) = mpsc::unbounded_channel();
        let config = manager_config()
            .set_push_sender(sender)
            .set_automatic_resubscription();
        let mut manager = ConnectionManager::new_with_config(self.client.clone(), config)
            .await
            .map_err(unavailable)?;
        let names: Vec<String> = channels.iter().map(|channel| self.keys.fanout(channel)).collect();
        if !names.is_empty() {
            manager.subscribe(names).await.map_err(unavailable)?;
        }
        let mut keepalive = tokio::time::interval_at(tokio::time::Instant::now() + KEEPALIVE, KEEPALIVE);
        keepalive.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let subscription = Subscription {
            manager,
            pushes,
            keepalive,
        };
        Ok(Box::pin(futures::stream::unfold(
            subscription,
            |mut subscription| async move {
                let delivery = subscription.next().await?;
                Some((delivery, subscription))
            },
        )))
    }
}

/// The state of one subscription stream.
struct Subscription {
    manager: ConnectionManager,
    pushes: mpsc::UnboundedReceiver<PushInfo>,
    keepalive: Interval,
}

impl Subscription {
    /// The next delivery; `None` once the connection manager is gone.
    async fn next(&mut self) -> Option<Delivery> {
        loop {
            tokio::select! {
                push = self.pushes.recv() => {
                    if let Some(delivery) = to_delivery(push?) {
                        return Some(delivery);
                    }
                }
                _ = self.keepalive.tick() => self.ping().await,
            }
        }
    }

    /// Checks the connection; a failure makes the manager reconnect.
    async fn ping(&mut self) {
        if let Err(error) = redis::cmd("PING").query_async::<()>(&mut self.manager).await {
            tracing::debug!(%error, "realtime subscription keep-alive failed; reconnecting");
        }
    }
}

/// A push as a delivery: messages become notices, a disconnection a gap,
/// the rest (subscribe confirmations) nothing.
fn to_delivery(push: PushInfo) -> Option<Delivery> {
    match push.kind {
        PushKind::Message => notice_of(&push.data).map(Delivery::Notice),
        PushKind::Disconnection => Some(Delivery::Gap),
        _ => None,
    }
}

/// The notice in a `message` push (`[channel, payload]`); a malformed one
/// is logged and dropped.
fn notice_of(data: &[Value]) -> Option<MessageNotice> {
    let Some(Value::BulkString(payload)) = data.get(1) else {
        tracing::warn!(?data, "realtime: a pub/sub message without a payload");
        return None;
    };
    match MessageNotice::from_json(payload) {
        Ok(notice) => Some(notice),
        Err(error) => {
            tracing::warn!(%error, "realtime: dropped a malformed notice");
            None
        }
    }
}
