//! Subscriptions: the current one (a Free subscription until the organisation pays), plan
//! changes with proration, cancellation and resumption, and billing settings.
//!
//! Every change takes the tenant's write lock first, so two concurrent plan changes run one
//! after the other and the second sees the first (and is refused if it asks for the same).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use entity::{
    billing_account,
    subscription::{self, BillingInterval, SubscriptionStatus},
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, sea_query::OnConflict};
use serde_json::json;
use uuid::Uuid;

use super::{
    plans::{self, Catalog, Plan},
    proration::{self},
};
use crate::{
    access::{Change, TenantCtx, TenantTx},
    auth::Permission,
    ctx::Ctx,
    db::{TenantScope, lock_tenant},
    error::{AppError, AppResult},
    pubsub::Topic,
};

/// The topic of an organisation's billing events.
pub fn topic(tenant_id: Uuid) -> Topic {
    Topic::tenant(tenant_id, "billing")
}

/// What `billingEvents` delivers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, async_graphql::Enum)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BillingEventKind {
    SubscriptionChanged,
    InvoiceIssued,
    InvoicePaid,
    PaymentFailed,
    /// An open invoice was voided.
    InvoiceVoided,
    /// Use of a limit changed (a member, team or workflow added).
    UsageUpdated,
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BillingEvent {
    pub kind: BillingEventKind,
    pub tenant_id: Uuid,
    pub invoice_id: Option<Uuid>,
    pub occurred_at: DateTime<Utc>,
}

pub(super) fn event(tx: &mut TenantTx<'_>, kind: BillingEventKind, invoice_id: Option<Uuid>) {
    let tenant_id = tx.scope().tenant_id();
    let occurred_at = tx.ctx().now();
    if kind == BillingEventKind::SubscriptionChanged {
        // The metering's plan cache: forgotten here before the commit, and on every
        // instance once the commit is announced.
        super::metering::forget_plan(tenant_id);
        tx.emit(super::metering::plan_topic(), &tenant_id);
    }
    tx.emit(topic(tenant_id), &BillingEvent { kind, tenant_id, invoice_id, occurred_at });
}

/// The organisation's current subscription row, if it has one (an organisation that never
/// changed plan is on Free without a row until its first billing change).
pub async fn current(
    db: &impl ConnectionTrait,
    scope: TenantScope,
) -> AppResult<Option<subscription::Model>> {
    Ok(scope
        .find::<subscription::Entity>()
        .filter(subscription::Column::CurrentFor.eq(scope.tenant_id()))
        .one(db)
        .await?)
}

/// Whether the organisation has a paid plan that will renew (not Free, not canceled, not
/// ending with its period): what must stop before the organisation can be deleted.
pub async fn renews(db: &impl ConnectionTrait, scope: TenantScope) -> AppResult<bool> {
    Ok(current(db, scope).await?.is_some_and(|s| {
        s.plan_key != super::plans::FREE
            && !s.cancel_at_period_end
            && !matches!(s.status, SubscriptionStatus::Canceled)
    }))
}

/// The plan a subscription grants now: Free when there is none or it was canceled or is
/// paused, and for a plan the catalog no longer has.
pub fn effective_plan(catalog: &'static Catalog, sub: Option<&subscription::Model>) -> &'static Plan {
    sub.filter(|s| !matches!(s.status, SubscriptionStatus::Canceled | SubscriptionStatus::Paused))
        .and_then(|s| catalog.plan(&s.plan_key))
        .unwrap_or_else(|| catalog.free())
}

/// The plan whose limits and features the organisation has at `now`: [`effective_plan`],
/// except that a subscription PAST_DUE for longer than the grace period has Free's (its
/// paid features become read-only: nothing beyond Free can be added until it pays).
pub fn granted_plan(
    catalog: &'static Catalog,
    sub: Option<&subscription::Model>,
    now: DateTime<Utc>,
    config: &crate::config::Config,
) -> &'static Plan {
    let lapsed = sub.is_some_and(|s| {
        s.status == SubscriptionStatus::PastDue
            && s.past_due_since
                .is_some_and(|since| since + chrono::Duration::days(config.billing.grace_days as i64) <= now)
    });
    if lapsed { catalog.free() } else { effective_plan(catalog, sub) }
}

/// The plan's features with the organisation's own overrides (`tenants.features`, set by the
/// platform) on top.
pub fn features_with(plan: &Plan, overrides: Option<&serde_json::Value>) -> BTreeMap<String, bool> {
    let mut out = plan.features.clone();
    if let Some(serde_json::Value::Object(map)) = overrides {
        for (k, v) in map {
            if let Some(b) = v.as_bool() {
                out.insert(k.clone(), b);
            }
        }
    }
    out
}

/// `features` with the platform's evaluated boolean feature flags on top: a flag wins for
/// its key (variant flags are not features; `Tenant.featureFlags` has them).
pub fn with_flags(
    mut features: BTreeMap<String, bool>,
    flags: &crate::access::features::Evaluated,
) -> BTreeMap<String, bool> {
    for (key, value) in flags.iter() {
        if let Some(on) = value.as_bool() {
            features.insert(key.clone(), on);
        }
    }
    features
}

/// [`features_with`] for the organisation of `scope`.
pub async fn features_of(
    plan: &Plan,
    db: &impl ConnectionTrait,
    scope: TenantScope,
) -> AppResult<BTreeMap<String, bool>> {
    let tenant = scope.find_by_id::<entity::tenant::Entity, _>(db, scope.tenant_id()).await?;
    Ok(features_with(plan, tenant.and_then(|t| t.features).as_ref()))
}

/// The e-mail addresses of the organisation's active owners (billing mail goes to them).
pub async fn owner_emails(db: &impl ConnectionTrait, scope: TenantScope) -> AppResult<Vec<String>> {
    let Some(owner) =
        scope.find::<entity::role::Entity>().filter(entity::role::Column::Key.eq("owner")).one(db).await?
    else {
        return Ok(Vec::new());
    };
    let members = scope
        .find::<entity::membership::Entity>()
        .filter(entity::membership::Column::RoleId.eq(owner.id))
        .filter(entity::membership::Column::Status.eq("active"))
        .all(db)
        .await?;
    let ids: Vec<Uuid> = members.iter().map(|m| m.user_id).collect();
    let users = entity::user::Entity::find().filter(entity::user::Column::Id.is_in(ids)).all(db).await?;
    Ok(users.into_iter().map(|u| u.email).collect())
}

/// A Free subscription starting at `start` (not saved).
fn free_row(ctx: &Ctx, tenant_id: Uuid, start: DateTime<Utc>, currency: &str) -> subscription::Model {
    subscription::Model {
        id: Uuid::now_v7(),
        tenant_id,
        current_for: Some(tenant_id),
        plan_key: plans::FREE.into(),
        plan_version: plans::catalog(&ctx.config).map(|c| c.free().version).unwrap_or(1),
        status: SubscriptionStatus::Active,
        interval: BillingInterval::Month,
        currency: currency.into(),
        unit_amount: 0,
        current_period_start: start,
        current_period_end: proration::period_end(start, BillingInterval::Month),
        trial_end: None,
        cancel_at_period_end: false,
        canceled_at: None,
        scheduled_plan_key: None,
        scheduled_interval: None,
        failed_renewals: 0,
        next_retry_at: None,
        past_due_since: None,
        revision: 0,
        created_at: start,
        updated_at: start,
    }
}

/// For reads: the current subscription, or the Free one the organisation is on without a row.
pub async fn subscription_view(
    ctx: &Ctx,
    db: &impl ConnectionTrait,
    scope: TenantScope,
) -> AppResult<subscription::Model> {
    Ok(match current(db, scope).await? {
        Some(s) => s,
        None => free_view(ctx, scope.tenant_id()),
    })
}

/// The Free subscription an organisation without a row is on (id nil: not saved).
pub fn free_view(ctx: &Ctx, tenant_id: Uuid) -> subscription::Model {
    let mut free = free_row(ctx, tenant_id, ctx.now(), &ctx.config.billing.currency);
    free.id = Uuid::nil();
    free
}

/// The billing account, created with the instance's defaults on first use.
pub async fn ensure_account(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    scope: TenantScope,
) -> AppResult<billing_account::Model> {
    let mut account: billing_account::ActiveModel = default_account(ctx, scope.tenant_id()).into();
    account.id = Set(Uuid::now_v7());
    scope
        .insert_many([account])
        .on_conflict(OnConflict::column(billing_account::Column::TenantId).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    scope
        .find::<billing_account::Entity>()
        .one(db)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("billing account missing after insert")))
}

/// For reads: the account, or its defaults when the organisation has none yet.
pub async fn account_view(
    ctx: &Ctx,
    db: &impl ConnectionTrait,
    scope: TenantScope,
) -> AppResult<billing_account::Model> {
    let found = scope.find::<billing_account::Entity>().one(db).await?;
    Ok(found.unwrap_or_else(|| default_account(ctx, scope.tenant_id())))
}

/// The billing account an organisation without a row has (id nil: not saved).
pub fn default_account(ctx: &Ctx, tenant_id: Uuid) -> billing_account::Model {
    billing_account::Model {
        id: Uuid::nil(),
        tenant_id,
        provider: "manual".into(),
        provider_customer_id: None,
        provider_payment_method_id: None,
        payment_method: None,
        currency: ctx.config.billing.currency.clone(),
        tax_rate_bps: 0,
        tax_id: None,
        billing_address: "{}".into(),
        credit_balance: 0,
        created_at: ctx.now(),
        updated_at: ctx.now(),
    }
}

/// The current subscription, saving the Free one first if the organisation has none.
pub async fn ensure_current(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    scope: TenantScope,
    currency: &str,
) -> AppResult<subscription::Model> {
    if let Some(s) = current(db, scope).await? {
        return Ok(s);
    }
    let free: subscription::ActiveModel = free_row(ctx, scope.tenant_id(), ctx.now(), currency).into();
    scope
        .insert_many([free])
        .on_conflict(OnConflict::column(subscription::Column::CurrentFor).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    current(db, scope)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("subscription missing after insert")))
}

/// Billing settings an organisation may change.
pub struct SettingsUpdate {
    pub currency: Option<String>,
    pub tax_rate_bps: Option<i32>,
    pub tax_id: Option<Option<String>>,
    pub billing_address: Option<serde_json::Value>,
}

/// Changes the billing settings (`billing.manage`). The currency changes only while on Free
/// (a paid subscription keeps the currency it pays in).
pub async fn update_settings(
    ctx: &Ctx,
    tctx: &TenantCtx,
    update: SettingsUpdate,
) -> AppResult<billing_account::Model> {
    let tx = TenantTx::begin(ctx, tctx, Permission::BillingManage).await?;
    let scope = tx.scope();
    lock_tenant(&tx, scope).await?;
    let account = ensure_account(&tx, ctx, scope).await?;
    let mut am: billing_account::ActiveModel = account.clone().into();
    if let Some(c) = update.currency {
        let c = c.trim().to_uppercase();
        let catalog = plans::catalog(&ctx.config)?;
        if !catalog.plans.iter().any(|p| p.prices.iter().any(|pr| pr.currency == c)) {
            return Err(AppError::validation("input.currency", "no plan is priced in this currency"));
        }
        let sub = current(&tx, scope).await?;
        if sub.as_ref().is_some_and(|s| s.plan_key != plans::FREE && s.currency != c) {
            return Err(AppError::validation("input.currency", "the currency changes only on the Free plan"));
        }
        am.currency = Set(c);
    }
    if let Some(bps) = update.tax_rate_bps {
        if !(0..=10_000).contains(&bps) {
            return Err(AppError::validation("input.taxRateBps", "must be 0 to 10000 basis points"));
        }
        am.tax_rate_bps = Set(bps);
    }
    if let Some(tax_id) = update.tax_id {
        let tax_id = tax_id.map(|t| t.trim().to_string()).filter(|t| !t.is_empty());
        if tax_id.as_ref().is_some_and(|t| t.chars().count() > 40) {
            return Err(AppError::validation("input.taxId", "must be at most 40 characters"));
        }
        am.tax_id = Set(tax_id);
    }
    if let Some(addr) = update.billing_address {
        let serde_json::Value::Object(map) = &addr else {
            return Err(AppError::validation("input.billingAddress", "must be an object"));
        };
        const KEYS: &[&str] = &["name", "line1", "line2", "city", "postalCode", "region", "country"];
        for (k, v) in map {
            if !KEYS.contains(&k.as_str()) {
                return Err(AppError::validation(format!("input.billingAddress.{k}"), "unknown field"));
            }
            if !v.is_string() || v.as_str().is_some_and(|s| s.chars().count() > 200) {
                return Err(AppError::validation(
                    format!("input.billingAddress.{k}"),
                    "must be text of at most 200 characters",
                ));
            }
        }
        am.billing_address = Set(addr.to_string());
    }
    am.updated_at = Set(ctx.now());
    let after = scope.update(&tx, am).await?;
    tx.commit_with(Change {
        action: "billing.settings_updated",
        target_type: "BillingAccount",
        target_id: Some(after.id),
        before: Some(json!({ "currency": account.currency, "taxRateBps": account.tax_rate_bps, "taxId": account.tax_id })),
        after: Some(json!({ "currency": after.currency, "taxRateBps": after.tax_rate_bps, "taxId": after.tax_id })),
    })
    .await?;
    Ok(after)
}

/// What the current period was paid: nothing on Free or in a trial.
pub(crate) fn paid_amount(sub: &subscription::Model) -> i64 {
    if sub.status == SubscriptionStatus::Trialing { 0 } else { sub.unit_amount }
}

pub(crate) fn plan_and_price<'a>(
    catalog: &'a Catalog,
    plan_key: &str,
    interval: BillingInterval,
    currency: &str,
) -> AppResult<(&'a Plan, i64)> {
    let plan = catalog.plan(plan_key).ok_or_else(|| AppError::validation("input.plan", "no such plan"))?;
    if plan.contact_sales {
        return Err(AppError::validation("input.plan", "this plan is sold by our sales team: contact sales"));
    }
    let price = plan.price(currency, interval).ok_or_else(|| {
        AppError::validation(
            "input.interval",
            format!(
                "the {} plan has no {} price in {currency}",
                plan.name,
                super::plan_changes::interval_word(interval)
            ),
        )
    })?;
    Ok((plan, price.amount))
}

pub(crate) fn summary(s: &subscription::Model) -> serde_json::Value {
    json!({
        "plan": s.plan_key, "interval": s.interval, "status": s.status, "unitAmount": s.unit_amount,
        "currency": s.currency, "scheduledPlan": s.scheduled_plan_key, "cancelAtPeriodEnd": s.cancel_at_period_end,
    })
}

/// Saves `am` over `before` (bumping the revision), records the change as `action` (the
/// worker's routine steps — a new period, a retry date — are not audited) and announces it.
pub(crate) async fn save(
    tx: &mut TenantTx<'_>,
    before: &subscription::Model,
    mut am: subscription::ActiveModel,
    action: Option<&str>,
) -> AppResult<subscription::Model> {
    am.revision = Set(before.revision + 1);
    am.updated_at = Set(tx.ctx().now());
    let after = tx.scope().update(&*tx, am).await?;
    if let Some(action) = action {
        tx.audit(Change {
            action,
            target_type: "Subscription",
            target_id: Some(after.id),
            before: Some(summary(before)),
            after: Some(summary(&after)),
        })
        .await?;
    }
    event(tx, BillingEventKind::SubscriptionChanged, None);
    Ok(after)
}

/// Ends `sub` (CANCELED, no longer current) and starts a Free subscription at `start`.
pub(crate) async fn end_and_start_free(
    tx: &mut TenantTx<'_>,
    sub: &subscription::Model,
    start: DateTime<Utc>,
    currency: &str,
    action: &str,
) -> AppResult<subscription::Model> {
    let mut am: subscription::ActiveModel = sub.clone().into();
    am.status = Set(SubscriptionStatus::Canceled);
    am.current_for = Set(None);
    am.canceled_at = Set(Some(tx.ctx().now()));
    am.cancel_at_period_end = Set(false);
    am.next_retry_at = Set(None);
    save(tx, sub, am, Some(action)).await?;
    let free: subscription::ActiveModel = free_row(tx.ctx(), sub.tenant_id, start, currency).into();
    Ok(tx.scope().insert(&*tx, free).await?)
}
