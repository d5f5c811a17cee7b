//! Invoices: gapless numbers per issuer and year handed out inside the invoice's own
//! transaction (a rolled-back invoice gives its number back), lines and amounts in minor
//! units, collection through the account's payment provider with the invoice's idempotency
//! key, and marking paid.

use chrono::{DateTime, Datelike, TimeZone, Utc};
use entity::{
    billing_account,
    invoice::{self, InvoiceStatus},
    invoice_sequence,
    subscription::{self, SubscriptionStatus},
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set,
    sea_query::{Expr, ExprTrait, OnConflict},
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::{
    proration::Quote,
    providers::{self, Charge, ChargeOutcome},
    service::{self, BillingEventKind},
};
use crate::{
    access::{Change, TenantTx},
    error::{AppError, AppResult},
};

/// Days an invoice paid by transfer is due after it is issued.
pub const PAYMENT_TERMS_DAYS: i64 = 14;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, async_graphql::Enum)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LineKind {
    /// The plan's price for a period.
    Plan,
    /// Credit for the unused part of the previous plan.
    ProrationCredit,
    /// Use beyond the plan's allowance.
    UsageOverage,
}

/// One line of an invoice (tax is the invoice's, not a line's).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Line {
    pub kind: LineKind,
    pub description: String,
    pub quantity: i64,
    pub unit_amount: i64,
    pub amount: i64,
}

impl Line {
    pub fn new(kind: LineKind, description: String, amount: i64) -> Self {
        Self { kind, description, quantity: 1, unit_amount: amount, amount }
    }
}

/// The amounts of an invoice.
#[derive(Clone, Debug)]
pub struct Amounts {
    pub currency: String,
    pub subtotal: i64,
    pub tax: i64,
    pub total: i64,
    pub credit_applied: i64,
    pub amount_due: i64,
}

impl Amounts {
    pub fn from_quote(q: &Quote, currency: &str) -> Self {
        Self {
            currency: currency.into(),
            subtotal: std::cmp::max(q.subtotal, 0),
            tax: q.tax,
            total: q.total,
            credit_applied: q.credit_applied,
            amount_due: q.amount_due,
        }
    }

    /// A renewal of `amount` with the account's tax and credit balance.
    pub fn renewal(amount: i64, account: &billing_account::Model) -> Self {
        let tax = super::proration::tax(amount, account.tax_rate_bps);
        let total = amount + tax;
        let credit_applied = std::cmp::min(std::cmp::max(account.credit_balance, 0), total);
        Self {
            currency: account.currency.clone(),
            subtotal: amount,
            tax,
            total,
            credit_applied,
            amount_due: total - credit_applied,
        }
    }
}

/// The next number of `prefix`'s series for `year`, e.g. `ZYG-2026-000042`. The sequence
/// row stays locked until the caller's transaction ends, so numbers are handed out one
/// transaction at a time and a rollback returns its number.
pub async fn next_number(db: &impl ConnectionTrait, prefix: &str, year: i32) -> AppResult<String> {
    let series = format!("{prefix}-{year}");
    invoice_sequence::Entity::insert(invoice_sequence::ActiveModel {
        series: Set(series.clone()),
        last_number: Set(0),
    })
    .on_conflict(OnConflict::column(invoice_sequence::Column::Series).do_nothing().to_owned())
    .exec_without_returning(db)
    .await?;
    invoice_sequence::Entity::update_many()
        .col_expr(
            invoice_sequence::Column::LastNumber,
            Expr::col(invoice_sequence::Column::LastNumber).add(1),
        )
        .filter(invoice_sequence::Column::Series.eq(&series))
        .exec(db)
        .await?;
    let row = invoice_sequence::Entity::find_by_id(series.clone())
        .one(db)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("invoice sequence {series} missing")))?;
    Ok(format!("{series}-{:06}", row.last_number))
}

/// The `usage overage` lines of the billing period `sub` has just ended: for each
/// per-month limit its plan prices beyond the allowance (in the subscription's currency),
/// one line per calendar month that ended within the period (`start < month end ≤ end`, so
/// consecutive periods bill each month once), for the units over the allowance at the
/// plan's price ([`super::plans::OveragePrice::charge`], integer minor units).
pub async fn overage_lines(tx: &TenantTx<'_>, sub: &subscription::Model) -> AppResult<Vec<Line>> {
    let ctx = tx.ctx();
    let catalog = super::plans::catalog(&ctx.config)?;
    let Some(plan) = catalog.plan(&sub.plan_key) else { return Ok(Vec::new()) };
    let (start, end) = (sub.current_period_start, sub.current_period_end);
    let mut out = Vec::new();
    for price in plan.overage.iter().filter(|o| o.currency == sub.currency) {
        let Some(allowed) = plan.limit(price.limit) else { continue };
        let mut month = chrono::Utc
            .with_ymd_and_hms(start.year(), start.month(), 1, 0, 0, 0)
            .single()
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no month start for {start}")))?;
        while month < end {
            let next = month + chrono::Months::new(1);
            if next > start && next <= end {
                let used = super::usage::used_at(tx, ctx, tx.scope(), price.limit, month).await?;
                let over = used - allowed;
                if over > 0 {
                    let each = super::documents::money(price.amount, &price.currency);
                    let rate = match price.per_units {
                        1 => format!("{each} each"),
                        n => format!("{each} per {n}"),
                    };
                    out.push(Line {
                        kind: LineKind::UsageOverage,
                        description: format!(
                            "Usage overage, {}: {over} {} over the {allowed} included, at {rate}",
                            month.format("%Y-%m"),
                            price.limit.label(),
                        ),
                        quantity: over,
                        unit_amount: price.amount,
                        amount: price.charge(over),
                    });
                }
            }
            month = next;
        }
    }
    Ok(out)
}

/// Issues an OPEN invoice (PAID at once when nothing is due) in `tx`. An invoice with the
/// same `idempotency_key` is returned as it is instead of issuing a second one.
pub async fn issue(
    tx: &mut TenantTx<'_>,
    subscription_id: Option<Uuid>,
    amounts: Amounts,
    lines: Vec<Line>,
    period: (DateTime<Utc>, DateTime<Utc>),
    idempotency_key: &str,
) -> AppResult<invoice::Model> {
    let scope = tx.scope();
    if let Some(existing) = scope
        .find::<invoice::Entity>()
        .filter(invoice::Column::IdempotencyKey.eq(idempotency_key))
        .one(&*tx)
        .await?
    {
        return Ok(existing);
    }
    let ctx = tx.ctx();
    let now = ctx.now();
    let number = next_number(&*tx, &ctx.config.billing.invoice_prefix, now.year()).await?;
    let paid = amounts.amount_due == 0;
    let inv = scope
        .insert(
            &*tx,
            invoice::ActiveModel {
                id: Set(Uuid::now_v7()),
                tenant_id: Set(scope.tenant_id()),
                subscription_id: Set(subscription_id),
                number: Set(number),
                status: Set(if paid { InvoiceStatus::Paid } else { InvoiceStatus::Open }),
                currency: Set(amounts.currency.clone()),
                subtotal: Set(amounts.subtotal),
                tax: Set(amounts.tax),
                total: Set(amounts.total),
                credit_applied: Set(amounts.credit_applied),
                amount_due: Set(amounts.amount_due),
                lines: Set(serde_json::to_string(&lines).expect("lines serialise")),
                period_start: Set(period.0),
                period_end: Set(period.1),
                issued_at: Set(now),
                due_at: Set(now + chrono::Duration::days(PAYMENT_TERMS_DAYS)),
                paid_at: Set(paid.then_some(now)),
                idempotency_key: Set(idempotency_key.into()),
                provider_payment_id: Set(None),
                payment_provider: Set(None),
                created_at: Set(now),
            },
        )
        .await?;
    if amounts.credit_applied > 0 {
        scope
            .update_many::<billing_account::Entity>()
            .col_expr(
                billing_account::Column::CreditBalance,
                Expr::col(billing_account::Column::CreditBalance).sub(amounts.credit_applied),
            )
            .exec(&*tx)
            .await?;
    }
    tx.audit(Change {
        action: "billing.invoice_issued",
        target_type: "Invoice",
        target_id: Some(inv.id),
        before: None,
        after: Some(json!({ "number": inv.number, "total": inv.total, "amountDue": inv.amount_due, "currency": inv.currency })),
    })
    .await?;
    service::event(tx, BillingEventKind::InvoiceIssued, Some(inv.id));
    mail_to_owners(tx, &inv).await?;
    Ok(inv)
}

/// Queues the invoice, its PDF attached, to the organisation's owners (sent once `tx` commits).
async fn mail_to_owners(tx: &mut TenantTx<'_>, inv: &invoice::Model) -> AppResult<()> {
    let scope = tx.scope();
    let ctx = tx.ctx();
    let emails = service::owner_emails(&*tx, scope).await?;
    let Some(org) = scope.find_by_id::<entity::tenant::Entity, _>(&*tx, scope.tenant_id()).await? else {
        return Ok(());
    };
    let account = service::account_view(ctx, &*tx, scope).await?;
    let pdf = super::documents::invoice_pdf(inv, &org, &account);
    let link = format!("{}/o/{}/billing", ctx.config.public_url, org.slug);
    let total = super::documents::money(inv.total, &inv.currency);
    let due = inv.due_at.format("%Y-%m-%d").to_string();
    for email in &emails {
        let mail = crate::mail::templates::invoice_issued(
            &org.name,
            &inv.number,
            &total,
            &due,
            inv.status == InvoiceStatus::Paid,
            &link,
            pdf.clone(),
        );
        crate::mail::enqueue(&*tx, email, mail).await?;
    }
    if !emails.is_empty() {
        tx.wake_mail();
    }
    Ok(())
}

/// Tries to collect an open invoice through the account's provider, inside `tx` (a plan
/// change, whose upgrade stands or falls with its payment): [`charge`] then [`apply_charge`].
/// Renewals and dunning charge outside any transaction instead, as a job
/// (`super::jobs::Collect`).
pub async fn collect(
    tx: &mut TenantTx<'_>,
    account: &billing_account::Model,
    inv: invoice::Model,
    attempt: i32,
) -> AppResult<(invoice::Model, Option<String>)> {
    if inv.status != InvoiceStatus::Open {
        return Ok((inv, None));
    }
    let outcome = charge(tx.ctx(), account, &inv, attempt).await?;
    apply_charge(tx, inv, outcome).await
}

/// Charges open invoice `inv` through the account's provider. Each `attempt` has its own
/// idempotency key (the invoice's, numbered): repeating an attempt never charges twice, and a
/// retry after a decline is a new charge.
pub async fn charge(
    ctx: &crate::ctx::Ctx,
    account: &billing_account::Model,
    inv: &invoice::Model,
    attempt: i32,
) -> AppResult<ChargeOutcome> {
    let provider = providers::provider(ctx, &account.provider)?;
    provider
        .charge(Charge {
            customer_id: account.provider_customer_id.as_deref(),
            payment_method_id: account.provider_payment_method_id.as_deref(),
            invoice_id: inv.id,
            amount: inv.amount_due,
            currency: &inv.currency,
            description: &inv.number,
            idempotency_key: &format!("{}:{attempt}", inv.idempotency_key),
        })
        .await
}

/// Records what a charge of `inv` came to, in `tx`. Paid: the invoice is PAID. Refused: it
/// stays OPEN, `PAYMENT_FAILED` is announced and the reason returned (dunning decides what
/// follows). Paid by transfer: nothing happens until it is marked paid.
pub async fn apply_charge(
    tx: &mut TenantTx<'_>,
    inv: invoice::Model,
    outcome: ChargeOutcome,
) -> AppResult<(invoice::Model, Option<String>)> {
    match outcome {
        ChargeOutcome::Paid { provider, payment_id } => {
            Ok((mark_paid_in(tx, inv, Some(Payment { provider, id: payment_id })).await?, None))
        }
        ChargeOutcome::Failed { reason } => {
            tracing::info!(invoice = %inv.number, %reason, "charge refused");
            service::event(tx, BillingEventKind::PaymentFailed, Some(inv.id));
            Ok((inv, Some(reason)))
        }
        ChargeOutcome::AwaitingPayment => Ok((inv, None)),
    }
}

/// A payment taken by a provider: which one, and its id there.
pub struct Payment {
    pub provider: String,
    pub id: String,
}

/// Marks `inv` PAID in `tx` (by `payment`, or outside any provider) and, when its
/// subscription was past due for it, makes the subscription ACTIVE again.
pub async fn mark_paid_in(
    tx: &mut TenantTx<'_>,
    inv: invoice::Model,
    payment: Option<Payment>,
) -> AppResult<invoice::Model> {
    let scope = tx.scope();
    let now = tx.ctx().now();
    let mut am: invoice::ActiveModel = inv.clone().into();
    am.status = Set(InvoiceStatus::Paid);
    am.paid_at = Set(Some(now));
    am.payment_provider = Set(payment.as_ref().map(|p| p.provider.clone()));
    am.provider_payment_id = Set(payment.map(|p| p.id));
    let paid = scope.update(&*tx, am).await?;
    tx.audit(Change {
        action: "billing.invoice_paid",
        target_type: "Invoice",
        target_id: Some(paid.id),
        before: Some(json!({ "status": inv.status })),
        after: Some(json!({ "status": paid.status, "number": paid.number })),
    })
    .await?;
    service::event(tx, BillingEventKind::InvoicePaid, Some(paid.id));
    settle_dunning(tx, "billing.payment_recovered").await?;
    Ok(paid)
}

/// Once no open invoice is overdue any more, a subscription in dunning is ACTIVE again with
/// its retries cleared (recorded as `action`).
async fn settle_dunning(tx: &mut TenantTx<'_>, action: &str) -> AppResult<()> {
    let scope = tx.scope();
    let now = tx.ctx().now();
    let still_open = scope
        .find::<invoice::Entity>()
        .filter(invoice::Column::Status.eq(InvoiceStatus::Open))
        .filter(invoice::Column::DueAt.lte(now))
        .one(&*tx)
        .await?
        .is_some();
    if let Some(sub) = service::current(&*tx, scope).await?
        && !still_open
        && (sub.status == SubscriptionStatus::PastDue || sub.next_retry_at.is_some())
    {
        let mut am: subscription::ActiveModel = sub.clone().into();
        am.status = Set(if sub.status == SubscriptionStatus::PastDue {
            SubscriptionStatus::Active
        } else {
            sub.status
        });
        am.failed_renewals = Set(0);
        am.next_retry_at = Set(None);
        am.past_due_since = Set(None);
        service::save(tx, &sub, am, Some(action)).await?;
    }
    Ok(())
}

/// Voids an OPEN invoice (`billing.manage`): it is no longer owed, the credit it used goes
/// back to the account, and dunning for it ends (the subscription is ACTIVE again when no
/// other open invoice is overdue). Audited; `billingEvents` delivers `INVOICE_VOIDED`.
pub async fn void_invoice(
    ctx: &crate::ctx::Ctx,
    tctx: &crate::access::TenantCtx,
    id: Uuid,
) -> AppResult<invoice::Model> {
    let mut tx = TenantTx::begin(ctx, tctx, crate::auth::Permission::BillingManage).await?;
    let scope = tx.scope();
    crate::db::lock_tenant(&tx, scope).await?;
    let inv = scope.find_by_id::<invoice::Entity, _>(&tx, id).await?.ok_or(AppError::NotFound("invoice"))?;
    if inv.status != InvoiceStatus::Open {
        return Err(AppError::validation("input.invoiceId", "only an open invoice can be voided"));
    }
    let mut am: invoice::ActiveModel = inv.clone().into();
    am.status = Set(InvoiceStatus::Void);
    let voided = scope.update(&tx, am).await?;
    if inv.credit_applied > 0 {
        scope
            .update_many::<billing_account::Entity>()
            .col_expr(
                billing_account::Column::CreditBalance,
                Expr::col(billing_account::Column::CreditBalance).add(inv.credit_applied),
            )
            .exec(&tx)
            .await?;
    }
    tx.audit(Change {
        action: "billing.invoice_voided",
        target_type: "Invoice",
        target_id: Some(voided.id),
        before: Some(json!({ "status": inv.status, "number": inv.number })),
        after: Some(json!({ "status": voided.status, "creditReturned": inv.credit_applied })),
    })
    .await?;
    service::event(&mut tx, BillingEventKind::InvoiceVoided, Some(voided.id));
    settle_dunning(&mut tx, "billing.dunning_ended").await?;
    tx.commit().await?;
    Ok(voided)
}

/// An open invoice of any organisation, by id (for a platform administrator marking it paid:
/// the tenant is not known before the lookup).
pub async fn owner_of(db: &sea_orm::DatabaseConnection, id: Uuid) -> AppResult<Option<Uuid>> {
    // Across tenants: the platform administrator names an invoice, not an organisation.
    let found = invoice::Entity::find_by_id(id).one(&crate::db::across_tenants(db)).await?;
    Ok(found.map(|i| i.tenant_id))
}

/// Marks an open invoice paid (a platform administrator, for invoices paid outside a
/// provider).
pub async fn mark_invoice_paid(
    ctx: &crate::ctx::Ctx,
    tctx: &crate::access::TenantCtx,
    id: Uuid,
) -> AppResult<invoice::Model> {
    let mut tx = TenantTx::open(ctx, tctx).await?; // the caller checked the platform role
    let scope = tx.scope();
    crate::db::lock_tenant(&tx, scope).await?;
    let inv = scope.find_by_id::<invoice::Entity, _>(&tx, id).await?.ok_or(AppError::NotFound("invoice"))?;
    if inv.status != InvoiceStatus::Open {
        return Err(AppError::validation("input.invoiceId", "only an open invoice can be marked paid"));
    }
    let paid = mark_paid_in(&mut tx, inv, None).await?;
    tx.commit().await?;
    Ok(paid)
}
