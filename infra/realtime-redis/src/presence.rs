//! [`RedisPresence`]: per user a sorted set of gateway → expiry in
//! milliseconds of the Redis server's clock (`TIME`, read inside the
//! scripts, so gateways' clocks never matter). A heartbeat sets its
//! gateway's expiry, drops expired gateways and sets the key's own expiry
//! to the latest one, so a user whose gateways all died leaves no key.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use quire_domain::UserId;
use quire_projections::realtime::{GatewayId, Presence, RealtimeError};
use redis::Script;
use redis::aio::ConnectionManager;

use crate::{Keys, unavailable};

/// KEYS[1] presence set; ARGV[1] gateway, ARGV[2] TTL in ms.
const HEARTBEAT: &str = r"
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local latest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], latest[2])
return 1
";

/// KEYS presence sets; returns 1 or 0 per key: has an unexpired gateway.
const ONLINE: &str = r"
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local out = {}
for i, key in ipairs(KEYS) do
  out[i] = redis.call('ZCOUNT', key, '(' .. now, '+inf')
end
return out
";

/// Presence on Redis.
#[derive(Clone)]
pub struct RedisPresence {
    commands: ConnectionManager,
    keys: Arc<Keys>,
    heartbeat: Arc<Script>,
    online: Arc<Script>,
}

impl std::fmt::Debug for RedisPresence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisPresence")
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

impl RedisPresence {
    pub(crate) fn new(commands: ConnectionManager, keys: Arc<Keys>) -> RedisPresence {
        RedisPresence {
            commands,
            keys,
            heartbeat: Arc::new(Script::new(HEARTBEAT)),
            online: Arc::new(Script::new(ONLINE)),
        }
    }
}

#[async_trait]
impl Presence for RedisPresence {
    async fn heartbeat(
        &self,
        user: &UserId,
        gateway: &GatewayId,
        ttl: Duration,
    ) -> Result<(), RealtimeError> {
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let mut connection = self.commands.clone();
        let _: i64 = self
            .heartbeat
            .key(self.keys.presence(user))
            .arg(gateway.as_str())
            .arg(ttl_ms)
            .invoke_async(&mut connection)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn offline(&self, user: &UserId, gateway: &GatewayId) -> Result<(), RealtimeError> {
        let mut connection = self.commands.clone();
        let _: i64 = redis::cmd("ZREM")
            .arg(self.keys.presence(user))
            .arg(gateway.as_str())
            .query_async(&mut connection)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn online(&self, users: &[UserId]) -> Result<BTreeSet<UserId>, RealtimeError> {
        if users.is_empty() {
            return Ok(BTreeSet::new());
        }
        let mut invocation = self.online.prepare_invoke();
        for user in users {
            invocation.key(self.keys.presence(user));
        }
        let mut connection = self.commands.clone();
        let flags: Vec<i64> = invocation
            .invoke_async(&mut connection)
            .await
            .map_err(unavailable)?;
        if flags.len() != users.len() {
            return Err(RealtimeError::Malformed(format!(
                "{} answers for {} users",
                flags.len(),
                users.len()
            )));
        }
        Ok(users
            .iter()
            .zip(flags)
            .filter(|(_, online)| *online > 0)
            .map(|(user, _)| user.clone())
            .collect())
    }
}
