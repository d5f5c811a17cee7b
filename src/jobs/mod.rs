//! Background work: the one machinery every area runs its jobs on (DESIGN.md §4, "Background
//! work has one machinery") — billing renewals and charges today; deliveries, collection runs,
//! exports and notifications as their areas land.
//!
//! A job is a row of `jobs`: a kind (the handler that runs it), an optional key unique per kind,
//! a JSON payload and when to run. It is enqueued in the transaction of the change that wants
//! it ([`enqueue`], [`crate::access::TenantTx::enqueue`]), so it exists exactly when that change
//! commits; a key names what the job does (`renewal:<subscription>:<period>`), so asking twice
//! adds nothing and nothing is done twice. Workers on every instance ([`run_workers`]) claim due
//! jobs (`FOR UPDATE SKIP LOCKED` on PostgreSQL), in per-tenant fair order ([`fair_pick`]), hold
//! each under a lease renewed while it runs, and run it through the [`Handler`] registered for
//! its kind; a failure is tried again with exponential backoff up to the job's attempts, and a
//! job whose worker was lost is claimed again when its lease expires. [`Schedule`]s enqueue one
//! system job per time slot, keyed by the slot, so however many instances run, each slot runs
//! once. Enqueuing wakes the workers of every instance through the event bus.
//!
//! Layout: this file is the API (jobs, handlers, the registry); `store.rs` the statements on
//! the table; `worker.rs` the run loop, schedules and [`drain`]; `fairness.rs` the claim order.
//! This layer sits below the modules: it never imports them; they register handlers with it.

mod fairness;
mod store;
mod worker;

use std::{collections::HashMap, sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use entity::job;
use sea_orm::DbErr;
use serde::Serialize;
use tokio::sync::Notify;
use uuid::Uuid;

pub use self::{
    fairness::fair_pick,
    store::{enqueue, hasten},
    worker::{drain, run_workers},
};
use crate::{ctx::Ctx, error::AppError, pubsub::Topic};

/// Attempts of a job unless it says otherwise.
pub const DEFAULT_ATTEMPTS: i32 = 10;

/// A job to enqueue.
#[derive(Clone, Debug)]
pub struct NewJob {
    kind: &'static str,
    key: Option<String>,
    payload: serde_json::Value,
    run_at: Option<DateTime<Utc>>,
    max_attempts: i32,
}

impl NewJob {
    /// A job of `kind` with `payload`, due now, tried up to [`DEFAULT_ATTEMPTS`] times.
    pub fn new<T: Serialize>(kind: &'static str, payload: &T) -> Self {
        let payload = serde_json::to_value(payload).unwrap_or_else(|e| {
            tracing::error!(error = %e, kind, "job payload not serialisable");
            serde_json::Value::Null
        });
        Self { kind, key: None, payload, run_at: None, max_attempts: DEFAULT_ATTEMPTS }
    }

    /// Names what the job does: a second job of the same kind and key is not added.
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Runs at `at` rather than now.
    pub fn at(mut self, at: DateTime<Utc>) -> Self {
        self.run_at = Some(at);
        self
    }

    /// Tries at most `n` times (at least once).
    pub fn attempts(mut self, n: i32) -> Self {
        self.max_attempts = n.max(1);
        self
    }
}

/// Why a run did not succeed.
#[derive(Debug)]
pub enum JobError {
    /// Worth another attempt (a provider unreachable, a conflict): tried again later, until the
    /// job's attempts are spent.
    Retry(String),
    /// Worth another attempt after the handler's own delay (its retry schedule).
    RetryAfter(chrono::Duration, String),
    /// Never worth another attempt (the payload names nothing that exists): the job fails now.
    Fail(String),
}

impl From<AppError> for JobError {
    fn from(e: AppError) -> Self {
        Self::Retry(e.to_string())
    }
}

impl From<DbErr> for JobError {
    fn from(e: DbErr) -> Self {
        Self::Retry(e.to_string())
    }
}

/// What a run came to.
pub type JobResult = Result<(), JobError>;

/// Runs the jobs of one kind. Runs may repeat (a worker lost after the work but before the
/// job was marked done): a handler does its work so that a repeat changes nothing, usually by
/// re-reading under the tenant's lock and by idempotency keys towards providers.
#[async_trait::async_trait]
pub trait Handler: Send + Sync + 'static {
    /// The kind it runs (`billing.collect`).
    fn kind(&self) -> &'static str;

    /// Runs `job` (its tenant, payload and attempt are on the row).
    async fn run(&self, ctx: &Ctx, job: &job::Model) -> JobResult;
}

/// What an area adds to a tenant transaction as it commits, from the transaction's audit
/// entries (webhooks: a delivery job per interested endpoint), in that same transaction — so
/// the follow-up exists exactly when the change does, even if the instance dies right after.
#[async_trait::async_trait]
pub trait CommitHook: Send + Sync + 'static {
    /// Called by [`crate::access::TenantTx::commit`] before the commit, with the entries the
    /// transaction recorded; `Ok(true)` when it enqueued jobs (the workers are woken after the
    /// commit). An error rolls the whole transaction back.
    async fn committing(
        &self,
        ctx: &Ctx,
        txn: &sea_orm::DatabaseTransaction,
        tenant: Uuid,
        entries: &[entity::audit_entry::Model],
    ) -> Result<bool, AppError>;
}

/// A system job enqueued every `every`, once per slot whatever the number of instances.
#[derive(Clone)]
pub struct Schedule {
    pub kind: &'static str,
    pub every: Duration,
}

/// The handlers and schedules of every area, built at start-up (each area registers its own).
#[derive(Clone, Default)]
pub struct Registry {
    handlers: HashMap<&'static str, Arc<dyn Handler>>,
    schedules: Vec<Schedule>,
    hooks: Vec<Arc<dyn CommitHook>>,
}

impl Registry {
    /// A registry with the machinery's own upkeep: succeeded jobs are deleted after a week
    /// (failed ones stay for the operator).
    pub fn new() -> Self {
        Self::default().handler(Prune).every(Prune::KIND, Duration::from_secs(3600))
    }

    /// Adds `handler` for its kind.
    pub fn handler(mut self, handler: impl Handler) -> Self {
        let kind = handler.kind();
        assert!(self.handlers.insert(kind, Arc::new(handler)).is_none(), "two handlers for job kind {kind}");
        self
    }

    /// Runs a system job of `kind` (whose handler must be registered) every `every`.
    pub fn every(mut self, kind: &'static str, every: Duration) -> Self {
        self.schedules.push(Schedule { kind, every: every.max(Duration::from_secs(1)) });
        self
    }

    /// Adds `hook` to every tenant transaction's commit.
    pub fn on_commit(mut self, hook: impl CommitHook) -> Self {
        self.hooks.push(Arc::new(hook));
        self
    }

    fn get(&self, kind: &str) -> Option<&Arc<dyn Handler>> {
        self.handlers.get(kind)
    }
}

/// Deletes jobs that succeeded more than a week ago.
struct Prune;

impl Prune {
    const KIND: &'static str = "jobs.prune";
}

#[async_trait::async_trait]
impl Handler for Prune {
    fn kind(&self) -> &'static str {
        Self::KIND
    }

    async fn run(&self, ctx: &Ctx, _job: &job::Model) -> JobResult {
        let gone = store::prune(ctx, ctx.now() - chrono::Duration::days(7)).await?;
        if gone > 0 {
            tracing::info!(gone, "pruned succeeded jobs");
        }
        Ok(())
    }
}

/// This instance's side of the machinery: the registry, its name in leases, and the signal
/// that wakes its workers.
pub struct Jobs {
    registry: Registry,
    instance: String,
    wake: Notify,
}

impl Jobs {
    pub fn new(registry: Registry) -> Self {
        for s in &registry.schedules {
            assert!(
                registry.handlers.contains_key(s.kind),
                "a schedule of job kind {} without a handler",
                s.kind
            );
        }
        Self { registry, instance: format!("jobs-{}", Uuid::now_v7()), wake: Notify::new() }
    }

    /// Every job kind a handler is registered for, sorted (the job dashboard lists them all).
    pub fn kinds(&self) -> Vec<&'static str> {
        let mut kinds: Vec<_> = self.registry.handlers.keys().copied().collect();
        kinds.sort_unstable();
        kinds
    }

    /// The areas' commit hooks.
    pub fn hooks(&self) -> &[Arc<dyn CommitHook>] {
        &self.registry.hooks
    }

    /// Wakes the workers of this instance (after a commit that enqueued jobs); see [`wake`]
    /// for every instance.
    pub fn wake_here(&self) {
        self.wake.notify_one();
    }
}

/// The platform topic on which enqueuing instances wake the others.
fn topic() -> Topic {
    Topic::platform("jobs")
}

/// Wakes the workers of every instance: call after committing a transaction that enqueued
/// jobs.
pub async fn wake(ctx: &Ctx) {
    ctx.jobs.wake_here();
    ctx.publish_value(&topic(), serde_json::Value::Null).await;
}

/// The job a worker retries after `attempts` failed attempts: 5 s, doubling, at most an hour.
fn backoff(attempts: i32) -> chrono::Duration {
    let secs = 5i64.saturating_mul(1i64 << attempts.clamp(1, 20).saturating_sub(1));
    chrono::Duration::seconds(secs.min(3600))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_five_seconds_up_to_an_hour() {
        let secs: Vec<i64> = (1..=12).map(|n| backoff(n).num_seconds()).collect();
        assert_eq!(secs, [5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600]);
    }
}
