//! GraphQL types of billing: the catalog's plans, the subscription, invoices, usage, and the
//! organisation's billing part of `Tenant`.

use async_graphql::{Context, Enum, ID, Json, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{billing_account, invoice, subscription};

use super::{
    invoices::Line,
    plans::{self, Limit, Plan as CatalogPlan},
    proration::ChangeKind,
    service, usage,
};
use crate::{
    auth::Permission,
    graphql::{
        app,
        loaders::{empty_rows, loader_err, loaders},
        relay,
        tenant::TenantRow,
    },
};

/// How often a price is charged.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::subscription::BillingInterval")]
pub enum BillingInterval {
    Month,
    Year,
}

/// Where a subscription stands (Stripe Billing's states).
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::subscription::SubscriptionStatus")]
pub enum SubscriptionStatus {
    Trialing,
    Active,
    PastDue,
    Canceled,
    Incomplete,
    Paused,
}

/// Where an invoice stands.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::invoice::InvoiceStatus")]
pub enum InvoiceStatus {
    Draft,
    Open,
    Paid,
    Void,
    Uncollectible,
}

/// Whether a plan change applies now (an upgrade) or at the period end (a downgrade).
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum PlanChangeKind {
    Upgrade,
    Downgrade,
}

/// A price of a plan, in minor units (cents) of an ISO 4217 currency.
#[derive(SimpleObject)]
pub struct PlanPrice {
    pub currency: String,
    pub interval: BillingInterval,
    pub amount: i64,
}

/// One limit of a plan (`value` null: unlimited).
#[derive(SimpleObject)]
pub struct PlanLimit {
    pub limit: Limit,
    pub value: Option<i64>,
}

/// A plan of the catalog.
pub struct Plan(pub &'static CatalogPlan);

#[Object]
impl Plan {
    /// Stable key: `free`, `pro`, `business`, `enterprise`, or an operator's own.
    async fn key(&self) -> &str {
        &self.0.key
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// The catalog version of the plan (subscriptions keep the version they signed up at).
    async fn version(&self) -> i32 {
        self.0.version
    }
    async fn prices(&self) -> Vec<PlanPrice> {
        self.0
            .prices
            .iter()
            .map(|p| PlanPrice {
                currency: p.currency.clone(),
                interval: p.interval.into(),
                amount: p.amount,
            })
            .collect()
    }
    async fn trial_days(&self) -> i32 {
        self.0.trial_days
    }
    async fn limits(&self) -> Vec<PlanLimit> {
        Limit::ALL.iter().map(|&limit| PlanLimit { limit, value: self.0.limit(limit) }).collect()
    }
    /// Features the plan turns on.
    async fn features(&self) -> Vec<&str> {
        self.0.features.iter().filter(|(_, on)| **on).map(|(k, _)| k.as_str()).collect()
    }
    /// Sold by the sales team: no self-serve checkout.
    async fn contact_sales(&self) -> bool {
        self.0.contact_sales
    }
    /// Operations per minute the organisation's API keys share (null: the instance's
    /// default).
    async fn requests_per_minute(&self) -> Option<i32> {
        self.0.requests_per_minute.map(|n| n.min(i32::MAX as u32) as i32)
    }
}

fn plan_or_free(ctx: &Context<'_>, key: &str) -> Result<Plan> {
    let catalog = plans::catalog(&app(ctx).config)?;
    Ok(Plan(catalog.plan(key).unwrap_or_else(|| catalog.free())))
}

/// An organisation's subscription to a plan (`Subscription` is GraphQL's root of live operations).
pub struct PlanSubscription(pub subscription::Model);

#[Object]
impl PlanSubscription {
    /// Global ID (null for the Free plan of an organisation that never changed plan).
    async fn id(&self) -> Option<ID> {
        (!self.0.id.is_nil()).then(|| relay::to_global_id(relay::kind::SUBSCRIPTION, self.0.id))
    }
    async fn plan(&self, ctx: &Context<'_>) -> Result<Plan> {
        plan_or_free(ctx, &self.0.plan_key)
    }
    async fn plan_version(&self) -> i32 {
        self.0.plan_version
    }
    async fn status(&self) -> SubscriptionStatus {
        self.0.status.into()
    }
    async fn interval(&self) -> BillingInterval {
        self.0.interval.into()
    }
    async fn currency(&self) -> &str {
        &self.0.currency
    }
    /// The price per interval this subscription pays, in minor units.
    async fn unit_amount(&self) -> i64 {
        self.0.unit_amount
    }
    async fn current_period_start(&self) -> DateTime<Utc> {
        self.0.current_period_start
    }
    /// The end of the current period: the next renewal, or when a cancellation or a
    /// scheduled change takes effect.
    async fn current_period_end(&self) -> DateTime<Utc> {
        self.0.current_period_end
    }
    async fn trial_end(&self) -> Option<DateTime<Utc>> {
        self.0.trial_end
    }
    async fn cancel_at_period_end(&self) -> bool {
        self.0.cancel_at_period_end
    }
    async fn canceled_at(&self) -> Option<DateTime<Utc>> {
        self.0.canceled_at
    }
    /// A downgrade waiting for the period end.
    async fn scheduled_plan(&self, ctx: &Context<'_>) -> Result<Option<Plan>> {
        self.0.scheduled_plan_key.as_deref().map(|k| plan_or_free(ctx, k)).transpose()
    }
    async fn scheduled_interval(&self) -> Option<BillingInterval> {
        self.0.scheduled_interval.map(Into::into)
    }
    async fn past_due_since(&self) -> Option<DateTime<Utc>> {
        self.0.past_due_since
    }
    /// When an unpaid renewal is tried (or checked) again.
    async fn next_retry_at(&self) -> Option<DateTime<Utc>> {
        self.0.next_retry_at
    }
}

/// One line of an invoice.
#[derive(SimpleObject)]
pub struct InvoiceLine {
    pub kind: super::invoices::LineKind,
    pub description: String,
    pub quantity: i64,
    pub unit_amount: i64,
    pub amount: i64,
}

/// An invoice; amounts in minor units of its currency.
pub struct Invoice(pub invoice::Model);

#[Object]
impl Invoice {
    /// Global ID.
    pub async fn id(&self) -> ID {
        relay::to_global_id(relay::kind::INVOICE, self.0.id)
    }
    /// Gapless per issuer and year, e.g. `ZYG-2026-000042`.
    async fn number(&self) -> &str {
        &self.0.number
    }
    async fn status(&self) -> InvoiceStatus {
        self.0.status.into()
    }
    async fn currency(&self) -> &str {
        &self.0.currency
    }
    async fn subtotal(&self) -> i64 {
        self.0.subtotal
    }
    async fn tax(&self) -> i64 {
        self.0.tax
    }
    async fn total(&self) -> i64 {
        self.0.total
    }
    /// Credit balance used towards the total.
    async fn credit_applied(&self) -> i64 {
        self.0.credit_applied
    }
    async fn amount_due(&self) -> i64 {
        self.0.amount_due
    }
    async fn lines(&self) -> Vec<InvoiceLine> {
        let lines: Vec<Line> = serde_json::from_str(&self.0.lines).unwrap_or_default();
        lines
            .into_iter()
            .map(|l| InvoiceLine {
                kind: l.kind,
                description: l.description,
                quantity: l.quantity,
                unit_amount: l.unit_amount,
                amount: l.amount,
            })
            .collect()
    }
    async fn period_start(&self) -> DateTime<Utc> {
        self.0.period_start
    }
    async fn period_end(&self) -> DateTime<Utc> {
        self.0.period_end
    }
    async fn issued_at(&self) -> DateTime<Utc> {
        self.0.issued_at
    }
    async fn due_at(&self) -> DateTime<Utc> {
        self.0.due_at
    }
    async fn paid_at(&self) -> Option<DateTime<Utc>> {
        self.0.paid_at
    }
    /// A download link of the invoice's PDF, valid for 15 minutes.
    async fn pdf_url(&self, ctx: &Context<'_>) -> String {
        let app = app(ctx);
        super::documents::link(app, self.0.id, app.now())
    }
}

/// Use of one limit of the plan.
#[derive(SimpleObject)]
pub struct LimitUsage {
    pub limit: Limit,
    pub used: i64,
    /// The plan's allowance (null: unlimited).
    pub allowed: Option<i64>,
    /// `used` as a percentage of `allowed` (null when unlimited).
    pub percentage: Option<f64>,
    /// False for resources Zygo does not count yet (their area is still to come).
    pub metered: bool,
    /// When a per-period count starts again.
    pub resets_at: Option<DateTime<Utc>>,
}

impl From<usage::LimitUse> for LimitUsage {
    fn from(u: usage::LimitUse) -> Self {
        Self {
            limit: u.limit,
            used: u.used,
            allowed: u.allowed,
            percentage: u.allowed.map(|a| {
                if a == 0 { if u.used > 0 { 100.0 } else { 0.0 } } else { u.used as f64 * 100.0 / a as f64 }
            }),
            metered: u.metered,
            resets_at: u.resets_at,
        }
    }
}

/// An organisation's billing settings.
pub struct BillingAccount(pub billing_account::Model);

#[Object]
impl BillingAccount {
    /// The payment provider: `manual` (invoices paid by transfer).
    async fn provider(&self) -> &str {
        &self.0.provider
    }
    async fn currency(&self) -> &str {
        &self.0.currency
    }
    /// Tax rate in basis points (2000 = 20 %).
    async fn tax_rate_bps(&self) -> i32 {
        self.0.tax_rate_bps
    }
    async fn tax_id(&self) -> Option<&str> {
        self.0.tax_id.as_deref()
    }
    async fn billing_address(&self) -> Json<serde_json::Value> {
        Json(serde_json::from_str(&self.0.billing_address).unwrap_or_else(|_| serde_json::json!({})))
    }
    /// Credit from plan changes, applied to the next invoices (minor units).
    async fn credit_balance(&self) -> i64 {
        self.0.credit_balance
    }
    /// A payment method is saved with the provider (renewals are charged to it); Zygo keeps
    /// only the provider's reference, never the card.
    async fn payment_method_saved(&self) -> bool {
        self.0.provider_payment_method_id.is_some()
    }
    /// The saved payment method as the provider describes it (null when none is saved, or it
    /// was saved before Zygo kept its description).
    async fn payment_method(&self) -> Option<PaymentMethod> {
        self.0.provider_payment_method_id.as_ref()?;
        let details = serde_json::from_str(self.0.payment_method.as_deref()?).ok()?;
        Some(PaymentMethod { provider: self.0.provider.clone(), details })
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum PaymentMethodKind {
    Card,
    Paypal,
}

/// A saved payment method: never its number, only what recognises it.
pub struct PaymentMethod {
    provider: String,
    details: super::providers::MethodDetails,
}

#[Object]
impl PaymentMethod {
    /// The provider keeping it (`stripe`, `revolut`, `paypal`).
    async fn provider(&self) -> &str {
        &self.provider
    }
    async fn kind(&self) -> PaymentMethodKind {
        match self.details.kind.as_str() {
            "paypal" => PaymentMethodKind::Paypal,
            _ => PaymentMethodKind::Card,
        }
    }
    /// A card's network as the provider names it (`visa`, `mastercard`, `amex`…).
    async fn brand(&self) -> Option<&str> {
        self.details.brand.as_deref()
    }
    /// A card's last four digits.
    async fn last4(&self) -> Option<&str> {
        self.details.last4.as_deref()
    }
    async fn exp_month(&self) -> Option<u32> {
        self.details.exp_month
    }
    async fn exp_year(&self) -> Option<i32> {
        self.details.exp_year
    }
    /// A card past its expiry month: renewals charged to it will fail.
    async fn expired(&self, ctx: &Context<'_>) -> bool {
        use chrono::Datelike;
        let now = crate::graphql::app(ctx).now();
        match (self.details.exp_year, self.details.exp_month) {
            (Some(y), Some(m)) => (y, m) < (now.year(), now.month()),
            _ => false,
        }
    }
    /// A PayPal account's address.
    async fn email(&self) -> Option<&str> {
        self.details.email.as_deref()
    }
}

/// What a plan change would cost now.
pub struct PlanChangePreview(pub super::plan_changes::ChangePreview);

#[Object]
impl PlanChangePreview {
    async fn plan(&self) -> Plan {
        Plan(self.0.plan)
    }
    async fn interval(&self) -> BillingInterval {
        self.0.interval.into()
    }
    async fn kind(&self) -> PlanChangeKind {
        match self.0.quote.kind {
            ChangeKind::Downgrade => PlanChangeKind::Downgrade,
            _ => PlanChangeKind::Upgrade,
        }
    }
    /// Whether `changePlan` would accept it (not the plan already held, and for a downgrade
    /// nothing over the new limits).
    async fn allowed(&self) -> bool {
        self.0.quote.kind != ChangeKind::Same && self.0.over_limits.is_empty()
    }
    async fn effective_at(&self) -> DateTime<Utc> {
        self.0.quote.effective_at
    }
    async fn currency(&self) -> &str {
        &self.0.currency
    }
    /// Credit for the unused part of the current plan.
    async fn proration_credit(&self) -> i64 {
        self.0.quote.credit
    }
    /// Charge for the new plan now (the rest of the period, or a whole new one).
    async fn charge(&self) -> i64 {
        self.0.quote.charge
    }
    async fn subtotal(&self) -> i64 {
        self.0.quote.subtotal
    }
    async fn tax(&self) -> i64 {
        self.0.quote.tax
    }
    async fn total(&self) -> i64 {
        self.0.quote.total
    }
    async fn credit_applied(&self) -> i64 {
        self.0.quote.credit_applied
    }
    async fn amount_due(&self) -> i64 {
        self.0.quote.amount_due
    }
    /// The period the new price covers; its end is the next renewal.
    async fn period_start(&self) -> DateTime<Utc> {
        self.0.quote.period_start
    }
    async fn next_renewal(&self) -> DateTime<Utc> {
        self.0.quote.period_end
    }
    /// For a downgrade: what is over the new plan's limits.
    async fn over_limits(&self) -> Vec<LimitUsage> {
        self.0
            .over_limits
            .iter()
            .map(|u| {
                LimitUsage::from(usage::LimitUse {
                    limit: u.limit,
                    used: u.used,
                    allowed: u.allowed,
                    metered: u.metered,
                    resets_at: u.resets_at,
                })
            })
            .collect()
    }
}

/// One day of a limit's use (`Tenant.usageHistory`).
#[derive(SimpleObject)]
pub struct UsagePoint {
    /// The UTC day, `YYYY-MM-DD`.
    pub day: String,
    pub used: i64,
}

/// The billing part of `Tenant`: plan, features, usage, invoices and settings.
#[derive(Clone)]
pub struct TenantBilling(pub TenantRow);

#[Object]
impl TenantBilling {
    /// What the organisation's plan turns on, with the platform's overrides and its boolean
    /// feature flags on top (a flag wins for its key; `module.<name>: false` is a module
    /// switched off) as `{"feature": true, …}`; any member may read it, to render by plan.
    async fn features(&self, ctx: &Context<'_>) -> Result<Json<serde_json::Value>> {
        let plan = self.plan(ctx).await?;
        let tctx = loaders(ctx).tenant_access(self.0.id).await?;
        let app = app(ctx);
        let viewer = crate::graphql::rctx(ctx).viewer.as_ref().map(|v| v.user_id);
        let flags = app
            .features
            .evaluate(app, &tctx.reads, self.0.id, Some(&plan.key), viewer)
            .await
            .map_err(crate::error::AppError::from)?;
        let features = service::with_flags(service::features_with(plan, self.0.features.as_ref()), &flags);
        Ok(Json(serde_json::Value::Object(features.into_iter().map(|(k, v)| (k, v.into())).collect())))
    }
    /// The current subscription (needs `BILLING_READ`; null with a FORBIDDEN error otherwise).
    async fn subscription(&self, ctx: &Context<'_>) -> Result<Option<PlanSubscription>> {
        let tctx = loaders(ctx).tenant_access(self.0.id).await?;
        tctx.require(Permission::BillingRead)?;
        let sub = loaders(ctx).subscriptions.load_one(self.0.id).await.map_err(loader_err)?;
        Ok(Some(PlanSubscription(sub.unwrap_or_else(|| service::free_view(app(ctx), self.0.id)))))
    }
    /// Billing settings (needs `BILLING_READ`).
    async fn billing_account(&self, ctx: &Context<'_>) -> Result<Option<BillingAccount>> {
        let tctx = loaders(ctx).tenant_access(self.0.id).await?;
        tctx.require(Permission::BillingRead)?;
        let account = loaders(ctx).billing_accounts.load_one(self.0.id).await.map_err(loader_err)?;
        Ok(Some(BillingAccount(account.unwrap_or_else(|| service::default_account(app(ctx), self.0.id)))))
    }
    /// The organisation's limits (any member): its plan's, or a platform operator's override.
    async fn limits(&self, ctx: &Context<'_>) -> Result<Vec<PlanLimit>> {
        let plan = self.plan(ctx).await?;
        let overrides = super::plans::Overrides::from_json(self.0.limit_overrides.as_ref());
        Ok(Limit::ALL.iter().map(|&limit| PlanLimit { limit, value: overrides.limit(plan, limit) }).collect())
    }
    /// Use of each limit now (needs `BILLING_READ`).
    async fn usage(&self, ctx: &Context<'_>) -> Result<Option<Vec<LimitUsage>>> {
        let tctx = loaders(ctx).tenant_access(self.0.id).await?;
        tctx.require(Permission::BillingRead)?;
        let app = app(ctx);
        let uses = usage::usage(&tctx.on(&app.db), app, tctx.scope()).await?;
        Ok(Some(uses.into_iter().map(LimitUsage::from).collect()))
    }
    /// The use of `limit` per UTC day from `from` to `to` (`YYYY-MM-DD`, inclusive, at most
    /// 400 days), oldest first: each day's closing figure as the billing worker stored it,
    /// and today's use so far when the range reaches today (needs `BILLING_READ`).
    async fn usage_history(
        &self,
        ctx: &Context<'_>,
        limit: Limit,
        from: String,
        to: String,
    ) -> Result<Option<Vec<UsagePoint>>> {
        let tctx = loaders(ctx).tenant_access(self.0.id).await?;
        tctx.require(Permission::BillingRead)?;
        let day = |field: &str, v: &str| {
            chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .map_err(|_| crate::error::AppError::validation(field, "must be a date as YYYY-MM-DD"))
        };
        let (from, to) = (day("from", &from)?, day("to", &to)?);
        let app = app(ctx);
        let points = super::history::history(&tctx.on(&app.db), app, tctx.scope(), limit, from, to).await?;
        Ok(Some(
            points
                .into_iter()
                .map(|p| UsagePoint { day: p.day.format("%Y-%m-%d").to_string(), used: p.used })
                .collect(),
        ))
    }
    /// Invoices, newest last (needs `BILLING_READ`).
    #[graphql(complexity = "crate::graphql::relay::cost(first, last, child_complexity)")]
    async fn invoices(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<Option<relay::Conn<Invoice>>> {
        let tctx = loaders(ctx).tenant_access(self.0.id).await?;
        tctx.require(Permission::BillingRead)?;
        let window =
            relay::PageArgs::new(after, before, first, last).window(app(ctx).config.max_page_size)?;
        let rows = loaders(ctx)
            .invoice_pages
            .load_one((self.0.id, crate::graphql::relay::counted(ctx, window)))
            .await
            .map_err(loader_err)?;
        Ok(Some(relay::to_connection(rows.unwrap_or_else(empty_rows), |i| i.id, Invoice)))
    }
}

impl TenantBilling {
    /// The plan the organisation's limits and features come from now (any member).
    async fn plan(&self, ctx: &Context<'_>) -> Result<&'static CatalogPlan> {
        loaders(ctx).tenant_access(self.0.id).await?;
        let app = app(ctx);
        let catalog = plans::catalog(&app.config)?;
        let sub = loaders(ctx).subscriptions.load_one(self.0.id).await.map_err(loader_err)?;
        Ok(service::granted_plan(catalog, sub.as_ref(), app.now(), &app.config))
    }
}
