//! Billing's background jobs (on `crate::jobs`):
//! - `billing.sweep` (every `ZYGO_BILLING_INTERVAL`): enqueues a step for each due subscription
//!   ([`renewals::sweep`]).
//! - `billing.step`: one subscription's renewal, trial end, scheduled change or dunning retry,
//!   in its tenant's transaction under the write lock ([`renewals`]).
//! - `billing.collect`: charges one invoice through the provider **outside** any transaction
//!   (a provider may take seconds; no lock or connection is held meanwhile), then records the
//!   outcome under the tenant's lock: PAID, or a refusal counted by dunning. The attempt's
//!   idempotency key makes a repeated run (a lost worker, a retry) charge once.
//! - `billing.cancel_recurring`: a subscription that ended in a renewal step (its cancellation
//!   took effect, or dunning ran out) stops recurring at the provider (PayPal's subscriptions
//!   mode), outside the step's transaction.

use entity::{
    invoice::{self, InvoiceStatus},
    job::{self, JobStatus},
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{invoices, providers::ChargeOutcome, renewals, service};
use crate::{
    access::{TenantCtx, TenantTx},
    ctx::Ctx,
    db::lock_tenant,
    error::AppResult,
    jobs::{Handler, JobError, JobResult, Registry},
};

pub const SWEEP: &str = "billing.sweep";
pub const STEP: &str = "billing.step";
pub const COLLECT: &str = "billing.collect";
pub const CANCEL_RECURRING: &str = "billing.cancel_recurring";

/// Billing's handlers and its schedule.
pub fn register(registry: Registry, ctx_interval: std::time::Duration) -> Registry {
    registry.handler(Sweep).handler(Step).handler(Collect).handler(CancelRecurring).every(SWEEP, ctx_interval)
}

#[derive(Serialize, Deserialize)]
pub struct StepJob {
    pub subscription: Uuid,
}

#[derive(Serialize, Deserialize)]
pub struct CollectJob {
    pub invoice: Uuid,
    /// 0 at the period end, n for the n-th dunning retry.
    pub attempt: i32,
}

fn payload<T: for<'de> Deserialize<'de>>(job: &job::Model) -> Result<(Uuid, T), JobError> {
    let tenant = job.tenant_id.ok_or_else(|| JobError::Fail("a billing job without a tenant".into()))?;
    let p = serde_json::from_value(job.payload.clone())
        .map_err(|e| JobError::Fail(format!("unreadable payload: {e}")))?;
    Ok((tenant, p))
}

struct Sweep;

#[async_trait::async_trait]
impl Handler for Sweep {
    fn kind(&self) -> &'static str {
        SWEEP
    }

    async fn run(&self, ctx: &Ctx, _job: &job::Model) -> JobResult {
        renewals::sweep(ctx).await?;
        Ok(())
    }
}

struct Step;

#[async_trait::async_trait]
impl Handler for Step {
    fn kind(&self) -> &'static str {
        STEP
    }

    async fn run(&self, ctx: &Ctx, job: &job::Model) -> JobResult {
        let (tenant, p): (Uuid, StepJob) = payload(job)?;
        renewals::step(ctx, tenant, p.subscription, ctx.now()).await?;
        Ok(())
    }
}

struct Collect;

#[async_trait::async_trait]
impl Handler for Collect {
    fn kind(&self) -> &'static str {
        COLLECT
    }

    async fn run(&self, ctx: &Ctx, job: &job::Model) -> JobResult {
        let (tenant, p): (Uuid, CollectJob) = payload(job)?;
        let tctx = TenantCtx::system(tenant);
        // What to charge, read and let go of before the provider is called.
        let (inv, account) = {
            let tx = TenantTx::open(ctx, &tctx).await?;
            let scope = tx.scope();
            let Some(inv) = scope.find_by_id::<invoice::Entity, _>(&tx, p.invoice).await? else {
                return Err(JobError::Fail(format!("invoice {} does not exist", p.invoice)));
            };
            let account = service::ensure_account(&tx, ctx, scope).await?;
            tx.commit().await?;
            (inv, account)
        };
        if inv.status != InvoiceStatus::Open {
            return Ok(());
        }
        let outcome = invoices::charge(ctx, &account, &inv, p.attempt).await?;
        apply(ctx, &tctx, p, outcome).await?;
        Ok(())
    }
}

struct CancelRecurring;

#[async_trait::async_trait]
impl Handler for CancelRecurring {
    fn kind(&self) -> &'static str {
        CANCEL_RECURRING
    }

    async fn run(&self, ctx: &Ctx, job: &job::Model) -> JobResult {
        let (tenant, p): (Uuid, StepJob) = payload(job)?;
        let tctx = TenantCtx::system(tenant);
        let tx = TenantTx::open(ctx, &tctx).await?;
        let scope = tx.scope();
        let Some(sub) = scope.find_by_id::<entity::subscription::Entity, _>(&tx, p.subscription).await?
        else {
            return Err(JobError::Fail(format!("subscription {} does not exist", p.subscription)));
        };
        let account = service::ensure_account(&tx, ctx, scope).await?;
        tx.commit().await?;
        super::recurring::cancelled(ctx, &account, &sub, false).await?;
        Ok(())
    }
}

/// Records a charge's outcome under the tenant's lock, if the invoice is still open: paid, or
/// a failure for dunning (a refused charge; at a retry also a transfer still unpaid).
async fn apply(ctx: &Ctx, tctx: &TenantCtx, p: CollectJob, outcome: ChargeOutcome) -> AppResult<()> {
    let mut tx = TenantTx::open(ctx, tctx).await?;
    let scope = tx.scope();
    lock_tenant(&tx, scope).await?;
    let Some(inv) = scope.find_by_id::<invoice::Entity, _>(&tx, p.invoice).await? else { return Ok(()) };
    if inv.status != InvoiceStatus::Open {
        return Ok(());
    }
    let awaiting = outcome == ChargeOutcome::AwaitingPayment;
    let (inv, declined) = invoices::apply_charge(&mut tx, inv, outcome).await?;
    let failed = declined.is_some() || (awaiting && p.attempt > 0);
    if failed
        && inv.status == InvoiceStatus::Open
        && let Some(sub) = service::current(&tx, scope).await?
        && Some(sub.id) == inv.subscription_id
    {
        renewals::fail(&mut tx, sub, inv).await?;
    }
    tx.commit().await
}

/// Whether a charge of invoice `id` of `tenant` is queued or running (a new attempt waits
/// for it).
pub(super) async fn collect_pending(db: &impl ConnectionTrait, tenant: Uuid, id: Uuid) -> AppResult<bool> {
    // `jobs` has a nullable tenant (system jobs), so it has no scoped helper: the tenant is
    // named here, and the wall holds it on PostgreSQL as well.
    let n = job::Entity::find()
        .filter(job::Column::TenantId.eq(tenant))
        .filter(job::Column::Kind.eq(COLLECT))
        .filter(job::Column::Key.starts_with(format!("collect:{id}:")))
        .filter(job::Column::Status.is_in([JobStatus::Queued, JobStatus::Running]))
        .count(db)
        .await?;
    Ok(n > 0)
}
