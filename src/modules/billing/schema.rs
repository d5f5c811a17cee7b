//! Billing queries, mutations and the `billingEvents` subscription.

use async_graphql::{
    Context, ID, InputObject, Json, MaybeUndefined, Object, Result, SimpleObject, Subscription,
};
use futures::{Stream, StreamExt};

use super::{
    checkout::Purpose,
    invoices, plan_changes, plans,
    service::{self, BillingEvent, BillingEventKind, SettingsUpdate},
    types::{BillingAccount, BillingInterval, Invoice, Plan, PlanChangePreview, PlanSubscription as Sub},
};
use crate::{
    auth::Permission,
    error::AppError,
    graphql::{
        app, live,
        loaders::{tenant_arg, tenant_arg_unmetered},
        rctx, relay,
    },
};

#[derive(Default)]
pub struct BillingQuery;

#[Object]
impl BillingQuery {
    /// The plan catalog, cheapest first (public: the pricing page reads it).
    async fn plans(&self, ctx: &Context<'_>) -> Result<Vec<Plan>> {
        let catalog = plans::catalog(&app(ctx).config)?;
        Ok(catalog.plans.iter().map(Plan).collect())
    }

    /// The payment providers of this instance: `MANUAL` (invoices paid by transfer) always,
    /// `STRIPE`, `REVOLUT` and `PAYPAL` when configured (public: the billing page offers what exists).
    async fn payment_providers(&self, ctx: &Context<'_>) -> Vec<PaymentProviderKind> {
        let mut out = vec![PaymentProviderKind::Manual];
        if app(ctx).config.billing.stripe.is_some() {
            out.push(PaymentProviderKind::Stripe);
        }
        if app(ctx).config.billing.revolut.is_some() {
            out.push(PaymentProviderKind::Revolut);
        }
        if app(ctx).config.billing.paypal.is_some() {
            out.push(PaymentProviderKind::Paypal);
        }
        out
    }

    /// What changing the organisation's plan would cost now, before `changePlan` commits it
    /// (needs `BILLING_READ`).
    async fn preview_plan_change(
        &self,
        ctx: &Context<'_>,
        tenant_id: ID,
        plan: String,
        interval: BillingInterval,
    ) -> Result<PlanChangePreview> {
        let tctx = tenant_arg_unmetered(ctx, "tenantId", &tenant_id).await?;
        Ok(PlanChangePreview(
            plan_changes::preview_plan_change(app(ctx), &tctx, &plan, interval.into()).await?,
        ))
    }
}

#[derive(InputObject)]
pub struct ChangePlanInput {
    pub tenant_id: ID,
    /// The plan's key (`plans`).
    pub plan: String,
    pub interval: BillingInterval,
    /// Start the plan's trial instead of paying (from Free, once per organisation).
    #[graphql(default)]
    pub trial: bool,
}

#[derive(SimpleObject)]
pub struct ChangePlanPayload {
    pub subscription: Sub,
    /// The proration invoice of an upgrade.
    pub invoice: Option<Invoice>,
}

#[derive(InputObject)]
pub struct CancelSubscriptionInput {
    pub tenant_id: ID,
    /// End with the current period (default) or now.
    #[graphql(default = true)]
    pub at_period_end: bool,
}

#[derive(InputObject)]
pub struct ResumeSubscriptionInput {
    pub tenant_id: ID,
}

#[derive(SimpleObject)]
pub struct SubscriptionPayload {
    pub subscription: Sub,
}

#[derive(InputObject)]
pub struct UpdateBillingSettingsInput {
    pub tenant_id: ID,
    /// ISO 4217; changes only on the Free plan.
    pub currency: Option<String>,
    /// 0 to 10000 basis points.
    pub tax_rate_bps: Option<i32>,
    /// Null clears it.
    pub tax_id: MaybeUndefined<String>,
    /// `name`, `line1`, `line2`, `city`, `postalCode`, `region`, `country`.
    pub billing_address: Option<Json<serde_json::Value>>,
}

#[derive(SimpleObject)]
pub struct BillingAccountPayload {
    pub billing_account: BillingAccount,
}

/// A payment provider.
#[derive(async_graphql::Enum, Clone, Copy, PartialEq, Eq)]
pub enum PaymentProviderKind {
    /// Invoices paid by transfer, marked paid by a platform administrator (no checkout).
    Manual,
    /// Stripe's hosted checkout and card payments.
    Stripe,
    /// Revolut's hosted checkout and card payments.
    Revolut,
    /// PayPal's approval page and vaulted PayPal payments.
    Paypal,
}

#[derive(InputObject)]
pub struct StartCheckoutInput {
    pub tenant_id: ID,
    pub provider: PaymentProviderKind,
    /// The plan that applies once the payment method is saved.
    pub plan: String,
    pub interval: BillingInterval,
    /// Where the provider sends the customer back (under this instance's public URL; default
    /// `/billing?checkout=success` and `…=cancel`).
    pub success_url: Option<String>,
    pub cancel_url: Option<String>,
}

#[derive(InputObject)]
pub struct StartPaymentMethodUpdateInput {
    pub tenant_id: ID,
    pub provider: PaymentProviderKind,
    /// As in `StartCheckoutInput`.
    pub success_url: Option<String>,
    pub cancel_url: Option<String>,
}

fn provider_key(kind: PaymentProviderKind) -> &'static str {
    match kind {
        PaymentProviderKind::Manual => "manual",
        PaymentProviderKind::Stripe => "stripe",
        PaymentProviderKind::Revolut => "revolut",
        PaymentProviderKind::Paypal => "paypal",
    }
}

#[derive(SimpleObject)]
pub struct StartCheckoutPayload {
    /// The provider's hosted page to send the customer to.
    pub checkout_url: String,
}

#[derive(InputObject)]
pub struct MarkInvoicePaidInput {
    pub invoice_id: ID,
}

#[derive(InputObject)]
pub struct VoidInvoiceInput {
    pub invoice_id: ID,
}

#[derive(SimpleObject)]
pub struct InvoicePayload {
    pub invoice: Invoice,
}

#[derive(InputObject)]
pub struct RefundInvoiceInput {
    pub tenant_id: ID,
    /// A paid invoice of the organisation.
    pub invoice_id: ID,
    /// Minor units to pay back (default: all that is paid and not refunded yet).
    pub amount: Option<i64>,
}

/// A refund of (part of) an invoice.
#[derive(SimpleObject)]
pub struct InvoiceRefund {
    /// Minor units.
    pub amount: i64,
    pub currency: String,
    /// The provider's refund id (none when the money went back outside a provider).
    pub provider_refund_id: Option<String>,
    pub refunded_at: chrono::DateTime<chrono::Utc>,
}

#[derive(SimpleObject)]
pub struct RefundInvoicePayload {
    pub invoice: Invoice,
    pub refund: InvoiceRefund,
    /// Everything refunded of the invoice so far, in minor units.
    pub total_refunded: i64,
}

#[derive(Default)]
pub struct BillingMutation;

#[Object]
impl BillingMutation {
    /// Changes the plan (needs `BILLING_MANAGE`): an upgrade at once with the prorated
    /// amount invoiced, a downgrade at the period end (refused with `OVER_PLAN_LIMITS` while
    /// the organisation uses more than the new plan allows).
    async fn change_plan(&self, ctx: &Context<'_>, input: ChangePlanInput) -> Result<ChangePlanPayload> {
        let tctx = tenant_arg_unmetered(ctx, "input.tenantId", &input.tenant_id).await?;
        let out = plan_changes::change_plan(app(ctx), &tctx, &input.plan, input.interval.into(), input.trial)
            .await?;
        Ok(ChangePlanPayload { subscription: Sub(out.subscription), invoice: out.invoice.map(Invoice) })
    }

    /// Opens a provider's hosted checkout where the organisation saves a payment method; the
    /// plan applies, and its first invoice is charged, when the provider confirms (needs
    /// `BILLING_MANAGE`). Zygo never sees the card.
    async fn start_checkout(
        &self,
        ctx: &Context<'_>,
        input: StartCheckoutInput,
    ) -> Result<StartCheckoutPayload> {
        let tctx = tenant_arg_unmetered(ctx, "input.tenantId", &input.tenant_id).await?;
        let url = super::checkout::start_checkout(
            app(ctx),
            &tctx,
            provider_key(input.provider),
            Purpose::Plan(&input.plan, input.interval.into()),
            input.success_url.as_deref(),
            input.cancel_url.as_deref(),
        )
        .await?;
        Ok(StartCheckoutPayload { checkout_url: url })
    }

    /// Opens a provider's hosted page where the organisation saves a new payment method for
    /// the plan it is on (needs `BILLING_MANAGE`); renewals and dunning retries are charged to
    /// it once the provider confirms. The provider may differ from the current one: invoices
    /// already paid are refunded through the provider that took them.
    async fn start_payment_method_update(
        &self,
        ctx: &Context<'_>,
        input: StartPaymentMethodUpdateInput,
    ) -> Result<StartCheckoutPayload> {
        let tctx = tenant_arg_unmetered(ctx, "input.tenantId", &input.tenant_id).await?;
        let url = super::checkout::start_checkout(
            app(ctx),
            &tctx,
            provider_key(input.provider),
            Purpose::ReplaceMethod,
            input.success_url.as_deref(),
            input.cancel_url.as_deref(),
        )
        .await?;
        Ok(StartCheckoutPayload { checkout_url: url })
    }

    /// Cancels the paid plan at the period end or now (needs `BILLING_MANAGE`).
    async fn cancel_subscription(
        &self,
        ctx: &Context<'_>,
        input: CancelSubscriptionInput,
    ) -> Result<SubscriptionPayload> {
        let tctx = tenant_arg(ctx, "input.tenantId", &input.tenant_id).await?;
        let sub = plan_changes::cancel_subscription(app(ctx), &tctx, input.at_period_end).await?;
        Ok(SubscriptionPayload { subscription: Sub(sub) })
    }

    /// Takes back a scheduled cancellation or downgrade (needs `BILLING_MANAGE`).
    async fn resume_subscription(
        &self,
        ctx: &Context<'_>,
        input: ResumeSubscriptionInput,
    ) -> Result<SubscriptionPayload> {
        let tctx = tenant_arg(ctx, "input.tenantId", &input.tenant_id).await?;
        let sub = plan_changes::resume_subscription(app(ctx), &tctx).await?;
        Ok(SubscriptionPayload { subscription: Sub(sub) })
    }

    /// Pays (part of) a paid invoice back through the provider that took the payment (needs
    /// `BILLING_MANAGE`; audited). Sent with an idempotency key: a retried request refunds once.
    async fn refund_invoice(
        &self,
        ctx: &Context<'_>,
        input: RefundInvoiceInput,
    ) -> Result<RefundInvoicePayload> {
        let tctx = tenant_arg(ctx, "input.tenantId", &input.tenant_id).await?;
        let id = relay::decode_id("input.invoiceId", &input.invoice_id, relay::kind::INVOICE)?;
        let out = super::refunds::refund_invoice(app(ctx), &tctx, id, input.amount).await?;
        Ok(RefundInvoicePayload {
            invoice: Invoice(out.invoice),
            refund: InvoiceRefund {
                amount: out.refund.amount,
                currency: out.refund.currency,
                provider_refund_id: out.refund.provider_refund_id,
                refunded_at: out.refund.created_at,
            },
            total_refunded: out.total_refunded,
        })
    }

    /// Changes currency, tax rate, tax ID or billing address (needs `BILLING_MANAGE`).
    async fn update_billing_settings(
        &self,
        ctx: &Context<'_>,
        input: UpdateBillingSettingsInput,
    ) -> Result<BillingAccountPayload> {
        let tctx = tenant_arg(ctx, "input.tenantId", &input.tenant_id).await?;
        let update = SettingsUpdate {
            currency: input.currency,
            tax_rate_bps: input.tax_rate_bps,
            tax_id: match input.tax_id {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(v) => Some(Some(v)),
            },
            billing_address: input.billing_address.map(|j| j.0),
        };
        let account = service::update_settings(app(ctx), &tctx, update).await?;
        Ok(BillingAccountPayload { billing_account: BillingAccount(account) })
    }

    /// Voids an open invoice: no longer owed, its credit returned, its dunning ended (needs
    /// `BILLING_MANAGE`).
    async fn void_invoice(&self, ctx: &Context<'_>, input: VoidInvoiceInput) -> Result<InvoicePayload> {
        let (id, tctx) = crate::graphql::owned_row::<entity::invoice::Entity>(
            ctx,
            "input.invoiceId",
            &input.invoice_id,
            relay::kind::INVOICE,
            "invoice",
            entity::invoice::Column::Id,
        )
        .await?;
        Ok(InvoicePayload { invoice: Invoice(invoices::void_invoice(app(ctx), &tctx, id).await?) })
    }

    /// Marks an open invoice paid, for invoices paid by transfer (platform
    /// super administrators only).
    async fn mark_invoice_paid(
        &self,
        ctx: &Context<'_>,
        input: MarkInvoicePaidInput,
    ) -> Result<InvoicePayload> {
        let viewer = rctx(ctx).viewer()?;
        let id = relay::decode_id("input.invoiceId", &input.invoice_id, relay::kind::INVOICE)?;
        let app = app(ctx);
        crate::access::platform::require(&app.db, viewer.user_id, crate::access::platform::SUPER_ADMIN)
            .await?;
        let tenant = invoices::owner_of(&app.db, id).await?.ok_or(AppError::NotFound("invoice"))?;
        let tctx = crate::access::TenantCtx::system(tenant);
        Ok(InvoicePayload { invoice: Invoice(invoices::mark_invoice_paid(app, &tctx, id).await?) })
    }
}

/// A billing change of an organisation, delivered by `billingEvents`.
pub struct BillingEventObject(BillingEvent);

#[Object(name = "BillingEvent")]
impl BillingEventObject {
    async fn kind(&self) -> BillingEventKind {
        self.0.kind
    }
    async fn tenant_id(&self) -> ID {
        relay::to_global_id(relay::kind::TENANT, self.0.tenant_id)
    }
    /// The invoice concerned, for invoice and payment events.
    async fn invoice_id(&self) -> Option<ID> {
        self.0.invoice_id.map(|id| relay::to_global_id(relay::kind::INVOICE, id))
    }
    async fn occurred_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.occurred_at
    }
}

#[derive(Default)]
pub struct BillingSubscription;

#[Subscription]
impl BillingSubscription {
    /// The organisation's use of each limit, again each time a use changes it (needs
    /// `BILLING_READ`, checked again on every change): the billing page's live bars.
    async fn usage_updated(
        &self,
        ctx: &Context<'_>,
        tenant_id: ID,
    ) -> Result<impl Stream<Item = Vec<super::types::LimitUsage>> + use<>> {
        let (app, viewer, id) = live::open(ctx, "tenantId", &tenant_id, Permission::BillingRead).await?;
        let db = app.ctx.clone();
        Ok(live::guarded(app, viewer, id, Permission::BillingRead, service::topic(id))
            .filter(|(event, _)| {
                let usage = serde_json::from_value::<BillingEvent>(event.payload.clone())
                    .is_ok_and(|e| e.kind == BillingEventKind::UsageUpdated);
                futures::future::ready(usage)
            })
            .filter_map(move |(_, tctx)| {
                let ctx = db.clone();
                async move {
                    let uses = super::usage::usage(&tctx.on(&ctx.db), &ctx, tctx.scope()).await;
                    tctx.reads.release().await;
                    match uses {
                        Ok(uses) => {
                            Some(uses.into_iter().map(super::types::LimitUsage::from).collect::<Vec<_>>())
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "usage not delivered");
                            None
                        }
                    }
                }
            }))
    }

    /// The organisation's billing events: subscription changed, invoice issued or paid,
    /// payment failed (needs `BILLING_READ`, checked again on every event).
    async fn billing_events(
        &self,
        ctx: &Context<'_>,
        tenant_id: ID,
    ) -> Result<impl Stream<Item = BillingEventObject> + use<>> {
        let (app, viewer, id) = live::open(ctx, "tenantId", &tenant_id, Permission::BillingRead).await?;
        Ok(live::guarded(app, viewer, id, Permission::BillingRead, service::topic(id)).filter_map(
            move |(event, _)| async move {
                serde_json::from_value::<BillingEvent>(event.payload.clone())
                    .ok()
                    .filter(|e| e.tenant_id == id)
                    .map(BillingEventObject)
            },
        ))
    }
}
