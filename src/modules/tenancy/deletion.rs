//! Deleting an organisation, with a grace period: an owner's `deleteTenant` marks it
//! (`tenants.deletion_due_at`), which leaves it read-only for everyone and lets an owner take
//! the deletion back (`cancelTenantDeletion`) until it is due; then the `tenancy.purge` job
//! removes its stored files and every row it owns, in one transaction.
//!
//! The purge reads the tables off the database ([`crate::db::catalog`]): every table with a
//! `tenant_id` column (behind the tenant's wall) or an `organisation_id` column (people's
//! notifications, preferences and exports about it), children before the tables they refer
//! to, the organisation's row last — so a new area's tables go too without a list kept here.
//! The platform's own records of it (its security log) stay.

use chrono::{DateTime, SubsecRound, Utc};
use entity::tenant;
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set, Statement};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    events::{self, TenantEventKind},
    service::event,
};
use crate::{
    access::{Change, TenantCtx, TenantTx},
    auth::Permission,
    ctx::Ctx,
    db::{catalog, lock_tenant},
    error::{AppError, AppResult},
    jobs::{Handler, JobError, JobResult, NewJob},
};

/// The job kind that removes a deleted organisation's data once it is due.
pub const PURGE: &str = "tenancy.purge";

/// Tables whose rows about an organisation outlive it: the platform's own records.
const KEPT: &[&str] = &["platform_security_events", "platform_audit_entries"];

#[derive(Serialize, Deserialize)]
struct PurgeJob {
    tenant: Uuid,
    /// The deletion this job was queued for: a deletion taken back and made again queues a
    /// new job, and the old one finds a different due time and does nothing.
    due: DateTime<Utc>,
}

/// Owner-only, and the slug must be typed back.
pub(super) fn check_owner_confirmation(
    tctx: &TenantCtx,
    t: &tenant::Model,
    confirm_slug: &str,
) -> AppResult<()> {
    tctx.require(Permission::TenantDelete)?;
    if tctx.role_key != "owner" {
        return Err(AppError::ForbiddenWith("only an owner can do this".into()));
    }
    if confirm_slug.trim() != t.slug {
        return Err(AppError::validation("confirmSlug", "type the organisation's slug to confirm"));
    }
    Ok(())
}

fn summary(t: &tenant::Model) -> serde_json::Value {
    serde_json::json!({ "name": t.name, "slug": t.slug, "deletionDueAt": t.deletion_due_at })
}

/// `summary` with the operator's reason, when a platform operator acts.
fn with_reason(mut v: serde_json::Value, reason: Option<&str>) -> serde_json::Value {
    if let (Some(r), Some(map)) = (reason, v.as_object_mut()) {
        map.insert("reason".into(), r.into());
    }
    v
}

/// The platform audit entry of an operator's action (none for an owner's).
async fn platform_entry(
    db: &impl ConnectionTrait,
    tctx: &TenantCtx,
    action: &str,
    t: &tenant::Model,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let Some(reason) = reason else { return Ok(()) };
    crate::access::platform::audit(
        db,
        crate::access::platform::PlatformEntry {
            actor_id: Some(tctx.user_id),
            action,
            organisation_id: Some(t.id),
            target_type: "Tenant",
            target_id: Some(t.id.to_string()),
            reason: Some(reason.to_string()),
            metadata: Some(serde_json::json!({ "slug": t.slug, "deletionDueAt": t.deletion_due_at })),
        },
        now,
    )
    .await?;
    Ok(())
}

/// Schedules the organisation's deletion after the grace period
/// (`ZYGO_TENANT_DELETION_GRACE_DAYS`). Refused while a paid plan still renews (cancel it
/// first, so nothing is charged for an organisation on its way out) or when already scheduled.
pub async fn schedule(ctx: &Ctx, tctx: &TenantCtx, confirm_slug: &str) -> AppResult<tenant::Model> {
    let current = super::service::get_tenant(ctx, tctx).await?;
    check_owner_confirmation(tctx, &current, confirm_slug)?;
    schedule_checked(ctx, tctx, None).await
}

/// [`schedule`] by a platform operator (`adminDeleteTenant`): `tctx` is
/// [`TenantCtx::platform_operator`] (the caller checked the platform role), `reason` is
/// recorded in the organisation's audit entry (actor `platform_admin`) and in the platform
/// audit log, in the same transaction.
pub async fn schedule_by_platform(ctx: &Ctx, tctx: &TenantCtx, reason: &str) -> AppResult<tenant::Model> {
    schedule_checked(ctx, tctx, Some(reason)).await
}

async fn schedule_checked(
    ctx: &Ctx,
    tctx: &TenantCtx,
    platform_reason: Option<&str>,
) -> AppResult<tenant::Model> {
    let updated = change_deletion(ctx, tctx, platform_reason, true).await?;
    let due = updated.deletion_due_at.unwrap_or_default();
    tracing::info!(tenant_id = %updated.id, due = %due, user_id = %tctx.user_id, "organisation deletion scheduled");
    Ok(updated)
}

/// Schedules (`schedule`) or takes back the deletion in one transaction: the checks, the row,
/// for a schedule the purge job, the organisation's audit entry (and the platform's when an
/// operator acts), the live event.
async fn change_deletion(
    ctx: &Ctx,
    tctx: &TenantCtx,
    platform_reason: Option<&str>,
    schedule: bool,
) -> AppResult<tenant::Model> {
    let mut tx = TenantTx::open(ctx, tctx).await?;
    let scope = tx.scope();
    lock_tenant(&tx, scope).await?;
    let current = scope.find::<tenant::Entity>().one(&tx).await?.ok_or(AppError::NotFound("tenant"))?;
    match (schedule, current.deletion_due_at.is_some()) {
        (true, true) => {
            return Err(AppError::rejected(
                "DELETION_SCHEDULED",
                "id",
                "the organisation is already scheduled for deletion",
            ));
        }
        (false, false) => {
            return Err(AppError::rejected(
                "NOT_SCHEDULED",
                "id",
                "the organisation is not scheduled for deletion",
            ));
        }
        _ => {}
    }
    if schedule && crate::modules::billing::service::renews(&tx, scope).await? {
        return Err(AppError::rejected(
            "PAID_PLAN_ACTIVE",
            "id",
            "the organisation's paid plan still renews: cancel it first (cancelSubscription)",
        ));
    }
    let now = ctx.now();
    // To the microsecond PostgreSQL keeps, so the job's copy equals the stored one.
    let due = schedule.then(|| {
        (now + chrono::Duration::days(ctx.config.retention.tenant_deletion_grace_days as i64))
            .trunc_subsecs(6)
    });
    let mut am: tenant::ActiveModel = current.clone().into();
    am.deletion_due_at = Set(due);
    am.updated_at = Set(now);
    let updated = am.update(&tx).await?;
    if let Some(due) = due {
        let job = NewJob::new(PURGE, &PurgeJob { tenant: updated.id, due })
            .key(format!("{}:{}", updated.id, due.timestamp()))
            .at(due)
            .attempts(60);
        tx.enqueue_system(job).await?;
    }
    let (action, platform_action) = if schedule {
        ("tenant.deletion_scheduled", "admin.tenant_deletion_scheduled")
    } else {
        ("tenant.deletion_cancelled", "admin.tenant_deletion_cancelled")
    };
    tx.audit(Change {
        action,
        target_type: "Tenant",
        target_id: Some(updated.id),
        before: Some(summary(&current)),
        after: Some(with_reason(summary(&updated), platform_reason)),
    })
    .await?;
    platform_entry(&tx, tctx, platform_action, &updated, platform_reason, now).await?;
    tx.emit(
        events::topic(updated.id),
        &event(TenantEventKind::TenantUpdated, updated.id, None, Some(tctx.user_id), now),
    );
    tx.commit().await?;
    Ok(updated)
}

/// Takes a scheduled deletion back (owner-only, slug typed back).
pub async fn cancel(ctx: &Ctx, tctx: &TenantCtx, confirm_slug: &str) -> AppResult<tenant::Model> {
    let current = super::service::get_tenant(ctx, tctx).await?;
    check_owner_confirmation(tctx, &current, confirm_slug)?;
    cancel_checked(ctx, tctx, None).await
}

/// [`cancel`] by a platform operator (`adminCancelTenantDeletion`); audited like
/// [`schedule_by_platform`].
pub async fn cancel_by_platform(ctx: &Ctx, tctx: &TenantCtx, reason: &str) -> AppResult<tenant::Model> {
    cancel_checked(ctx, tctx, Some(reason)).await
}

async fn cancel_checked(
    ctx: &Ctx,
    tctx: &TenantCtx,
    platform_reason: Option<&str>,
) -> AppResult<tenant::Model> {
    change_deletion(ctx, tctx, platform_reason, false).await
}

/// Removes a deleted organisation's data when its grace period is over.
pub struct Purge;

#[async_trait::async_trait]
impl Handler for Purge {
    fn kind(&self) -> &'static str {
        PURGE
    }

    async fn run(&self, ctx: &Ctx, job: &entity::job::Model) -> JobResult {
        let p: PurgeJob =
            serde_json::from_value(job.payload.clone()).map_err(|e| JobError::Fail(e.to_string()))?;
        let tctx = TenantCtx::system(p.tenant);
        let org =
            tctx.scope().find_by_id::<tenant::Entity, _>(&tctx.on(&ctx.db), p.tenant).await.map_err(retry)?;
        tctx.reads.release().await;
        // Gone already (a retry after the commit), or taken back: nothing to do.
        let Some(org) = org.filter(|t| t.deletion_due_at == Some(p.due)) else { return Ok(()) };
        if p.due > ctx.now() {
            return Err(JobError::Retry("not due yet".into()));
        }
        purge(ctx, &org).await.map_err(retry)?;
        Ok(())
    }
}

fn retry(e: impl std::fmt::Display) -> JobError {
    JobError::Retry(e.to_string())
}

/// Removes `org`'s stored files, then every row it owns and its own row, in one transaction
/// (a failure leaves everything in place for the retry).
pub async fn purge(ctx: &Ctx, org: &tenant::Model) -> AppResult<()> {
    // Files first: a retry after a failure below finds fewer (removing is idempotent), while the
    // other order could leave files behind with nothing pointing at them.
    let files =
        ctx.storage.delete_prefix(&org.id.to_string()).await.map_err(|e| anyhow::anyhow!("storage: {e}"))?;
    let tctx = TenantCtx::system(org.id);
    let tx = TenantTx::open(ctx, &tctx).await?;
    let tables = catalog::tables(&tx).await?;
    let refs = catalog::references(&tx).await?;
    let owned: Vec<String> = tables
        .iter()
        .filter(|(t, cols)| {
            t.as_str() != "tenants"
                && !KEPT.contains(&t.as_str())
                && cols.iter().any(|c| c == "tenant_id" || c == "organisation_id")
        })
        .map(|(t, _)| t.clone())
        .collect();
    let backend = tx.get_database_backend();
    let mut rows = 0u64;
    for table in catalog::children_first(&owned, &refs) {
        let cols = &tables[&table];
        let column = if cols.iter().any(|c| c == "tenant_id") { "tenant_id" } else { "organisation_id" };
        let sql = format!(
            "DELETE FROM {} WHERE {} = {}",
            catalog::ident(&table),
            catalog::ident(column),
            if backend == sea_orm::DbBackend::Postgres { "$1" } else { "?" }
        );
        rows += tx
            .execute_raw(Statement::from_sql_and_values(backend, sql, [org.id.into()]))
            .await?
            .rows_affected();
    }
    // Its queued jobs went with the tables above; this purge is a system job and stays.
    tctx.scope().delete_many::<tenant::Entity>().exec(&tx).await?;
    let mut tx = tx;
    tx.emit(events::topic(org.id), &event(TenantEventKind::TenantDeleted, org.id, None, None, ctx.now()));
    tx.commit().await?;
    ctx.access_changed(crate::access::AccessChanged::Tenant(org.id)).await;
    tracing::info!(tenant_id = %org.id, slug = %org.slug, rows, files, "organisation purged");
    Ok(())
}

/// Tenancy's job handlers.
pub fn register(registry: crate::jobs::Registry) -> crate::jobs::Registry {
    registry.handler(Purge)
}
