//! PayPal REST API: an OAuth client-credentials token per call; a vault **setup token**
//! (`/v3/vault/setup-tokens`, `usage_type: MERCHANT`) whose approval link the customer follows;
//! on the return leg the approved setup token becomes a **payment token**
//! (`/v3/vault/payment-tokens`); invoices are charged by **Orders v2** with that vault id
//! (`PayPal-Request-Id` is the attempt's idempotency key); webhooks are verified by PayPal's
//! own `/v1/notifications/verify-webhook-signature` call.

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
    Charge, ChargeOutcome, CheckoutRequest, Delivery, NewCustomer, PaymentProvider, ProviderEvent, Returned,
};
use crate::{
    config::PaypalConfig,
    error::{AppError, AppResult},
};

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
        })
    }

    async fn charge(&self, charge: Charge<'_>) -> AppResult<ChargeOutcome> {
        let Some(vault_id) = charge.payment_method_id else {
            return Ok(ChargeOutcome::Failed { reason: "no saved payment method".into() });
        };
        let body = json!({
            "intent": "CAPTURE",
            "purchase_units": [{
                "reference_id": charge.invoice_id.to_string(),
                "custom_id": charge.invoice_id.to_string(),
                "description": charge.description,
                "amount": {
                    "currency_code": charge.currency,
                    "value": crate::modules::billing::documents::decimal(charge.amount, charge.currency),
                },
            }],
            "payment_source": { "paypal": { "vault_id": vault_id } },
        });
        match self.post("/v2/checkout/orders", body, Some(charge.idempotency_key)).await? {
            Ok(v) => {
                let capture = &v["purchase_units"][0]["payments"]["captures"][0];
                if v["status"] == "COMPLETED" && capture["status"] == "COMPLETED" {
                    Ok(ChargeOutcome::Paid {
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
        let id = event["id"].as_str().ok_or("an event without an id")?.to_string();
        let event_type = event["event_type"].as_str().unwrap_or_default().to_string();
        let r = &event["resource"];
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
}
