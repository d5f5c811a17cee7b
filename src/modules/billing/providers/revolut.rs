//! Revolut Merchant API: a customer per organisation; a hosted order that authorises the
//! plan's price with `capture_mode: manual` and `save_payment_method_for: merchant`, voided
//! once authorised, so the card is saved without being charged; merchant-initiated payments
//! of later orders with the saved card; webhooks verified by `Revolut-Signature`
//! (`v1=` HMAC-SHA256 of `v1.{Revolut-Request-Timestamp}.{body}`, five minutes of tolerance).
//!
//! Charging is idempotent whatever the network does: the order is created with the attempt's
//! `Idempotency-Key`, and an order that is already completed is not paid again. Refunds are
//! `POST /api/orders/{id}/refund` with an `Idempotency-Key`. Nothing recurs at Revolut (Zygo
//! pays each invoice with a merchant-initiated payment), so cancelling has nothing to call.

use async_trait::async_trait;
use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{
    Cancel, Charge, ChargeOutcome, CheckoutRequest, Delivery, MethodDetails, NewCustomer, PaymentProvider,
    ProviderEvent, Refund, RefundOutcome,
};
use crate::{
    config::RevolutConfig,
    error::{AppError, AppResult},
};

/// The API version the calls are written against.
pub const API_VERSION: &str = "2024-09-01";
/// Milliseconds a webhook's timestamp may be away from now.
pub const TOLERANCE_MS: i64 = 5 * 60 * 1000;
/// Marks the order that only checks (and saves) a card.
const CARD_CHECK: &str = "card_check";

pub struct Revolut {
    config: RevolutConfig,
    http: reqwest::Client,
}

impl Revolut {
    pub fn new(config: RevolutConfig) -> Self {
        Self { config, http: super::http_client() }
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        idempotency_key: Option<&str>,
    ) -> AppResult<Result<Value, Value>> {
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.config.api_base))
            .bearer_auth(self.config.secret_key.expose_secret())
            .header("Revolut-Api-Version", API_VERSION);
        if let Some(b) = body {
            req = req.json(&b);
        }
        if let Some(k) = idempotency_key {
            req = req.header("Idempotency-Key", k);
        }
        super::answer("Revolut", &format!("{method} {path}"), req.send().await).await
    }

    async fn order(&self, id: &str) -> AppResult<Value> {
        self.call(reqwest::Method::GET, &format!("/api/orders/{id}"), None, None)
            .await?
            .map_err(|b| AppError::Internal(anyhow::anyhow!("Revolut refused the order {id}: {b}")))
    }
}

fn id_of(v: &Value) -> AppResult<String> {
    super::id_of("Revolut", v)
}

/// Checks `Revolut-Signature` (one or more `v1=` values) over `v1.{timestamp}.{body}` at `now`.
pub fn verify_signature(
    signature: &str,
    timestamp: &str,
    body: &[u8],
    secret: &str,
    now: DateTime<Utc>,
) -> Result<(), String> {
    let ts: i64 = timestamp.trim().parse().map_err(|_| "a Revolut-Request-Timestamp that is not a number")?;
    if (now.timestamp_millis() - ts).abs() > TOLERANCE_MS {
        return Err("timestamp outside the tolerance".into());
    }
    let mut signed = format!("v1.{}.", timestamp.trim()).into_bytes();
    signed.extend_from_slice(body);
    let expected =
        format!("v1={}", crate::crypto::to_hex(&crate::crypto::hmac_sha256(secret.as_bytes(), &signed)));
    if signature.split(',').any(|s| crate::crypto::constant_time_eq(s.trim().as_bytes(), expected.as_bytes()))
    {
        Ok(())
    } else {
        Err("no v1 signature matches".into())
    }
}

#[async_trait]
impl PaymentProvider for Revolut {
    fn key(&self) -> &'static str {
        "revolut"
    }

    async fn create_customer(&self, customer: NewCustomer<'_>) -> AppResult<String> {
        let mut body = json!({ "full_name": customer.name });
        if let Some(email) = customer.email {
            body["email"] = json!(email);
        }
        match self
            .call(reqwest::Method::POST, "/api/1.0/customers", Some(body), Some(customer.idempotency_key))
            .await?
        {
            Ok(v) => id_of(&v),
            Err(b) => Err(AppError::Internal(anyhow::anyhow!("Revolut refused the customer: {b}"))),
        }
    }

    async fn checkout(&self, req: CheckoutRequest<'_>) -> AppResult<String> {
        let body = json!({
            "amount": req.amount.max(1),
            "currency": req.currency,
            "capture_mode": "manual",
            "customer": { "id": req.customer_id },
            "description": format!("Card check for the {} plan (authorised, then voided)", req.plan),
            "redirect_url": req.success_url,
            "save_payment_method_for": "merchant",
            "metadata": {
                "purpose": CARD_CHECK,
                "tenant_id": req.tenant_id.to_string(),
                "plan": req.plan,
                "interval": req.interval,
            },
        });
        match self.call(reqwest::Method::POST, "/api/orders", Some(body), None).await? {
            Ok(v) => v["checkout_url"].as_str().map(str::to_string).ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!("Revolut order without a checkout_url: {v}"))
            }),
            Err(b) => Err(AppError::Internal(anyhow::anyhow!("Revolut refused the order: {b}"))),
        }
    }

    async fn charge(&self, charge: Charge<'_>) -> AppResult<ChargeOutcome> {
        let (Some(customer), Some(method)) = (charge.customer_id, charge.payment_method_id) else {
            return Ok(ChargeOutcome::Failed { reason: "no saved payment method".into() });
        };
        let body = json!({
            "amount": charge.amount,
            "currency": charge.currency,
            "capture_mode": "automatic",
            "customer": { "id": customer },
            "description": charge.description,
            "metadata": { "invoice_id": charge.invoice_id.to_string() },
        });
        let order = match self
            .call(reqwest::Method::POST, "/api/orders", Some(body), Some(charge.idempotency_key))
            .await?
        {
            Ok(v) => v,
            Err(b) => return Err(AppError::Internal(anyhow::anyhow!("Revolut refused the order: {b}"))),
        };
        let order_id = id_of(&order)?;
        // A repeated attempt finds its order already paid: nothing is paid twice.
        if order["state"] == "completed" {
            return Ok(ChargeOutcome::Paid { provider: self.key().into(), payment_id: order_id });
        }
        let pay =
            json!({ "saved_payment_method": { "type": "card", "id": method, "initiator": "merchant" } });
        match self
            .call(reqwest::Method::POST, &format!("/api/orders/{order_id}/payments"), Some(pay), None)
            .await?
        {
            Ok(p) if matches!(p["state"].as_str(), Some("completed" | "captured" | "authorised")) => {
                Ok(ChargeOutcome::Paid { provider: self.key().into(), payment_id: order_id })
            }
            Ok(p) => Ok(ChargeOutcome::Failed {
                reason: p["decline_reason"]
                    .as_str()
                    .or(p["state"].as_str())
                    .unwrap_or("declined")
                    .to_string(),
            }),
            Err(b) => Ok(ChargeOutcome::Failed {
                reason: b["code"].as_str().or(b["message"].as_str()).unwrap_or("declined").to_string(),
            }),
        }
    }

    async fn refund(&self, refund: Refund<'_>) -> AppResult<RefundOutcome> {
        let body = json!({
            "amount": refund.amount,
            "currency": refund.currency,
            "description": format!("Refund of invoice {}", refund.invoice_id),
            "metadata": { "invoice_id": refund.invoice_id.to_string() },
        });
        let path = format!("/api/orders/{}/refund", refund.payment_id);
        match self.call(reqwest::Method::POST, &path, Some(body), Some(refund.idempotency_key)).await? {
            Ok(v) if matches!(v["state"].as_str(), Some("completed" | "processing" | "pending")) => {
                Ok(RefundOutcome::Refunded { refund_id: Some(id_of(&v)?) })
            }
            Ok(v) => Ok(RefundOutcome::Refused {
                reason: format!("refund {}", v["state"].as_str().unwrap_or("not completed")),
            }),
            Err(b) => Ok(RefundOutcome::Refused {
                reason: b["code"].as_str().or(b["message"].as_str()).unwrap_or("refused").to_string(),
            }),
        }
    }

    /// Nothing recurs at Revolut in Zygo's design: no call.
    async fn cancel(&self, _cancel: Cancel<'_>) -> AppResult<()> {
        Ok(())
    }

    async fn webhook(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Delivery, String> {
        let header = |name: &str| headers.get(name).and_then(|h| h.to_str().ok());
        let signature = header("revolut-signature").ok_or("no Revolut-Signature header")?;
        let timestamp = header("revolut-request-timestamp").ok_or("no Revolut-Request-Timestamp header")?;
        verify_signature(signature, timestamp, body, self.config.webhook_secret.expose_secret(), now)?;
        let v: Value = serde_json::from_slice(body).map_err(|_| "the body is not JSON")?;
        let event_type = v["event"].as_str().ok_or("an event without its type")?.to_string();
        let order_id = v["order_id"].as_str().ok_or("an event without an order")?.to_string();
        // Revolut's events carry no id of their own: the order and the event name one change.
        let id = format!("{order_id}:{event_type}");
        let order = self.order(&order_id).await.map_err(|e| e.to_string())?;
        let meta = &order["metadata"];
        let uuid = |x: &Value| x.as_str().and_then(|s| Uuid::parse_str(s).ok());
        let event = match event_type.as_str() {
            "ORDER_AUTHORISED" if meta["purpose"] == CARD_CHECK => {
                let tenant_id = uuid(&meta["tenant_id"]).ok_or("a card check without its tenant")?;
                let saved = order["payments"]
                    .as_array()
                    .and_then(|ps| ps.iter().map(|p| &p["payment_method"]).find(|m| m["id"].is_string()))
                    .ok_or("a card check without a saved payment method")?;
                let method = saved["id"].as_str().unwrap_or_default().to_string();
                // `card_expiry` is "MM/YY".
                let expiry = saved["card_expiry"].as_str().and_then(|e| e.split_once('/'));
                let details = MethodDetails::card(
                    saved["card_brand"].as_str(),
                    saved["card_last_four"].as_str(),
                    expiry.and_then(|(m, _)| m.parse().ok()),
                    expiry
                        .and_then(|(_, y)| y.parse::<i32>().ok())
                        .map(|y| if y < 100 { 2000 + y } else { y }),
                );
                // Release the hold: the card check charges nothing.
                self.call(reqwest::Method::POST, &format!("/api/orders/{order_id}/cancel"), None, None)
                    .await
                    .map_err(|e| e.to_string())?
                    .map_err(|b| format!("Revolut refused to void the card check: {b}"))?;
                ProviderEvent::CheckoutCompleted {
                    tenant_id,
                    customer_id: order["customer"]["id"].as_str().unwrap_or_default().to_string(),
                    payment_method_id: method,
                    method: details,
                    plan: meta["plan"].as_str().unwrap_or_default().to_string(),
                    interval: meta["interval"].as_str().unwrap_or_default().to_string(),
                }
            }
            "ORDER_COMPLETED" => match uuid(&meta["invoice_id"]) {
                Some(invoice_id) => ProviderEvent::PaymentSucceeded { invoice_id, payment_id: order_id },
                None => ProviderEvent::Other,
            },
            "ORDER_PAYMENT_DECLINED" | "ORDER_PAYMENT_FAILED" => match uuid(&meta["invoice_id"]) {
                Some(invoice_id) => {
                    ProviderEvent::PaymentFailed { invoice_id, reason: event_type.to_lowercase() }
                }
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

    fn sign(ts: i64, body: &[u8], secret: &str) -> String {
        let mut signed = format!("v1.{ts}.").into_bytes();
        signed.extend_from_slice(body);
        format!("v1={}", crate::crypto::to_hex(&crate::crypto::hmac_sha256(secret.as_bytes(), &signed)))
    }

    #[test]
    fn signatures_cover_version_timestamp_and_body_within_five_minutes() {
        let now = Utc::now();
        let ts = now.timestamp_millis();
        let body = br#"{"event":"ORDER_COMPLETED","order_id":"o1"}"#;
        let good = sign(ts, body, "wsk_a");
        assert!(verify_signature(&good, &ts.to_string(), body, "wsk_a", now).is_ok());
        assert!(
            verify_signature(&format!("v1=00,{good}"), &ts.to_string(), body, "wsk_a", now).is_ok(),
            "one of several"
        );
        assert!(
            verify_signature(&good, &(ts + 1).to_string(), body, "wsk_a", now).is_err(),
            "the timestamp is signed"
        );
        assert!(verify_signature(&sign(ts, body, "wsk_b"), &ts.to_string(), body, "wsk_a", now).is_err());
        let old = ts - TOLERANCE_MS - 1;
        assert!(
            verify_signature(&sign(old, body, "wsk_a"), &old.to_string(), body, "wsk_a", now).is_err(),
            "too old"
        );
    }
}
