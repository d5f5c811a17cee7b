//! Per-principal rate limits: token buckets counted per GraphQL operation (each root field,
//! aliases included and fragments expanded, and each member of a batch costs one token; see
//! `graphql::admission::measure`). The bucket an organisation's API keys share holds its
//! plan's `requestsPerMinute` (the caller passes it; the instance's default otherwise). Admission takes tokens only after a document passed every
//! validation limit, so a refused document costs nothing.
//!
//! Buckets live in Redis when it is configured — one atomic script per take, timed by the
//! Redis server's clock, so any number of instances enforce one limit — and in process
//! memory otherwise. A Redis outage lets requests through (logged): availability first.
//!
//! A bucket of 100 tokens or more that is over half full also hands the instance asking a
//! small lease with the tokens it takes (1 % of the bucket, spent locally within a second),
//! so a busy principal costs one Redis round trip per lease instead of one per request. A
//! lease is only ever cut from the upper half of a bucket: no request is refused while
//! leases are out except by the tokens they hold (at most 1 % of the limit per instance),
//! and small buckets (the ones tests and strict limits use) are exact.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Instant,
};

use crate::pubsub::redis::SharedRedis;

/// Who a bucket belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Principal {
    User(uuid::Uuid),
    ApiKey(uuid::Uuid),
    Tenant(uuid::Uuid),
    Ip(String),
}

impl Principal {
    fn key(&self) -> String {
        match self {
            Principal::User(id) => format!("user:{id}"),
            Principal::ApiKey(id) => format!("key:{id}"),
            Principal::Tenant(id) => format!("tenant:{id}"),
            Principal::Ip(ip) => format!("ip:{ip}"),
        }
    }
}

const SCRIPT: &str = r#"
local cap = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local lease = tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(b[1]) or cap
local ts = tonumber(b[2]) or now
tokens = math.min(cap, tokens + math.max(0, now - ts) * rate)
local retry = 0
local allowed = 0
local leased = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
  if lease > 0 and tokens - lease >= cap / 2 then
    tokens = tokens - lease
    leased = lease
  end
else
  retry = math.ceil((cost - tokens) / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(cap / rate) + 1)
return {allowed, retry, leased}
"#;

/// The script, hashed once (`EVALSHA`, falling back to `EVAL` when Redis lost it).
static SCRIPT_HANDLE: std::sync::LazyLock<redis::Script> =
    std::sync::LazyLock::new(|| redis::Script::new(SCRIPT));

/// How long an unspent lease may be used: tokens are only worth their refill time.
const LEASE_SECONDS: u64 = 1;
/// Leases kept at once per instance before expired ones are swept.
const LEASES_KEPT: usize = 10_000;

/// Tokens this instance took from a Redis bucket ahead of use.
struct Lease {
    tokens: f64,
    until: Instant,
}

enum Store {
    Memory(Mutex<HashMap<String, (f64, Instant)>>),
    Redis(SharedRedis, Mutex<HashMap<String, Lease>>),
}

/// The limiter of one instance. Cheap to clone.
#[derive(Clone)]
pub struct RateLimiter {
    store: Arc<Store>,
    /// Tokens a bucket holds (a burst).
    capacity: f64,
    /// Tokens added per second.
    rate: f64,
    anonymous_capacity: f64,
    anonymous_rate: f64,
}

impl RateLimiter {
    pub fn new(config: &crate::config::Config, redis: Option<SharedRedis>) -> Self {
        let store = match redis {
            Some(r) => Store::Redis(r, Mutex::default()),
            None => Store::Memory(Mutex::default()),
        };
        let per_min = config.rate_limit_per_minute as f64;
        let anon = config.rate_limit_anonymous_per_minute as f64;
        Self {
            store: Arc::new(store),
            capacity: per_min,
            rate: per_min / 60.0,
            anonymous_capacity: anon,
            anonymous_rate: anon / 60.0,
        }
    }

    /// Takes `cost` tokens from every bucket of `principals`; `Err(retry_after_secs)` when
    /// one of them is short (what the others gave is not returned: a refused burst still
    /// counts, as the attempt did reach us).
    pub async fn take(&self, principals: &[Principal], cost: u32) -> Result<(), u64> {
        self.take_with(principals, cost, None).await
    }

    /// [`Self::take`], with the tenant's bucket holding `tenant_per_minute` (its plan's
    /// allowance) instead of the instance's default when given.
    pub async fn take_with(
        &self,
        principals: &[Principal],
        cost: u32,
        tenant_per_minute: Option<u32>,
    ) -> Result<(), u64> {
        let mut worst = 0;
        for p in principals {
            let (cap, rate) = match (p, tenant_per_minute) {
                (Principal::Ip(_), _) => (self.anonymous_capacity, self.anonymous_rate),
                (Principal::Tenant(_), Some(per_min)) => (per_min as f64, per_min as f64 / 60.0),
                _ => (self.capacity, self.rate),
            };
            if let Err(retry) = self.take_one(&p.key(), cap, rate, cost as f64).await {
                worst = worst.max(retry);
            }
        }
        if worst > 0 { Err(worst) } else { Ok(()) }
    }

    async fn take_one(&self, key: &str, cap: f64, rate: f64, cost: f64) -> Result<(), u64> {
        match &*self.store {
            Store::Memory(buckets) => {
                let mut buckets = buckets.lock().unwrap();
                let now = Instant::now();
                let (tokens, ts) = buckets.entry(key.to_string()).or_insert((cap, now));
                *tokens = (*tokens + now.duration_since(*ts).as_secs_f64() * rate).min(cap);
                *ts = now;
                if *tokens >= cost {
                    *tokens -= cost;
                    Ok(())
                } else {
                    Err(((cost - *tokens) / rate).ceil().max(1.0) as u64)
                }
            }
            Store::Redis(redis, leases) => {
                if let Some(lease) = leases.lock().unwrap().get_mut(key)
                    && lease.tokens >= cost
                    && lease.until > Instant::now()
                {
                    lease.tokens -= cost;
                    return Ok(());
                }
                let lease = (cap / 100.0).floor();
                // Unreachable: the request goes through.
                let Some(mut conn) = redis.connection("rate limiter").await else { return Ok(()) };
                let result: redis::RedisResult<(i64, i64, i64)> = SCRIPT_HANDLE
                    .key(format!("{}:rl:{key}", redis.prefix))
                    .arg(cap)
                    .arg(rate)
                    .arg(cost)
                    .arg(lease)
                    .invoke_async(&mut conn)
                    .await;
                match result {
                    Ok((1, _, leased)) => {
                        if leased > 0 {
                            let mut leases = leases.lock().unwrap();
                            let now = Instant::now();
                            if leases.len() >= LEASES_KEPT {
                                leases.retain(|_, l| l.until > now);
                            }
                            let until = now + std::time::Duration::from_secs(LEASE_SECONDS);
                            leases.insert(key.to_string(), Lease { tokens: leased as f64, until });
                        }
                        Ok(())
                    }
                    Ok((_, retry, _)) => Err(retry.max(1) as u64),
                    Err(e) => {
                        tracing::warn!(error = %e, "rate limiter: Redis failed; letting the request through");
                        Ok(())
                    }
                }
            }
        }
    }
}
