//! Quire's real-time ports on Redis (ADR 0010): [`RedisFanout`]
//! ([`MessageFanout`](quire_projections::realtime::MessageFanout) over
//! pub/sub), [`RedisPresence`] and [`RedisUnreadCounters`]. The only crate
//! that depends on the `redis` crate.
//!
//! [`RedisRealtime::connect`] opens one multiplexed, self-reconnecting
//! RESP3 connection for commands and scripts, shared by the three
//! backends; every subscription opens its own dedicated connection, which
//! resubscribes by itself after a reconnect. Every key and pub/sub channel
//! starts with a prefix (`quire` in production, unique per test).
//!
//! # Layout
//! - [`keys`] — the key layout.
//! - [`fanout`] — [`RedisFanout`] and its subscription stream.
//! - [`presence`] — [`RedisPresence`] (a sorted set of gateway expiries per
//!   user, server clock).
//! - [`unread`] — [`RedisUnreadCounters`] (per-channel state, one Lua
//!   script per batch with the checkpoint, generations for resets).

pub mod fanout;
pub mod keys;
pub mod presence;
pub mod unread;

use std::sync::Arc;
use std::time::Duration;

use quire_projections::realtime::RealtimeError;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, IntoConnectionInfo, ProtocolVersion, RedisError};

pub use fanout::RedisFanout;
pub use keys::Keys;
pub use presence::RedisPresence;
pub use unread::RedisUnreadCounters;

/// How long opening a connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long one command may wait for its reply.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);

/// Why connecting failed.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The URL is not a Redis URL.
    #[error("invalid Redis URL {url}: {source}")]
    Url { url: String, source: RedisError },
    /// The server did not answer.
    #[error("cannot connect to Redis at {url}: {source}")]
    Connect { url: String, source: RedisError },
}

/// A connection to Redis and the key prefix; hands out the three backends.
#[derive(Clone)]
pub struct RedisRealtime {
    client: Client,
    commands: ConnectionManager,
    keys: Arc<Keys>,
}

impl std::fmt::Debug for RedisRealtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisRealtime")
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

impl RedisRealtime {
    /// Connects to `url` (e.g. `redis://127.0.0.1:6379`) with RESP3; every
    /// key starts with `prefix`.
    pub async fn connect(url: &str, prefix: &str) -> Result<RedisRealtime, ConnectError> {
        let client = resp3_client(url).map_err(|source| ConnectError::Url {
            url: url.to_owned(),
            source,
        })?;
        let commands = ConnectionManager::new_with_config(client.clone(), manager_config())
            .await
            .map_err(|source| ConnectError::Connect {
                url: url.to_owned(),
                source,
            })?;
        Ok(RedisRealtime {
            client,
            commands,
            keys: Arc::new(Keys::new(prefix)),
        })
    }

    /// The key layout in use.
    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// The message fan-out.
    pub fn fanout(&self) -> RedisFanout {
        RedisFanout::new(self.client.clone(), self.commands.clone(), self.keys.clone())
    }

    /// Presence.
    pub fn presence(&self) -> RedisPresence {
        RedisPresence::new(self.commands.clone(), self.keys.clone())
    }

    /// Unread counters.
    pub fn unread(&self) -> RedisUnreadCounters {
        RedisUnreadCounters::new(self.commands.clone(), self.keys.clone())
    }

    /// Deletes every key under the prefix (tests, teardown of a tenant).
    pub async fn delete_all(&self) -> Result<u64, RealtimeError> {
        delete_matching(&self.commands, &format!("{}*", self.keys.prefix())).await
    }
}

/// Deletes every key matching the `SCAN` pattern; returns how many.
pub(crate) async fn delete_matching(
    commands: &ConnectionManager,
    pattern: &str,
) -> Result<u64, RealtimeError> {
    let mut connection = commands.clone();
    let mut deleted = 0;
    let mut cursor = 0_u64;
    loop {
        let (next, found): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(500)
            .query_async(&mut connection)
            .await
            .map_err(unavailable)?;
        if !found.is_empty() {
            let removed: u64 = redis::cmd("DEL")
                .arg(&found)
                .query_async(&mut connection)
                .await
                .map_err(unavailable)?;
            deleted += removed;
        }
        if next == 0 {
            return Ok(deleted);
        }
        cursor = next;
    }
}

/// A client for `url` that speaks RESP3 (needed for pushes on a multiplexed connection).
fn resp3_client(url: &str) -> Result<Client, RedisError> {
    let info = url.into_connection_info()?;
    let settings = info.redis_settings().clone().set_protocol(ProtocolVersion::RESP3);
    Client::open(info.set_redis_settings(settings))
}

/// Timeouts shared by every connection manager.
fn manager_config() -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_connection_timeout(Some(CONNECT_TIMEOUT))
        .set_response_timeout(Some(RESPONSE_TIMEOUT))
}

/// A Redis failure as the ports report it.
pub(crate) fn unavailable(error: RedisError) -> RealtimeError {
    RealtimeError::Unavailable(error.to_string())
}
