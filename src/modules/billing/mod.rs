//! Billing: the plan catalog, each organisation's subscription (proration, trials,
//! cancellation, scheduled downgrades), invoices with gapless numbers, renewals and dunning
//! on the instance's clock, usage metering and the plan gates other modules call
//! (`usage::require_room`, `usage::record`, `usage::require_feature`).
//!
//! Owns the `billing_accounts`, `subscriptions`, `invoices`, `invoice_sequences`,
//! `usage_counters`, `invoice_refunds` (refunds.rs) and `provider_plans` (recurring.rs)
//! tables. Reading needs `billing.read`, changing `billing.manage`; marking an invoice paid is
//! for platform administrators.

pub mod checkout;
pub mod documents;
pub mod history;
pub mod http;
pub mod invoices;
pub mod jobs;
pub mod metering;
pub mod plan_changes;
pub mod plans;
pub mod proration;
pub mod providers;
pub mod recurring;
pub mod refunds;
pub mod renewals;
pub mod schema;
pub mod service;
pub mod types;
pub mod usage;

pub use schema::{BillingMutation, BillingQuery, BillingSubscription};
