//! [`RedisUnreadCounters`]: the port's semantics (unread positions above a
//! guard, capped) in three keys per user and one Lua script per write, so
//! each write is atomic and a redelivered message is a no-op:
//! - `<p>:unread:positions:<len>:<user>:<channel>` — sorted set of unread
//!   positions (member = score = position);
//! - `<p>:unread:guards:<user>` — hash channel → guard position (read
//!   marker, or the highest position dropped by the cap);
//! - `<p>:unread:counts:<user>` — hash channel → count (the set's size), so
//!   a user's counts are one `HGETALL`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use async_trait::async_trait;
use quire_domain::{ChannelId, Position, UserId};
use quire_projections::realtime::{RealtimeError, UNREAD_CAP, UnreadCounters};
use redis::Script;
use redis::aio::ConnectionManager;

use crate::{Keys, unavailable};

/// KEYS positions, guards, counts; ARGV channel, position, cap. Returns 1
/// when the message is newly counted.
const APPLY: &str = r"
local guard = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
local p = tonumber(ARGV[2])
if p <= guard then return 0 end
if redis.call('ZADD', KEYS[1], 'NX', p, ARGV[2]) == 0 then return 0 end
local cap = tonumber(ARGV[3])
local n = redis.call('ZCARD', KEYS[1])
if n > cap then
  local dropped = redis.call('ZPOPMIN', KEYS[1], n - cap)
  redis.call('HSET', KEYS[2], ARGV[1], dropped[#dropped - 1])
  n = cap
end
redis.call('HSET', KEYS[3], ARGV[1], n)
if redis.call('ZSCORE', KEYS[1], ARGV[2]) then return 1 end
return 0
";

/// KEYS positions, guards, counts; ARGV channel, position. Raises the
/// guard and drops the positions at or below it; a lower marker is a no-op.
const MARK_READ: &str = r"
local guard = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if tonumber(ARGV[2]) <= guard then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
local n = redis.call('ZCARD', KEYS[1])
if n == 0 then
  redis.call('HDEL', KEYS[3], ARGV[1])
else
  redis.call('HSET', KEYS[3], ARGV[1], n)
end
return 1
";

/// Unread counters on Redis.
#[derive(Clone)]
pub struct RedisUnreadCounters {
    commands: ConnectionManager,
    keys: Arc<Keys>,
    apply: Arc<Script>,
    mark_read: Arc<Script>,
}

impl std::fmt::Debug for RedisUnreadCounters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisUnreadCounters")
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

impl RedisUnreadCounters {
    pub(crate) fn new(commands: ConnectionManager, keys: Arc<Keys>) -> RedisUnreadCounters {
        RedisUnreadCounters {
            commands,
            keys,
            apply: Arc::new(Script::new(APPLY)),
            mark_read: Arc::new(Script::new(MARK_READ)),
        }
    }

    /// Runs `script` on the three keys of (user, channel) with `channel`,
    /// `position` and `extra` as arguments.
    async fn run(
        &self,
        script: &Script,
        user: &UserId,
        channel: &ChannelId,
        position: Position,
        extra: &[u64],
    ) -> Result<i64, RealtimeError> {
        let mut invocation = script.prepare_invoke();
        invocation
            .key(self.keys.unread_positions(user, channel))
            .key(self.keys.unread_guards(user))
            .key(self.keys.unread_counts(user))
            .arg(channel.as_str())
            .arg(position.0);
        for value in extra {
            invocation.arg(*value);
        }
        let mut connection = self.commands.clone();
        invocation
            .invoke_async(&mut connection)
            .await
            .map_err(unavailable)
    }
}

#[async_trait]
impl UnreadCounters for RedisUnreadCounters {
    async fn apply_message(
        &self,
        user: &UserId,
        channel: &ChannelId,
        position: Position,
    ) -> Result<bool, RealtimeError> {
        Ok(self
            .run(&self.apply, user, channel, position, &[UNREAD_CAP])
            .await?
            == 1)
    }

    async fn mark_read(
        &self,
        user: &UserId,
        channel: &ChannelId,
        position: Position,
    ) -> Result<(), RealtimeError> {
        self.run(&self.mark_read, user, channel, position, &[]).await?;
        Ok(())
    }

    async fn counts(&self, user: &UserId) -> Result<BTreeMap<ChannelId, u64>, RealtimeError> {
        let mut connection = self.commands.clone();
        let raw: HashMap<String, u64> = redis::cmd("HGETALL")
            .arg(self.keys.unread_counts(user))
            .query_async(&mut connection)
            .await
            .map_err(unavailable)?;
        raw.into_iter()
            .filter(|(_, count)| *count > 0)
            .map(|(channel, count)| {
                ChannelId::parse(&channel)
                    .map(|channel| (channel, count))
                    .map_err(|error| RealtimeError::Malformed(format!("channel id {channel:?}: {error}")))
            })
            .collect()
    }
}
