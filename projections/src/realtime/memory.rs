//! In-memory backends of the fan-out and presence ports, for the embedded deployment
//! (one process, so one "gateway") and for tests. Clones share state, so two
//! clones behave like two gateway instances on one backend.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use parking_lot::Mutex;
use quire_domain::{ChannelId, UserId};
use tokio::sync::broadcast;
use tokio::time::Instant;

use super::RealtimeError;
use super::fanout::{Delivery, DeliveryStream, MessageFanout, MessageNotice};
use super::presence::{GatewayId, Presence};

/// Notices buffered per subscriber before it is told it lagged.
const FANOUT_BUFFER: usize = 4_096;

/// In-process fan-out over a broadcast channel; a subscriber that falls more
/// than 4,096 notices behind gets a [`Delivery::Gap`].
#[derive(Debug, Clone)]
pub struct InMemoryFanout {
    sender: broadcast::Sender<MessageNotice>,
}

impl InMemoryFanout {
    /// A new, empty hub.
    pub fn new() -> InMemoryFanout {
        InMemoryFanout {
            sender: broadcast::channel(FANOUT_BUFFER).0,
        }
    }
}

impl Default for InMemoryFanout {
    fn default() -> Self {
        InMemoryFanout::new()
    }
}

#[async_trait]
impl MessageFanout for InMemoryFanout {
    async fn publish(&self, notice: &MessageNotice) -> Result<(), RealtimeError> {
        // No receiver means nobody listens: not an error for pub/sub.
        let _ = self.sender.send(notice.clone());
        Ok(())
    }

    async fn subscribe(&self, channels: &[ChannelId]) -> Result<DeliveryStream, RealtimeError> {
        let wanted: HashSet<ChannelId> = channels.iter().cloned().collect();
        let receiver = self.sender.subscribe();
        Ok(Box::pin(futures::stream::unfold(
            (receiver, wanted),
            |(mut receiver, wanted)| async move {
                let delivery = next_delivery(&mut receiver, &wanted).await?;
                Some((delivery, (receiver, wanted)))
            },
        )))
    }
}

/// The next notice for `wanted`, a gap after a lag, or `None` once the hub is gone.
async fn next_delivery(
    receiver: &mut broadcast::Receiver<MessageNotice>,
    wanted: &HashSet<ChannelId>,
) -> Option<Delivery> {
    loop {
        match receiver.recv().await {
            Ok(notice) if wanted.contains(&notice.channel) => return Some(Delivery::Notice(notice)),
            Ok(_) => {}
            Err(broadcast::error::RecvError::Lagged(_)) => return Some(Delivery::Gap),
            Err(broadcast::error::RecvError::Closed) => return None,
        }
    }
}

/// Presence in a map of expiry instants per user and gateway.
#[derive(Debug, Clone, Default)]
pub struct InMemoryPresence {
    marks: Arc<Mutex<HashMap<UserId, HashMap<GatewayId, Instant>>>>,
}

impl InMemoryPresence {
    /// A new presence map with nobody online.
    pub fn new() -> InMemoryPresence {
        InMemoryPresence::default()
    }
}

#[async_trait]
impl Presence for InMemoryPresence {
    async fn heartbeat(
        &self,
        user: &UserId,
        gateway: &GatewayId,
        ttl: Duration,
    ) -> Result<(), RealtimeError> {
        let expiry = Instant::now() + ttl;
        self.marks
            .lock()
            .entry(user.clone())
            .or_default()
            .insert(gateway.clone(), expiry);
        Ok(())
    }

    async fn offline(&self, user: &UserId, gateway: &GatewayId) -> Result<(), RealtimeError> {
        let mut marks = self.marks.lock();
        if let Some(gateways) = marks.get_mut(user) {
            gateways.remove(gateway);
            if gateways.is_empty() {
                marks.remove(user);
            }
        }
        Ok(())
    }

    async fn online(&self, users: &[UserId]) -> Result<BTreeSet<UserId>, RealtimeError> {
        let now = Instant::now();
        let mut marks = self.marks.lock();
        marks.retain(|_, gateways| {
            gateways.retain(|_, expiry| *expiry > now);
            !gateways.is_empty()
        });
        Ok(users
            .iter()
            .filter(|user| marks.contains_key(*user))
            .cloned()
            .collect())
    }
}
