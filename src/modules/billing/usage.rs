//! Usage metering and plan gates: what an organisation uses of each limit of its plan, the
//! check before a use (`QUOTA_EXCEEDED`, naming the limit, the use and the reset time), the
//! feature gate (`PLAN_REQUIRED`, naming the feature and the cheapest plan that has it),
//! and the counters of per-period limits.
//!
//! Counts are exact under concurrency and across instances: rows that exist now are counted
//! under the tenant's write lock, per-period uses are one counter row per period, incremented
//! and checked in the caller's transaction (a refused use rolls back with it).

use chrono::{DateTime, Datelike, TimeZone, Utc};
use entity::{cloud_server, invitation, membership, team, usage_counter, workflow};
use sea_orm::{
    ColumnTrait, ConnectionTrait, PaginatorTrait, QueryFilter, Set,
    sea_query::{ExprTrait, OnConflict},
};
use serde_json::json;
use uuid::Uuid;

use super::{
    plans::{Catalog, Limit, Overrides, Period, Plan},
    service,
};
use crate::{
    access::TenantTx,
    ctx::Ctx,
    db::{TenantScope, lock_tenant},
    error::{AppError, AppResult},
};

/// The counter key of `limit`'s period containing `now`, and when that period ends.
pub fn period_of(limit: Limit, now: DateTime<Utc>) -> Option<(String, DateTime<Utc>)> {
    match limit.period() {
        Period::Current => None,
        Period::Month => {
            let start = Utc.with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0).single()?;
            let end = start.checked_add_months(chrono::Months::new(1))?;
            Some((now.format("%Y-%m").to_string(), end))
        }
        Period::Day => {
            let start = Utc.with_ymd_and_hms(now.year(), now.month(), now.day(), 0, 0, 0).single()?;
            Some((now.format("%Y-%m-%d").to_string(), start + chrono::Duration::days(1)))
        }
    }
}

/// Whether Zygo counts `limit` (every limit now). Servers are the organisation's cloud servers
/// until their deletion at the provider removes them; API operations are counted per operation served (see
/// [`super::metering`]); outbound mails when an organisation's mail is queued
/// (`mail::enqueue_for_tenant`); storage is the bytes of every stored resource version
/// (resources in the bin included: they can be restored); collected records as a collection
/// job ingests new ones.
pub fn metered(limit: Limit) -> bool {
    matches!(
        limit,
        Limit::Members
            | Limit::Teams
            | Limit::Workflows
            | Limit::ExecutionsPerMonth
            | Limit::ApiOperationsPerMonth
            | Limit::OutboundMailsPerDay
            | Limit::StorageBytes
            | Limit::CollectedRecordsPerMonth
            | Limit::Servers
            | Limit::CloudProviders
    )
}

/// Bytes of every stored resource version of the organisation.
async fn storage_bytes(db: &impl ConnectionTrait, scope: TenantScope) -> AppResult<i64> {
    use sea_orm::QuerySelect;
    // SUM of a BIGINT is NUMERIC on PostgreSQL: cast back so both backends decode an i64.
    let total: Option<i64> = scope
        .find::<entity::resource_version::Entity>()
        .select_only()
        .expr(sea_orm::sea_query::Expr::cust("CAST(COALESCE(SUM(size_bytes), 0) AS BIGINT)"))
        .into_tuple()
        .one(db)
        .await?;
    Ok(total.unwrap_or(0))
}

/// The value of the organisation's `usage_counters` row of `limit` in `period` (0 without).
pub async fn counter(
    db: &impl ConnectionTrait,
    scope: TenantScope,
    limit: Limit,
    period: &str,
) -> AppResult<i64> {
    Ok(scope
        .find::<usage_counter::Entity>()
        .filter(usage_counter::Column::Metric.eq(limit.key()))
        .filter(usage_counter::Column::Period.eq(period))
        .one(db)
        .await?
        .map_or(0, |c| c.value))
}

/// What the organisation uses of `limit` now (members: active and suspended memberships).
pub async fn used(
    db: &impl ConnectionTrait,
    scope: TenantScope,
    limit: Limit,
    now: DateTime<Utc>,
) -> AppResult<i64> {
    let n = match limit {
        Limit::Members => scope.find::<membership::Entity>().count(db).await?,
        Limit::Teams => scope.find::<team::Entity>().count(db).await?,
        Limit::Workflows => scope.find::<workflow::Entity>().count(db).await?,
        Limit::Servers => {
            scope
                .find::<cloud_server::Entity>()
                .filter(cloud_server::Column::Status.ne(cloud_server::ServerStatus::Deleted))
                .count(db)
                .await?
        }
        Limit::CloudProviders => scope.find::<entity::cloud_provider::Entity>().count(db).await?,
        Limit::StorageBytes => return storage_bytes(db, scope).await,
        _ => match period_of(limit, now) {
            Some((period, _)) => return counter(db, scope, limit, &period).await,
            None => 0,
        },
    };
    Ok(n as i64)
}

/// [`used`] at `at`, reading the API operations' counter where it lives (Redis when
/// configured, see [`super::metering`]).
pub async fn used_at(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    scope: TenantScope,
    limit: Limit,
    at: DateTime<Utc>,
) -> AppResult<i64> {
    match (limit, period_of(limit, at)) {
        (Limit::ApiOperationsPerMonth, Some((period, _))) => {
            super::metering::operations_used(ctx, db, scope, &period).await
        }
        _ => used(db, scope, limit, at).await,
    }
}

/// The allowance of `limit` past which a use is refused: the plan's limit, unless the plan
/// sells use beyond it in the subscription's currency (then it is billed as overage on the
/// next renewal instead, see `invoices::overage_lines`).
pub fn hard_limit(
    plan: &Plan,
    overrides: &Overrides,
    sub: Option<&entity::subscription::Model>,
    limit: Limit,
) -> Option<i64> {
    let priced = sub.is_some_and(|s| plan.overage_price(limit, &s.currency).is_some());
    overrides.limit(plan, limit).filter(|_| !priced)
}

/// The organisation's own limits over its plan's (see [`Overrides`]).
pub async fn overrides_of(db: &impl ConnectionTrait, scope: TenantScope) -> AppResult<Overrides> {
    let t = scope.find_by_id::<entity::tenant::Entity, _>(db, scope.tenant_id()).await?;
    Ok(Overrides::from_json(t.and_then(|t| t.limit_overrides).as_ref()))
}

/// Pending invitations hold a seat until they are accepted or revoked.
async fn pending_invitations(
    db: &impl ConnectionTrait,
    scope: TenantScope,
    now: DateTime<Utc>,
) -> AppResult<i64> {
    Ok(scope
        .find::<invitation::Entity>()
        .filter(invitation::Column::Status.eq("pending"))
        .filter(invitation::Column::ExpiresAt.gt(now))
        .count(db)
        .await? as i64)
}

fn quota_exceeded(limit: Limit, used: i64, allowed: i64, resets_at: Option<DateTime<Utc>>) -> AppError {
    AppError::Plan {
        code: "QUOTA_EXCEEDED",
        message: format!("the plan allows {allowed} {} and {used} are used", limit.key()),
        details: json!({ "limit": limit.key(), "used": used, "allowed": allowed, "resetsAt": resets_at }),
    }
}

/// The plan the organisation's limits come from now.
pub async fn plan_of(db: &impl ConnectionTrait, ctx: &Ctx, scope: TenantScope) -> AppResult<&'static Plan> {
    let catalog: &'static Catalog = super::plans::catalog(&ctx.config)?;
    let sub = service::current(db, scope).await?;
    Ok(service::granted_plan(catalog, sub.as_ref(), ctx.now(), &ctx.config))
}

/// Refuses with `QUOTA_EXCEEDED` unless `adding` more of a counted-now `limit` fit the plan.
/// Takes the tenant's write lock first, so two concurrent creations cannot both take the
/// last place (see [`check_room`] for a check before work that must not hold the lock).
pub async fn require_room(tx: &mut TenantTx<'_>, limit: Limit, adding: i64) -> AppResult<()> {
    let scope = tx.scope();
    lock_tenant(&*tx, scope).await?;
    let plan = plan_of(&*tx, tx.ctx(), scope).await?;
    let Some(allowed) = overrides_of(&*tx, scope).await?.limit(plan, limit) else { return Ok(()) };
    let now = tx.ctx().now();
    let mut used = used(&*tx, scope, limit, now).await?;
    if limit == Limit::Members {
        used += pending_invitations(&*tx, scope, now).await?;
    }
    if used + adding > allowed {
        return Err(quota_exceeded(limit, used, allowed, None));
    }
    if notify_owners(&*tx, &tx.ctx().config, tx.ctx().now(), scope, limit, used, used + adding, allowed)
        .await?
    {
        tx.wake_mail();
    }
    // Published only if the use commits.
    service::event(tx, service::BillingEventKind::UsageUpdated, None);
    Ok(())
}

/// [`require_room`]'s refusal without the lock, the owners' mail or the event: an early,
/// cheap check before long work (an upload streamed to storage), which `require_room`
/// confirms in the transaction that records the use.
pub async fn check_room(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    scope: TenantScope,
    limit: Limit,
    adding: i64,
) -> AppResult<()> {
    let plan = plan_of(db, ctx, scope).await?;
    let Some(allowed) = overrides_of(db, scope).await?.limit(plan, limit) else { return Ok(()) };
    let used = used(db, scope, limit, ctx.now()).await?;
    if used + adding > allowed {
        return Err(quota_exceeded(limit, used, allowed, None));
    }
    Ok(())
}

/// The thresholds owners hear about, in per cent of a limit.
const THRESHOLDS: &[i64] = &[100, 80];

/// Queues a mail to the organisation's owners (in `db`'s transaction: it is sent only if the
/// use commits) when going from `before` to `after` crosses 80 % or 100 % of `allowed` (the
/// highest threshold crossed). Returns whether a mail was queued.
#[allow(clippy::too_many_arguments)]
async fn notify_owners(
    db: &impl ConnectionTrait,
    config: &crate::config::Config,
    now: DateTime<Utc>,
    scope: TenantScope,
    limit: Limit,
    before: i64,
    after: i64,
    allowed: i64,
) -> AppResult<bool> {
    let crossed =
        THRESHOLDS.iter().copied().find(|t| before * 100 < t * allowed && after * 100 >= t * allowed);
    let Some(percent) = crossed.filter(|_| allowed > 0) else { return Ok(false) };
    let Some(org) = scope.find_by_id::<entity::tenant::Entity, _>(db, scope.tenant_id()).await? else {
        return Ok(false);
    };
    let emails = service::owner_emails(db, scope).await?;
    let what = limit.label();
    let link = format!("{}/o/{}/billing", config.public_url, org.slug);
    for email in &emails {
        let mail = crate::mail::templates::usage_threshold(&org.name, what, after, allowed, percent, &link);
        crate::mail::enqueue(db, email, mail).await?;
    }
    // And in the owners' notification centres (the mail above is the e-mail channel's).
    use crate::modules::notifications::{catalog::NotificationKind, service as notifications};
    let notice = notifications::Notice {
        kind: NotificationKind::PlanLimitNear,
        organisation: Some(scope.tenant_id()),
        recipients: notifications::Recipients::Owners,
        title: format!("{} has used {percent} % of its {what}", org.name),
        body: format!("{after} of the {allowed} {what} its plan allows are used."),
        link: Some(format!("/o/{}/billing", org.slug)),
        data: serde_json::json!({ "limit": limit.key(), "used": after, "allowed": allowed, "percent": percent }),
        except: None,
    };
    notifications::notify(db, now, &notice).await?;
    Ok(!emails.is_empty())
}

/// A per-period use refused: the plan's allowance is used up until `resets_at`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exceeded {
    pub limit: Limit,
    pub used: i64,
    pub allowed: i64,
    pub resets_at: DateTime<Utc>,
}

impl Exceeded {
    pub fn error(self) -> AppError {
        quota_exceeded(self.limit, self.used, self.allowed, Some(self.resets_at))
    }
}

/// Counts `n` uses of a per-period `limit` in `db`'s transaction, unless the plan's allowance
/// for the period would be passed: then nothing is counted and `Exceeded` says why. One
/// conditional increment returning the new count: concurrent uses queue on the counter row,
/// and each sees the others' counts.
pub async fn record(
    db: &impl ConnectionTrait,
    config: &crate::config::Config,
    scope: TenantScope,
    limit: Limit,
    n: i64,
    now: DateTime<Utc>,
) -> AppResult<Result<(), Exceeded>> {
    let Some((period, resets_at)) = period_of(limit, now) else { return Ok(Ok(())) };
    let sub = service::current(db, scope).await?;
    let plan = service::granted_plan(super::plans::catalog(config)?, sub.as_ref(), now, config);
    let allowed = hard_limit(plan, &overrides_of(db, scope).await?, sub.as_ref(), limit);
    let increment = || {
        let mut update = scope
            .update_many::<usage_counter::Entity>()
            .col_expr(
                usage_counter::Column::Value,
                sea_orm::sea_query::Expr::col(usage_counter::Column::Value).add(n),
            )
            .col_expr(usage_counter::Column::UpdatedAt, sea_orm::sea_query::Expr::value(now))
            .filter(usage_counter::Column::Metric.eq(limit.key()))
            .filter(usage_counter::Column::Period.eq(&period));
        if let Some(allowed) = allowed {
            update = update.filter(usage_counter::Column::Value.lte(allowed - n));
        }
        update
    };
    let mut counted = increment().exec_with_returning(db).await?;
    if counted.is_empty() {
        // The period's first use (no counter yet), or the allowance is used up: create the
        // counter (nothing happens if it exists) and try once more.
        scope
            .insert_many([usage_counter::ActiveModel {
                id: Set(Uuid::now_v7()),
                tenant_id: Set(scope.tenant_id()),
                metric: Set(limit.key().into()),
                period: Set(period.clone()),
                value: Set(0),
                updated_at: Set(now),
            }])
            .on_conflict(
                OnConflict::columns([
                    usage_counter::Column::TenantId,
                    usage_counter::Column::Metric,
                    usage_counter::Column::Period,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
        counted = increment().exec_with_returning(db).await?;
    }
    match (counted.first(), allowed) {
        (Some(counter), Some(allowed)) => {
            notify_owners(db, config, now, scope, limit, counter.value - n, counter.value, allowed).await?;
            Ok(Ok(()))
        }
        (Some(_), None) => Ok(Ok(())),
        (None, _) => {
            let used = used(db, scope, limit, now).await?;
            Ok(Err(Exceeded { limit, used, allowed: allowed.unwrap_or(0), resets_at }))
        }
    }
}

/// Refuses with `PLAN_REQUIRED` unless the organisation's plan (or a feature flag on top of
/// it) has `feature`.
pub async fn require_feature(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    scope: TenantScope,
    feature: &str,
) -> AppResult<()> {
    let plan = plan_of(db, ctx, scope).await?;
    // The platform's feature flags win over the plan for their keys.
    // (From memory: the plan is known and no viewer's platform role is asked.)
    let reads = crate::db::Reads::default();
    let flags = ctx.features.evaluate(ctx, &reads, scope.tenant_id(), Some(&plan.key), None).await?;
    let features = service::with_flags(service::features_of(plan, db, scope).await?, &flags);
    if features.get(feature).copied().unwrap_or(false) {
        return Ok(());
    }
    let catalog = super::plans::catalog(&ctx.config)?;
    let cheapest = catalog.cheapest_with(feature);
    Err(AppError::Plan {
        code: "PLAN_REQUIRED",
        message: match cheapest {
            Some(p) => format!("`{feature}` needs the {} plan or higher", p.name),
            None => format!("`{feature}` is not available on any plan"),
        },
        details: json!({ "feature": feature, "plan": cheapest.map(|p| p.key.clone()) }),
    })
}

/// Use of every limit of the plan, for `Tenant.usage`.
pub struct LimitUse {
    pub limit: Limit,
    pub used: i64,
    pub allowed: Option<i64>,
    pub metered: bool,
    pub resets_at: Option<DateTime<Utc>>,
}

pub async fn usage(db: &impl ConnectionTrait, ctx: &Ctx, scope: TenantScope) -> AppResult<Vec<LimitUse>> {
    let plan = plan_of(db, ctx, scope).await?;
    let overrides = overrides_of(db, scope).await?;
    let now = ctx.now();
    let mut out = Vec::new();
    for &limit in Limit::ALL {
        out.push(LimitUse {
            limit,
            used: used_at(db, ctx, scope, limit, now).await?,
            allowed: overrides.limit(plan, limit),
            metered: metered(limit),
            resets_at: period_of(limit, now).map(|(_, end)| end),
        });
    }
    Ok(out)
}

/// The counted-now limits `plan` would be exceeded on, for a downgrade.
pub async fn over_limits(
    db: &impl ConnectionTrait,
    scope: TenantScope,
    plan: &Plan,
    now: DateTime<Utc>,
) -> AppResult<Vec<LimitUse>> {
    let overrides = overrides_of(db, scope).await?;
    let mut out = Vec::new();
    for &limit in Limit::ALL.iter().filter(|l| l.period() == Period::Current && metered(**l)) {
        let used = used(db, scope, limit, now).await?;
        if let Some(allowed) = overrides.limit(plan, limit).filter(|a| used > *a) {
            out.push(LimitUse { limit, used, allowed: Some(allowed), metered: true, resets_at: None });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_calendar_months_and_days_in_utc() {
        let now = Utc.with_ymd_and_hms(2026, 12, 31, 23, 59, 0).unwrap();
        let (key, end) = period_of(Limit::ExecutionsPerMonth, now).unwrap();
        assert_eq!(key, "2026-12");
        assert_eq!(end, Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap());
        let (key, end) = period_of(Limit::OutboundMailsPerDay, now).unwrap();
        assert_eq!(key, "2026-12-31");
        assert_eq!(end, Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap());
        assert!(period_of(Limit::Teams, now).is_none());
    }
}
