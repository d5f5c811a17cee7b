//! The studio's background jobs: the presence sweep (a schedule every third of
//! `ZYGO_PRESENCE_TTL`: participants without a heartbeat leave, announced by whichever
//! instance runs it) and the lock expiry (one job at each lock's expiry instant).

use entity::job;

use super::service::{
    locks::{self, LOCK_EXPIRY, LockExpiry},
    presence,
};
use crate::{
    access::TenantCtx,
    ctx::Ctx,
    jobs::{Handler, JobError, JobResult, Registry},
};

/// The job kind of the presence sweep.
pub const PRESENCE_SWEEP: &str = "studio.presence_sweep";

/// Adds the studio's handlers and the presence sweep's schedule.
pub fn register(registry: Registry, config: &crate::config::Config) -> Registry {
    registry.handler(PresenceSweep).every(PRESENCE_SWEEP, config.presence_ttl / 3).handler(ExpireLock)
}

struct PresenceSweep;

#[async_trait::async_trait]
impl Handler for PresenceSweep {
    fn kind(&self) -> &'static str {
        PRESENCE_SWEEP
    }

    async fn run(&self, ctx: &Ctx, _job: &job::Model) -> JobResult {
        let gone = presence::sweep(ctx).await?;
        if gone > 0 {
            tracing::debug!(gone, "participants without a heartbeat left");
        }
        Ok(())
    }
}

struct ExpireLock;

#[async_trait::async_trait]
impl Handler for ExpireLock {
    fn kind(&self) -> &'static str {
        LOCK_EXPIRY
    }

    async fn run(&self, ctx: &Ctx, job: &job::Model) -> JobResult {
        let tenant = job.tenant_id.ok_or_else(|| JobError::Fail("a lock expiry without a tenant".into()))?;
        let p: LockExpiry = serde_json::from_value(job.payload.clone())
            .map_err(|e| JobError::Fail(format!("unreadable payload: {e}")))?;
        locks::expire_lock(ctx, &TenantCtx::system(tenant), &p).await?;
        Ok(())
    }
}
