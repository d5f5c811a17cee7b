//! The run loop of an instance's job workers, the schedules, and [`drain`] (everything due,
//! now, in the caller's task: for tests on a manual clock and for one-shot maintenance).

use std::{
    collections::HashMap,
    panic::AssertUnwindSafe,
    sync::{Arc, Mutex},
};

use futures::{FutureExt, StreamExt};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{
    JobError, NewJob, backoff,
    store::{self, Ending},
};
use crate::ctx::Ctx;

/// Runs this instance's job workers and schedules until `stop`.
pub async fn run_workers(ctx: Ctx, stop: CancellationToken) {
    let cfg = ctx.config.jobs.clone();
    if cfg.workers == 0 {
        return;
    }
    // Another instance enqueued: look now rather than at the next poll.
    {
        let (ctx, stop) = (ctx.clone(), stop.clone());
        tokio::spawn(async move {
            let mut woken = ctx.bus.subscribe(&super::topic());
            loop {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    next = woken.next() => match next {
                        Some(_) => ctx.jobs.wake_here(),
                        None => return,
                    },
                }
            }
        });
    }
    let slots = Arc::new(Semaphore::new(cfg.workers));
    // Jobs in progress on this instance per tenant: what fairness weighs claims against.
    let active: Arc<Mutex<HashMap<Uuid, usize>>> = Default::default();
    let mut last_slot: HashMap<&'static str, i64> = HashMap::new();
    loop {
        if let Err(e) = enqueue_schedules(&ctx, &mut last_slot).await {
            tracing::warn!(error = %e, "enqueuing scheduled jobs failed");
        }
        let free = slots.available_permits();
        let mut full_batch = false;
        if free > 0 {
            let busy = active.lock().expect("lock").clone();
            match store::claim(&ctx, &ctx.jobs, free, cfg.workers, &busy).await {
                Ok(jobs) => {
                    full_batch = jobs.len() == free;
                    for job in jobs {
                        let permit = slots.clone().acquire_owned().await.expect("semaphore is never closed");
                        let (ctx, active) = (ctx.clone(), active.clone());
                        let tenant = job.tenant_id.unwrap_or(Uuid::nil());
                        *active.lock().expect("lock").entry(tenant).or_default() += 1;
                        tokio::spawn(async move {
                            run_one(&ctx, job).await;
                            {
                                let mut a = active.lock().expect("lock");
                                if let Some(n) = a.get_mut(&tenant) {
                                    *n -= 1;
                                    if *n == 0 {
                                        a.remove(&tenant);
                                    }
                                }
                            }
                            drop(permit);
                            ctx.jobs.wake_here();
                        });
                    }
                }
                Err(e) => tracing::warn!(error = %e, "claiming jobs failed"),
            }
        }
        if full_batch {
            continue;
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = ctx.jobs.wake.notified() => {}
            _ = tokio::time::sleep(cfg.poll_interval) => {}
        }
    }
}

/// Enqueues each schedule's job for the slot `now` is in, once per slot across instances (the
/// slot is the job's key); `last` remembers what this instance enqueued already.
async fn enqueue_schedules(ctx: &Ctx, last: &mut HashMap<&'static str, i64>) -> Result<(), sea_orm::DbErr> {
    let now = ctx.now();
    for s in &ctx.jobs.registry.schedules {
        let every = s.every.as_secs().max(1) as i64;
        let slot = now.timestamp().div_euclid(every);
        if last.get(s.kind) == Some(&slot) {
            continue;
        }
        let start = chrono::DateTime::from_timestamp(slot * every, 0).unwrap_or(now);
        // Across tenants: a system job has no tenant.
        let job =
            NewJob::new(s.kind, &serde_json::Value::Null).key(format!("slot:{slot}")).at(start).attempts(1);
        super::enqueue(&crate::db::across_tenants(&ctx.db), now, None, job).await?;
        last.insert(s.kind, slot);
    }
    Ok(())
}

/// Runs one claimed job through its handler, keeping its lease while it runs, and records
/// how it ended.
async fn run_one(ctx: &Ctx, job: entity::job::Model) {
    let jobs = &ctx.jobs;
    let Some(handler) = jobs.registry.get(&job.kind).cloned() else {
        let error = format!("no handler for job kind `{}` on this instance", job.kind);
        tracing::error!(job = %job.id, %error);
        let _ = store::finish(ctx, jobs, job.id, Ending::Failed(error)).await;
        return;
    };
    let heartbeat = {
        let (ctx, id) = (ctx.clone(), job.id);
        let every = ctx.config.jobs.lease / 3;
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                match store::renew(&ctx, &ctx.jobs, id).await {
                    Ok(true) => {}
                    Ok(false) => return,
                    Err(e) => tracing::warn!(job = %id, error = %e, "renewing a job's lease failed"),
                }
            }
        })
    };
    let started = std::time::Instant::now();
    let outcome = AssertUnwindSafe(handler.run(ctx, &job)).catch_unwind().await;
    heartbeat.abort();
    let error = match outcome {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e),
        Err(_) => Some(JobError::Retry("the handler panicked".into())),
    };
    let ending = match error {
        None => Ending::Succeeded,
        Some(JobError::Fail(e)) => Ending::Failed(e),
        Some(JobError::Retry(e) | JobError::RetryAfter(_, e)) if job.attempts >= job.max_attempts => {
            Ending::Failed(format!("{e} (attempt {} of {})", job.attempts, job.max_attempts))
        }
        Some(JobError::Retry(e)) => Ending::RetryAt(ctx.now() + backoff(job.attempts), e),
        Some(JobError::RetryAfter(delay, e)) => Ending::RetryAt(ctx.now() + delay, e),
    };
    match &ending {
        Ending::Succeeded => {
            tracing::debug!(job = %job.id, kind = job.kind, ms = started.elapsed().as_millis() as u64, "job done")
        }
        Ending::Failed(e) => tracing::error!(job = %job.id, kind = job.kind, error = %e, "job failed"),
        Ending::RetryAt(at, e) => {
            tracing::warn!(job = %job.id, kind = job.kind, error = %e, retry_at = %at, "job will be tried again")
        }
    }
    if let Err(e) = store::finish(ctx, jobs, job.id, ending).await {
        tracing::error!(job = %job.id, error = %e, "recording a job's end failed; its lease will expire");
    }
}

/// Runs, in the caller's task, every schedule once and then every due job (including those
/// the jobs enqueue) until nothing is due and no instance runs one; returns how many jobs it
/// ran. For tests on a manual clock (move the clock, drain, look) and maintenance commands.
pub async fn drain(ctx: &Ctx) -> Result<usize, sea_orm::DbErr> {
    let mut ran = 0;
    loop {
        for s in ctx.jobs.registry.schedules.clone() {
            if let Some(handler) = ctx.jobs.registry.get(s.kind).cloned() {
                let probe = NewJob::new(s.kind, &serde_json::Value::Null);
                let row = entity::job::Model {
                    id: Uuid::now_v7(),
                    tenant_id: None,
                    kind: s.kind.to_string(),
                    key: None,
                    payload: probe.payload,
                    status: entity::job::JobStatus::Running,
                    run_at: ctx.now(),
                    attempts: 1,
                    max_attempts: 1,
                    lease_owner: None,
                    lease_expires_at: None,
                    last_error: None,
                    created_at: ctx.now(),
                    finished_at: None,
                };
                if let Err(e) = handler.run(ctx, &row).await {
                    tracing::warn!(kind = s.kind, error = ?e, "scheduled job failed while draining");
                }
            }
        }
        let mut round = 0;
        loop {
            let claimed = store::claim(ctx, &ctx.jobs, 64, 64, &HashMap::new()).await?;
            if claimed.is_empty() {
                if store::running(ctx).await? == 0 {
                    break;
                }
                // Another worker of this process holds a job: its end is what we wait for.
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
            for job in claimed {
                run_one(ctx, job).await;
                round += 1;
            }
        }
        if round == 0 {
            return Ok(ran);
        }
        ran += round;
    }
}
