//! Data retention: the `retention.sweep` job (every `ZYGO_RETENTION_INTERVAL`) removes what
//! has outlived its period — per organisation (its `settings.retention`, never beyond the
//! platform's `ZYGO_RETENTION_*` maxima): audit entries, finished workflow runs with their
//! node states and logs, webhook deliveries; platform-wide: security events, and the rows that
//! only ever pile up — expired OAuth states, MFA challenges, one-time tokens and refresh tokens,
//! sessions ended a month ago, quiet sign-in throttles, mail sent a month ago.
//!
//! Owns no table: it deletes from the areas' tables by their own age columns, in batches, so a
//! large backlog is worked off over several runs without one long transaction.

use chrono::{DateTime, Duration, Utc};
use entity::{
    audit_entry, auth_throttle, execution, mail_outbox, mfa_challenge, oauth_state, refresh_token,
    security_event, session, tenant, user_token, webhook_delivery,
};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::{
    ctx::Ctx,
    error::AppResult,
    jobs::{Handler, JobResult, Registry},
};

pub const SWEEP: &str = "retention.sweep";

/// Most rows one statement deletes (the next run takes the rest).
const BATCH: u64 = 5_000;

/// Retention's handler and schedule.
pub fn register(registry: Registry, every: std::time::Duration) -> Registry {
    registry.handler(Sweep).every(SWEEP, every)
}

struct Sweep;

#[async_trait::async_trait]
impl Handler for Sweep {
    fn kind(&self) -> &'static str {
        SWEEP
    }

    async fn run(&self, ctx: &Ctx, _job: &entity::job::Model) -> JobResult {
        let removed = sweep(ctx).await?;
        if removed > 0 {
            tracing::info!(removed, "retention removed expired rows");
        }
        Ok(())
    }
}

/// Deletes the rows of `E` matching `cond`, at most [`BATCH`], by id (portable: PostgreSQL has
/// no `DELETE … LIMIT`).
async fn delete_batch<E>(db: &impl ConnectionTrait, id: E::Column, cond: Condition) -> AppResult<u64>
where
    E: EntityTrait,
{
    let ids: Vec<Uuid> =
        E::find().select_only().column(id).filter(cond).limit(BATCH).into_tuple().all(db).await?;
    if ids.is_empty() {
        return Ok(0);
    }
    Ok(E::delete_many().filter(id.is_in(ids)).exec(db).await?.rows_affected)
}

/// One pass; returns how many rows went.
pub async fn sweep(ctx: &Ctx) -> AppResult<u64> {
    let now = ctx.now();
    let max = &ctx.config.retention;
    let days = |d: u32| now - Duration::days(d as i64);
    // Across tenants: retention looks at every organisation's rows by age, then at each
    // organisation that keeps less than the maxima.
    let all = crate::db::across_tenants(&ctx.db);
    let mut n = 0;
    n += tenant_rows(
        &all,
        None,
        (days(max.audit_days), days(max.execution_days), days(max.webhook_delivery_days)),
    )
    .await?;
    let tenants: Vec<(Uuid, Option<serde_json::Value>)> = tenant::Entity::find()
        .select_only()
        .column(tenant::Column::Id)
        .column(tenant::Column::Settings)
        .filter(tenant::Column::Settings.is_not_null())
        .into_tuple()
        .all(&all)
        .await?;
    for (id, settings) in tenants {
        let Some(r) = settings.and_then(|s| s.get("retention").cloned()) else { continue };
        let r: crate::modules::tenancy::admin::Retention = serde_json::from_value(r).unwrap_or_default();
        if r == Default::default() {
            continue;
        }
        let (a, e, w) = r.effective(max);
        n += tenant_rows(&all, Some(id), (days(a), days(e), days(w))).await?;
    }
    n += platform_rows(&all, now, days(max.security_event_days)).await?;
    // People's notifications (not an organisation's rows): by age alone; one still waiting
    // for its mail or digest is kept until that has gone.
    n += delete_batch::<entity::notification::Entity>(
        &ctx.db,
        entity::notification::Column::Id,
        Condition::all()
            .add(entity::notification::Column::CreatedAt.lt(days(max.notification_days)))
            .add(entity::notification::Column::EmailPending.eq(false))
            .add(entity::notification::Column::DigestPending.eq(false)),
    )
    .await?;
    // Data exports past their week: the archive goes, the record of the request stays.
    n += entity::data_export::Entity::update_many()
        .col_expr(entity::data_export::Column::Status, sea_orm::sea_query::Expr::value("EXPIRED"))
        .col_expr(
            entity::data_export::Column::Archive,
            sea_orm::sea_query::Expr::value(Option::<Vec<u8>>::None),
        )
        .filter(entity::data_export::Column::Status.eq("READY"))
        .filter(entity::data_export::Column::ExpiresAt.lt(now))
        .exec(&crate::db::across_tenants(&ctx.db))
        .await?
        .rows_affected;
    Ok(n)
}

/// Audit entries, finished runs and webhook deliveries older than the cut-offs, of `tenant`
/// (or of every organisation).
async fn tenant_rows(
    db: &impl ConnectionTrait,
    tenant: Option<Uuid>,
    (audit, runs, deliveries): (DateTime<Utc>, DateTime<Utc>, DateTime<Utc>),
) -> AppResult<u64> {
    fn of<C: ColumnTrait>(col: C, tenant: Option<Uuid>) -> Condition {
        match tenant {
            Some(t) => Condition::all().add(col.eq(t)),
            None => Condition::all(),
        }
    }
    let mut n = delete_batch::<audit_entry::Entity>(
        db,
        audit_entry::Column::Id,
        of(audit_entry::Column::TenantId, tenant).add(audit_entry::Column::CreatedAt.lt(audit)),
    )
    .await?;
    // A run's node states and logs go with it (their foreign keys cascade).
    n += delete_batch::<execution::Entity>(
        db,
        execution::Column::Id,
        of(execution::Column::TenantId, tenant).add(execution::Column::CreatedAt.lt(runs)).add(
            execution::Column::Status.is_in([
                execution::ExecutionStatus::Succeeded,
                execution::ExecutionStatus::Failed,
                execution::ExecutionStatus::Cancelled,
            ]),
        ),
    )
    .await?;
    n += delete_batch::<webhook_delivery::Entity>(
        db,
        webhook_delivery::Column::Id,
        of(webhook_delivery::Column::TenantId, tenant)
            .add(webhook_delivery::Column::CreatedAt.lt(deliveries)),
    )
    .await?;
    Ok(n)
}

/// The platform's own rows that only pile up.
async fn platform_rows(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    events: DateTime<Utc>,
) -> AppResult<u64> {
    let day_ago = now - Duration::days(1);
    let month_ago = now - Duration::days(30);
    let mut n = delete_batch::<security_event::Entity>(
        db,
        security_event::Column::Id,
        Condition::all().add(security_event::Column::CreatedAt.lt(events)),
    )
    .await?;
    n += delete_batch::<oauth_state::Entity>(
        db,
        oauth_state::Column::Id,
        Condition::all().add(oauth_state::Column::ExpiresAt.lt(day_ago)),
    )
    .await?;
    n += delete_batch::<mfa_challenge::Entity>(
        db,
        mfa_challenge::Column::Id,
        Condition::all().add(mfa_challenge::Column::ExpiresAt.lt(day_ago)),
    )
    .await?;
    n += delete_batch::<user_token::Entity>(
        db,
        user_token::Column::Id,
        Condition::all().add(user_token::Column::ExpiresAt.lt(day_ago)),
    )
    .await?;
    // Sessions that ended a month ago, their refresh tokens first.
    let ended = Condition::any()
        .add(session::Column::RevokedAt.lt(month_ago))
        .add(session::Column::ExpiresAt.lt(month_ago));
    let old: Vec<Uuid> = session::Entity::find()
        .select_only()
        .column(session::Column::Id)
        .filter(ended)
        .limit(BATCH)
        .into_tuple()
        .all(db)
        .await?;
    if !old.is_empty() {
        n += refresh_token::Entity::delete_many()
            .filter(refresh_token::Column::SessionId.is_in(old.clone()))
            .exec(db)
            .await?
            .rows_affected;
        n += session::Entity::delete_many()
            .filter(session::Column::Id.is_in(old))
            .exec(db)
            .await?
            .rows_affected;
    }
    n += delete_batch::<refresh_token::Entity>(
        db,
        refresh_token::Column::Id,
        Condition::all().add(refresh_token::Column::ExpiresAt.lt(day_ago)),
    )
    .await?;
    // A throttle quiet for a week starts afresh (its escalation included).
    let week_ago = now - Duration::days(7);
    let quiet = Condition::all().add(auth_throttle::Column::UpdatedAt.lt(week_ago)).add(
        Condition::any()
            .add(auth_throttle::Column::LockedUntil.is_null())
            .add(auth_throttle::Column::LockedUntil.lt(now)),
    );
    n += auth_throttle::Entity::delete_many().filter(quiet).exec(db).await?.rows_affected;
    n += delete_batch::<mail_outbox::Entity>(
        db,
        mail_outbox::Column::Id,
        Condition::all()
            .add(
                mail_outbox::Column::Status
                    .is_in([mail_outbox::MailStatus::Sent, mail_outbox::MailStatus::Failed]),
            )
            .add(mail_outbox::Column::CreatedAt.lt(month_ago)),
    )
    .await?;
    Ok(n)
}
