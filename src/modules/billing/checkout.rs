//! Paying through a provider: the hosted checkout where an organisation saves a payment
//! method for the plan it picked, and the provider's webhooks — verified, stored by event id
//! in the same transaction that applies them (so each applies once, and a replay is
//! answered without effect), in any order.

use axum::http::HeaderMap;
use entity::{
    billing_account,
    invoice::{self, InvoiceStatus},
    payment_webhook_event, subscription,
};
use sea_orm::{ConnectionTrait, EntityTrait, Set, sea_query::OnConflict};
use serde_json::json;
use uuid::Uuid;

use super::{
    invoices,
    providers::{self, CheckoutRequest, Delivery, NewCustomer, ProviderEvent},
    service,
};
use crate::{
    access::{Change, TenantCtx, TenantTx},
    auth::Permission,
    ctx::Ctx,
    db::lock_tenant,
    error::{AppError, AppResult},
};

fn return_url(ctx: &Ctx, field: &str, given: Option<&str>, outcome: &str) -> AppResult<String> {
    let base = ctx.config.public_url.trim_end_matches('/');
    match given {
        None => Ok(format!("{base}/billing?checkout={outcome}")),
        // Only back to Zygo: a checkout must not become an open redirect.
        Some(url) if url.starts_with(&format!("{base}/")) && url.len() <= 2048 => Ok(url.to_string()),
        Some(_) => Err(AppError::validation(field, format!("must be a URL under {base}/"))),
    }
}

/// What a hosted checkout saves a payment method for.
#[derive(Clone, Copy)]
pub enum Purpose<'a> {
    /// `plan` billed every `interval` applies once the method is saved.
    Plan(&'a str, subscription::BillingInterval),
    /// The method replaces the one renewals are charged to; the plan stays.
    ReplaceMethod,
}

/// Opens the provider's hosted checkout (`billing.manage`) where the organisation saves a
/// payment method for `purpose`; it applies when the provider reports the method saved.
pub async fn start_checkout(
    ctx: &Ctx,
    tctx: &TenantCtx,
    provider_key: &str,
    purpose: Purpose<'_>,
    success_url: Option<&str>,
    cancel_url: Option<&str>,
) -> AppResult<String> {
    let tx = TenantTx::begin(ctx, tctx, Permission::BillingManage).await?;
    let success = return_url(ctx, "input.successUrl", success_url, "success")?;
    let cancel = return_url(ctx, "input.cancelUrl", cancel_url, "cancel")?;
    let provider = providers::provider(ctx, provider_key)?;
    let scope = tx.scope();
    lock_tenant(&tx, scope).await?;
    let account = service::ensure_account(&tx, ctx, scope).await?;
    let catalog = super::plans::catalog(&ctx.config)?;
    let (target, interval, price) = match purpose {
        Purpose::Plan(plan, interval) => {
            let (target, price) = service::plan_and_price(catalog, plan, interval, &account.currency)?;
            if target.key == super::plans::FREE {
                return Err(AppError::validation("input.plan", "the Free plan needs no checkout"));
            }
            (Some(target), interval, price)
        }
        Purpose::ReplaceMethod => {
            if provider.recurring() {
                return Err(AppError::validation(
                    "input.provider",
                    "this provider collects renewals by its own subscription: start a checkout for a plan to switch to it",
                ));
            }
            let current = service::current(&tx, scope).await?;
            let Some(current) = current.filter(|s| s.unit_amount > 0) else {
                return Err(AppError::validation(
                    "input.tenantId",
                    "the organisation pays for no plan: a payment method is saved with a plan's checkout",
                ));
            };
            (None, current.interval, current.unit_amount)
        }
    };
    let customer = match (&account.provider_customer_id, account.provider.as_str() == provider_key) {
        (Some(c), true) => c.clone(),
        _ => {
            let org = scope
                .find_by_id::<entity::tenant::Entity, _>(&tx, scope.tenant_id())
                .await?
                .ok_or(AppError::NotFound("tenant"))?;
            let email = match tctx.acting_user() {
                Some(user) => entity::user::Entity::find_by_id(user).one(&tx).await?.map(|u| u.email),
                None => None,
            };
            let customer = provider
                .create_customer(NewCustomer {
                    tenant_id: scope.tenant_id(),
                    name: &org.name,
                    email: email.as_deref(),
                    idempotency_key: &format!("customer:{}:{provider_key}", account.id),
                })
                .await?;
            // Kept now only for the account's own provider: the customer of another one is
            // kept when its checkout completes (an abandoned switch must not leave the
            // current provider's renewals charged to another provider's customer).
            if account.provider == provider_key {
                let mut am: billing_account::ActiveModel = account.clone().into();
                am.provider_customer_id = Set(Some(customer.clone()));
                am.updated_at = Set(ctx.now());
                scope.update(&tx, am).await?;
            }
            customer
        }
    };
    let interval_key = super::recurring::interval_key(interval);
    let plan_key = target.map_or("", |t| t.key.as_str());
    // A provider that collects renewals itself subscribes the customer to its own plan.
    let provider_plan = match (provider.recurring(), target) {
        (true, Some(target)) => Some(
            super::recurring::provider_plan(&tx, ctx, &*provider, target, interval, &account.currency, price)
                .await?,
        ),
        _ => None,
    };
    let return_url =
        signed_return(ctx, provider_key, scope.tenant_id(), plan_key, interval_key, &success, &cancel);
    let url = provider
        .checkout(CheckoutRequest {
            return_url: &return_url,
            tenant_id: scope.tenant_id(),
            customer_id: &customer,
            currency: &account.currency,
            amount: price,
            plan: plan_key,
            interval: interval_key,
            success_url: &success,
            cancel_url: &cancel,
            provider_plan_id: provider_plan.as_deref(),
            tax_rate_bps: account.tax_rate_bps,
        })
        .await?;
    tx.commit_with(Change {
        action: "billing.checkout_started",
        target_type: "BillingAccount",
        target_id: Some(account.id),
        before: None,
        after: Some(
            json!({ "provider": provider_key, "plan": target.map(|t| &t.key), "interval": interval_key }),
        ),
    })
    .await?;
    Ok(url)
}

/// How long a checkout's return link works.
const RETURN_TTL_SECS: i64 = 3600;
const RETURN_PURPOSE: &str = "checkout-return";

/// What a checkout's return leg must know, carried (signed) in its URL.
#[derive(serde::Serialize, serde::Deserialize)]
struct ReturnState {
    tenant: Uuid,
    plan: String,
    interval: String,
    success: String,
    cancel: String,
    expires: i64,
}

fn signed_return(
    ctx: &Ctx,
    provider: &str,
    tenant: Uuid,
    plan: &str,
    interval: &str,
    success: &str,
    cancel: &str,
) -> String {
    use base64::Engine as _;
    let state = ReturnState {
        tenant,
        plan: plan.into(),
        interval: interval.into(),
        success: success.into(),
        cancel: cancel.into(),
        expires: ctx.now().timestamp() + RETURN_TTL_SECS,
    };
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(serde_json::to_vec(&state).expect("state serialises"));
    let sig = ctx.keys.sign(RETURN_PURPOSE, &format!("{provider}.{payload}"));
    format!("{}/billing/return/{provider}?state={payload}.{sig}", ctx.config.public_url.trim_end_matches('/'))
}

/// The customer is back from a provider's page (`GET /billing/return/{provider}`): completes
/// the checkout it signed and returns where to send the browser. `Err` for a return link that
/// is not Zygo's or has expired.
pub async fn complete_return(
    ctx: &Ctx,
    provider_key: &str,
    query: &std::collections::BTreeMap<String, String>,
) -> Result<AppResult<String>, String> {
    use base64::Engine as _;
    let raw = query.get("state").ok_or("no state")?;
    let (payload, sig) = raw.split_once('.').ok_or("a malformed state")?;
    if !ctx.keys.verify(RETURN_PURPOSE, &format!("{provider_key}.{payload}"), sig) {
        return Err("a state Zygo did not sign".into());
    }
    let state: ReturnState = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or("a malformed state")?;
    if state.expires < ctx.now().timestamp() {
        return Err("the checkout expired".into());
    }
    let provider = providers::provider(ctx, provider_key).map_err(|e| e.to_string())?;
    let returned = match provider.complete_return(query).await {
        Ok(r) if r.for_tenant.is_some_and(|t| t != state.tenant) => {
            tracing::warn!(target: "zygo::security", provider = provider_key, "a return leg naming another organisation's checkout");
            return Ok(Ok(state.cancel));
        }
        Ok(r) => r,
        Err(reason) => {
            tracing::warn!(provider = provider_key, %reason, "checkout return refused");
            return Ok(Ok(state.cancel));
        }
    };
    let delivery = Delivery {
        id: returned.id,
        event_type: "checkout.returned".into(),
        event: ProviderEvent::CheckoutCompleted {
            tenant_id: state.tenant,
            customer_id: returned.customer_id,
            payment_method_id: returned.payment_method_id,
            method: returned.method,
            plan: state.plan,
            interval: state.interval,
        },
    };
    Ok(match apply(ctx, provider_key, delivery).await {
        Ok(Receipt::Applied | Receipt::Duplicate) => Ok(state.success),
        Ok(Receipt::Recorded(_) | Receipt::Later(_)) => Ok(state.cancel),
        Err(e) => Err(e),
    })
}

/// What a webhook delivery came to, for the provider's answer.
#[derive(Debug, PartialEq, Eq)]
pub enum Receipt {
    Applied,
    /// Seen before: nothing done again.
    Duplicate,
    /// Verified and recorded; nothing to do (or it could not apply: the outcome says why).
    Recorded(String),
    /// Verified but not applicable yet (what it pays or follows has not arrived): not
    /// recorded, so the provider's redelivery applies it.
    Later(String),
}

/// Records `delivery` in `db` (inside the transaction that applies it); false when it was
/// recorded before.
async fn record(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    provider: &str,
    delivery: &Delivery,
    tenant: Option<Uuid>,
    outcome: &str,
) -> AppResult<bool> {
    let res = payment_webhook_event::Entity::insert(payment_webhook_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        provider: Set(provider.into()),
        event_id: Set(delivery.id.clone()),
        event_type: Set(delivery.event_type.clone()),
        for_tenant_id: Set(tenant),
        outcome: Set(outcome.into()),
        received_at: Set(ctx.now()),
    })
    .on_conflict(
        OnConflict::columns([
            payment_webhook_event::Column::Provider,
            payment_webhook_event::Column::EventId,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(res == 1)
}

/// Verifies and applies a webhook of `provider_key` sent from `ip`. `Err(reason)` when it is
/// refused; a bad signature is also recorded in the platform's security log
/// (`platformSecurityEvents`), since it belongs to no user or organisation.
pub async fn receive_webhook(
    ctx: &Ctx,
    provider_key: &str,
    headers: &HeaderMap,
    body: &[u8],
    ip: Option<String>,
) -> Result<AppResult<Receipt>, String> {
    let provider = providers::provider(ctx, provider_key).map_err(|e| e.to_string())?;
    let delivery = match provider.webhook(headers, body, ctx.now()).await {
        Ok(d) => d,
        Err(reason) => {
            let recorded = crate::modules::security::platform::record(
                &ctx.db,
                crate::modules::security::platform::PlatformSecurityEventKind::WebhookSignatureRejected,
                &format!("billing.webhook.{provider_key}"),
                ip,
                json!({ "provider": provider_key, "reason": reason, "bytes": body.len() }),
                ctx.now(),
            )
            .await;
            if let Err(e) = recorded {
                // The refusal stands either way; only its record is missing.
                tracing::error!(error = %e, provider = provider_key, "refused webhook not recorded");
            }
            return Err(reason);
        }
    };
    Ok(apply(ctx, provider_key, delivery).await)
}

async fn apply(ctx: &Ctx, provider_key: &str, delivery: Delivery) -> AppResult<Receipt> {
    let tenant = match &delivery.event {
        ProviderEvent::CheckoutCompleted { tenant_id, .. } => Some(*tenant_id),
        ProviderEvent::PaymentSucceeded { invoice_id, .. }
        | ProviderEvent::PaymentFailed { invoice_id, .. } => invoices::owner_of(&ctx.db, *invoice_id).await?,
        ProviderEvent::RecurringPaid { tenant_id, .. }
        | ProviderEvent::RecurringFailed { tenant_id, .. }
        | ProviderEvent::RecurringCanceled { tenant_id, .. } => Some(*tenant_id),
        ProviderEvent::Other => None,
    };
    let Some(tenant) = tenant else {
        let recorded = record(&ctx.db, ctx, provider_key, &delivery, None, "ignored").await?;
        return Ok(if recorded { Receipt::Recorded("ignored".into()) } else { Receipt::Duplicate });
    };
    let tctx = TenantCtx::system(tenant);
    let mut tx = TenantTx::open(ctx, &tctx).await?;
    lock_tenant(&tx, tx.scope()).await?;
    if !record(&tx, ctx, provider_key, &delivery, Some(tenant), "applied").await? {
        return Ok(Receipt::Duplicate);
    }
    let outcome = match &delivery.event {
        ProviderEvent::CheckoutCompleted {
            customer_id, payment_method_id, method, plan, interval, ..
        } => {
            let account = save_method(&mut tx, provider_key, customer_id, payment_method_id, method).await?;
            // A provider subscription collecting with the method this one replaces stops.
            let replaced = account.provider != provider_key
                || account.provider_payment_method_id.as_ref().is_some_and(|old| old != payment_method_id);
            if plan.is_empty() {
                // A new payment method for the plan the organisation is on.
                if replaced && let Some(current) = service::current(&tx, tx.scope()).await? {
                    super::recurring::cancelled(ctx, &account, &current, false).await?;
                }
                None
            } else {
                let interval = match interval.as_str() {
                    "year" => subscription::BillingInterval::Year,
                    _ => subscription::BillingInterval::Month,
                };
                match super::plan_changes::apply_plan_change(&mut tx, plan, interval, false).await {
                    Ok(change) => {
                        if replaced {
                            super::recurring::cancelled(ctx, &account, &change.subscription, false).await?;
                        }
                        None
                    }
                    // The plan change did not happen (declined, already on the plan, over the
                    // limits): recorded with the reason, nothing else kept.
                    Err(e @ (AppError::Plan { .. } | AppError::Validation { .. })) => {
                        // A provider subscription made for it must not go on collecting.
                        let mut unused = account.clone();
                        unused.provider = provider_key.into();
                        unused.provider_payment_method_id = Some(payment_method_id.clone());
                        let current =
                            service::ensure_current(&tx, ctx, tx.scope(), &account.currency).await?;
                        super::recurring::cancelled(ctx, &unused, &current, false).await?;
                        Some(format!("not applied: {e}"))
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        ProviderEvent::PaymentSucceeded { invoice_id, payment_id } => {
            let found = tx.scope().find_by_id::<invoice::Entity, _>(&tx, *invoice_id).await?;
            match found {
                Some(inv) if inv.status == InvoiceStatus::Open => {
                    let payment = invoices::Payment { provider: provider_key.into(), id: payment_id.clone() };
                    invoices::mark_paid_in(&mut tx, inv, Some(payment)).await?;
                    None
                }
                _ => Some("ignored: the invoice is not open".to_string()),
            }
        }
        ProviderEvent::PaymentFailed { reason, .. } => Some(format!("noted: {reason}")),
        ProviderEvent::RecurringPaid { .. }
        | ProviderEvent::RecurringFailed { .. }
        | ProviderEvent::RecurringCanceled { .. } => {
            match super::recurring::apply(&mut tx, provider_key, &delivery.event).await? {
                super::recurring::Applied::Done => None,
                super::recurring::Applied::Noted(outcome) => Some(outcome),
                super::recurring::Applied::Later(why) => {
                    // Not recorded: the provider delivers it again later.
                    drop(tx);
                    return Ok(Receipt::Later(why));
                }
            }
        }
        ProviderEvent::Other => Some("ignored".to_string()),
    };
    match outcome {
        None => {
            tx.commit().await?;
            Ok(Receipt::Applied)
        }
        Some(outcome) => {
            // Keep only the record of the event (and, for a checkout, nothing else).
            drop(tx);
            let recorded = record(&ctx.db, ctx, provider_key, &delivery, Some(tenant), &outcome).await?;
            Ok(if recorded { Receipt::Recorded(outcome) } else { Receipt::Duplicate })
        }
    }
}

/// Makes `payment_method_id` of `provider_key` (described by `method`) the one the
/// organisation's renewals are charged to, in `tx`, audited; returns the account as it was.
async fn save_method(
    tx: &mut TenantTx<'_>,
    provider_key: &str,
    customer_id: &str,
    payment_method_id: &str,
    method: &providers::MethodDetails,
) -> AppResult<billing_account::Model> {
    let scope = tx.scope();
    let ctx = tx.ctx();
    let account = service::ensure_account(&*tx, ctx, scope).await?;
    let mut am: billing_account::ActiveModel = account.clone().into();
    am.provider = Set(provider_key.into());
    am.provider_customer_id = Set(Some(customer_id.into()));
    am.provider_payment_method_id = Set(Some(payment_method_id.into()));
    am.payment_method = Set(Some(serde_json::to_string(method).expect("details serialise")));
    am.updated_at = Set(ctx.now());
    scope.update(&*tx, am).await?;
    let before =
        account.payment_method.as_deref().and_then(|m| serde_json::from_str::<serde_json::Value>(m).ok());
    tx.audit(Change {
        action: "billing.payment_method_saved",
        target_type: "BillingAccount",
        target_id: Some(account.id),
        before: Some(json!({ "provider": account.provider, "method": before })),
        after: Some(json!({ "provider": provider_key, "method": method })),
    })
    .await?;
    Ok(account)
}
