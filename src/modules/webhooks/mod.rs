//! Outbound webhooks: an organisation's endpoints receive its events (every audited change,
//! by type) as HTTP POSTs signed per the Standard Webhooks specification, with retries over
//! about a day, a delivery log, replay, test events, secret rotation with a grace period, and
//! endpoints switched off after repeated failures (owners mailed).
//!
//! Owns the `webhook_endpoints` and `webhook_deliveries` tables. Everything needs
//! `webhooks.manage`. Deliveries run on the job machinery: the commit hook ([`delivery::Fanout`])
//! enqueues them in the transaction of the change, so none is lost when an instance dies.

pub mod catalog;
pub mod delivery;
pub mod loaders;
pub mod ordering;
pub mod schema;
pub mod service;
pub mod types;

pub use schema::{WebhooksMutation, WebhooksQuery};

/// Webhooks' job handler and commit hook.
pub fn register(registry: crate::jobs::Registry) -> crate::jobs::Registry {
    registry.handler(delivery::Deliver).on_commit(delivery::Fanout)
}
