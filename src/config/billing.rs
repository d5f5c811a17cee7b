//! Billing settings: the plan catalog, currency, grace period, dunning and the payment
//! providers' credentials.

use std::{path::PathBuf, time::Duration};

use secrecy::SecretString;

use super::{ConfigError, Lookup, parse, secs};

/// Billing settings (`modules::billing`).
#[derive(Clone, Debug)]
pub struct Billing {
    /// `ZYGO_BILLING_PLANS_FILE`: a JSON array of plans replacing the shipped catalog (unset
    /// or empty: the shipped plans).
    pub plans_file: Option<PathBuf>,
    /// `ZYGO_BILLING_CURRENCY`: an organisation's currency until it picks one (ISO 4217).
    pub currency: String,
    /// `ZYGO_INVOICE_PREFIX`: the issuer part of invoice numbers (`ZYG-2026-000042`).
    pub invoice_prefix: String,
    /// `ZYGO_BILLING_INTERVAL`: seconds between the billing worker's looks for due renewals.
    pub worker_interval: Duration,
    /// `ZYGO_DUNNING_RETRY_DAYS`: days after a failed renewal at which it is tried again
    /// (comma-separated, e.g. `1,3,7`); after the last failure the subscription is canceled.
    pub retry_days: Vec<u32>,
    /// `ZYGO_BILLING_GRACE_DAYS`: days a PAST_DUE organisation keeps its paid plan's limits and
    /// features; after them it has Free's (its data stays) until it pays or is canceled.
    pub grace_days: u32,
    /// Stripe, when `ZYGO_STRIPE_SECRET_KEY` and `ZYGO_STRIPE_WEBHOOK_SECRET` are set.
    pub stripe: Option<StripeConfig>,
    /// Revolut, when `ZYGO_REVOLUT_SECRET_KEY` and `ZYGO_REVOLUT_WEBHOOK_SECRET` are set.
    pub revolut: Option<RevolutConfig>,
    /// PayPal, when `ZYGO_PAYPAL_CLIENT_ID`, `ZYGO_PAYPAL_CLIENT_SECRET` and
    /// `ZYGO_PAYPAL_WEBHOOK_ID` are set.
    pub paypal: Option<PaypalConfig>,
}

/// PayPal REST API settings.
#[derive(Clone, Debug)]
pub struct PaypalConfig {
    /// `ZYGO_PAYPAL_API_BASE` (default `https://api-m.paypal.com`; the sandbox is
    /// `https://api-m.sandbox.paypal.com`).
    pub api_base: String,
    /// `ZYGO_PAYPAL_CLIENT_ID`.
    pub client_id: String,
    /// `ZYGO_PAYPAL_CLIENT_SECRET`.
    pub client_secret: SecretString,
    /// `ZYGO_PAYPAL_WEBHOOK_ID`: the webhook's id, which PayPal's signature check names.
    pub webhook_id: String,
    /// `ZYGO_PAYPAL_MODE`: `vault` (default) or `subscriptions`.
    pub mode: PaypalMode,
}

/// How PayPal collects renewals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaypalMode {
    /// The payer's PayPal is vaulted and Zygo charges each invoice (Orders v2).
    Vault,
    /// A PayPal subscription (Subscriptions v1) per organisation: PayPal collects each period
    /// and reports it by webhook; Zygo's invoices wait for that payment.
    Subscriptions,
}

/// Revolut Merchant API settings.
#[derive(Clone, Debug)]
pub struct RevolutConfig {
    /// `ZYGO_REVOLUT_API_BASE` (default `https://merchant.revolut.com`; the sandbox is
    /// `https://sandbox-merchant.revolut.com`).
    pub api_base: String,
    /// `ZYGO_REVOLUT_SECRET_KEY`: the Merchant API secret key.
    pub secret_key: SecretString,
    /// `ZYGO_REVOLUT_WEBHOOK_SECRET`: the webhook's signing secret (`wsk_…`).
    pub webhook_secret: SecretString,
}

/// Stripe's API and webhook settings.
#[derive(Clone, Debug)]
pub struct StripeConfig {
    /// `ZYGO_STRIPE_API_BASE` (default `https://api.stripe.com`).
    pub api_base: String,
    /// `ZYGO_STRIPE_SECRET_KEY`: `sk_live_…` or `sk_test_…`.
    pub secret_key: SecretString,
    /// `ZYGO_STRIPE_WEBHOOK_SECRET`: the endpoint's signing secret (`whsec_…`).
    pub webhook_secret: SecretString,
}

/// Reads the `ZYGO_BILLING_*` and payment provider variables.
pub(super) fn read(get: Lookup<'_>) -> Result<Billing, ConfigError> {
    Ok(Billing {
        plans_file: get("ZYGO_BILLING_PLANS_FILE").filter(|v| !v.is_empty()).map(PathBuf::from),
        currency: {
            let c = get("ZYGO_BILLING_CURRENCY").unwrap_or_else(|| "EUR".into());
            if c.len() != 3 || !c.chars().all(|ch| ch.is_ascii_uppercase()) {
                return Err(ConfigError::new(
                    "ZYGO_BILLING_CURRENCY",
                    "must be an ISO 4217 code such as EUR",
                ));
            }
            c
        },
        invoice_prefix: {
            let p = get("ZYGO_INVOICE_PREFIX").unwrap_or_else(|| "ZYG".into());
            if p.is_empty() || p.len() > 10 || !p.chars().all(|ch| ch.is_ascii_alphanumeric()) {
                return Err(ConfigError::new("ZYGO_INVOICE_PREFIX", "must be 1 to 10 letters or digits"));
            }
            p
        },
        worker_interval: secs(get, "ZYGO_BILLING_INTERVAL", 60)?,
        grace_days: parse("ZYGO_BILLING_GRACE_DAYS", get("ZYGO_BILLING_GRACE_DAYS"), "7")?,
        paypal: match (
            get("ZYGO_PAYPAL_CLIENT_ID"),
            get("ZYGO_PAYPAL_CLIENT_SECRET"),
            get("ZYGO_PAYPAL_WEBHOOK_ID"),
        ) {
            (None, None, None) => None,
            (Some(id), Some(secret), Some(hook))
                if !id.is_empty() && !secret.is_empty() && !hook.is_empty() =>
            {
                Some(PaypalConfig {
                    api_base: get("ZYGO_PAYPAL_API_BASE")
                        .unwrap_or_else(|| "https://api-m.paypal.com".into())
                        .trim_end_matches('/')
                        .to_string(),
                    client_id: id,
                    client_secret: SecretString::from(secret),
                    webhook_id: hook,
                    mode: match get("ZYGO_PAYPAL_MODE").as_deref() {
                        None | Some("") | Some("vault") => PaypalMode::Vault,
                        Some("subscriptions") => PaypalMode::Subscriptions,
                        Some(_) => {
                            return Err(ConfigError::new(
                                "ZYGO_PAYPAL_MODE",
                                "must be `vault` or `subscriptions`",
                            ));
                        }
                    },
                })
            }
            _ => {
                return Err(ConfigError::new(
                    "ZYGO_PAYPAL_CLIENT_ID",
                    "PayPal needs ZYGO_PAYPAL_CLIENT_ID, ZYGO_PAYPAL_CLIENT_SECRET and ZYGO_PAYPAL_WEBHOOK_ID",
                ));
            }
        },
        revolut: match (get("ZYGO_REVOLUT_SECRET_KEY"), get("ZYGO_REVOLUT_WEBHOOK_SECRET")) {
            (None, None) => None,
            (Some(key), Some(hook)) if !key.is_empty() && !hook.is_empty() => Some(RevolutConfig {
                api_base: get("ZYGO_REVOLUT_API_BASE")
                    .unwrap_or_else(|| "https://merchant.revolut.com".into())
                    .trim_end_matches('/')
                    .to_string(),
                secret_key: SecretString::from(key),
                webhook_secret: SecretString::from(hook),
            }),
            _ => {
                return Err(ConfigError::new(
                    "ZYGO_REVOLUT_SECRET_KEY",
                    "Revolut needs both ZYGO_REVOLUT_SECRET_KEY and ZYGO_REVOLUT_WEBHOOK_SECRET",
                ));
            }
        },
        stripe: match (get("ZYGO_STRIPE_SECRET_KEY"), get("ZYGO_STRIPE_WEBHOOK_SECRET")) {
            (None, None) => None,
            (Some(key), Some(hook)) if !key.is_empty() && !hook.is_empty() => Some(StripeConfig {
                api_base: get("ZYGO_STRIPE_API_BASE")
                    .unwrap_or_else(|| "https://api.stripe.com".into())
                    .trim_end_matches('/')
                    .to_string(),
                secret_key: SecretString::from(key),
                webhook_secret: SecretString::from(hook),
            }),
            (None, _) | (Some(_), _) => {
                return Err(ConfigError::new(
                    "ZYGO_STRIPE_SECRET_KEY",
                    "Stripe needs both ZYGO_STRIPE_SECRET_KEY and ZYGO_STRIPE_WEBHOOK_SECRET",
                ));
            }
        },
        retry_days: {
            let raw = get("ZYGO_DUNNING_RETRY_DAYS").unwrap_or_else(|| "1,3,7".into());
            let days: Result<Vec<u32>, _> = raw.split(',').map(|d| d.trim().parse::<u32>()).collect();
            match days {
                Ok(d) if !d.is_empty() && d.windows(2).all(|w| w[0] < w[1]) => d,
                _ => {
                    return Err(ConfigError::new(
                        "ZYGO_DUNNING_RETRY_DAYS",
                        "must be increasing whole days, comma-separated (e.g. 1,3,7)",
                    ));
                }
            }
        },
    })
}
