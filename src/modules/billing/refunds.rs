//! Refunds of paid invoices (`refundInvoice`, needs `billing.manage`): the whole unrefunded
//! part or a given amount goes back through the provider that took the payment (an invoice
//! marked paid by an administrator is refunded outside Zygo: recorded only), audited.
//!
//! Each refund is sent with the key `refund:<invoice>:<amount refunded before it>`, under the
//! tenant's write lock. A request whose answer was lost (or whose transaction failed after the
//! provider refunded) is sent again with the same key, and the provider answers the refund it
//! made: the money goes back once. A refund that was recorded changes the key's second part, and
//! asking again for what is left cannot exceed the amount paid.
//!
//! Owns the `invoice_refunds` table.

use entity::{
    invoice::{self, InvoiceStatus},
    invoice_refund,
};
use sea_orm::{ColumnTrait, QueryFilter, Set};
use serde_json::json;
use uuid::Uuid;

use super::{
    providers::{self, Refund, RefundOutcome},
    service,
};
use crate::{
    access::{Change, TenantCtx, TenantTx},
    auth::Permission,
    ctx::Ctx,
    db::lock_tenant,
    error::{AppError, AppResult},
};

/// A refund made, with the invoice and how much of it is refunded now.
pub struct Refunded {
    pub invoice: invoice::Model,
    pub refund: invoice_refund::Model,
    /// Everything refunded of the invoice so far (minor units).
    pub total_refunded: i64,
}

/// Refunds `amount` (default: all that is not refunded yet) of the paid invoice `invoice_id`.
pub async fn refund_invoice(
    ctx: &Ctx,
    tctx: &TenantCtx,
    invoice_id: Uuid,
    amount: Option<i64>,
) -> AppResult<Refunded> {
    let tx = TenantTx::begin(ctx, tctx, Permission::BillingManage).await?;
    let scope = tx.scope();
    lock_tenant(&tx, scope).await?;
    let inv = scope
        .find_by_id::<invoice::Entity, _>(&tx, invoice_id)
        .await?
        .ok_or(AppError::NotFound("invoice"))?;
    if inv.status != InvoiceStatus::Paid {
        return Err(AppError::validation("input.invoiceId", "only a paid invoice can be refunded"));
    }
    let before: i64 = scope
        .find::<invoice_refund::Entity>()
        .filter(invoice_refund::Column::InvoiceId.eq(inv.id))
        .all(&tx)
        .await?
        .iter()
        .map(|r| r.amount)
        .sum();
    // What the customer paid in money (a credit applied is not paid back in money).
    let left = inv.amount_due - before;
    if left <= 0 {
        return Err(AppError::validation("input.invoiceId", "nothing of this invoice is left to refund"));
    }
    let amount = amount.unwrap_or(left);
    if amount <= 0 || amount > left {
        return Err(AppError::validation(
            "input.amount",
            format!("must be 1 to {left} minor units (what is paid and not yet refunded)"),
        ));
    }
    let account = service::ensure_account(&tx, ctx, scope).await?;
    // Back through the provider that took the payment (the account may have switched since),
    // or, with no payment id, outside Zygo.
    let (provider_key, payment_id) = match &inv.provider_payment_id {
        Some(id) => (inv.payment_provider.as_deref().unwrap_or(account.provider.as_str()), id.as_str()),
        None => ("manual", ""),
    };
    let key = format!("refund:{}:{before}", inv.id);
    let provider = providers::provider(ctx, provider_key)?;
    let outcome = provider
        .refund(Refund {
            payment_id,
            invoice_id: inv.id,
            amount,
            currency: &inv.currency,
            idempotency_key: &key,
        })
        .await?;
    let refund_id = match outcome {
        RefundOutcome::Refunded { refund_id } => refund_id,
        RefundOutcome::Refused { reason } => {
            return Err(AppError::validation(
                "input.invoiceId",
                format!("the payment provider refused the refund: {reason}"),
            ));
        }
    };
    let now = ctx.now();
    let refund = scope
        .insert(
            &tx,
            invoice_refund::ActiveModel {
                id: Set(Uuid::now_v7()),
                tenant_id: Set(scope.tenant_id()),
                invoice_id: Set(inv.id),
                provider: Set(provider_key.to_string()),
                amount: Set(amount),
                currency: Set(inv.currency.clone()),
                idempotency_key: Set(key),
                provider_refund_id: Set(refund_id),
                created_at: Set(now),
            },
        )
        .await?;
    let total_refunded = before + amount;
    tx.commit_with(Change {
        action: "billing.invoice_refunded",
        target_type: "Invoice",
        target_id: Some(inv.id),
        before: Some(json!({ "number": inv.number, "refunded": before })),
        after: Some(json!({
            "number": inv.number, "refunded": total_refunded, "amount": amount, "currency": inv.currency,
            "provider": provider_key, "providerRefundId": refund.provider_refund_id,
        })),
    })
    .await?;
    Ok(Refunded { invoice: inv, refund, total_refunded })
}
