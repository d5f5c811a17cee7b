//! Metering "operation served": every GraphQL query or mutation (over HTTP or WebSocket)
//! counts once for each organisation whose access it resolved
//! (`graphql::loaders::Loaders::tenant_access`), however many fields reach it, in the counter
//! of `Limit::ApiOperationsPerMonth` for the calendar month. Nothing counts for anonymous
//! operations, operations that touch no organisation (`__typename`, introspection,
//! `viewer`, `plans`), organisations reached only by listing the viewer's own
//! (`viewer.tenants`), operations refused before they reach an organisation (admission,
//! NOT_FOUND), subscription streams, and the billing operations that are the way out of a
//! quota (`changePlan`, `startCheckout`, `previewPlanChange`). Past the plan's allowance the
//! operation is refused with `QUOTA_EXCEEDED` (the limit, the use, the reset time) and
//! counts nothing — unless the plan prices overage for it: then it is served, counted and
//! billed on the next renewal.
//!
//! Where a hard limit applies the count is one atomic step per operation and organisation,
//! never an instance's memory: with Redis, one script (`INCR`, undone when over the
//! allowance) on a key per organisation and month; without, one conditional upsert of the
//! `usage_counters` row. Where none applies (no limit, or overage priced) nobody is refused,
//! and with Redis the operation is added to the instance's [`crate::pubsub::tally`]: one
//! script call per 100 ms for all organisations instead of a round trip per operation. Readers
//! ([`operations_used`]) flush this instance's tally first; another instance's additions
//! arrive within its 100 ms, and a crash loses at most those (a graceful stop flushes).
//!
//! The plan the allowance comes from is read from a per-process cache of each
//! organisation's current subscription (kept `ZYGO_ACCESS_CACHE_TTL`): the hot path reads
//! nothing else. A subscription change forgets the entry before it commits and announces
//! it after ([`plan_topic`]); every instance's [`follow_plan_changes`] forgets it then. A
//! read begun before a forget is not stored (a generation check), so a stale plan outlives
//! a change only while the change's announcement travels.

use std::{
    collections::HashMap,
    sync::{LazyLock, Mutex},
    time::Instant,
};

use chrono::{DateTime, Utc};
use entity::{subscription, usage_counter};
use futures::StreamExt;
use sea_orm::{
    ConnectionTrait,
    sea_query::{Expr, ExprTrait, OnConflict, Query},
};
use uuid::Uuid;

use super::{
    plans::{self, Limit, Plan},
    service,
    usage::{Exceeded, period_of},
};
use crate::{
    access::TenantCtx,
    ctx::Ctx,
    db::TenantScope,
    error::AppResult,
    pubsub::{EventBus, Topic},
};

/// The platform topic on which subscription changes are announced to every instance.
pub fn plan_topic() -> Topic {
    Topic::platform("billing-plan-changed")
}

#[derive(Default)]
struct PlanCache {
    generation: u64,
    entries: HashMap<Uuid, (Option<subscription::Model>, plans::Overrides, Instant)>,
}

/// Entries kept at most; past that the cache starts afresh.
const MAX_ENTRIES: usize = 50_000;

static PLANS: LazyLock<Mutex<PlanCache>> = LazyLock::new(Default::default);

/// Forgets what is cached of `tenant`'s subscription, and refuses to store reads begun
/// before now.
pub fn forget_plan(tenant: Uuid) {
    let mut cache = PLANS.lock().expect("plan cache");
    cache.generation += 1;
    cache.entries.remove(&tenant);
}

fn clear_plans() {
    let mut cache = PLANS.lock().expect("plan cache");
    cache.generation += 1;
    cache.entries.clear();
}

/// Forgets every change announced on the bus (by any instance) until the bus stops, and
/// everything whenever the bus reconnects (announcements may have been lost).
pub async fn follow_plan_changes(bus: std::sync::Arc<dyn EventBus>) {
    let mut events =
        futures::stream::select(bus.subscribe(&plan_topic()), bus.subscribe(&Topic::bus_resumed()));
    while let Some(event) = events.next().await {
        if event.topic == Topic::bus_resumed().as_str() {
            clear_plans();
            continue;
        }
        match serde_json::from_value::<Uuid>(event.payload.clone()) {
            Ok(tenant) => forget_plan(tenant),
            Err(e) => tracing::warn!(error = %e, "undecodable plan change ignored"),
        }
    }
}

/// The organisation's current subscription and its own limits, from the cache when fresh.
async fn current_cached(
    ctx: &Ctx,
    tctx: &TenantCtx,
) -> AppResult<(Option<subscription::Model>, plans::Overrides)> {
    let ttl = ctx.config.access_cache_ttl;
    let tenant = tctx.tenant_id;
    let ticket = {
        let cache = PLANS.lock().expect("plan cache");
        if let Some((sub, overrides, _)) = cache.entries.get(&tenant).filter(|(_, _, at)| at.elapsed() < ttl)
        {
            return Ok((sub.clone(), overrides.clone()));
        }
        cache.generation
    };
    let db = tctx.on(&ctx.db);
    let sub = service::current(&db, tctx.scope()).await?;
    let overrides = super::usage::overrides_of(&db, tctx.scope()).await?;
    if !ttl.is_zero() {
        let mut cache = PLANS.lock().expect("plan cache");
        if cache.generation == ticket {
            if cache.entries.len() >= MAX_ENTRIES {
                cache.entries.clear();
            }
            cache.entries.insert(tenant, (sub.clone(), overrides.clone(), Instant::now()));
        }
    }
    Ok((sub, overrides))
}

/// The plan whose limits the organisation has now (see [`service::granted_plan`]), read
/// through the cache.
pub async fn granted_plan_cached(ctx: &Ctx, tctx: &TenantCtx) -> AppResult<&'static Plan> {
    let catalog = plans::catalog(&ctx.config)?;
    let (sub, _) = current_cached(ctx, tctx).await?;
    Ok(service::granted_plan(catalog, sub.as_ref(), ctx.now(), &ctx.config))
}

/// Counts one operation served for the organisation of `tctx`, unless its plan's monthly
/// allowance is used up: then nothing is counted and `Exceeded` says why.
pub async fn count_operation(ctx: &Ctx, tctx: &TenantCtx) -> AppResult<Result<(), Exceeded>> {
    let limit = Limit::ApiOperationsPerMonth;
    let now = ctx.now();
    let Some((period, resets_at)) = period_of(limit, now) else { return Ok(Ok(())) };
    let (sub, overrides) = current_cached(ctx, tctx).await?;
    let plan = service::granted_plan(plans::catalog(&ctx.config)?, sub.as_ref(), now, &ctx.config);
    let allowed = super::usage::hard_limit(plan, &overrides, sub.as_ref(), limit);
    let counted = match &ctx.redis {
        Some(redis) if allowed.is_none() => {
            let key = redis_key(&redis.prefix, tctx.tenant_id, limit, &period);
            redis.tally.add(redis, key, 1, ttl_secs(resets_at, now));
            Some(0)
        }
        Some(redis) => redis_count(redis, tctx.tenant_id, limit, &period, allowed, resets_at, now).await,
        None => db_count(&tctx.on(&ctx.db), tctx.scope(), limit, &period, allowed, now).await?,
    };
    Ok(match (counted, allowed) {
        (None, Some(allowed)) => Err(Exceeded { limit, used: allowed, allowed, resets_at }),
        _ => Ok(()),
    })
}

/// The Redis key of an organisation's counter of `limit` in `period`.
fn redis_key(prefix: &str, tenant: Uuid, limit: Limit, period: &str) -> String {
    format!("{prefix}:usage:{tenant}:{}:{period}", limit.key())
}

/// `INCR`, undone when past `ARGV[1]` (`-1`: no limit); the key lives `ARGV[2]` seconds.
/// Returns `{counted, value}`.
const COUNT_SCRIPT: &str = r#"
local v = redis.call('INCR', KEYS[1])
if v == 1 then redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2])) end
local allowed = tonumber(ARGV[1])
if allowed >= 0 and v > allowed then
  redis.call('DECR', KEYS[1])
  return {0, v - 1}
end
return {1, v}
"#;

/// Counters are kept long after their period: a yearly renewal bills the overage of each
/// month it covered.
const KEEP_SECS: i64 = 400 * 24 * 3600;

/// How long a counter of the period ending at `resets_at` is kept (seconds).
fn ttl_secs(resets_at: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    std::cmp::max((resets_at - now).num_seconds(), 1) + KEEP_SECS
}

static COUNT: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(COUNT_SCRIPT));

/// Counts one use in Redis. `Some(value)` when counted; `None` when refused. Redis
/// unreachable or failing: the use goes through uncounted (logged), as the rate limiter
/// does — availability first.
async fn redis_count(
    redis: &crate::pubsub::redis::SharedRedis,
    tenant: Uuid,
    limit: Limit,
    period: &str,
    allowed: Option<i64>,
    resets_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<i64> {
    let Some(mut conn) = redis.connection("usage meter").await else { return Some(0) };
    let result: redis::RedisResult<(i64, i64)> = COUNT
        .key(redis_key(&redis.prefix, tenant, limit, period))
        .arg(allowed.unwrap_or(-1))
        .arg(ttl_secs(resets_at, now))
        .invoke_async(&mut conn)
        .await;
    match result {
        Ok((1, v)) => Some(v),
        Ok(_) => None,
        Err(e) => {
            tracing::warn!(error = %e, "usage meter: Redis failed; the operation is not counted");
            Some(0)
        }
    }
}

/// Counts one use in the `usage_counters` row: one upsert that adds 1 only while the value
/// is below `allowed`, returning the new value (`None`: refused).
async fn db_count(
    db: &impl ConnectionTrait,
    scope: TenantScope,
    limit: Limit,
    period: &str,
    allowed: Option<i64>,
    now: DateTime<Utc>,
) -> AppResult<Option<i64>> {
    if allowed.is_some_and(|a| a <= 0) {
        return Ok(None);
    }
    use usage_counter::Column as C;
    let mut on_conflict = OnConflict::columns([C::TenantId, C::Metric, C::Period]);
    on_conflict
        .value(C::Value, Expr::col((usage_counter::Entity, C::Value)).add(1))
        .value(C::UpdatedAt, Expr::val(now));
    if let Some(allowed) = allowed {
        on_conflict.action_and_where(Expr::col((usage_counter::Entity, C::Value)).lt(allowed));
    }
    let stmt = Query::insert()
        .into_table(usage_counter::Entity)
        .columns([C::Id, C::TenantId, C::Metric, C::Period, C::Value, C::UpdatedAt])
        .values_panic([
            Uuid::now_v7().into(),
            scope.tenant_id().into(),
            limit.key().into(),
            period.into(),
            1i64.into(),
            now.into(),
        ])
        .on_conflict(on_conflict)
        .returning_col(C::Value)
        .to_owned();
    let row = db.query_one_raw(db.get_database_backend().build(&stmt)).await?;
    Ok(match row {
        Some(row) => Some(row.try_get::<i64>("", "value")?),
        None => None,
    })
}

/// Operations counted for the organisation in the period of `now` (Redis when configured,
/// else the database row).
pub async fn operations_used(
    ctx: &Ctx,
    db: &impl ConnectionTrait,
    scope: TenantScope,
    period: &str,
) -> AppResult<i64> {
    let limit = Limit::ApiOperationsPerMonth;
    if let Some(redis) = &ctx.redis {
        if !redis.tally.flush(redis).await {
            tracing::warn!("usage meter: this instance's latest operations are not in Redis yet");
        }
        let Some(mut conn) = redis.connection("usage meter").await else { return Ok(0) };
        let key = redis_key(&redis.prefix, scope.tenant_id(), limit, period);
        let v: redis::RedisResult<Option<i64>> = redis::cmd("GET").arg(&key).query_async(&mut conn).await;
        return Ok(v
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "usage meter: Redis failed reading a counter");
                None
            })
            .unwrap_or(0));
    }
    super::usage::counter(db, scope, limit, period).await
}

/// The operations per minute the organisation's plan allows its API keys (`None`: the
/// instance's default), read through the plan cache.
pub async fn requests_per_minute(ctx: &Ctx, tenant: Uuid) -> AppResult<Option<u32>> {
    let tctx = TenantCtx::system(tenant);
    let plan = granted_plan_cached(ctx, &tctx).await;
    tctx.reads.release().await;
    Ok(plan?.requests_per_minute)
}

/// One operation's metering: counted once per organisation however many fields reach it;
/// a refusal is remembered, so every field of that organisation is refused alike.
pub struct OperationMeter {
    ctx: crate::ctx::Ctx,
    pub(crate) counted: std::sync::Mutex<
        std::collections::HashMap<
            uuid::Uuid,
            std::sync::Arc<tokio::sync::OnceCell<Option<super::usage::Exceeded>>>,
        >,
    >,
}

impl OperationMeter {
    pub fn new(ctx: Ctx) -> Self {
        Self { ctx, counted: Default::default() }
    }

    /// Counts the operation for `tctx`'s organisation, once; refuses it past the allowance.
    pub async fn count(&self, tctx: &crate::access::TenantCtx) -> crate::error::AppResult<()> {
        let cell = self.counted.lock().expect("meter lock").entry(tctx.tenant_id).or_default().clone();
        let outcome = cell
            .get_or_try_init(|| async { count_operation(&self.ctx, tctx).await.map(|r| r.err()) })
            .await?;
        match outcome {
            Some(exceeded) => Err(exceeded.error()),
            None => Ok(()),
        }
    }
}
