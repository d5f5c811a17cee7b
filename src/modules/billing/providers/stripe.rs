//! Stripe: a customer per organisation, Checkout Sessions in `setup` mode to save a card on
//! Stripe's page, PaymentIntents (`off_session`, `confirm`) to charge it with the invoice's
//! idempotency key, and webhooks verified by the `Stripe-Signature` scheme (`t=…,v1=…`,
//! HMAC-SHA256 of `t.body` under the endpoint's secret, five minutes of tolerance).
//!
//! Refunds are `/v1/refunds` of the invoice's PaymentIntent with an `Idempotency-Key`. Nothing
//! recurs at Stripe (Zygo charges each invoice with a PaymentIntent, no Stripe Subscription), so
//! cancelling has nothing to call.
//!
//! A small form-encoded HTTP client instead of an SDK: five calls are needed.

use async_trait::async_trait;
use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use serde_json::Value;
use uuid::Uuid;

use super::{
    Cancel, Charge, ChargeOutcome, CheckoutRequest, Delivery, MethodDetails, NewCustomer, PaymentProvider,
    ProviderEvent, Refund, RefundOutcome,
};
use crate::{
    config::StripeConfig,
    error::{AppError, AppResult},
};

/// Seconds a webhook's timestamp may be away from now.
pub const TOLERANCE_SECS: i64 = 300;

pub struct Stripe {
    config: StripeConfig,
    http: reqwest::Client,
}

impl Stripe {
    pub fn new(config: StripeConfig) -> Self {
        Self { config, http: super::http_client() }
    }

    /// POSTs `form` to `path`; `Ok(Err(body))` for Stripe's 4xx answers (card errors).
    async fn post(
        &self,
        path: &str,
        form: &[(&str, String)],
        idempotency_key: Option<&str>,
    ) -> AppResult<Result<Value, Value>> {
        let mut req = self
            .http
            .post(format!("{}{path}", self.config.api_base))
            .bearer_auth(self.config.secret_key.expose_secret())
            .form(form);
        if let Some(key) = idempotency_key {
            req = req.header("Idempotency-Key", key);
        }
        super::answer("Stripe", path, req.send().await).await
    }

    async fn get(&self, path: &str) -> AppResult<Value> {
        let res = self
            .http
            .get(format!("{}{path}", self.config.api_base))
            .bearer_auth(self.config.secret_key.expose_secret())
            .send()
            .await;
        super::answer("Stripe", path, res)
            .await?
            .map_err(|body| AppError::Internal(anyhow::anyhow!("Stripe refused GET {path}: {body}")))
    }
}

fn id_of(v: &Value) -> AppResult<String> {
    super::id_of("Stripe", v)
}

/// Checks a `Stripe-Signature` header over `body` at `now`.
pub fn verify_signature(header: &str, body: &[u8], secret: &str, now: DateTime<Utc>) -> Result<(), String> {
    let mut t = None;
    let mut v1 = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => v1.push(v.to_string()),
            _ => {}
        }
    }
    let t = t.ok_or("no timestamp in Stripe-Signature")?;
    if (now.timestamp() - t).abs() > TOLERANCE_SECS {
        return Err("timestamp outside the tolerance".into());
    }
    let mut signed = format!("{t}.").into_bytes();
    signed.extend_from_slice(body);
    let expected = crate::crypto::to_hex(&crate::crypto::hmac_sha256(secret.as_bytes(), &signed));
    if v1.iter().any(|s| crate::crypto::constant_time_eq(s.as_bytes(), expected.as_bytes())) {
        Ok(())
    } else {
        Err("no v1 signature matches".into())
    }
}

#[async_trait]
impl PaymentProvider for Stripe {
    fn key(&self) -> &'static str {
        "stripe"
    }

    async fn create_customer(&self, customer: NewCustomer<'_>) -> AppResult<String> {
        let mut form = vec![
            ("name", customer.name.to_string()),
            ("metadata[tenant_id]", customer.tenant_id.to_string()),
        ];
        if let Some(email) = customer.email {
            form.push(("email", email.to_string()));
        }
        match self.post("/v1/customers", &form, Some(customer.idempotency_key)).await? {
            Ok(v) => id_of(&v),
            Err(body) => Err(AppError::Internal(anyhow::anyhow!("Stripe refused the customer: {body}"))),
        }
    }

    async fn checkout(&self, req: CheckoutRequest<'_>) -> AppResult<String> {
        let form = [
            ("mode", "setup".to_string()),
            ("customer", req.customer_id.to_string()),
            ("currency", req.currency.to_lowercase()),
            ("payment_method_types[0]", "card".to_string()),
            ("success_url", req.success_url.to_string()),
            ("cancel_url", req.cancel_url.to_string()),
            ("client_reference_id", req.tenant_id.to_string()),
            ("metadata[tenant_id]", req.tenant_id.to_string()),
            ("metadata[plan]", req.plan.to_string()),
            ("metadata[interval]", req.interval.to_string()),
        ];
        match self.post("/v1/checkout/sessions", &form, None).await? {
            Ok(v) => v["url"]
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| AppError::Internal(anyhow::anyhow!("Stripe session without a url: {v}"))),
            Err(body) => Err(AppError::Internal(anyhow::anyhow!("Stripe refused the checkout: {body}"))),
        }
    }

    async fn charge(&self, charge: Charge<'_>) -> AppResult<ChargeOutcome> {
        let (Some(customer), Some(method)) = (charge.customer_id, charge.payment_method_id) else {
            return Ok(ChargeOutcome::Failed { reason: "no saved payment method".into() });
        };
        let form = [
            ("amount", charge.amount.to_string()),
            ("currency", charge.currency.to_lowercase()),
            ("customer", customer.to_string()),
            ("payment_method", method.to_string()),
            ("off_session", "true".to_string()),
            ("confirm", "true".to_string()),
            ("description", charge.description.to_string()),
            ("metadata[invoice_id]", charge.invoice_id.to_string()),
        ];
        match self.post("/v1/payment_intents", &form, Some(charge.idempotency_key)).await? {
            Ok(v) if v["status"] == "succeeded" => {
                Ok(ChargeOutcome::Paid { provider: self.key().into(), payment_id: id_of(&v)? })
            }
            Ok(v) => Ok(ChargeOutcome::Failed {
                reason: format!("payment {}", v["status"].as_str().unwrap_or("not completed")),
            }),
            Err(body) => {
                let e = &body["error"];
                let reason = e["decline_code"].as_str().or(e["code"].as_str()).unwrap_or("declined");
                Ok(ChargeOutcome::Failed { reason: reason.to_string() })
            }
        }
    }

    async fn refund(&self, refund: Refund<'_>) -> AppResult<RefundOutcome> {
        let form = [
            ("payment_intent", refund.payment_id.to_string()),
            ("amount", refund.amount.to_string()),
            ("reason", "requested_by_customer".to_string()),
            ("metadata[invoice_id]", refund.invoice_id.to_string()),
        ];
        match self.post("/v1/refunds", &form, Some(refund.idempotency_key)).await? {
            Ok(v) if matches!(v["status"].as_str(), Some("succeeded" | "pending")) => {
                Ok(RefundOutcome::Refunded { refund_id: Some(id_of(&v)?) })
            }
            Ok(v) => Ok(RefundOutcome::Refused {
                reason: format!("refund {}", v["status"].as_str().unwrap_or("not completed")),
            }),
            Err(body) => Ok(RefundOutcome::Refused {
                reason: body["error"]["code"].as_str().unwrap_or("refused").to_string(),
            }),
        }
    }

    /// Nothing recurs at Stripe in Zygo's design: no call.
    async fn cancel(&self, _cancel: Cancel<'_>) -> AppResult<()> {
        Ok(())
    }

    async fn webhook(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Delivery, String> {
        let header = headers
            .get("stripe-signature")
            .and_then(|h| h.to_str().ok())
            .ok_or("no Stripe-Signature header")?;
        verify_signature(header, body, self.config.webhook_secret.expose_secret(), now)?;
        let v: Value = serde_json::from_slice(body).map_err(|_| "the body is not JSON")?;
        let id = v["id"].as_str().ok_or("an event without an id")?.to_string();
        let event_type = v["type"].as_str().unwrap_or_default().to_string();
        let o = &v["data"]["object"];
        let uuid = |x: &Value| x.as_str().and_then(|s| Uuid::parse_str(s).ok());
        let event = match event_type.as_str() {
            "checkout.session.completed" if o["mode"] == "setup" => {
                let (Some(tenant_id), Some(setup)) =
                    (uuid(&o["metadata"]["tenant_id"]), o["setup_intent"].as_str())
                else {
                    return Err("a checkout session without its tenant or setup intent".into());
                };
                let intent = self
                    .get(&format!("/v1/setup_intents/{setup}?expand[]=payment_method"))
                    .await
                    .map_err(|e| e.to_string())?;
                let pm = &intent["payment_method"];
                let card = &pm["card"];
                ProviderEvent::CheckoutCompleted {
                    tenant_id,
                    customer_id: o["customer"].as_str().unwrap_or_default().to_string(),
                    payment_method_id: pm["id"]
                        .as_str()
                        .or(pm.as_str())
                        .ok_or("a setup intent without a payment method")?
                        .to_string(),
                    method: MethodDetails::card(
                        card["brand"].as_str(),
                        card["last4"].as_str(),
                        card["exp_month"].as_u64().map(|m| m as u32),
                        card["exp_year"].as_i64().map(|y| y as i32),
                    ),
                    plan: o["metadata"]["plan"].as_str().unwrap_or_default().to_string(),
                    interval: o["metadata"]["interval"].as_str().unwrap_or_default().to_string(),
                }
            }
            "payment_intent.succeeded" => match uuid(&o["metadata"]["invoice_id"]) {
                Some(invoice_id) => ProviderEvent::PaymentSucceeded {
                    invoice_id,
                    payment_id: o["id"].as_str().unwrap_or_default().to_string(),
                },
                None => ProviderEvent::Other,
            },
            "payment_intent.payment_failed" => match uuid(&o["metadata"]["invoice_id"]) {
                Some(invoice_id) => ProviderEvent::PaymentFailed {
                    invoice_id,
                    reason: o["last_payment_error"]["decline_code"]
                        .as_str()
                        .or(o["last_payment_error"]["code"].as_str())
                        .unwrap_or("declined")
                        .to_string(),
                },
                None => ProviderEvent::Other,
            },
            _ => ProviderEvent::Other,
        };
        Ok(Delivery { id, event_type, event })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(t: i64, body: &[u8], secret: &str) -> String {
        let mut signed = format!("{t}.").into_bytes();
        signed.extend_from_slice(body);
        format!("t={t},v1={}", crate::crypto::to_hex(&crate::crypto::hmac_sha256(secret.as_bytes(), &signed)))
    }

    #[test]
    fn signatures_are_checked_with_the_secret_the_body_and_the_tolerance() {
        let now = Utc::now();
        let body = br#"{"id":"evt_1"}"#;
        let t = now.timestamp();
        assert!(verify_signature(&header(t, body, "whsec_a"), body, "whsec_a", now).is_ok());
        assert!(
            verify_signature(&header(t, body, "whsec_b"), body, "whsec_a", now).is_err(),
            "another secret"
        );
        assert!(
            verify_signature(&header(t, body, "whsec_a"), br#"{"id":"evt_2"}"#, "whsec_a", now).is_err(),
            "another body"
        );
        assert!(
            verify_signature(&header(t - 301, body, "whsec_a"), body, "whsec_a", now).is_err(),
            "too old"
        );
        let two = format!("{},v1=deadbeef", header(t, body, "whsec_a"));
        assert!(verify_signature(&two, body, "whsec_a", now).is_ok(), "any matching v1 is enough");
        assert!(verify_signature("v1=abc", body, "whsec_a", now).is_err(), "no timestamp");
    }
}
