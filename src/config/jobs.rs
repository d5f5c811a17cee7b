//! Settings of the background job machinery (`crate::jobs`).

use std::time::Duration;

use super::{ConfigError, Lookup, parse, secs};

/// `ZYGO_JOB_*`.
#[derive(Clone, Debug)]
pub struct JobSettings {
    /// `ZYGO_JOB_WORKERS`: jobs one instance runs at once (default 4); 0 runs none here (an
    /// API-only instance).
    pub workers: usize,
    /// `ZYGO_JOB_LEASE`: seconds a claimed job stays with its worker without a heartbeat
    /// before another instance takes it over (default 60).
    pub lease: Duration,
    /// `ZYGO_JOB_POLL_INTERVAL`: seconds between an idle worker's looks for due jobs (default
    /// 5; a job enqueued on any instance wakes every instance's workers at once).
    pub poll_interval: Duration,
}

pub(super) fn read(get: Lookup<'_>) -> Result<JobSettings, ConfigError> {
    let lease = secs(get, "ZYGO_JOB_LEASE", 60)?;
    if lease < Duration::from_secs(3) {
        return Err(ConfigError::new("ZYGO_JOB_LEASE", "must be at least 3 seconds"));
    }
    Ok(JobSettings {
        workers: parse("ZYGO_JOB_WORKERS", get("ZYGO_JOB_WORKERS"), "4")?,
        lease,
        poll_interval: secs(get, "ZYGO_JOB_POLL_INTERVAL", 5)?.max(Duration::from_secs(1)),
    })
}
