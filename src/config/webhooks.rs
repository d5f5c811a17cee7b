//! Settings of outbound webhooks (`modules::webhooks`).

use super::{ConfigError, Lookup, flag, parse};

/// `ZYGO_WEBHOOK_*`.
#[derive(Clone, Debug)]
pub struct WebhookSettings {
    /// `ZYGO_WEBHOOK_ALLOW_PRIVATE`: let deliveries reach loopback, private and link-local
    /// addresses (default off: public addresses only).
    pub allow_private: bool,
    /// `ZYGO_WEBHOOK_DISABLE_AFTER`: events in a row whose every attempt failed before an
    /// endpoint is switched off and its organisation's owners are mailed (default 10; 0 never).
    pub disable_after: i32,
    /// `ZYGO_WEBHOOK_SECRET_GRACE_HOURS`: hours the previous secret keeps signing after a
    /// rotation (default 24).
    pub secret_grace_hours: i64,
}

pub(super) fn read(get: Lookup<'_>) -> Result<WebhookSettings, ConfigError> {
    Ok(WebhookSettings {
        allow_private: flag("ZYGO_WEBHOOK_ALLOW_PRIVATE", get("ZYGO_WEBHOOK_ALLOW_PRIVATE"), false)?,
        disable_after: parse("ZYGO_WEBHOOK_DISABLE_AFTER", get("ZYGO_WEBHOOK_DISABLE_AFTER"), "10")?,
        secret_grace_hours: parse(
            "ZYGO_WEBHOOK_SECRET_GRACE_HOURS",
            get("ZYGO_WEBHOOK_SECRET_GRACE_HOURS"),
            "24",
        )?,
    })
}
