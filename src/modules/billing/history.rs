//! Usage history: one stored figure per organisation, metered limit and UTC day — the use
//! at the day's close (per-period counters as they stood at the end of that day) — for the
//! billing page's chart per limit (`Tenant.usageHistory`).
//!
//! Figures are rows of `usage_counters` under the metric `history:<limit>` with the day as
//! the period. The billing worker takes the previous day's figures on its first pass of
//! each day ([`take_daily`], called from `renewals::run_due`): organisations that already
//! have them are skipped, so any number of instances and passes take each day once, and a
//! missed day is simply absent from the chart. Nothing is written on the hot path.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use entity::usage_counter;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::OnConflict,
};
use uuid::Uuid;

use super::{
    plans::Limit,
    usage::{self, metered},
};
use crate::{
    access::TenantCtx,
    ctx::Ctx,
    db::TenantScope,
    error::{AppError, AppResult},
};

/// The history metric of `limit`.
fn metric(limit: Limit) -> String {
    format!("history:{}", limit.key())
}

fn day_key(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

/// Organisations handled per pass (the next pass goes on).
const BATCH: u64 = 200;

/// Takes yesterday's closing figures (by the instance's clock) of every organisation that
/// existed before today and has none yet; returns how many organisations it did.
pub async fn take_daily(ctx: &Ctx) -> AppResult<usize> {
    let now = ctx.now();
    let today = now.date_naive();
    let Some(yesterday) = today.pred_opt() else { return Ok(0) };
    let day_start = Utc.from_utc_datetime(&today.and_hms_opt(0, 0, 0).expect("midnight"));
    // The counters as they stood at the end of yesterday.
    let close = day_start - Duration::milliseconds(1);
    // Across tenants: the worker finds the organisations still to do, then reads and writes
    // each behind its own wall.
    let across = crate::db::across_tenants(&ctx.db);
    let done: Vec<Uuid> = usage_counter::Entity::find()
        .select_only()
        .column(usage_counter::Column::TenantId)
        .filter(usage_counter::Column::Metric.eq(metric(Limit::Members)))
        .filter(usage_counter::Column::Period.eq(day_key(yesterday)))
        .into_tuple()
        .all(&across)
        .await?;
    let todo: Vec<Uuid> = entity::tenant::Entity::find()
        .select_only()
        .column(entity::tenant::Column::Id)
        .filter(entity::tenant::Column::CreatedAt.lt(day_start))
        .filter(entity::tenant::Column::Id.is_not_in(done))
        .order_by_asc(entity::tenant::Column::Id)
        .limit(BATCH)
        .into_tuple()
        .all(&across)
        .await?;
    drop(across);
    for tenant in &todo {
        let tctx = TenantCtx::system(*tenant);
        let txn = crate::db::begin_tenant_txn(&ctx.db, tctx.scope()).await?;
        take(&txn, ctx, tctx.scope(), yesterday, close).await?;
        txn.commit().await?;
    }
    Ok(todo.len())
}

/// Stores the figures of `day` (as of `at`) for one organisation; a figure already stored
/// for the day is replaced.
async fn take(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    scope: TenantScope,
    day: NaiveDate,
    at: DateTime<Utc>,
) -> AppResult<()> {
    let mut rows = Vec::new();
    for &limit in Limit::ALL.iter().filter(|l| metered(**l)) {
        let used = usage::used_at(db, ctx, scope, limit, at).await?;
        rows.push(usage_counter::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(scope.tenant_id()),
            metric: Set(metric(limit)),
            period: Set(day_key(day)),
            value: Set(used),
            updated_at: Set(ctx.now()),
        });
    }
    scope
        .insert_many(rows)
        .on_conflict(
            OnConflict::columns([
                usage_counter::Column::TenantId,
                usage_counter::Column::Metric,
                usage_counter::Column::Period,
            ])
            .update_columns([usage_counter::Column::Value, usage_counter::Column::UpdatedAt])
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// One day's figure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Point {
    pub day: NaiveDate,
    pub used: i64,
}

/// The longest range `history` answers, in days.
pub const MAX_DAYS: i64 = 400;

/// The stored figures of `limit` from `from` to `to` (days, inclusive), oldest first, and —
/// when the range reaches today — today's use so far as the last point.
pub async fn history(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    scope: TenantScope,
    limit: Limit,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Vec<Point>> {
    if to < from {
        return Err(AppError::validation("to", "must not be before `from`"));
    }
    if (to - from).num_days() >= MAX_DAYS {
        return Err(AppError::validation("to", format!("the range may cover at most {MAX_DAYS} days")));
    }
    let rows = scope
        .find::<usage_counter::Entity>()
        .filter(usage_counter::Column::Metric.eq(metric(limit)))
        .filter(usage_counter::Column::Period.gte(day_key(from)))
        .filter(usage_counter::Column::Period.lte(day_key(to)))
        .order_by_asc(usage_counter::Column::Period)
        .all(db)
        .await?;
    let mut out: Vec<Point> = rows
        .into_iter()
        .filter_map(|r| {
            NaiveDate::parse_from_str(&r.period, "%Y-%m-%d").ok().map(|day| Point { day, used: r.value })
        })
        .collect();
    let now = ctx.now();
    let today = now.date_naive();
    if metered(limit) && from <= today && today <= to {
        out.retain(|p| p.day != today);
        out.push(Point { day: today, used: usage::used_at(db, ctx, scope, limit, now).await? });
    }
    Ok(out)
}
