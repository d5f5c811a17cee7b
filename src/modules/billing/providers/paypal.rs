//! PayPal REST API: an OAuth client-credentials token per call; a vault **setup token**
//! (`/v3/vault/setup-tokens`, `usage_type: MERCHANT`) whose approval link the customer follows;
//! on the return leg the approved setup token becomes a **payment token**
//! (`/v3/vault/payment-tokens`); invoices are charged by **Orders v2** with that vault id
//! (`PayPal-Request-Id` is the attempt's idempotency key); webhooks are verified by PayPal's
//! own `/v1/notifications/verify-webhook-signature` call.
//!
//! With `ZYGO_PAYPAL_MODE=subscriptions` PayPal collects renewals itself (Subscriptions v1):
//! each Zygo plan price is a PayPal **billing plan** (`/v1/billing/plans`, under a product made
//! by `/v1/catalogs/products`), checkout creates a **subscription** (`/v1/billing/subscriptions`,
//! `custom_id` naming the organisation, plan and interval) whose approve link the payer follows,
//! and the subscription id (`I-…`) is the account's payment method. Activation comes back on the
//! return leg or as `BILLING.SUBSCRIPTION.ACTIVATED` (either order, applied once);
//! `PAYMENT.SALE.COMPLETED` (with `billing_agreement_id`) pays Zygo's open invoice;
//! `BILLING.SUBSCRIPTION.PAYMENT.FAILED` starts dunning; `BILLING.SUBSCRIPTION.CANCELLED` ends the
//! subscription with its period. A plan change is `/revise`; Zygo's cancellation is `/cancel`
//! (now) or `/suspend` (at the period end; `/activate` takes it back). The Subscriptions v1
//! calls and events live in `paypal/subscriptions.rs`.
//!
//! Refunds: a capture by `/v2/payments/captures/{id}/refund`, a subscription's sale (stored as
//! `sale:<id>`) by `/v1/payments/sale/{id}/refund`, both with `PayPal-Request-Id`.

use std::{
    collections::{BTreeMap, HashMap},
    time::Duration,
};

use async_trait::async_trait;
use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{
    Cancel, Charge, ChargeOutcome, CheckoutRequest, Delivery, MethodDetails, NewCustomer, PaymentProvider,
    PlanSpec, ProviderEvent, Refund, RefundOutcome, Returned,
};
use crate::{
    config::{PaypalConfig, PaypalMode},
    error::{AppError, AppResult},
    modules::billing::documents::decimal,
};

mod subscriptions;

pub use subscriptions::minor_units;
use subscriptions::{approve_link, custom};

/// Marks a payment id that is a subscription's sale (refunded through the v1 sale API).
const SALE: &str = "sale:";

/// Whether an account's payment method is a PayPal subscription (`I-…`) rather than a vault
/// payment token.
pub fn is_subscription(reference: &str) -> bool {
    reference.starts_with("I-")
}

/// An access token and when to stop using it, by API base and client id.
type TokenCache = HashMap<(String, String), (String, std::time::Instant)>;

/// The access tokens of this process.
static TOKENS: std::sync::LazyLock<std::sync::Mutex<TokenCache>> = std::sync::LazyLock::new(Default::default);

pub struct Paypal {
    config: PaypalConfig,
    http: reqwest::Client,
}

impl Paypal {
    pub fn new(config: PaypalConfig) -> Self {
        Self { config, http: super::http_client() }
    }

    /// An access token, reused until a minute before it expires (every call needs one).
    async fn token(&self) -> AppResult<String> {
        let key = (self.config.api_base.clone(), self.config.client_id.clone());
        let now = std::time::Instant::now();
        if let Some((token, until)) = TOKENS.lock().expect("token cache").get(&key)
            && *until > now
        {
            return Ok(token.clone());
        }
        let res = self
            .http
            .post(format!("{}/v1/oauth2/token", self.config.api_base))
            .basic_auth(&self.config.client_id, Some(self.config.client_secret.expose_secret()))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .map_err(|e| AppError::Internal(anyhow::anyhow!("PayPal unreachable: {e}")))?;
        let status = res.status();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        let token = body["access_token"].as_str().map(str::to_string).ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!("PayPal refused the credentials ({status}): {body}"))
        })?;
        let lifetime = body["expires_in"].as_u64().unwrap_or(0).saturating_sub(60);
        TOKENS.lock().expect("token cache").insert(key, (token.clone(), now + Duration::from_secs(lifetime)));
        Ok(token)
    }

    async fn post(
        &self,
        path: &str,
        body: Value,
        request_id: Option<&str>,
    ) -> AppResult<Result<Value, Value>> {
        self.post_text(path, body.to_string(), request_id).await
    }

    /// POSTs a JSON body given as text (the signature check must carry the event verbatim).
    async fn post_text(
        &self,
        path: &str,
        body: String,
        request_id: Option<&str>,
    ) -> AppResult<Result<Value, Value>> {
        let token = self.token().await?;
        let mut req = self
            .http
            .post(format!("{}{path}", self.config.api_base))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body);
        if let Some(id) = request_id {
            req = req.header("PayPal-Request-Id", id);
        }
        super::answer("PayPal", path, req.send().await).await
    }

    async fn get(&self, path: &str) -> AppResult<Result<Value, Value>> {
        let token = self.token().await?;
        let req = self.http.get(format!("{}{path}", self.config.api_base)).bearer_auth(token);
        super::answer("PayPal", path, req.send().await).await
    }
}

#[async_trait]
impl PaymentProvider for Paypal {
    fn key(&self) -> &'static str {
        "paypal"
    }

    /// PayPal's vault names customers by the merchant's own id: no call needed.
    async fn create_customer(&self, customer: NewCustomer<'_>) -> AppResult<String> {
        Ok(format!("zygo-{}", customer.tenant_id.simple()))
    }

    async fn checkout(&self, req: CheckoutRequest<'_>) -> AppResult<String> {
        if let Some(plan_id) = req.provider_plan_id {
            return self.subscribe(&req, plan_id).await;
        }
        let body = json!({
            "customer": { "id": req.customer_id },
            "payment_source": { "paypal": {
                "usage_type": "MERCHANT",
                "description": format!("Zygo {} plan", req.plan),
                "experience_context": { "return_url": req.return_url, "cancel_url": req.cancel_url },
            } },
        });
        match self.post("/v3/vault/setup-tokens", body, None).await? {
            Ok(v) => v["links"]
                .as_array()
                .and_then(|l| l.iter().find(|l| l["rel"] == "approve"))
                .and_then(|l| l["href"].as_str())
                .map(str::to_string)
                .ok_or_else(|| {
                    AppError::Internal(anyhow::anyhow!("PayPal setup token without an approve link: {v}"))
                }),
            Err(b) => Err(AppError::Internal(anyhow::anyhow!("PayPal refused the setup token: {b}"))),
        }
    }

    async fn complete_return(&self, query: &BTreeMap<String, String>) -> Result<Returned, String> {
        if let Some(id) = query.get("subscription_id") {
            // Approved: PayPal shows the subscription active (its first period collected).
            let v = self.subscription(id).await?;
            if !matches!(v["status"].as_str(), Some("ACTIVE" | "APPROVED")) {
                return Err(format!("the subscription is {}", v["status"]));
            }
            return Ok(Returned {
                id: format!("activated:{id}"),
                customer_id: v["subscriber"]["payer_id"].as_str().unwrap_or_default().to_string(),
                payment_method_id: id.clone(),
                method: MethodDetails::paypal(v["subscriber"]["email_address"].as_str()),
                for_tenant: Some(custom(&v).ok_or("a subscription without Zygo's custom_id")?.0),
            });
        }
        let setup = query.get("approval_token_id").ok_or("no approval_token_id on the return")?;
        let body = json!({ "payment_source": { "token": { "id": setup, "type": "SETUP_TOKEN" } } });
        // The setup token names the request: coming back twice makes one payment token.
        let v = self
            .post("/v3/vault/payment-tokens", body, Some(&format!("vault:{setup}")))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|b| format!("PayPal refused the payment token: {b}"))?;
        Ok(Returned {
            id: format!("setup:{setup}"),
            customer_id: v["customer"]["id"].as_str().unwrap_or_default().to_string(),
            payment_method_id: v["id"].as_str().ok_or("a payment token without an id")?.to_string(),
            method: MethodDetails::paypal(v["payment_source"]["paypal"]["email_address"].as_str()),
            for_tenant: None,
        })
    }

    async fn charge(&self, charge: Charge<'_>) -> AppResult<ChargeOutcome> {
        let Some(vault_id) = charge.payment_method_id else {
            return Ok(ChargeOutcome::Failed { reason: "no saved payment method".into() });
        };
        if is_subscription(vault_id) {
            // PayPal collects each period of the subscription; its sale webhook pays this.
            return Ok(ChargeOutcome::AwaitingPayment);
        }
        let body = json!({
            "intent": "CAPTURE",
            "purchase_units": [{
                "reference_id": charge.invoice_id.to_string(),
                "custom_id": charge.invoice_id.to_string(),
                "description": charge.description,
                "amount": {
                    "currency_code": charge.currency,
                    "value": decimal(charge.amount, charge.currency),
                },
            }],
            "payment_source": { "paypal": { "vault_id": vault_id } },
        });
        match self.post("/v2/checkout/orders", body, Some(charge.idempotency_key)).await? {
            Ok(v) => {
                let capture = &v["purchase_units"][0]["payments"]["captures"][0];
                if v["status"] == "COMPLETED" && capture["status"] == "COMPLETED" {
                    Ok(ChargeOutcome::Paid {
                        provider: self.key().into(),
                        payment_id: capture["id"]
                            .as_str()
                            .or(v["id"].as_str())
                            .unwrap_or_default()
                            .to_string(),
                    })
                } else {
                    Ok(ChargeOutcome::Failed {
                        reason: capture["status"]
                            .as_str()
                            .or(v["status"].as_str())
                            .unwrap_or("not completed")
                            .to_lowercase(),
                    })
                }
            }
            Err(b) => Ok(ChargeOutcome::Failed {
                reason: b["details"][0]["issue"]
                    .as_str()
                    .or(b["name"].as_str())
                    .unwrap_or("declined")
                    .to_string(),
            }),
        }
    }

    async fn webhook(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        _now: DateTime<Utc>,
    ) -> Result<Delivery, String> {
        let header = |name: &str| headers.get(name).and_then(|h| h.to_str().ok()).map(str::to_string);
        let event: Value = serde_json::from_slice(body).map_err(|_| "the body is not JSON")?;
        let check = json!({
            "auth_algo": header("paypal-auth-algo").ok_or("no PAYPAL-AUTH-ALGO header")?,
            "cert_url": header("paypal-cert-url").ok_or("no PAYPAL-CERT-URL header")?,
            "transmission_id": header("paypal-transmission-id").ok_or("no PAYPAL-TRANSMISSION-ID header")?,
            "transmission_sig": header("paypal-transmission-sig").ok_or("no PAYPAL-TRANSMISSION-SIG header")?,
            "transmission_time": header("paypal-transmission-time").ok_or("no PAYPAL-TRANSMISSION-TIME header")?,
            "webhook_id": self.config.webhook_id,
        });
        // The event goes back exactly as it came: PayPal's check fails on a re-serialised one.
        let mut text = check.to_string();
        text.pop();
        text.push_str(",\"webhook_event\":");
        text.push_str(std::str::from_utf8(body).map_err(|_| "the body is not UTF-8")?);
        text.push('}');
        let verdict = self
            .post_text("/v1/notifications/verify-webhook-signature", text, None)
            .await
            .map_err(|e| e.to_string())?
            .map_err(|b| format!("PayPal refused the signature check: {b}"))?;
        if verdict["verification_status"] != "SUCCESS" {
            return Err(format!("PayPal says the signature is {}", verdict["verification_status"]));
        }
        let mut id = event["id"].as_str().ok_or("an event without an id")?.to_string();
        let event_type = event["event_type"].as_str().unwrap_or_default().to_string();
        let r = &event["resource"];
        if let Some((delivery_id, provider_event)) = self.subscription_event(&event_type, r).await? {
            id = delivery_id.unwrap_or(id);
            return Ok(Delivery { id, event_type, event: provider_event });
        }
        let invoice = r["custom_id"].as_str().and_then(|s| Uuid::parse_str(s).ok());
        let provider_event = match (event_type.as_str(), invoice) {
            ("PAYMENT.CAPTURE.COMPLETED", Some(invoice_id)) => ProviderEvent::PaymentSucceeded {
                invoice_id,
                payment_id: r["id"].as_str().unwrap_or_default().to_string(),
            },
            ("PAYMENT.CAPTURE.DENIED" | "PAYMENT.CAPTURE.DECLINED", Some(invoice_id)) => {
                ProviderEvent::PaymentFailed { invoice_id, reason: event_type.to_lowercase() }
            }
            _ => ProviderEvent::Other,
        };
        Ok(Delivery { id, event_type, event: provider_event })
    }

    async fn refund(&self, refund: Refund<'_>) -> AppResult<RefundOutcome> {
        let value = decimal(refund.amount, refund.currency);
        let (path, body) = match refund.payment_id.strip_prefix(SALE) {
            Some(sale) => (
                format!("/v1/payments/sale/{sale}/refund"),
                json!({ "amount": { "total": value, "currency": refund.currency }, "invoice_number": refund.invoice_id.to_string() }),
            ),
            None => (
                format!("/v2/payments/captures/{}/refund", refund.payment_id),
                json!({ "amount": { "value": value, "currency_code": refund.currency }, "custom_id": refund.invoice_id.to_string() }),
            ),
        };
        match self.post(&path, body, Some(refund.idempotency_key)).await? {
            Ok(v)
                if matches!(
                    v["status"].as_str().or(v["state"].as_str()),
                    Some("COMPLETED" | "PENDING" | "completed" | "pending")
                ) =>
            {
                Ok(RefundOutcome::Refunded { refund_id: Some(super::id_of("PayPal", &v)?) })
            }
            Ok(v) => Ok(RefundOutcome::Refused {
                reason: format!(
                    "refund {}",
                    v["status"].as_str().or(v["state"].as_str()).unwrap_or("not completed")
                ),
            }),
            Err(b) => Ok(RefundOutcome::Refused {
                reason: b["details"][0]["issue"]
                    .as_str()
                    .or(b["name"].as_str())
                    .unwrap_or("refused")
                    .to_string(),
            }),
        }
    }

    /// A subscription stops collecting: `/suspend` for a cancellation at the period end (taken
    /// back by `/activate`), `/cancel` for one now. A vault token recurs nothing: no call.
    async fn cancel(&self, cancel: Cancel<'_>) -> AppResult<()> {
        let Some(id) = cancel.reference.filter(|r| is_subscription(r)) else { return Ok(()) };
        let action = if cancel.at_period_end { "suspend" } else { "cancel" };
        self.subscription_action(id, action, json!({ "reason": cancel.reason }), cancel.idempotency_key)
            .await?;
        Ok(())
    }

    async fn resume(&self, reference: &str, idempotency_key: &str) -> AppResult<()> {
        if is_subscription(reference) {
            let body = json!({ "reason": "Resumed in Zygo" });
            self.subscription_action(reference, "activate", body, idempotency_key).await?;
        }
        Ok(())
    }

    fn recurring(&self) -> bool {
        self.config.mode == PaypalMode::Subscriptions
    }

    /// A product per Zygo plan and a billing plan per price; `PayPal-Request-Id` names both, so
    /// a repeated creation answers the first one.
    async fn create_plan(&self, spec: PlanSpec<'_>) -> AppResult<String> {
        self.billing_plan(spec).await
    }
    async fn revise(&self, reference: &str, provider_plan_id: &str, idempotency_key: &str) -> AppResult<()> {
        if is_subscription(reference) {
            let body = json!({ "plan_id": provider_plan_id });
            let v = self.subscription_action(reference, "revise", body, idempotency_key).await?;
            if approve_link(&v).is_some() {
                // PayPal asks the payer to consent to a new price on its page; until then it
                // keeps collecting the old one.
                tracing::info!(subscription = reference, "PayPal asks the payer to approve the revision");
            }
        }
        Ok(())
    }
}
