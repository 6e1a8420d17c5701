//! The [`Presence`] port: which users are online, kept by the gateway
//! instances that hold their connections.
//!
//! A gateway marks a user online on itself with a TTL and renews it by
//! heartbeat (well within the TTL) while the user stays connected. A user is
//! online while at least one gateway's mark is unexpired; a gateway that
//! dies stops renewing, so its users go offline when the TTL runs out. A
//! clean disconnect marks the user offline on that gateway at once.

use std::collections::BTreeSet;
use std::fmt::{self, Debug};
use std::time::Duration;

use async_trait::async_trait;
use quire_domain::UserId;

use super::RealtimeError;

/// A gateway instance, as named by its configuration (host name, pod name).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GatewayId(String);

impl GatewayId {
    /// Names a gateway instance.
    pub fn new(name: impl Into<String>) -> GatewayId {
        GatewayId(name.into())
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for GatewayId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Debug for GatewayId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GatewayId({:?})", self.0)
    }
}

/// Online users across gateway instances.
#[async_trait]
pub trait Presence: Send + Sync + Debug {
    /// Marks `user` online on `gateway` for `ttl` from now (first mark or
    /// heartbeat; a later heartbeat replaces the expiry).
    async fn heartbeat(&self, user: &UserId, gateway: &GatewayId, ttl: Duration)
    -> Result<(), RealtimeError>;

    /// Marks `user` offline on `gateway`; other gateways' marks stay.
    async fn offline(&self, user: &UserId, gateway: &GatewayId) -> Result<(), RealtimeError>;

    /// The users among `users` that are online on some gateway now.
    async fn online(&self, users: &[UserId]) -> Result<BTreeSet<UserId>, RealtimeError>;
}
