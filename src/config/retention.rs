//! Data retention: the platform's maxima (an organisation may keep less, never more) and how
//! often the cleanup runs (`modules::retention`).

use std::time::Duration;

use super::{ConfigError, Lookup, parse, secs};

/// `ZYGO_RETENTION_*`: days kept at most, platform-wide.
#[derive(Clone, Debug)]
pub struct RetentionSettings {
    /// `ZYGO_RETENTION_AUDIT_DAYS` (default 365): audit log entries.
    pub audit_days: u32,
    /// `ZYGO_RETENTION_EXECUTION_DAYS` (default 90): finished workflow runs with their node
    /// states and logs.
    pub execution_days: u32,
    /// `ZYGO_RETENTION_WEBHOOK_DELIVERY_DAYS` (default 30): webhook delivery log entries.
    pub webhook_delivery_days: u32,
    /// `ZYGO_RETENTION_SECURITY_EVENT_DAYS` (default 365): account security events.
    pub security_event_days: u32,
    /// `ZYGO_RETENTION_NOTIFICATION_DAYS` (default 90): notifications in people's inboxes.
    pub notification_days: u32,
    /// `ZYGO_TENANT_DELETION_GRACE_DAYS` (default 30): days between an owner's deletion of an
    /// organisation and the removal of its data, during which an owner can take it back.
    pub tenant_deletion_grace_days: u32,
    /// `ZYGO_RETENTION_INTERVAL` (seconds, default 3600): how often the cleanup runs.
    pub interval: Duration,
}

pub(super) fn read(get: Lookup<'_>) -> Result<RetentionSettings, ConfigError> {
    let days = |var: &'static str, default: &str| -> Result<u32, ConfigError> {
        let d: u32 = parse(var, get(var), default)?;
        if d == 0 {
            return Err(ConfigError::new(var, "must be at least 1 day"));
        }
        Ok(d)
    };
    Ok(RetentionSettings {
        audit_days: days("ZYGO_RETENTION_AUDIT_DAYS", "365")?,
        execution_days: days("ZYGO_RETENTION_EXECUTION_DAYS", "90")?,
        webhook_delivery_days: days("ZYGO_RETENTION_WEBHOOK_DELIVERY_DAYS", "30")?,
        security_event_days: days("ZYGO_RETENTION_SECURITY_EVENT_DAYS", "365")?,
        notification_days: days("ZYGO_RETENTION_NOTIFICATION_DAYS", "90")?,
        tenant_deletion_grace_days: days("ZYGO_TENANT_DELETION_GRACE_DAYS", "30")?,
        interval: secs(get, "ZYGO_RETENTION_INTERVAL", 3600)?.max(Duration::from_secs(60)),
    })
}
