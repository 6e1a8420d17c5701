//! [`RedisUnreadCounters`]: the port's semantics in a few keys per channel
//! and per user, written by one Lua script per batch (atomic with the
//! checkpoint) and read by one script per user. Every key lives under the
//! current *generation* `<g>`, so a reset is one `INCR` and the old
//! generation's keys are deleted afterwards at leisure:
//!
//! | key | type | content |
//! |---|---|---|
//! | `<p>:unread:generation` | string | the current generation (absent: 0) |
//! | `<p>:unread:<g>:checkpoint` | string | the projector's checkpoint (only moves forward) |
//! | `<p>:unread:<g>:channel:<channel>` | hash | `applied` (last position), `created` (µs) |
//! | `<p>:unread:<g>:members:<channel>` | hash | participant → read marker `seq` |
//! | `<p>:unread:<g>:live:<channel>` | sorted set | `<len(author)>:<author>:<message>` by `seq`, the newest live messages |
//! | `<p>:unread:<g>:own:<len(channel)>:<channel>:<user>` | sorted set | the user's messages among those, by `seq` |
//! | `<p>:unread:<g>:listed:<user>` | sorted set | the user's channels by creation time (µs) |
//!
//! A count is `ZCOUNT live (marker +inf` minus the same over the reader's
//! own messages.
//!
//! The apply script also receives the newest checkpoint this instance has
//! seen and refuses a batch (`REWOUND <stored>`, mapped to
//! [`RealtimeError::Rewound`]) when the saved one is behind it: Redis lost
//! the keys (a restart without persistence) or another instance reset them.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use quire_domain::{ChannelId, Position, UserId};
use quire_projections::realtime::{
    ChannelChange, ChannelUnread, RealtimeError, UNREAD_WINDOW, UnreadChange, UnreadCounters,
};
use redis::Script;
use redis::aio::ConnectionManager;

use crate::{Keys, unavailable};

/// Shared head of both scripts: the prefix and the current generation's
/// key names.
const PRELUDE: &str = r"
local p = ARGV[1]
local g = redis.call('GET', p .. ':unread:generation') or '0'
local base = p .. ':unread:' .. g .. ':'
local function meta(c) return base .. 'channel:' .. c end
local function members(c) return base .. 'members:' .. c end
local function live(c) return base .. 'live:' .. c end
local function own(c, u) return base .. 'own:' .. #c .. ':' .. c .. ':' .. u end
local function listed(u) return base .. 'listed:' .. u end
";

/// ARGV: prefix, checkpoint, window, the newest checkpoint the caller has
/// seen, then per change its kind, channel, position and fields (see
/// `encode`). Fails with `REWOUND <stored>` if the saved checkpoint is
/// behind the one seen; otherwise applies the changes a channel has not
/// applied yet and saves the checkpoint unless a later one is saved.
const APPLY: &str = r"
local window = tonumber(ARGV[3])
local stored = tonumber(redis.call('GET', base .. 'checkpoint') or '0')
if stored < tonumber(ARGV[4]) then
  return redis.error_reply('REWOUND ' .. string.format('%d', stored))
end
-- Per channel, read once and written back once if it moved: the last
-- position applied and the live set's size.
local applied, moved, sizes = {}, {}, {}
local function fresh(c, position)
  if applied[c] == nil then
    applied[c] = tonumber(redis.call('HGET', meta(c), 'applied') or '0')
  end
  if position <= applied[c] then return false end
  applied[c] = position
  moved[c] = true
  return true
end
local function size(c)
  if sizes[c] == nil then sizes[c] = redis.call('ZCARD', live(c)) end
  return sizes[c]
end
local function drop_oldest(c)
  local dropped = redis.call('ZPOPMIN', live(c), sizes[c] - window)
  for k = 1, #dropped, 2 do
    local len, rest = string.match(dropped[k], '^(%d+):(.*)$')
    len = tonumber(len)
    redis.call('ZREM', own(c, string.sub(rest, 1, len)), string.sub(rest, len + 2))
  end
  sizes[c] = window
end
local function join(c, u)
  redis.call('HSETNX', members(c), u, 0)
  redis.call('ZADD', listed(u), redis.call('HGET', meta(c), 'created') or 0, c)
end
local i = 5
while i <= #ARGV do
  local kind, c = ARGV[i], ARGV[i + 1]
  local now = fresh(c, tonumber(ARGV[i + 2]))
  i = i + 3
  if kind == 'O' then
    local n = tonumber(ARGV[i + 1])
    if now then
      redis.call('HSET', meta(c), 'created', ARGV[i])
      for k = 0, n - 1 do join(c, ARGV[i + 2 + k]) end
    end
    i = i + 2 + n
  elseif kind == 'J' then
    if now then join(c, ARGV[i]) end
    i = i + 1
  elseif kind == 'L' then
    if now then
      redis.call('HDEL', members(c), ARGV[i])
      redis.call('ZREM', listed(ARGV[i]), c)
    end
    i = i + 1
  elseif kind == 'S' then
    if now then
      local message, seq, author = ARGV[i], ARGV[i + 1], ARGV[i + 2]
      sizes[c] = size(c) + redis.call('ZADD', live(c), seq, #author .. ':' .. author .. ':' .. message)
      redis.call('ZADD', own(c, author), seq, message)
      if sizes[c] > window then drop_oldest(c) end
    end
    i = i + 3
  elseif kind == 'D' then
    if now then
      local message, author = ARGV[i], ARGV[i + 1]
      sizes[c] = size(c) - redis.call('ZREM', live(c), #author .. ':' .. author .. ':' .. message)
      redis.call('ZREM', own(c, author), message)
    end
    i = i + 2
  elseif kind == 'R' then
    if now then
      local marker = redis.call('HGET', members(c), ARGV[i])
      if marker and tonumber(ARGV[i + 1]) > tonumber(marker) then
        redis.call('HSET', members(c), ARGV[i], ARGV[i + 1])
      end
    end
    i = i + 2
  else
    return redis.error_reply('unknown unread change ' .. kind)
  end
end
for c in pairs(moved) do
  redis.call('HSET', meta(c), 'applied', string.format('%d', applied[c]))
end
if tonumber(ARGV[2]) > stored then
  redis.call('SET', base .. 'checkpoint', ARGV[2])
end
return 1
";

/// ARGV: prefix, user. Returns channel, count, channel, count… for the
/// user's channels with unread messages, newest channel first.
const COUNTS: &str = r"
local u = ARGV[2]
local out = {}
for _, c in ipairs(redis.call('ZREVRANGE', listed(u), 0, -1)) do
  local marker = redis.call('HGET', members(c), u)
  if marker then
    local above = '(' .. marker
    local n = redis.call('ZCOUNT', live(c), above, '+inf') - redis.call('ZCOUNT', own(c, u), above, '+inf')
    if n > 0 then
      out[#out + 1] = c
      out[#out + 1] = tostring(n)
    end
  end
end
return out
";

/// Unread counters on Redis. Clones are the same instance: they share the
/// newest checkpoint seen.
#[derive(Clone)]
pub struct RedisUnreadCounters {
    commands: ConnectionManager,
    keys: Arc<Keys>,
    apply: Arc<Script>,
    counts: Arc<Script>,
    /// The newest checkpoint this instance read or saved.
    seen: Arc<AtomicU64>,
}

impl std::fmt::Debug for RedisUnreadCounters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisUnreadCounters")
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

/// One change as the apply script reads it.
fn encode(change: &ChannelChange, args: &mut Vec<String>) {
    let head = |kind: &str, args: &mut Vec<String>| {
        args.extend([
            kind.to_owned(),
            change.channel.to_string(),
            change.position.0.to_string(),
        ]);
    };
    match &change.change {
        UnreadChange::Opened {
            created_at,
            participants,
        } => {
            head("O", args);
            args.push(created_at.unix_micros().to_string());
            args.push(participants.len().to_string());
            args.extend(participants.iter().map(ToString::to_string));
        }
        UnreadChange::Joined { user } => {
            head("J", args);
            args.push(user.to_string());
        }
        UnreadChange::Left { user } => {
            head("L", args);
            args.push(user.to_string());
        }
        UnreadChange::Sent { message, seq, author } => {
            head("S", args);
            args.extend([message.to_string(), seq.to_string(), author.to_string()]);
        }
        UnreadChange::Deleted { message, author } => {
            head("D", args);
            args.extend([message.to_string(), author.to_string()]);
        }
        UnreadChange::ReadUpTo { user, seq } => {
            head("R", args);
            args.extend([user.to_string(), seq.to_string()]);
        }
    }
}

/// The apply script's `REWOUND <stored>` reply as the port's error.
fn rewound(error: &redis::RedisError, seen: Position) -> Option<RealtimeError> {
    if error.code() != Some("REWOUND") {
        return None;
    }
    let stored = error.detail()?.trim().parse().ok()?;
    Some(RealtimeError::Rewound {
        stored: Position(stored),
        seen,
    })
}

/// `channel, count, …` from the counts script.
fn parse_counts(flat: Vec<String>) -> Result<Vec<ChannelUnread>, RealtimeError> {
    let malformed = |what: String| RealtimeError::Malformed(what);
    flat.chunks(2)
        .map(|pair| {
            let [channel, count] = pair else {
                return Err(malformed("unread counts: odd reply".to_owned()));
            };
            Ok(ChannelUnread {
                channel: ChannelId::parse(channel)
                    .map_err(|error| malformed(format!("channel id {channel:?}: {error}")))?,
                unread: count
                    .parse()
                    .map_err(|error| malformed(format!("unread count {count:?}: {error}")))?,
            })
        })
        .collect()
}

impl RedisUnreadCounters {
    pub(crate) fn new(commands: ConnectionManager, keys: Arc<Keys>) -> RedisUnreadCounters {
        RedisUnreadCounters {
            commands,
            keys,
            apply: Arc::new(Script::new(&format!("{PRELUDE}{APPLY}"))),
            counts: Arc::new(Script::new(&format!("{PRELUDE}{COUNTS}"))),
            seen: Arc::default(),
        }
    }

    fn seen(&self) -> Position {
        Position(self.seen.load(Ordering::Acquire))
    }

    async fn generation(&self) -> Result<u64, RealtimeError> {
        let mut connection = self.commands.clone();
        let generation: Option<u64> = redis::cmd("GET")
            .arg(self.keys.unread_generation())
            .query_async(&mut connection)
            .await
            .map_err(unavailable)?;
        Ok(generation.unwrap_or(0))
    }
}

#[async_trait]
impl UnreadCounters for RedisUnreadCounters {
    async fn apply(&self, changes: &[ChannelChange], checkpoint: Position) -> Result<(), RealtimeError> {
        let seen = self.seen();
        let mut args = Vec::with_capacity(4 + changes.len() * 6);
        args.extend([
            self.keys.prefix().to_owned(),
            checkpoint.0.to_string(),
            UNREAD_WINDOW.to_string(),
            seen.0.to_string(),
        ]);
        for change in changes {
            encode(change, &mut args);
        }
        let mut invocation = self.apply.prepare_invoke();
        invocation.arg(args);
        let mut connection = self.commands.clone();
        let applied: Result<i64, _> = invocation.invoke_async(&mut connection).await;
        match applied {
            Ok(_) => {
                self.seen.fetch_max(checkpoint.0, Ordering::AcqRel);
                Ok(())
            }
            Err(error) => Err(rewound(&error, seen).unwrap_or_else(|| unavailable(error))),
        }
    }

    async fn checkpoint(&self) -> Result<Position, RealtimeError> {
        let generation = self.generation().await?;
        let mut connection = self.commands.clone();
        let checkpoint: Option<u64> = redis::cmd("GET")
            .arg(self.keys.unread_checkpoint(generation))
            .query_async(&mut connection)
            .await
            .map_err(unavailable)?;
        let checkpoint = checkpoint.unwrap_or(0);
        self.seen.store(checkpoint, Ordering::Release);
        Ok(Position(checkpoint))
    }

    async fn reset(&self) -> Result<(), RealtimeError> {
        let mut connection = self.commands.clone();
        let next: u64 = redis::cmd("INCR")
            .arg(self.keys.unread_generation())
            .query_async(&mut connection)
            .await
            .map_err(unavailable)?;
        self.seen.store(0, Ordering::Release);
        let old = self.keys.unread_generation_pattern(next - 1);
        crate::delete_matching(&self.commands, &old).await?;
        Ok(())
    }

    async fn counts(&self, user: &UserId) -> Result<Vec<ChannelUnread>, RealtimeError> {
        let mut invocation = self.counts.prepare_invoke();
        invocation.arg(self.keys.prefix()).arg(user.as_str());
        let mut connection = self.commands.clone();
        let flat: Vec<String> = invocation
            .invoke_async(&mut connection)
            .await
            .map_err(unavailable)?;
        parse_counts(flat)
    }
}
