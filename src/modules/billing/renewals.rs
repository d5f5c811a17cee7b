//! Renewals, trial ends, scheduled changes and dunning, run on the job machinery for every
//! organisation whose subscription is due by the instance's clock: the `billing.sweep`
//! schedule finds due subscriptions and enqueues one `billing.step` job each (keyed by the
//! due point, so a step is taken once); a step runs in the tenant's transaction under its
//! write lock and enqueues the `billing.collect` job of the invoice it issues, which charges
//! the provider outside any transaction (see `super::jobs`). The invoice of a renewal carries
//! the key `renewal:<subscription>:<period start>` and each charge attempt its own idempotency
//! key, so running twice (two instances, a retry) never issues or charges twice.
//!
//! A trial that ends without a saved payment method on an instance that takes cards pauses
//! instead of renewing (Stripe's `missing_payment_method: pause`; see `plan_changes::pause`).
//!
//! Dunning: a renewal that cannot be collected (a refused charge, or a transfer unpaid at its
//! due date) makes the subscription PAST_DUE; it is tried again after each of
//! `ZYGO_DUNNING_RETRY_DAYS` (counted from the first failure); after the last one the
//! subscription is CANCELED (its invoice UNCOLLECTIBLE) and the organisation is on Free.

use chrono::{DateTime, Utc};
use entity::{
    invoice::{self, InvoiceStatus},
    subscription::{self, SubscriptionStatus},
};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use uuid::Uuid;

use super::{
    invoices::{self, Amounts, Line, LineKind},
    plans, proration, service,
};
use crate::{
    access::{TenantCtx, TenantTx},
    ctx::Ctx,
    db::lock_tenant,
    error::AppResult,
    jobs::NewJob,
};

/// Enqueues a `billing.step` job for every subscription due now; returns how many were new.
pub async fn sweep(ctx: &Ctx) -> AppResult<usize> {
    let now = ctx.now();
    // Across tenants: the sweep looks for due subscriptions of every organisation; each step
    // then works inside that organisation's own transaction.
    let queue = crate::db::across_tenants(&ctx.db);
    let due: Vec<subscription::Model> = subscription::Entity::find()
        .filter(subscription::Column::CurrentFor.is_not_null())
        // A paused subscription waits for its resumption, not for the clock.
        .filter(subscription::Column::Status.ne(SubscriptionStatus::Paused))
        .filter(
            Condition::any()
                .add(subscription::Column::CurrentPeriodEnd.lte(now))
                .add(subscription::Column::NextRetryAt.lte(now)),
        )
        .order_by_asc(subscription::Column::CurrentPeriodEnd)
        .limit(500)
        .all(&queue)
        .await?;
    let mut added = 0;
    for sub in due {
        // The due point names the step: the same one is never taken twice, the next one is new.
        let key = format!(
            "step:{}:{}:{}:{}",
            sub.id,
            sub.current_period_end.timestamp(),
            sub.next_retry_at.map_or(0, |t| t.timestamp()),
            sub.failed_renewals
        );
        let job = NewJob::new(super::jobs::STEP, &super::jobs::StepJob { subscription: sub.id }).key(key);
        if crate::jobs::enqueue(&queue, now, Some(sub.tenant_id), job).await? {
            added += 1;
        }
    }
    // Yesterday's usage figures, once per organisation and day (see `history`).
    if let Err(e) = super::history::take_daily(ctx).await {
        tracing::error!(error = ?e, "usage history failed");
    }
    if added > 0 {
        crate::jobs::wake(ctx).await;
    }
    Ok(added)
}

/// One step for one subscription: dunning if a retry is due, else the period end.
pub(super) async fn step(ctx: &Ctx, tenant_id: Uuid, id: Uuid, now: DateTime<Utc>) -> AppResult<bool> {
    let tctx = TenantCtx::system(tenant_id);
    let mut tx = TenantTx::open(ctx, &tctx).await?;
    let scope = tx.scope();
    lock_tenant(&tx, scope).await?;
    // Read again under the lock: another instance may have handled it.
    let Some(sub) = service::current(&tx, scope).await?.filter(|s| s.id == id) else { return Ok(false) };
    let account = service::ensure_account(&tx, ctx, scope).await?;
    let did = if sub.next_retry_at.is_some_and(|t| t <= now) {
        retry(&mut tx, sub, now).await?
    } else if sub.current_period_end <= now && sub.status != SubscriptionStatus::PastDue {
        period_end(&mut tx, &account, sub).await?
    } else {
        false
    };
    tx.commit().await?;
    Ok(did)
}

/// The period has ended: a scheduled cancellation ends the subscription; otherwise the next
/// period starts (with a scheduled downgrade applied, a trial turned into the paid plan) and
/// its invoice is issued and collected.
async fn period_end(
    tx: &mut TenantTx<'_>,
    account: &entity::billing_account::Model,
    sub: subscription::Model,
) -> AppResult<bool> {
    let ctx = tx.ctx();
    let start = sub.current_period_end;
    if sub.cancel_at_period_end {
        // Its last period's use beyond the allowance is still owed: billed now, on its own.
        let overage = invoices::overage_lines(tx, &sub).await?;
        let overage_total: i64 = overage.iter().map(|l| l.amount).sum();
        service::end_and_start_free(tx, &sub, start, &account.currency, "billing.canceled").await?;
        enqueue_cancel_recurring(tx, &sub).await?;
        if overage_total > 0 {
            let inv = invoices::issue(
                tx,
                Some(sub.id),
                Amounts::renewal(overage_total, account),
                overage,
                (sub.current_period_start, start),
                &format!("final-usage:{}:{}", sub.id, start.timestamp()),
            )
            .await?;
            if inv.status == InvoiceStatus::Open {
                enqueue_collect(tx, &inv, 0).await?;
            }
        }
        return Ok(true);
    }
    if sub.status == SubscriptionStatus::Trialing && super::plan_changes::lacks_payment_method(ctx, account) {
        super::plan_changes::pause(tx, &sub).await?;
        return Ok(true);
    }
    let catalog = plans::catalog(&ctx.config)?;
    // Use beyond the allowance in the period that ended, billed with the next one.
    let overage = invoices::overage_lines(tx, &sub).await?;
    let overage_total: i64 = overage.iter().map(|l| l.amount).sum();
    let mut am: subscription::ActiveModel = sub.clone().into();
    let (mut plan_key, mut interval, mut amount) = (sub.plan_key.clone(), sub.interval, sub.unit_amount);
    if let Some(next) = &sub.scheduled_plan_key {
        let next_interval = sub.scheduled_interval.unwrap_or(sub.interval);
        let plan = catalog.plan(next).unwrap_or_else(|| catalog.free());
        plan_key = plan.key.clone();
        interval = next_interval;
        amount = plan.price(&sub.currency, next_interval).map_or(0, |p| p.amount);
        am.plan_key = Set(plan_key.clone());
        am.plan_version = Set(plan.version);
        am.interval = Set(interval);
        am.unit_amount = Set(amount);
        am.scheduled_plan_key = Set(None);
        am.scheduled_interval = Set(None);
    }
    let end = proration::period_end(start, interval);
    am.current_period_start = Set(start);
    am.current_period_end = Set(end);
    if sub.status == SubscriptionStatus::Trialing {
        am.status = Set(SubscriptionStatus::Active);
    }
    // A scheduled change taking effect is audited; a plain new period is not.
    let action = sub.scheduled_plan_key.is_some().then_some("billing.plan_changed");
    let sub = service::save(tx, &sub, am, action).await?;
    if amount + overage_total > 0 {
        let plan_name = catalog.plan(&plan_key).map_or(plan_key.clone(), |p| p.name.clone());
        let line = Line::new(
            LineKind::Plan,
            format!("{plan_name}, {} – {}", start.date_naive(), end.date_naive()),
            amount,
        );
        let lines = std::iter::once(line).filter(|l| l.amount > 0).chain(overage).collect();
        let inv = invoices::issue(
            tx,
            Some(sub.id),
            Amounts::renewal(amount + overage_total, account),
            lines,
            (start, end),
            &format!("renewal:{}:{}", sub.id, start.timestamp()),
        )
        .await?;
        if inv.status == InvoiceStatus::Open {
            // Collected by a job, outside this transaction: until it answers, dunning looks
            // again at the due date (a transfer); a refused charge moves that to the first retry.
            let mut am: subscription::ActiveModel = sub.clone().into();
            am.next_retry_at = Set(Some(inv.due_at));
            service::save(tx, &sub, am, None).await?;
            enqueue_collect(tx, &inv, 0).await?;
        }
    }
    Ok(true)
}

/// A retry is due: collect the oldest open invoice again; failing that, count a failure.
async fn retry(tx: &mut TenantTx<'_>, sub: subscription::Model, now: DateTime<Utc>) -> AppResult<bool> {
    let scope = tx.scope();
    let open = scope
        .find::<invoice::Entity>()
        .filter(invoice::Column::Status.eq(InvoiceStatus::Open))
        .filter(invoice::Column::SubscriptionId.eq(sub.id))
        .order_by_asc(invoice::Column::IssuedAt)
        .one(&*tx)
        .await?;
    let Some(inv) = open else {
        let mut am: subscription::ActiveModel = sub.clone().into();
        am.next_retry_at = Set(None);
        service::save(tx, &sub, am, None).await?;
        return Ok(true);
    };
    // A transfer not yet due is not a failure.
    if inv.due_at > now && sub.status != SubscriptionStatus::PastDue {
        let mut am: subscription::ActiveModel = sub.clone().into();
        am.next_retry_at = Set(Some(inv.due_at));
        service::save(tx, &sub, am, None).await?;
        return Ok(true);
    }
    // The previous attempt's charge has not answered yet (a provider slow or down): a new
    // attempt now could charge twice; look again later.
    if super::jobs::collect_pending(&*tx, tx.scope().tenant_id(), inv.id).await? {
        let mut am: subscription::ActiveModel = sub.clone().into();
        am.next_retry_at = Set(Some(now + chrono::Duration::hours(1)));
        service::save(tx, &sub, am, None).await?;
        return Ok(true);
    }
    enqueue_collect(tx, &inv, sub.failed_renewals + 1).await?;
    Ok(true)
}

/// Enqueues stopping what recurs at the provider for `sub`, which ended here (PayPal's
/// subscriptions mode; nothing to call for the others), after this transaction commits.
async fn enqueue_cancel_recurring(tx: &mut TenantTx<'_>, sub: &subscription::Model) -> AppResult<()> {
    let job = NewJob::new(super::jobs::CANCEL_RECURRING, &super::jobs::StepJob { subscription: sub.id })
        .key(format!("cancel-recurring:{}", sub.id));
    tx.enqueue(job).await?;
    Ok(())
}

/// Enqueues the charge of `inv` (attempt `attempt`; 0 at the period end, n for the n-th
/// retry) in `tx`: one job per invoice and attempt, whatever repeats.
async fn enqueue_collect(tx: &mut TenantTx<'_>, inv: &invoice::Model, attempt: i32) -> AppResult<()> {
    let job = NewJob::new(super::jobs::COLLECT, &super::jobs::CollectJob { invoice: inv.id, attempt })
        .key(format!("collect:{}:{attempt}", inv.id));
    tx.enqueue(job).await?;
    Ok(())
}

/// Counts a failed collection: PAST_DUE with the next retry, or, after the last retry,
/// CANCELED with the invoice UNCOLLECTIBLE and the organisation back on Free.
pub(super) async fn fail(
    tx: &mut TenantTx<'_>,
    sub: subscription::Model,
    inv: invoice::Model,
) -> AppResult<()> {
    let ctx = tx.ctx();
    let now = ctx.now();
    let failures = sub.failed_renewals + 1;
    let since = sub.past_due_since.unwrap_or(now);
    let retry_days = &ctx.config.billing.retry_days;
    if failures as usize > retry_days.len() {
        let mut am: invoice::ActiveModel = inv.clone().into();
        am.status = Set(InvoiceStatus::Uncollectible);
        tx.scope().update(&*tx, am).await?;
        let currency = sub.currency.clone();
        service::end_and_start_free(tx, &sub, now, &currency, "billing.canceled_unpaid").await?;
        enqueue_cancel_recurring(tx, &sub).await?;
        return Ok(());
    }
    let next = since + chrono::Duration::days(retry_days[failures as usize - 1] as i64);
    let mut am: subscription::ActiveModel = sub.clone().into();
    am.status = Set(SubscriptionStatus::PastDue);
    am.failed_renewals = Set(failures);
    am.past_due_since = Set(Some(since));
    am.next_retry_at = Set(Some(next));
    service::save(tx, &sub, am, None).await?;
    if failures == 1 {
        tx.audit(crate::access::Change {
            action: "billing.past_due",
            target_type: "Subscription",
            target_id: Some(sub.id),
            before: None,
            after: Some(serde_json::json!({ "invoice": inv.number, "nextRetryAt": next })),
        })
        .await?;
    }
    service::event(tx, service::BillingEventKind::PaymentFailed, Some(inv.id));
    Ok(())
}
