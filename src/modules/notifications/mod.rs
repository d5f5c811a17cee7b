//! Notifications: telling people what happened — in the app (the bell, `notificationAdded`),
//! by mail soon after (a burst grouped into one mail) and in a daily digest — as each person
//! chose per kind and channel, with unsubscribe links that work without signing in.
//!
//! Owns `notifications` and `notification_preferences` (a person's own rows, not an
//! organisation's). Producers call [`service::notify`] in their transaction; audited actions of
//! the [`catalog`] become notices through the commit hook [`service::FromAudit`]; the
//! `notifications.produce`, `notifications.email` and `notifications.digest` jobs do the rest.

pub mod catalog;
pub mod mailing;
pub mod schema;
pub mod service;
pub mod texts;
pub mod types;

pub use schema::{NotificationsMutation, NotificationsSubscription};

/// Notifications' job handlers, schedule and commit hook.
pub fn register(registry: crate::jobs::Registry) -> crate::jobs::Registry {
    registry
        .handler(service::Produce)
        .handler(mailing::Email)
        .handler(mailing::Digest)
        .every(mailing::DIGEST, std::time::Duration::from_secs(3600))
        .on_commit(service::FromAudit)
}
