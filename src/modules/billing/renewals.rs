//! Renewals, trial ends, scheduled changes and dunning, run for every organisation whose
//! subscription is due by the instance's clock. Each subscription is handled in its own
//! tenant transaction under the tenant's write lock; the invoice of a renewal carries the
//! key `renewal:<subscription>:<period start>`, so running twice (two instances, a retry)
//! never issues or charges twice.
//!
//! A trial that ends without a saved payment method on an instance that takes cards pauses
//! instead of renewing (Stripe's `missing_payment_method: pause`; see `plan_changes::pause`).
//!
//! Dunning: a renewal that cannot be collected (a refused charge, or a transfer unpaid at its
//! due date) makes the subscription PAST_DUE; it is tried again after each of
//! `ZYGO_DUNNING_RETRY_DAYS` (counted from the first failure); after the last one the
//! subscription is CANCELED (its invoice UNCOLLECTIBLE) and the organisation is on Free.

use std::time::Duration;

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
};

/// Handles every subscription due now; returns how many steps were taken. Call until it
/// returns 0 to catch up several periods.
pub async fn run_due(ctx: &Ctx) -> AppResult<usize> {
    let now = ctx.now();
    // Across tenants: the worker looks for due subscriptions of every organisation, then
    // works inside each one's own transaction.
    let due: Vec<(Uuid, Uuid)> = subscription::Entity::find()
        .select_only()
        .column(subscription::Column::Id)
        .column(subscription::Column::TenantId)
        .filter(subscription::Column::CurrentFor.is_not_null())
        // A paused subscription waits for its resumption, not for the clock.
        .filter(subscription::Column::Status.ne(SubscriptionStatus::Paused))
        .filter(
            Condition::any()
                .add(subscription::Column::CurrentPeriodEnd.lte(now))
                .add(subscription::Column::NextRetryAt.lte(now)),
        )
        .order_by_asc(subscription::Column::CurrentPeriodEnd)
        .limit(100)
        .into_tuple()
        .all(&crate::db::across_tenants(&ctx.db))
        .await?;
    let mut steps = 0;
    for (id, tenant_id) in due {
        match step(ctx, tenant_id, id, now).await {
            Ok(true) => steps += 1,
            Ok(false) => {}
            Err(e) => tracing::error!(error = ?e, %tenant_id, subscription = %id, "billing step failed"),
        }
    }
    // Yesterday's usage figures, once per organisation and day (see `history`).
    match super::history::take_daily(ctx).await {
        Ok(n) => steps += n,
        Err(e) => tracing::error!(error = ?e, "usage history failed"),
    }
    Ok(steps)
}

/// One step for one subscription: dunning if a retry is due, else the period end.
async fn step(ctx: &Ctx, tenant_id: Uuid, id: Uuid, now: DateTime<Utc>) -> AppResult<bool> {
    let tctx = TenantCtx::system(tenant_id);
    let mut tx = TenantTx::open(ctx, &tctx).await?;
    let scope = tx.scope();
    lock_tenant(&tx, scope).await?;
    // Read again under the lock: another instance may have handled it.
    let Some(sub) = service::current(&tx, scope).await?.filter(|s| s.id == id) else { return Ok(false) };
    let account = service::ensure_account(&tx, ctx, scope).await?;
    let did = if sub.next_retry_at.is_some_and(|t| t <= now) {
        retry(&mut tx, &account, sub, now).await?
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
        service::end_and_start_free(tx, &sub, start, &account.currency, "billing.canceled").await?;
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
    let mut sub = service::save(tx, &sub, am, action).await?;
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
        let (inv, declined) = invoices::collect(tx, account, inv, 0).await?;
        let ok = declined.is_none();
        if inv.status == InvoiceStatus::Open {
            // Collected later: dunning looks again at the due date (a transfer) or after the
            // first retry interval (a refused charge).
            let at = if ok { inv.due_at } else { tx.ctx().now() };
            let mut am: subscription::ActiveModel = sub.clone().into();
            am.next_retry_at = Set(Some(at));
            sub = service::save(tx, &sub, am, None).await?;
            if !ok {
                fail(tx, sub, inv).await?;
            }
        }
    }
    Ok(true)
}

/// A retry is due: collect the oldest open invoice again; failing that, count a failure.
async fn retry(
    tx: &mut TenantTx<'_>,
    account: &entity::billing_account::Model,
    sub: subscription::Model,
    now: DateTime<Utc>,
) -> AppResult<bool> {
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
    let (inv, _) = invoices::collect(tx, account, inv, sub.failed_renewals + 1).await?;
    if inv.status == InvoiceStatus::Paid {
        return Ok(true);
    }
    fail(tx, sub, inv).await?;
    Ok(true)
}

/// Counts a failed collection: PAST_DUE with the next retry, or, after the last retry,
/// CANCELED with the invoice UNCOLLECTIBLE and the organisation back on Free.
async fn fail(tx: &mut TenantTx<'_>, sub: subscription::Model, inv: invoice::Model) -> AppResult<()> {
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

/// The billing worker: looks for due subscriptions every `ZYGO_BILLING_INTERVAL` until
/// `stop`. Several instances may run it: every step is taken under the tenant's lock and
/// checked again there.
pub async fn run_worker(ctx: Ctx, stop: tokio_util::sync::CancellationToken) {
    let every = ctx.config.billing.worker_interval.max(Duration::from_secs(1));
    loop {
        // Catch up several periods at once (bounded, in case a step keeps finding work).
        for _ in 0..1_000 {
            match run_due(&ctx).await {
                Ok(0) => break,
                Ok(_) => continue,
                Err(e) => {
                    tracing::error!(error = ?e, "billing worker");
                    break;
                }
            }
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
    }
}
