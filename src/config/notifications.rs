//! Settings of notifications (`modules::notifications`).

use std::time::Duration;

use super::{ConfigError, Lookup, secs};

/// `ZYGO_NOTIFICATION_*`.
#[derive(Clone, Debug)]
pub struct NotificationSettings {
    /// `ZYGO_NOTIFICATION_EMAIL_DELAY` (seconds, default 60): how long notification mails wait
    /// so that a burst goes out as one mail.
    pub email_delay: Duration,
}

pub(super) fn read(get: Lookup<'_>) -> Result<NotificationSettings, ConfigError> {
    Ok(NotificationSettings {
        email_delay: secs(get, "ZYGO_NOTIFICATION_EMAIL_DELAY", 60)?.max(Duration::from_secs(1)),
    })
}
