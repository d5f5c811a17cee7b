//! PayPal Subscriptions v1 for [`super::Paypal`]: the subscription and its actions, the
//! billing plan mirroring a Zygo price, and the subscription events of a webhook. The trait
//! methods in `paypal.rs` call these.

use serde_json::{Value, json};
use uuid::Uuid;

use super::{Paypal, SALE};
use crate::{
    error::{AppError, AppResult},
    modules::billing::{
        documents::{decimal, minor_digits},
        providers::{CheckoutRequest, MethodDetails, PlanSpec, ProviderEvent},
    },
};

/// `value` (PayPal's decimal text, e.g. `29.00`) in minor units of `currency`.
pub fn minor_units(value: &str, currency: &str) -> Option<i64> {
    let digits = minor_digits(currency) as usize;
    let (whole, frac) = value.trim().split_once('.').unwrap_or((value.trim(), ""));
    if frac.len() > digits || !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let frac: i64 = if digits == 0 { 0 } else { format!("{frac:0<digits$}").parse().ok()? };
    Some(whole * 10i64.pow(digits as u32) + frac)
}

/// The organisation, plan and interval a subscription's `custom_id` names.
pub(super) fn custom(v: &Value) -> Option<(Uuid, String, String)> {
    let mut parts = v["custom_id"].as_str()?.splitn(3, ':');
    let tenant = Uuid::parse_str(parts.next()?).ok()?;
    Some((tenant, parts.next()?.to_string(), parts.next()?.to_string()))
}

pub(super) fn approve_link(v: &Value) -> Option<String> {
    v["links"]
        .as_array()
        .and_then(|l| l.iter().find(|l| l["rel"] == "approve"))
        .and_then(|l| l["href"].as_str())
        .map(str::to_string)
}

impl Paypal {
    /// A subscription as PayPal shows it.
    pub(super) async fn subscription(&self, id: &str) -> Result<Value, String> {
        if !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err("a malformed subscription id".into());
        }
        self.get(&format!("/v1/billing/subscriptions/{id}"))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|b| format!("PayPal does not know the subscription {id}: {b}"))
    }

    /// POSTs a subscription action (`cancel`, `suspend`, `activate`, `revise`); PayPal's 422
    /// for a subscription already in the asked state counts as done.
    pub(super) async fn subscription_action(
        &self,
        id: &str,
        action: &str,
        body: Value,
        request_id: &str,
    ) -> AppResult<Value> {
        match self.post(&format!("/v1/billing/subscriptions/{id}/{action}"), body, Some(request_id)).await? {
            Ok(v) => Ok(v),
            Err(b) if b["details"][0]["issue"] == "SUBSCRIPTION_STATUS_INVALID" => Ok(b),
            Err(b) => Err(AppError::Internal(anyhow::anyhow!("PayPal refused to {action} {id}: {b}"))),
        }
    }

    /// Creates a subscription to `plan_id` and returns its approve link.
    pub(super) async fn subscribe(&self, req: &CheckoutRequest<'_>, plan_id: &str) -> AppResult<String> {
        let mut body = json!({
            "plan_id": plan_id,
            "custom_id": format!("{}:{}:{}", req.tenant_id, req.plan, req.interval),
            "application_context": {
                "brand_name": "Zygo",
                "user_action": "SUBSCRIBE_NOW",
                "shipping_preference": "NO_SHIPPING",
                "return_url": req.return_url,
                "cancel_url": req.cancel_url,
            },
        });
        if req.tax_rate_bps > 0 {
            let pct = format!("{}.{:02}", req.tax_rate_bps / 100, req.tax_rate_bps % 100);
            body["plan"] = json!({ "taxes": { "percentage": pct, "inclusive": false } });
        }
        match self.post("/v1/billing/subscriptions", body, None).await? {
            Ok(v) => approve_link(&v).ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!("PayPal subscription without an approve link: {v}"))
            }),
            Err(b) => Err(AppError::Internal(anyhow::anyhow!("PayPal refused the subscription: {b}"))),
        }
    }

    /// A product per Zygo plan and a billing plan per price; `PayPal-Request-Id` names both, so
    /// a repeated creation answers the first one.
    pub(super) async fn billing_plan(&self, spec: PlanSpec<'_>) -> AppResult<String> {
        let product =
            json!({ "name": format!("Zygo {}", spec.name), "type": "SERVICE", "category": "SOFTWARE" });
        let product =
            match self.post("/v1/catalogs/products", product, Some(&format!("product:{}", spec.plan))).await?
            {
                Ok(v) => super::super::id_of("PayPal", &v)?,
                Err(b) => return Err(AppError::Internal(anyhow::anyhow!("PayPal refused the product: {b}"))),
            };
        let unit = if spec.interval == "year" { "YEAR" } else { "MONTH" };
        let body = json!({
            "product_id": product,
            "name": format!("Zygo {} ({}ly, {})", spec.name, spec.interval, spec.currency),
            "status": "ACTIVE",
            "billing_cycles": [{
                "frequency": { "interval_unit": unit, "interval_count": 1 },
                "tenure_type": "REGULAR",
                "sequence": 1,
                "total_cycles": 0,
                "pricing_scheme": { "fixed_price": { "value": decimal(spec.amount, spec.currency), "currency_code": spec.currency } },
            }],
            "payment_preferences": {
                "auto_bill_outstanding": true,
                "setup_fee_failure_action": "CANCEL",
                "payment_failure_threshold": 3,
            },
        });
        match self.post("/v1/billing/plans", body, Some(&format!("plan:{}", spec.key))).await? {
            Ok(v) => super::super::id_of("PayPal", &v),
            Err(b) => Err(AppError::Internal(anyhow::anyhow!("PayPal refused the plan: {b}"))),
        }
    }

    /// Reads a Subscriptions v1 event: `Some((delivery id to record it under, event))`, or
    /// `None` for the other events. Activation is recorded as `activated:<subscription>` so the
    /// return leg and the webhook apply it once whichever comes first; a sale as `sale:<id>`.
    pub(super) async fn subscription_event(
        &self,
        event_type: &str,
        r: &Value,
    ) -> Result<Option<(Option<String>, ProviderEvent)>, String> {
        let reference = || r["id"].as_str().unwrap_or_default().to_string();
        Ok(Some(match event_type {
            "BILLING.SUBSCRIPTION.ACTIVATED" => {
                let (tenant_id, plan, interval) =
                    custom(r).ok_or("a subscription without Zygo's custom_id")?;
                (
                    Some(format!("activated:{}", reference())),
                    ProviderEvent::CheckoutCompleted {
                        tenant_id,
                        customer_id: r["subscriber"]["payer_id"].as_str().unwrap_or_default().to_string(),
                        payment_method_id: reference(),
                        method: MethodDetails::paypal(r["subscriber"]["email_address"].as_str()),
                        plan,
                        interval,
                    },
                )
            }
            "BILLING.SUBSCRIPTION.PAYMENT.FAILED" => {
                let (tenant_id, ..) = custom(r).ok_or("a subscription without Zygo's custom_id")?;
                let reason = r["billing_info"]["last_failed_payment"]["reason_code"]
                    .as_str()
                    .unwrap_or("payment failed at PayPal")
                    .to_string();
                (None, ProviderEvent::RecurringFailed { tenant_id, reference: reference(), reason })
            }
            "BILLING.SUBSCRIPTION.CANCELLED" => {
                let (tenant_id, ..) = custom(r).ok_or("a subscription without Zygo's custom_id")?;
                (
                    Some(format!("cancelled:{}", reference())),
                    ProviderEvent::RecurringCanceled { tenant_id, reference: reference() },
                )
            }
            "PAYMENT.SALE.COMPLETED" => {
                let Some(agreement) = r["billing_agreement_id"].as_str() else { return Ok(None) };
                // The sale names the subscription; the subscription names the organisation.
                let sub = self.subscription(agreement).await?;
                let (tenant_id, ..) = custom(&sub).ok_or("a subscription without Zygo's custom_id")?;
                let currency = r["amount"]["currency"].as_str().unwrap_or_default().to_string();
                let amount = r["amount"]["total"]
                    .as_str()
                    .and_then(|t| minor_units(t, &currency))
                    .ok_or("a sale without a readable amount")?;
                let sale = r["id"].as_str().ok_or("a sale without an id")?;
                (
                    Some(format!("sale:{sale}")),
                    ProviderEvent::RecurringPaid {
                        tenant_id,
                        reference: agreement.to_string(),
                        payment_id: format!("{SALE}{sale}"),
                        amount,
                        currency,
                    },
                )
            }
            _ => return Ok(None),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paypal_amounts_read_back_into_minor_units() {
        assert_eq!(minor_units("29.00", "EUR"), Some(2900));
        assert_eq!(minor_units("34.8", "EUR"), Some(3480));
        assert_eq!(minor_units("1500", "JPY"), Some(1500));
        assert_eq!(minor_units("1.234", "EUR"), None);
        assert_eq!(minor_units("abc", "EUR"), None);
    }
}
