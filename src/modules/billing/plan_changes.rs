//! Changing plans: previews with proration, upgrades at once, downgrades at the period end
//! (refused while over the new plan's limits), trials, cancelling and resuming.

use entity::{
    billing_account, invoice,
    subscription::{self, BillingInterval, SubscriptionStatus},
};
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter, Set};
use serde_json::json;

use super::service::*;
use super::{
    invoices::{self, Line, LineKind},
    plans::{self, Plan},
    proration::{self, ChangeKind, Quote},
    usage,
};
use crate::{
    access::{TenantCtx, TenantTx},
    auth::Permission,
    ctx::Ctx,
    db::{TenantScope, lock_tenant},
    error::{AppError, AppResult},
};

pub(crate) fn interval_word(i: BillingInterval) -> &'static str {
    match i {
        BillingInterval::Month => "monthly",
        BillingInterval::Year => "yearly",
    }
}

/// A plan change as it would be made now.
pub struct ChangePreview {
    pub plan: &'static Plan,
    pub interval: BillingInterval,
    pub currency: String,
    pub quote: Quote,
    /// For a downgrade: the limits the organisation is over on the new plan (it is refused
    /// until they fit).
    pub over_limits: Vec<usage::LimitUse>,
}

pub(super) async fn preview_in(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    scope: TenantScope,
    account: &billing_account::Model,
    sub: &subscription::Model,
    plan_key: &str,
    interval: BillingInterval,
) -> AppResult<ChangePreview> {
    let catalog = plans::catalog(&ctx.config)?;
    let (plan, amount) = plan_and_price(catalog, plan_key, interval, &account.currency)?;
    let held = effective_plan(catalog, Some(sub));
    let current = proration::Current {
        rank: held.rank,
        amount: paid_amount(sub),
        interval: sub.interval,
        period_start: sub.current_period_start,
        period_end: sub.current_period_end,
    };
    let target = proration::Target { rank: plan.rank, amount, interval };
    let now = ctx.now();
    let quote = proration::quote(now, &current, &target, account.tax_rate_bps, account.credit_balance);
    let over_limits = if quote.kind == ChangeKind::Downgrade {
        usage::over_limits(db, scope, plan, now).await?
    } else {
        Vec::new()
    };
    Ok(ChangePreview { plan, interval, currency: account.currency.clone(), quote, over_limits })
}

/// What changing to `plan_key` billed every `interval` would cost now (`billing.read`).
pub async fn preview_plan_change(
    ctx: &Ctx,
    tctx: &TenantCtx,
    plan_key: &str,
    interval: BillingInterval,
) -> AppResult<ChangePreview> {
    tctx.require(Permission::BillingRead)?;
    let db = tctx.on(&ctx.db);
    let scope = tctx.scope();
    let account = account_view(ctx, &db, scope).await?;
    let sub = subscription_view(ctx, &db, scope).await?;
    preview_in(&db, ctx, scope, &account, &sub, plan_key, interval).await
}

/// The result of a plan change.
pub struct PlanChange {
    pub subscription: subscription::Model,
    /// The proration invoice of an upgrade.
    pub invoice: Option<invoice::Model>,
}

/// Changes the plan (`billing.manage`): an upgrade at once, charging the prorated amount; a
/// downgrade at the period end, refused while the organisation is over the new plan's
/// limits. `trial` starts the plan's trial instead of charging (from Free, once per
/// organisation).
pub async fn change_plan(
    ctx: &Ctx,
    tctx: &TenantCtx,
    plan_key: &str,
    interval: BillingInterval,
    trial: bool,
) -> AppResult<PlanChange> {
    let mut tx = TenantTx::begin(ctx, tctx, Permission::BillingManage).await?;
    lock_tenant(&tx, tx.scope()).await?;
    let out = apply_plan_change(&mut tx, plan_key, interval, trial).await?;
    // A provider subscription (PayPal's subscriptions mode) moves to the new plan too.
    let account = ensure_account(&tx, ctx, tx.scope()).await?;
    super::recurring::revised(&tx, ctx, &account, &out.subscription).await?;
    tx.commit().await?;
    Ok(out)
}

/// [`change_plan`]'s work inside `tx` (whose caller checked the permission and took the
/// tenant's lock): also run when a provider's checkout completes.
pub async fn apply_plan_change(
    tx: &mut TenantTx<'_>,
    plan_key: &str,
    interval: BillingInterval,
    trial: bool,
) -> AppResult<PlanChange> {
    let ctx = tx.ctx();
    let scope = tx.scope();
    let account = ensure_account(&*tx, ctx, scope).await?;
    let sub = ensure_current(&*tx, ctx, scope, &account.currency).await?;
    if sub.status == SubscriptionStatus::Paused && !trial {
        // A paused subscription resumes on the plan asked for (a checkout that saved a
        // payment method for it, or a plan change).
        let catalog = plans::catalog(&ctx.config)?;
        let (plan, _) = super::service::plan_and_price(catalog, plan_key, interval, &account.currency)?;
        return resume_paused(tx, &account, &sub, plan, interval).await;
    }
    let preview = preview_in(&*tx, ctx, scope, &account, &sub, plan_key, interval).await?;
    let now = ctx.now();
    let plan = preview.plan;
    let price = plan.price(&account.currency, interval).map_or(0, |p| p.amount);
    let mut am: subscription::ActiveModel = sub.clone().into();
    let mut issued = None;
    let action = match preview.quote.kind {
        ChangeKind::Same => {
            return Err(AppError::validation("input.plan", "the organisation is already on this plan"));
        }
        ChangeKind::Downgrade => {
            if !preview.over_limits.is_empty() {
                return Err(over_limits_error(plan, &preview.over_limits));
            }
            am.scheduled_plan_key = Set(Some(plan.key.clone()));
            am.scheduled_interval = Set(Some(interval));
            "billing.downgrade_scheduled"
        }
        ChangeKind::Upgrade if trial => {
            if sub.plan_key != plans::FREE || plan.trial_days <= 0 {
                return Err(AppError::validation(
                    "input.trial",
                    "a trial starts from the Free plan, on a plan that has one",
                ));
            }
            let tried = scope
                .find::<subscription::Entity>()
                .filter(subscription::Column::TrialEnd.is_not_null())
                .one(&*tx)
                .await?
                .is_some();
            if tried {
                return Err(AppError::validation("input.trial", "the organisation has had its trial"));
            }
            let trial_end = now + chrono::Duration::days(plan.trial_days as i64);
            am.plan_key = Set(plan.key.clone());
            am.plan_version = Set(plan.version);
            am.status = Set(SubscriptionStatus::Trialing);
            am.interval = Set(interval);
            am.currency = Set(account.currency.clone());
            am.unit_amount = Set(price);
            am.current_period_start = Set(now);
            am.current_period_end = Set(trial_end);
            am.trial_end = Set(Some(trial_end));
            "billing.trial_started"
        }
        ChangeKind::Upgrade => {
            let q = &preview.quote;
            let mut lines = Vec::new();
            if q.credit > 0 {
                lines.push(Line::new(
                    LineKind::ProrationCredit,
                    format!(
                        "Unused time on {}",
                        effective_plan(plans::catalog(&ctx.config)?, Some(&sub)).name
                    ),
                    -q.credit,
                ));
            }
            lines.push(Line::new(
                LineKind::Plan,
                format!(
                    "{} ({}), {} – {}",
                    plan.name,
                    interval_word(interval),
                    q.period_start.date_naive(),
                    q.period_end.date_naive()
                ),
                q.charge,
            ));
            let inv = invoices::issue(
                tx,
                Some(sub.id),
                invoices::Amounts::from_quote(q, &account.currency),
                lines,
                (q.period_start, q.period_end),
                &format!("change:{}:{}", sub.id, sub.revision),
            )
            .await?;
            let mut acc: billing_account::ActiveModel = account.clone().into();
            acc.credit_balance = Set(q.credit_balance_after);
            acc.updated_at = Set(now);
            scope.update(&*tx, acc).await?;
            am.plan_key = Set(plan.key.clone());
            am.plan_version = Set(plan.version);
            am.status = Set(SubscriptionStatus::Active);
            am.interval = Set(interval);
            am.currency = Set(account.currency.clone());
            am.unit_amount = Set(price);
            am.current_period_start = Set(q.period_start);
            am.current_period_end = Set(q.period_end);
            am.trial_end = Set(sub.trial_end.filter(|_| sub.status != SubscriptionStatus::Trialing));
            am.scheduled_plan_key = Set(None);
            am.scheduled_interval = Set(None);
            am.cancel_at_period_end = Set(false);
            issued = Some(inv);
            "billing.plan_changed"
        }
    };
    let after = save(tx, &sub, am, Some(action)).await?;
    let invoice = match issued {
        Some(inv) => match invoices::collect(tx, &account, inv, 0).await? {
            // The upgrade is not made: the caller's transaction rolls back with this error.
            (_, Some(reason)) => {
                return Err(AppError::Plan {
                    code: "PAYMENT_FAILED",
                    message: format!("the payment was declined: {reason}"),
                    details: json!({ "field": "input.plan", "reason": reason }),
                });
            }
            (inv, None) => Some(inv),
        },
        None => None,
    };
    Ok(PlanChange { subscription: after, invoice })
}

pub(super) fn over_limits_error(plan: &Plan, over: &[usage::LimitUse]) -> AppError {
    let list: Vec<_> = over
        .iter()
        .map(|u| json!({ "limit": u.limit.key(), "used": u.used, "allowed": u.allowed }))
        .collect();
    let names: Vec<String> = over
        .iter()
        .map(|u| format!("{} ({} of {})", u.limit.key(), u.used, u.allowed.unwrap_or(0)))
        .collect();
    AppError::Plan {
        code: "OVER_PLAN_LIMITS",
        message: format!(
            "the organisation uses more than the {} plan allows: {}",
            plan.name,
            names.join(", ")
        ),
        details: json!({ "field": "input.plan", "over": list }),
    }
}

/// Cancels the paid plan (`billing.manage`): at the period end, or at once (back to Free now;
/// a refund is `refundInvoice`'s). What recurs at the provider stops too (a PayPal
/// subscription is suspended, or cancelled when Zygo's ends now).
pub async fn cancel_subscription(
    ctx: &Ctx,
    tctx: &TenantCtx,
    at_period_end: bool,
) -> AppResult<subscription::Model> {
    let mut tx = TenantTx::begin(ctx, tctx, Permission::BillingManage).await?;
    let scope = tx.scope();
    lock_tenant(&tx, scope).await?;
    let account = ensure_account(&tx, ctx, scope).await?;
    let sub = ensure_current(&tx, ctx, scope, &account.currency).await?;
    if sub.plan_key == plans::FREE {
        return Err(AppError::validation("input", "the Free plan has nothing to cancel"));
    }
    let out = if at_period_end {
        if sub.cancel_at_period_end {
            return Err(AppError::validation(
                "input.atPeriodEnd",
                "the subscription already ends with its period",
            ));
        }
        let mut am: subscription::ActiveModel = sub.clone().into();
        am.cancel_at_period_end = Set(true);
        am.scheduled_plan_key = Set(None);
        am.scheduled_interval = Set(None);
        save(&mut tx, &sub, am, Some("billing.cancel_scheduled")).await?
    } else {
        end_and_start_free(&mut tx, &sub, ctx.now(), &account.currency, "billing.canceled").await?
    };
    super::recurring::cancelled(ctx, &account, &sub, at_period_end).await?;
    tx.commit().await?;
    Ok(out)
}

/// Takes back a cancellation or a scheduled downgrade, or resumes a paused subscription
/// (`billing.manage`).
pub async fn resume_subscription(ctx: &Ctx, tctx: &TenantCtx) -> AppResult<subscription::Model> {
    let mut tx = TenantTx::begin(ctx, tctx, Permission::BillingManage).await?;
    let scope = tx.scope();
    lock_tenant(&tx, scope).await?;
    let sub = current(&tx, scope).await?.ok_or_else(|| AppError::validation("input", "nothing to resume"))?;
    if !sub.cancel_at_period_end
        && sub.scheduled_plan_key.is_none()
        && sub.status != SubscriptionStatus::Paused
    {
        return Err(AppError::validation(
            "input",
            "nothing to resume: no cancellation or plan change is scheduled",
        ));
    }
    if sub.status == SubscriptionStatus::Paused {
        let account = ensure_account(&tx, ctx, scope).await?;
        let catalog = plans::catalog(&ctx.config)?;
        let plan = catalog.plan(&sub.plan_key).unwrap_or_else(|| catalog.free());
        let out = resume_paused(&mut tx, &account, &sub, plan, sub.interval).await?;
        tx.commit().await?;
        return Ok(out.subscription);
    }
    let mut am: subscription::ActiveModel = sub.clone().into();
    am.cancel_at_period_end = Set(false);
    am.scheduled_plan_key = Set(None);
    am.scheduled_interval = Set(None);
    let out = save(&mut tx, &sub, am, Some("billing.resumed")).await?;
    if sub.cancel_at_period_end {
        let account = ensure_account(&tx, ctx, scope).await?;
        super::recurring::resumed(ctx, &account, &sub).await?;
    }
    tx.commit().await?;
    Ok(out)
}

/// Whether a trial ending now would have nothing to charge: the instance takes cards (a
/// payment provider is configured) and the organisation saved no payment method. Without
/// any provider (invoices paid by transfer) a trial renews into an invoice as before.
pub fn lacks_payment_method(ctx: &Ctx, account: &billing_account::Model) -> bool {
    let b = &ctx.config.billing;
    let takes_cards = b.stripe.is_some() || b.revolut.is_some() || b.paypal.is_some();
    takes_cards && account.provider_payment_method_id.is_none()
}

/// Pauses `sub` (its trial ended without a payment method): nothing is invoiced, the
/// organisation has Free's limits and features until it resumes.
pub async fn pause(tx: &mut TenantTx<'_>, sub: &subscription::Model) -> AppResult<subscription::Model> {
    let mut am: subscription::ActiveModel = sub.clone().into();
    am.status = Set(SubscriptionStatus::Paused);
    am.next_retry_at = Set(None);
    save(tx, sub, am, Some("billing.paused")).await
}

/// Resumes a PAUSED subscription on `plan` billed every `interval`: a new period starts now
/// and is invoiced and collected at once (declined: refused with PAYMENT_FAILED, nothing
/// kept). The trial is not given again.
async fn resume_paused(
    tx: &mut TenantTx<'_>,
    account: &billing_account::Model,
    sub: &subscription::Model,
    plan: &'static Plan,
    interval: BillingInterval,
) -> AppResult<PlanChange> {
    let now = tx.ctx().now();
    let price = plan.price(&account.currency, interval).map_or(0, |p| p.amount);
    let end = super::proration::period_end(now, interval);
    let mut am: subscription::ActiveModel = sub.clone().into();
    am.plan_key = Set(plan.key.clone());
    am.plan_version = Set(plan.version);
    am.status = Set(SubscriptionStatus::Active);
    am.interval = Set(interval);
    am.currency = Set(account.currency.clone());
    am.unit_amount = Set(price);
    am.current_period_start = Set(now);
    am.current_period_end = Set(end);
    am.cancel_at_period_end = Set(false);
    am.scheduled_plan_key = Set(None);
    am.scheduled_interval = Set(None);
    let after = save(tx, sub, am, Some("billing.resumed")).await?;
    if price == 0 {
        return Ok(PlanChange { subscription: after, invoice: None });
    }
    let line = Line::new(
        LineKind::Plan,
        format!("{} ({}), {} – {}", plan.name, interval_word(interval), now.date_naive(), end.date_naive()),
        price,
    );
    let inv = invoices::issue(
        tx,
        Some(sub.id),
        invoices::Amounts::renewal(price, account),
        vec![line],
        (now, end),
        &format!("resume:{}:{}", sub.id, sub.revision),
    )
    .await?;
    match invoices::collect(tx, account, inv, 0).await? {
        (_, Some(reason)) => Err(AppError::Plan {
            code: "PAYMENT_FAILED",
            message: format!("the payment was declined: {reason}"),
            details: json!({ "field": "input.plan", "reason": reason }),
        }),
        (inv, None) => Ok(PlanChange { subscription: after, invoice: Some(inv) }),
    }
}
