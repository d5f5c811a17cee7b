//! Presence over Redis, shared by every instance. Per room `{prefix}:presence:{room}` is a
//! hash of member → value and `{prefix}:presence:{room}:exp` a sorted set of member → expiry
//! (milliseconds of the instance's clock); `{prefix}:presence:rooms` indexes the rooms that
//! have members, for the sweep. Each step is one Lua script, so it is atomic: of two
//! instances removing or expiring the same member, exactly one gets it back. Both keys of a
//! room also carry a Redis expiry an hour past their last write, so a room abandoned by a
//! crashed deployment does not stay forever.

use chrono::{DateTime, Utc};
use redis::Script;

use super::{Expired, Member, PresenceStore};
use crate::pubsub::redis::SharedRedis;

/// Redis's own expiry of a room's keys after their last write (milliseconds).
const ABANDONED_AFTER_MS: i64 = 3_600_000;

const PUT: &str = r#"
local old = redis.call('ZSCORE', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
redis.call('ZADD', KEYS[3], 'GT', ARGV[4], ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
if old and tonumber(old) > tonumber(ARGV[3]) then return 0 end
return 1
"#;

const REMOVE: &str = r#"
local v = redis.call('HGET', KEYS[1], ARGV[1])
local n = redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
if redis.call('ZCARD', KEYS[2]) == 0 then redis.call('ZREM', KEYS[3], ARGV[2]) end
if n == 1 then return v end
return false
"#;

const MEMBERS: &str = r#"
local live = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. ARGV[1], '+inf')
local out = {}
for _, m in ipairs(live) do
  local v = redis.call('HGET', KEYS[1], m)
  if v then table.insert(out, m); table.insert(out, v) end
end
return out
"#;

const EXPIRE: &str = r#"
local gone = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
local out = {}
for _, m in ipairs(gone) do
  local v = redis.call('HGET', KEYS[1], m)
  redis.call('HDEL', KEYS[1], m)
  redis.call('ZREM', KEYS[2], m)
  if v then table.insert(out, m); table.insert(out, v) end
end
if redis.call('ZCARD', KEYS[2]) == 0 then
  redis.call('ZREM', KEYS[3], ARGV[2])
  redis.call('DEL', KEYS[1])
end
return out
"#;

/// Presence kept in Redis.
pub struct RedisPresence {
    redis: SharedRedis,
    put: Script,
    remove: Script,
    members: Script,
    expire: Script,
}

impl RedisPresence {
    pub fn new(redis: SharedRedis) -> Self {
        Self {
            redis,
            put: Script::new(PUT),
            remove: Script::new(REMOVE),
            members: Script::new(MEMBERS),
            expire: Script::new(EXPIRE),
        }
    }

    fn keys(&self, room: &str) -> [String; 3] {
        let p = &self.redis.prefix;
        [format!("{p}:presence:{room}"), format!("{p}:presence:{room}:exp"), format!("{p}:presence:rooms")]
    }

    async fn conn(&self) -> Result<redis::aio::ConnectionManager, String> {
        self.redis.connection("presence").await.ok_or_else(|| "presence: Redis unreachable".to_string())
    }
}

fn pairs(flat: Vec<String>) -> Vec<Member> {
    flat.chunks_exact(2).map(|c| Member { id: c[0].clone(), value: c[1].clone() }).collect()
}

#[async_trait::async_trait]
impl PresenceStore for RedisPresence {
    async fn put(
        &self,
        room: &str,
        id: &str,
        value: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, String> {
        let mut conn = self.conn().await?;
        let [h, e, r] = self.keys(room);
        let joined: i64 = self
            .put
            .key(h)
            .key(e)
            .key(r)
            .arg(id)
            .arg(value)
            .arg(now.timestamp_millis())
            .arg(expires_at.timestamp_millis())
            .arg(room)
            .arg(ABANDONED_AFTER_MS)
            .invoke_async(&mut conn)
            .await
            .map_err(|e| format!("presence: {e}"))?;
        Ok(joined == 1)
    }

    async fn remove(&self, room: &str, id: &str) -> Result<Option<String>, String> {
        let mut conn = self.conn().await?;
        let [h, e, r] = self.keys(room);
        self.remove
            .key(h)
            .key(e)
            .key(r)
            .arg(id)
            .arg(room)
            .invoke_async::<Option<String>>(&mut conn)
            .await
            .map_err(|e| format!("presence: {e}"))
    }

    async fn members(&self, room: &str, now: DateTime<Utc>) -> Result<Vec<Member>, String> {
        let mut conn = self.conn().await?;
        let [h, e, _] = self.keys(room);
        let flat: Vec<String> = self
            .members
            .key(h)
            .key(e)
            .arg(now.timestamp_millis())
            .invoke_async(&mut conn)
            .await
            .map_err(|e| format!("presence: {e}"))?;
        let mut out = pairs(flat);
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    async fn expire(&self, now: DateTime<Utc>) -> Result<Vec<Expired>, String> {
        let mut conn = self.conn().await?;
        let index = format!("{}:presence:rooms", self.redis.prefix);
        let rooms: Vec<String> = redis::cmd("ZRANGE")
            .arg(&index)
            .arg(0)
            .arg(-1)
            .query_async(&mut conn)
            .await
            .map_err(|e| format!("presence: {e}"))?;
        let mut out = Vec::new();
        for room in rooms {
            let [h, e, r] = self.keys(&room);
            let flat: Vec<String> = self
                .expire
                .key(h)
                .key(e)
                .key(r)
                .arg(now.timestamp_millis())
                .arg(&room)
                .invoke_async(&mut conn)
                .await
                .map_err(|e| format!("presence: {e}"))?;
            out.extend(pairs(flat).into_iter().map(|member| Expired { room: room.clone(), member }));
        }
        Ok(out)
    }

    fn kind(&self) -> &'static str {
        "redis"
    }
}
