//! Payment providers behind one interface. Zygo never sees a card number: providers take
//! payment on their hosted pages or with their own tokens.
//!
//! Only **Manual** exists so far (the embedded default and Enterprise invoicing): there is no
//! payment step — an invoice stays open until a platform administrator marks it paid, and an
//! invoice unpaid at its due date starts dunning. Stripe, PayPal and Revolut implement the
//! same trait (issue 17 lists their request and webhook shapes).

use async_trait::async_trait;

use crate::error::AppResult;

/// What a charge attempt came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChargeOutcome {
    /// Paid; the provider's payment id.
    Paid { payment_id: String },
    /// Refused (card declined, insufficient funds…): dunning retries later.
    Failed { reason: String },
    /// Nothing to do now: the invoice is paid outside the provider (bank transfer) and
    /// marked paid by an administrator.
    AwaitingPayment,
}

/// A charge of an invoice.
pub struct Charge<'a> {
    pub customer_id: Option<&'a str>,
    pub amount: i64,
    pub currency: &'a str,
    pub description: &'a str,
    /// Sent with the request: the provider performs a repeated request once.
    pub idempotency_key: &'a str,
}

#[async_trait]
pub trait PaymentProvider: Send + Sync {
    /// The key stored on the billing account (`manual`, `stripe`, …).
    fn key(&self) -> &'static str;
    /// Charges `charge` to the customer's saved payment method.
    async fn charge(&self, charge: Charge<'_>) -> AppResult<ChargeOutcome>;
}

/// Invoices paid by bank transfer and marked paid by an administrator.
pub struct Manual;

#[async_trait]
impl PaymentProvider for Manual {
    fn key(&self) -> &'static str {
        "manual"
    }

    async fn charge(&self, _charge: Charge<'_>) -> AppResult<ChargeOutcome> {
        Ok(ChargeOutcome::AwaitingPayment)
    }
}

/// The provider of a billing account.
pub fn provider(key: &str) -> &'static dyn PaymentProvider {
    // Every account is `manual` until another provider is built.
    debug_assert_eq!(key, Manual.key());
    &Manual
}
