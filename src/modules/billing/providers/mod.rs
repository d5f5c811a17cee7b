//! Payment providers behind one interface. Zygo never sees a card number: a provider takes
//! the card on its hosted page and Zygo keeps only the provider's customer and payment-method
//! ids.
//!
//! - **Manual** (the embedded default and Enterprise invoicing): no payment step; an invoice
//!   stays open until a platform administrator marks it paid.
//! - **Stripe** ([`stripe`]): Checkout Sessions in setup mode save a card, PaymentIntents
//!   charge it off-session with the invoice's idempotency key, webhooks are verified by the
//!   `Stripe-Signature` scheme.
//!
//! - **Revolut** ([`revolut`]): a hosted order authorises (and then voids) the plan's price
//!   with the card saved for merchant-initiated payments, later orders are paid with it, and
//!   webhooks are verified by `Revolut-Signature` (`v1=`, HMAC-SHA256 of `v1.timestamp.body`).
//!
//! - **PayPal** ([`paypal`]): a vault setup token approved on PayPal's page saves the payer's
//!   PayPal for merchant-initiated payments (completed on the return leg), Orders v2 with the
//!   vault id charge it, and webhooks are verified by PayPal's verify-webhook-signature call.
//!   With `ZYGO_PAYPAL_MODE=subscriptions` PayPal collects renewals itself instead: checkout
//!   approves a PayPal subscription (Subscriptions v1) to a PayPal billing plan mirroring
//!   Zygo's, and PayPal's sale webhooks pay Zygo's invoices.
//!
//! Refunds go back through the provider that took the payment, with an idempotency key.
//! Cancelling: only a PayPal subscription recurs at the provider; Stripe, Revolut and Manual
//! keep nothing recurring in Zygo's design (Zygo charges each invoice itself), so their
//! `cancel` has nothing to call.

pub mod paypal;
pub mod revolut;
pub mod stripe;

use async_trait::async_trait;
use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    ctx::Ctx,
    error::{AppError, AppResult},
};

/// What a charge attempt came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChargeOutcome {
    /// Paid through `provider` (its key); the provider's payment id.
    Paid { provider: String, payment_id: String },
    /// Refused (card declined, insufficient funds…): dunning retries later.
    Failed { reason: String },
    /// Nothing to do now: the invoice is paid outside the provider (bank transfer) and
    /// marked paid by an administrator.
    AwaitingPayment,
}

/// A charge of an invoice.
pub struct Charge<'a> {
    pub customer_id: Option<&'a str>,
    pub payment_method_id: Option<&'a str>,
    pub invoice_id: Uuid,
    pub amount: i64,
    pub currency: &'a str,
    pub description: &'a str,
    /// Sent with the request: the provider performs a repeated request once.
    pub idempotency_key: &'a str,
}

/// An organisation as a provider's customer.
pub struct NewCustomer<'a> {
    pub tenant_id: Uuid,
    pub name: &'a str,
    /// Where the provider sends receipts (the member who starts the checkout).
    pub email: Option<&'a str>,
    /// A retry returns the same customer.
    pub idempotency_key: &'a str,
}

/// A hosted checkout to send the customer to.
pub struct CheckoutRequest<'a> {
    pub tenant_id: Uuid,
    pub customer_id: &'a str,
    pub currency: &'a str,
    /// The plan's price: a provider that checks a card by authorising an amount (and voiding
    /// it) uses this one.
    pub amount: i64,
    /// Zygo's return endpoint for this checkout (`/billing/return/{provider}?state=…`, signed),
    /// for providers whose completion comes back with the customer rather than by webhook.
    pub return_url: &'a str,
    pub plan: &'a str,
    pub interval: &'a str,
    pub success_url: &'a str,
    pub cancel_url: &'a str,
    /// The provider's own plan, for a provider that collects renewals itself.
    pub provider_plan_id: Option<&'a str>,
    /// The organisation's tax rate (basis points), for a provider that bills by itself.
    pub tax_rate_bps: i32,
}

/// A saved payment method as its provider describes it — never the number: enough for the
/// organisation to recognise it and to see when a card expires.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MethodDetails {
    /// `card` or `paypal`.
    pub kind: String,
    /// A card's network as the provider names it (`visa`, `mastercard`, `amex`…).
    pub brand: Option<String>,
    pub last4: Option<String>,
    pub exp_month: Option<u32>,
    pub exp_year: Option<i32>,
    /// A PayPal account's address.
    pub email: Option<String>,
}

impl MethodDetails {
    /// A card, from the fields every provider has in some shape.
    pub fn card(
        brand: Option<&str>,
        last4: Option<&str>,
        exp_month: Option<u32>,
        exp_year: Option<i32>,
    ) -> Self {
        Self {
            kind: "card".into(),
            brand: brand.map(|b| match b.to_ascii_lowercase().as_str() {
                "american_express" | "american express" => "amex".to_string(),
                other => other.replace(['_', ' '], ""),
            }),
            last4: last4.map(str::to_string),
            exp_month,
            exp_year,
            email: None,
        }
    }

    /// A PayPal account.
    pub fn paypal(email: Option<&str>) -> Self {
        Self { kind: "paypal".into(), email: email.map(str::to_string), ..Self::default() }
    }
}

/// What a verified webhook tells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProviderEvent {
    /// The customer saved a payment method on the hosted page; the plan they chose applies.
    CheckoutCompleted {
        tenant_id: Uuid,
        customer_id: String,
        payment_method_id: String,
        method: MethodDetails,
        /// Empty: the checkout replaces the payment method and changes no plan.
        plan: String,
        interval: String,
    },
    /// A charge of an invoice succeeded (also confirmed synchronously; applied if still open).
    PaymentSucceeded { invoice_id: Uuid, payment_id: String },
    /// A charge of an invoice failed.
    PaymentFailed { invoice_id: Uuid, reason: String },
    /// The provider collected a period of its subscription `reference` (PayPal's
    /// subscriptions mode): pays the organisation's open invoice for it.
    RecurringPaid { tenant_id: Uuid, reference: String, payment_id: String, amount: i64, currency: String },
    /// The provider could not collect a period of `reference`: dunning starts.
    RecurringFailed { tenant_id: Uuid, reference: String, reason: String },
    /// The subscription `reference` was cancelled at the provider (by the payer): Zygo's
    /// subscription ends with its paid period.
    RecurringCanceled { tenant_id: Uuid, reference: String },
    /// Something Zygo does not act on.
    Other,
}

/// A verified webhook delivery.
#[derive(Clone, Debug)]
pub struct Delivery {
    /// The provider's event id (applied once).
    pub id: String,
    pub event_type: String,
    pub event: ProviderEvent,
}

#[async_trait]
pub trait PaymentProvider: Send + Sync {
    /// The key stored on the billing account (`manual`, `stripe`, …).
    fn key(&self) -> &'static str;
    /// Creates the provider's customer for an organisation; `idempotency_key` makes a retry
    /// return the same one.
    async fn create_customer(&self, customer: NewCustomer<'_>) -> AppResult<String>;
    /// Opens a hosted page where the customer saves a payment method; returns its URL.
    async fn checkout(&self, req: CheckoutRequest<'_>) -> AppResult<String>;
    /// Charges `charge` to the customer's saved payment method.
    async fn charge(&self, charge: Charge<'_>) -> AppResult<ChargeOutcome>;
    /// Verifies and reads a webhook delivery (`Err`: refused, with the reason to log).
    async fn webhook(&self, headers: &HeaderMap, body: &[u8], now: DateTime<Utc>)
    -> Result<Delivery, String>;
    /// Completes a checkout when the customer comes back to `return_url` with the provider's
    /// query parameters: the saved payment method, and an id naming the completion once.
    async fn complete_return(
        &self,
        _query: &std::collections::BTreeMap<String, String>,
    ) -> Result<Returned, String> {
        Err("this provider completes checkouts by webhook".into())
    }
    /// Pays (part of) a paid invoice back with `refund.idempotency_key`.
    async fn refund(&self, refund: Refund<'_>) -> AppResult<RefundOutcome>;
    /// Stops what recurs at the provider when Zygo's subscription is cancelled.
    async fn cancel(&self, cancel: Cancel<'_>) -> AppResult<()>;
    /// Takes back a cancellation at the period end (what `cancel` stopped starts again).
    async fn resume(&self, _reference: &str, _idempotency_key: &str) -> AppResult<()> {
        Ok(())
    }
    /// Whether the provider collects renewals itself (a subscription at the provider, to a
    /// provider plan made by [`PaymentProvider::create_plan`]): Zygo's invoices then wait for
    /// the provider's payment webhooks.
    fn recurring(&self) -> bool {
        false
    }
    /// Creates the provider's plan for `spec` (idempotently) and returns its id.
    async fn create_plan(&self, _spec: PlanSpec<'_>) -> AppResult<String> {
        Err(AppError::Internal(anyhow::anyhow!("{} has no plans of its own", self.key())))
    }
    /// Moves the provider's subscription `reference` to the provider plan `provider_plan_id`.
    async fn revise(
        &self,
        _reference: &str,
        _provider_plan_id: &str,
        _idempotency_key: &str,
    ) -> AppResult<()> {
        Ok(())
    }
}

/// A checkout completed on the return leg.
pub struct Returned {
    /// Names the completion (applied once).
    pub id: String,
    pub customer_id: String,
    pub payment_method_id: String,
    pub method: MethodDetails,
    /// The organisation the provider's object was made for, when it names one: the return leg
    /// is refused when it is not the one Zygo signed the checkout for.
    pub for_tenant: Option<Uuid>,
}

/// A refund of (part of) a paid invoice.
pub struct Refund<'a> {
    /// The provider's id of the payment (what [`ChargeOutcome::Paid`] or a payment webhook
    /// gave).
    pub payment_id: &'a str,
    pub invoice_id: Uuid,
    /// Minor units, at most what was paid and not yet refunded.
    pub amount: i64,
    pub currency: &'a str,
    /// Sent with the request: the provider refunds a repeated request once.
    pub idempotency_key: &'a str,
}

/// What a refund came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefundOutcome {
    /// Refunded; the provider's refund id (none for a manual refund).
    Refunded { refund_id: Option<String> },
    /// The provider refused (already refunded, too old…): nothing was refunded.
    Refused { reason: String },
}

/// What Zygo's cancellation asks of the provider.
pub struct Cancel<'a> {
    /// The account's saved payment method (for PayPal's subscriptions mode, the subscription).
    pub reference: Option<&'a str>,
    /// The subscription ends with its period (stop future collections, keep the way back) or
    /// now.
    pub at_period_end: bool,
    pub reason: &'a str,
    pub idempotency_key: &'a str,
}

/// A Zygo plan price as a provider's own recurring plan.
pub struct PlanSpec<'a> {
    /// Names the plan, its version, interval, currency and amount (the mapping's key).
    pub key: &'a str,
    pub plan: &'a str,
    pub name: &'a str,
    /// `month` or `year`.
    pub interval: &'a str,
    pub currency: &'a str,
    pub amount: i64,
}

/// Invoices paid by bank transfer and marked paid by an administrator.
pub struct Manual;

#[async_trait]
impl PaymentProvider for Manual {
    fn key(&self) -> &'static str {
        "manual"
    }

    async fn create_customer(&self, customer: NewCustomer<'_>) -> AppResult<String> {
        Ok(format!("manual_{}", customer.tenant_id))
    }

    async fn checkout(&self, _req: CheckoutRequest<'_>) -> AppResult<String> {
        Err(AppError::validation(
            "input.provider",
            "manual billing has no checkout: change the plan directly",
        ))
    }

    async fn charge(&self, _charge: Charge<'_>) -> AppResult<ChargeOutcome> {
        Ok(ChargeOutcome::AwaitingPayment)
    }

    async fn webhook(
        &self,
        _headers: &HeaderMap,
        _body: &[u8],
        _now: DateTime<Utc>,
    ) -> Result<Delivery, String> {
        Err("manual billing receives no webhooks".into())
    }

    /// The money went back outside Zygo (a transfer): the refund is only recorded.
    async fn refund(&self, _refund: Refund<'_>) -> AppResult<RefundOutcome> {
        Ok(RefundOutcome::Refunded { refund_id: None })
    }

    /// Nothing recurs: Zygo issues each invoice itself.
    async fn cancel(&self, _cancel: Cancel<'_>) -> AppResult<()> {
        Ok(())
    }
}

/// The HTTP client of the providers' APIs (30 seconds at most per call), one per process so
/// its connections are reused across calls.
fn http_client() -> reqwest::Client {
    static CLIENT: std::sync::LazyLock<reqwest::Client> = std::sync::LazyLock::new(|| {
        reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .expect("an HTTP client with a timeout")
    });
    CLIENT.clone()
}

/// A provider's JSON answer to `what`: `Ok(Ok(body))` on success; `Ok(Err(body))` for a 4xx
/// that is the provider's verdict (a declined card, a refused request); `Err` for what is not
/// (unreachable, bad credentials, rate limited, a 5xx), which the caller's retry repeats.
async fn answer(
    provider: &str,
    what: &str,
    res: reqwest::Result<reqwest::Response>,
) -> AppResult<Result<serde_json::Value, serde_json::Value>> {
    let res = res.map_err(|e| AppError::Internal(anyhow::anyhow!("{provider} unreachable: {e}")))?;
    let status = res.status();
    let body: serde_json::Value = res.json().await.unwrap_or(serde_json::Value::Null);
    if status.is_success() {
        Ok(Ok(body))
    } else if status.is_client_error() && status.as_u16() != 401 && status.as_u16() != 429 {
        Ok(Err(body))
    } else {
        Err(AppError::Internal(anyhow::anyhow!("{provider} answered {status} to {what}: {body}")))
    }
}

/// The `id` of a provider's answer.
fn id_of(provider: &str, v: &serde_json::Value) -> AppResult<String> {
    v["id"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("{provider} answer without an id: {v}")))
}

/// The provider named `key`, configured from the instance's settings.
pub fn provider(ctx: &Ctx, key: &str) -> AppResult<Box<dyn PaymentProvider>> {
    match key {
        "manual" => Ok(Box::new(Manual)),
        "stripe" => match &ctx.config.billing.stripe {
            Some(config) => Ok(Box::new(stripe::Stripe::new(config.clone()))),
            None => Err(AppError::validation("input.provider", "Stripe is not configured on this instance")),
        },
        "paypal" => match &ctx.config.billing.paypal {
            Some(config) => Ok(Box::new(paypal::Paypal::new(config.clone()))),
            None => Err(AppError::validation("input.provider", "PayPal is not configured on this instance")),
        },
        "revolut" => match &ctx.config.billing.revolut {
            Some(config) => Ok(Box::new(revolut::Revolut::new(config.clone()))),
            None => Err(AppError::validation("input.provider", "Revolut is not configured on this instance")),
        },
        _ => Err(AppError::validation("input.provider", format!("unknown payment provider `{key}`"))),
    }
}
