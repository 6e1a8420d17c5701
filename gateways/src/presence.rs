//! [`PresenceTracker`]: marks a user online on this gateway while they hold
//! at least one live `StreamMessages` stream, through the `Presence` port
//! (in memory for `quire dev`, Redis in a fleet, where every gateway sees
//! every gateway's marks).
//!
//! One task per connected user keeps the mark alive (a heartbeat every
//! third of [`PRESENCE_TTL`]) and, once their last stream ends, marks them
//! offline. The mark expires by itself if this gateway dies. A presence
//! store that is down costs the mark, never the stream: failures are
//! logged and retried at the next heartbeat.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use quire_domain::UserId;
use quire_projections::realtime::{GatewayId, Presence};
use tokio::sync::Notify;
use tracing::warn;

/// How long a mark lasts without a heartbeat: how long a user stays online
/// after their gateway dies.
pub const PRESENCE_TTL: Duration = Duration::from_secs(30);

/// The users connected to this gateway, and their marks.
#[derive(Debug)]
pub struct PresenceTracker {
    presence: Arc<dyn Presence>,
    gateway: GatewayId,
    ttl: Duration,
    users: Mutex<HashMap<UserId, Connected>>,
}

/// A connected user: open streams, and how to wake their task.
#[derive(Debug)]
struct Connected {
    streams: usize,
    changed: Arc<Notify>,
}

impl PresenceTracker {
    /// Marks through `presence` as `gateway`.
    pub fn new(presence: Arc<dyn Presence>, gateway: GatewayId) -> Arc<PresenceTracker> {
        PresenceTracker::with_ttl(presence, gateway, PRESENCE_TTL)
    }

    /// As `new`, with marks lasting `ttl` (tests).
    pub fn with_ttl(presence: Arc<dyn Presence>, gateway: GatewayId, ttl: Duration) -> Arc<PresenceTracker> {
        Arc::new(PresenceTracker {
            presence,
            gateway,
            ttl,
            users: Mutex::new(HashMap::new()),
        })
    }

    /// The presence store, for queries.
    pub fn presence(&self) -> &Arc<dyn Presence> {
        &self.presence
    }

    /// `user` opened a stream: online until the guard (and every other
    /// guard of theirs) is dropped.
    pub fn connect(self: &Arc<Self>, user: &UserId) -> PresenceGuard {
        let mut users = self.users.lock();
        match users.get_mut(user) {
            Some(connected) => {
                connected.streams += 1;
                connected.changed.notify_one();
            }
            None => {
                let changed = Arc::new(Notify::new());
                users.insert(
                    user.clone(),
                    Connected {
                        streams: 1,
                        changed: changed.clone(),
                    },
                );
                tokio::spawn(Arc::clone(self).keep_marked(user.clone(), changed));
            }
        }
        PresenceGuard {
            tracker: Arc::clone(self),
            user: user.clone(),
        }
    }

    fn disconnect(&self, user: &UserId) {
        if let Some(connected) = self.users.lock().get_mut(user) {
            connected.streams = connected.streams.saturating_sub(1);
            connected.changed.notify_one();
        }
    }

    fn streams(&self, user: &UserId) -> usize {
        self.users.lock().get(user).map_or(0, |c| c.streams)
    }

    /// The task of one connected user: heartbeats while they have streams,
    /// then the offline mark; it ends only when, after that mark, no stream
    /// has been opened again (a reconnection meanwhile marks them again).
    async fn keep_marked(self: Arc<Self>, user: UserId, changed: Arc<Notify>) {
        loop {
            while self.streams(&user) > 0 {
                self.heartbeat(&user).await;
                let _ = tokio::time::timeout(self.ttl / 3, changed.notified()).await;
            }
            if let Err(error) = self.presence.offline(&user, &self.gateway).await {
                warn!(%user, gateway = %self.gateway, %error, "could not mark a user offline; the mark expires by itself");
            }
            let mut users = self.users.lock();
            if users.get(&user).is_some_and(|c| c.streams == 0) {
                users.remove(&user);
                return;
            }
        }
    }

    async fn heartbeat(&self, user: &UserId) {
        if let Err(error) = self.presence.heartbeat(user, &self.gateway, self.ttl).await {
            warn!(%user, gateway = %self.gateway, %error, "could not mark a user online");
        }
    }
}

/// Held by a live stream; dropping it ends the stream's part in its user's
/// presence.
#[derive(Debug)]
pub struct PresenceGuard {
    tracker: Arc<PresenceTracker>,
    user: UserId,
}

impl Drop for PresenceGuard {
    fn drop(&mut self) {
        self.tracker.disconnect(&self.user);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use quire_projections::realtime::InMemoryPresence;

    use super::*;

    fn user(name: &str) -> UserId {
        UserId::parse(name).expect("user id")
    }

    async fn online(tracker: &PresenceTracker, name: &str) -> bool {
        let found = tracker.presence().online(&[user(name)]).await.expect("online");
        found == BTreeSet::from([user(name)])
    }

    /// Waits up to 5 s for `name` to be online (or offline).
    async fn eventually(tracker: &PresenceTracker, name: &str, expected: bool) {
        for _ in 0..500 {
            if online(tracker, name).await == expected {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("{name} is not {}", if expected { "online" } else { "offline" });
    }

    #[tokio::test]
    async fn a_user_is_online_while_any_stream_of_theirs_lives() {
        let tracker = PresenceTracker::new(Arc::new(InMemoryPresence::new()), GatewayId::new("g1"));
        let first = tracker.connect(&user("bob"));
        eventually(&tracker, "bob", true).await;
        let second = tracker.connect(&user("bob"));
        drop(first);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(online(&tracker, "bob").await, "one stream is still open");
        drop(second);
        eventually(&tracker, "bob", false).await;
    }

    #[tokio::test]
    async fn a_reconnection_while_going_offline_stays_online() {
        let tracker = PresenceTracker::new(Arc::new(InMemoryPresence::new()), GatewayId::new("g1"));
        for _ in 0..20 {
            drop(tracker.connect(&user("bob")));
        }
        let kept = tracker.connect(&user("bob"));
        eventually(&tracker, "bob", true).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(online(&tracker, "bob").await, "the last stream is open");
        drop(kept);
        eventually(&tracker, "bob", false).await;
    }

    #[tokio::test]
    async fn heartbeats_outlive_the_ttl() {
        let ttl = Duration::from_millis(150);
        let tracker = PresenceTracker::with_ttl(Arc::new(InMemoryPresence::new()), GatewayId::new("g1"), ttl);
        let _stream = tracker.connect(&user("bob"));
        eventually(&tracker, "bob", true).await;
        tokio::time::sleep(ttl * 4).await;
        assert!(online(&tracker, "bob").await, "heartbeats keep the mark");
    }
}
