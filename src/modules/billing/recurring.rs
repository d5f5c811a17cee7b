//! What recurs at a payment provider rather than in Zygo: PayPal's subscriptions mode. Zygo's
//! plan prices mapped to the provider's own plans (created once, kept in `provider_plans`),
//! the provider's subscription told about Zygo's plan changes, cancellations and resumptions,
//! and the provider's collection webhooks applied to Zygo's invoices and subscription.
//!
//! Providers with nothing recurring (Stripe, Revolut, Manual in Zygo's design) answer the
//! cancel, resume and revise calls without calling anything.
//!
//! Owns the `provider_plans` table.

use entity::{
    billing_account,
    invoice::{self, InvoiceStatus},
    payment_webhook_event, provider_plan,
    subscription::{self, BillingInterval, SubscriptionStatus},
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set, sea_query::OnConflict,
};
use serde_json::json;
use uuid::Uuid;

use super::{
    invoices, plans,
    providers::{self, Cancel, PaymentProvider, PlanSpec, ProviderEvent},
    service,
};
use crate::{
    access::{Change, TenantTx},
    ctx::Ctx,
    error::{AppError, AppResult},
};

/// `month` or `year`.
pub fn interval_key(i: BillingInterval) -> &'static str {
    match i {
        BillingInterval::Month => "month",
        BillingInterval::Year => "year",
    }
}

/// The provider's plan for Zygo's `plan` billed every `interval` at `amount` minor units of
/// `currency`: read from the mapping, or created at the provider (idempotently) and recorded.
pub async fn provider_plan(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    provider: &dyn PaymentProvider,
    plan: &plans::Plan,
    interval: BillingInterval,
    currency: &str,
    amount: i64,
) -> AppResult<String> {
    let interval = interval_key(interval);
    let key = format!("{}:v{}:{interval}:{currency}:{amount}", plan.key, plan.version);
    let find = || {
        provider_plan::Entity::find()
            .filter(provider_plan::Column::Provider.eq(provider.key()))
            .filter(provider_plan::Column::Key.eq(&key))
    };
    // The platform's own table: one provider plan serves every organisation on the price.
    if let Some(found) = find().one(db).await? {
        return Ok(found.provider_id);
    }
    let spec = PlanSpec { key: &key, plan: &plan.key, name: &plan.name, interval, currency, amount };
    let id = provider.create_plan(spec).await?;
    provider_plan::Entity::insert(provider_plan::ActiveModel {
        id: Set(Uuid::now_v7()),
        provider: Set(provider.key().into()),
        key: Set(key.clone()),
        provider_id: Set(id),
        created_at: Set(ctx.now()),
    })
    .on_conflict(
        OnConflict::columns([provider_plan::Column::Provider, provider_plan::Column::Key])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(find()
        .one(db)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("provider plan {key} missing after insert")))?
        .provider_id)
}

/// The account's provider when it keeps something recurring for the account (its payment
/// method is a provider subscription), with that reference.
fn recurring_of(ctx: &Ctx, account: &billing_account::Model) -> Option<(Box<dyn PaymentProvider>, String)> {
    let reference = account.provider_payment_method_id.clone()?;
    match providers::provider(ctx, &account.provider) {
        Ok(p)
            if p.recurring()
                && account.provider == "paypal"
                && providers::paypal::is_subscription(&reference) =>
        {
            Some((p, reference))
        }
        _ => None,
    }
}

/// Zygo's subscription `sub` was cancelled (now, or at its period end): stops what recurs at
/// the account's provider. Called inside the cancelling transaction: a refusal rolls it back.
pub async fn cancelled(
    ctx: &Ctx,
    account: &billing_account::Model,
    sub: &subscription::Model,
    at_period_end: bool,
) -> AppResult<()> {
    let provider = match providers::provider(ctx, &account.provider) {
        Ok(p) => p,
        // A provider no longer configured cannot be called (and Zygo charges nothing there).
        Err(_) => return Ok(()),
    };
    provider
        .cancel(Cancel {
            reference: account.provider_payment_method_id.as_deref(),
            at_period_end,
            reason: if at_period_end { "Cancelled in Zygo at the period end" } else { "Cancelled in Zygo" },
            idempotency_key: &format!("cancel:{}:{}", sub.id, sub.revision),
        })
        .await
}

/// A cancellation at the period end was taken back: what `cancelled` stopped starts again.
pub async fn resumed(
    ctx: &Ctx,
    account: &billing_account::Model,
    sub: &subscription::Model,
) -> AppResult<()> {
    match recurring_of(ctx, account) {
        Some((p, reference)) => p.resume(&reference, &format!("resume:{}:{}", sub.id, sub.revision)).await,
        None => Ok(()),
    }
}

/// Zygo's plan changed (at once, or scheduled for the period end): the provider's subscription
/// moves to the provider plan of what will be billed next.
pub async fn revised(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    account: &billing_account::Model,
    sub: &subscription::Model,
) -> AppResult<()> {
    let Some((p, reference)) = recurring_of(ctx, account) else { return Ok(()) };
    let catalog = plans::catalog(&ctx.config)?;
    let key = sub.scheduled_plan_key.as_deref().unwrap_or(&sub.plan_key);
    let interval = sub.scheduled_interval.unwrap_or(sub.interval);
    let Some(plan) = catalog.plan(key).filter(|p| p.key != plans::FREE) else { return Ok(()) };
    let Some(price) = plan.price(&sub.currency, interval) else { return Ok(()) };
    let plan_id = provider_plan(db, ctx, &*p, plan, interval, &sub.currency, price.amount).await?;
    p.revise(&reference, &plan_id, &format!("revise:{}:{}", sub.id, sub.revision)).await
}

/// What applying a provider's collection event came to.
pub(super) enum Applied {
    Done,
    /// Recorded with this outcome, nothing changed.
    Noted(String),
    /// Not applicable yet (the activation or the invoice it pays is not there): not recorded,
    /// so the provider's redelivery applies it.
    Later(String),
}

/// Applies a `Recurring*` event of `provider_key` in `tx` (the tenant's, locked).
pub(super) async fn apply(
    tx: &mut TenantTx<'_>,
    provider_key: &str,
    event: &ProviderEvent,
) -> AppResult<Applied> {
    let (ProviderEvent::RecurringPaid { reference, .. }
    | ProviderEvent::RecurringFailed { reference, .. }
    | ProviderEvent::RecurringCanceled { reference, .. }) = event
    else {
        return Ok(Applied::Noted("ignored".into()));
    };
    let ctx = tx.ctx();
    let scope = tx.scope();
    let account = service::ensure_account(&*tx, ctx, scope).await?;
    if account.provider != provider_key || account.provider_payment_method_id.as_deref() != Some(reference) {
        // Before its activation is applied the subscription is not the account's yet.
        let activated = payment_webhook_event::Entity::find()
            .filter(payment_webhook_event::Column::Provider.eq(provider_key))
            .filter(payment_webhook_event::Column::EventId.eq(format!("activated:{reference}")))
            .one(&*tx)
            .await?
            .is_some();
        return Ok(if activated {
            Applied::Noted("ignored: not the organisation's current subscription".into())
        } else {
            Applied::Later("the subscription's activation has not arrived yet".into())
        });
    }
    let Some(sub) = service::current(&*tx, scope).await? else {
        return Ok(Applied::Noted("ignored: no subscription".into()));
    };
    if sub.plan_key == plans::FREE && !matches!(event, ProviderEvent::RecurringCanceled { .. }) {
        // Zygo ended the paid subscription (after dunning, say) while the provider's still
        // collects: it is cancelled there now.
        cancelled(ctx, &account, &sub, false).await?;
        return Ok(Applied::Noted(
            "ignored: the organisation is on Free; the provider subscription is cancelled".into(),
        ));
    }
    let open = scope
        .find::<invoice::Entity>()
        .filter(invoice::Column::Status.eq(InvoiceStatus::Open))
        .filter(invoice::Column::SubscriptionId.eq(sub.id))
        .order_by_asc(invoice::Column::IssuedAt)
        .all(&*tx)
        .await?;
    match event {
        ProviderEvent::RecurringPaid { payment_id, amount, currency, .. } => {
            // The invoice of exactly that amount, else the oldest open one.
            let inv = open
                .iter()
                .find(|i| i.amount_due == *amount && &i.currency == currency)
                .or(open.first())
                .cloned();
            let Some(inv) = inv else {
                return Ok(Applied::Later("no open invoice for this payment yet".into()));
            };
            let payment = invoices::Payment { provider: provider_key.to_string(), id: payment_id.clone() };
            invoices::mark_paid_in(tx, inv, Some(payment)).await?;
            Ok(Applied::Done)
        }
        ProviderEvent::RecurringFailed { reason, .. } => {
            let Some(inv) = open.first().cloned() else {
                return Ok(Applied::Later("no open invoice for this failure yet".into()));
            };
            if sub.status == SubscriptionStatus::PastDue {
                return Ok(Applied::Noted(format!("noted: {reason}")));
            }
            let now = ctx.now();
            let first = ctx.config.billing.retry_days.first().copied().unwrap_or(1);
            let next = now + chrono::Duration::days(first as i64);
            let mut am: subscription::ActiveModel = sub.clone().into();
            am.status = Set(SubscriptionStatus::PastDue);
            am.failed_renewals = Set(1);
            am.past_due_since = Set(Some(now));
            am.next_retry_at = Set(Some(next));
            let sub = service::save(tx, &sub, am, None).await?;
            tx.audit(Change {
                action: "billing.past_due",
                target_type: "Subscription",
                target_id: Some(sub.id),
                before: None,
                after: Some(json!({ "invoice": inv.number, "nextRetryAt": next, "reason": reason })),
            })
            .await?;
            service::event(tx, service::BillingEventKind::PaymentFailed, Some(inv.id));
            Ok(Applied::Done)
        }
        ProviderEvent::RecurringCanceled { .. } => {
            if sub.plan_key == plans::FREE || sub.cancel_at_period_end {
                return Ok(Applied::Noted("ignored: nothing left to cancel".into()));
            }
            // The payer cancelled at PayPal: the paid period is kept, nothing renews after it.
            let mut am: subscription::ActiveModel = sub.clone().into();
            am.cancel_at_period_end = Set(true);
            am.scheduled_plan_key = Set(None);
            am.scheduled_interval = Set(None);
            service::save(tx, &sub, am, Some("billing.cancel_scheduled")).await?;
            Ok(Applied::Done)
        }
        _ => Ok(Applied::Noted("ignored".into())),
    }
}
