//! Auto-update and "run now". A job may re-collect its inputs every N hours: when a run ends
//! (any way but cancelled), its next run is planned as a `collection.repeat` step due N hours
//! after the run started (at once when the run took longer), and that step starts a new job
//! with the same inputs into the same folder — records seen again get their metrics updated,
//! new ones are added. The plan is on the job (`next_run_at`) and the step carries it, so a
//! step planned before the schedule changed or stopped finds a different plan and does
//! nothing; a collector no longer granted stops the schedule. `runCollectionJobNow` lets the
//! organisation's collection administrators make what a job waits for (its next run, or its
//! trigger, poll or ingestion step waiting on a retry) happen now.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use entity::{collection_job, collection_job_input, job, project_member::ProjectRole};
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, Set};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::{
    access::require_project,
    catalog,
    jobs::{JobEvent, NewRun, insert_job, topic},
    steps,
};
use crate::{
    access::{Change, TenantCtx, TenantTx},
    auth::Permission,
    ctx::Ctx,
    error::{AppError, AppResult},
    jobs::{Handler, JobError, JobResult, NewJob},
};

/// The step that starts a job's next run.
pub const REPEAT: &str = "collection.repeat";

/// The longest interval of an auto-update: 30 days.
pub const MAX_EVERY_HOURS: i32 = 720;

/// Checks an auto-update interval.
pub fn check_every(hours: i32) -> AppResult<()> {
    if !(1..=MAX_EVERY_HOURS).contains(&hours) {
        return Err(AppError::validation(
            "input.repeatEveryHours",
            format!("must be between 1 and {MAX_EVERY_HOURS} hours"),
        ));
    }
    Ok(())
}

#[derive(Serialize, Deserialize)]
struct RepeatStep {
    job: Uuid,
    /// The plan this step carries out (the job's `next_run_at` when it was planned).
    at: DateTime<Utc>,
}

/// Plans the run after `job` at `at` (whole seconds): sets `next_run_at` on `am` and queues the
/// step in `tx`.
async fn plan_at(
    tx: &mut TenantTx<'_>,
    job: Uuid,
    am: &mut collection_job::ActiveModel,
    at: DateTime<Utc>,
) -> AppResult<DateTime<Utc>> {
    let at = at.trunc_subsecs(0);
    am.next_run_at = Set(Some(at));
    let step = NewJob::new(REPEAT, &RepeatStep { job, at })
        .key(format!("repeat:{job}:{}", at.timestamp()))
        .at(at)
        .attempts(5);
    tx.enqueue(step).await?;
    Ok(at)
}

/// Plans the next run of `job`, which is ending now, if it has a schedule (called in the
/// transaction that ends it; `am` is what it writes).
pub(super) async fn plan_next(
    tx: &mut TenantTx<'_>,
    job: &collection_job::Model,
    am: &mut collection_job::ActiveModel,
) -> AppResult<()> {
    let Some(hours) = job.repeat_every_hours else { return Ok(()) };
    let now = tx.ctx().now();
    let at = (job.created_at + Duration::hours(hours as i64)).max(now);
    plan_at(tx, job.id, am, at).await?;
    Ok(())
}

/// Sets or stops (`None`) a job's auto-update (project editors). On a job that ended, a new
/// interval plans its next run at once; stopping drops the planned run.
pub async fn set_schedule(
    ctx: &Ctx,
    tctx: &TenantCtx,
    id: Uuid,
    every_hours: Option<i32>,
) -> AppResult<collection_job::Model> {
    if let Some(h) = every_hours {
        check_every(h)?;
    }
    let mut tx = TenantTx::open(ctx, tctx).await?;
    let scope = tx.scope();
    let job = scope
        .find_by_id::<collection_job::Entity, _>(&tx, id)
        .await?
        .ok_or(AppError::NotFound("collection job"))?;
    require_project(&tx, tctx, job.project_id, ProjectRole::Editor).await?;
    let mut am: collection_job::ActiveModel = job.clone().into();
    am.repeat_every_hours = Set(every_hours);
    am.next_run_at = Set(None);
    am.updated_at = Set(ctx.now());
    if every_hours.is_some() && job.status.is_final() {
        let planned = collection_job::Model { repeat_every_hours: every_hours, ..job.clone() };
        plan_next(&mut tx, &planned, &mut am).await?;
    }
    let after = scope.update(&tx, am).await?;
    tx.emit(topic(scope.tenant_id()), &JobEvent { job_id: id, project_id: job.project_id });
    tx.commit_with(Change {
        action: "collection_job.schedule_changed",
        target_type: "CollectionJob",
        target_id: Some(id),
        before: Some(json!({ "repeatEveryHours": job.repeat_every_hours })),
        after: Some(json!({ "repeatEveryHours": every_hours, "nextRunAt": after.next_run_at })),
    })
    .await?;
    Ok(after)
}

/// Makes what `id` waits for happen now (`collection.manage`): its planned next run, or its
/// step waiting to be tried again. CONFLICT when nothing of it waits.
pub async fn run_now(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> AppResult<collection_job::Model> {
    tctx.require(Permission::CollectionManage)?;
    let mut tx = TenantTx::open(ctx, tctx).await?;
    let scope = tx.scope();
    let job = scope
        .find_by_id::<collection_job::Entity, _>(&tx, id)
        .await?
        .ok_or(AppError::NotFound("collection job"))?;
    require_project(&tx, tctx, job.project_id, ProjectRole::Owner).await?;
    let now = ctx.now();
    let mut am: collection_job::ActiveModel = job.clone().into();
    let what = if job.next_run_at.is_some() && job.repeat_every_hours.is_some() {
        plan_at(&mut tx, id, &mut am, now).await?;
        "next_run"
    } else if !job.status.is_final() {
        let mut waiting =
            vec![(steps::TRIGGER, format!("trigger:{id}")), (steps::POLL, format!("poll:{id}"))];
        if let Some(s) = &job.snapshot_id {
            waiting.push((steps::INGEST, format!("ingest:{s}")));
        }
        let mut moved = None;
        for (kind, key) in waiting {
            if crate::jobs::hasten(&tx, kind, &key, now).await? {
                moved = Some(kind);
                break;
            }
        }
        moved.ok_or_else(|| {
            AppError::conflict("id", "nothing of this job is waiting: it is being worked on")
        })?
    } else {
        return Err(AppError::conflict("id", "the job has ended and no next run is planned"));
    };
    am.updated_at = Set(now);
    let after = scope.update(&tx, am).await?;
    tx.emit(topic(scope.tenant_id()), &JobEvent { job_id: id, project_id: job.project_id });
    tx.commit_with(Change {
        action: "collection_job.run_now",
        target_type: "CollectionJob",
        target_id: Some(id),
        before: None,
        after: Some(json!({ "step": what })),
    })
    .await?;
    crate::jobs::wake(ctx).await;
    Ok(after)
}

/// `collection.repeat`: starts the next run of a schedule.
pub struct Repeat;

#[async_trait::async_trait]
impl Handler for Repeat {
    fn kind(&self) -> &'static str {
        REPEAT
    }

    async fn run(&self, ctx: &Ctx, row: &job::Model) -> JobResult {
        let tenant = row.tenant_id.ok_or_else(|| JobError::Fail("a repeat step without a tenant".into()))?;
        let step: RepeatStep = serde_json::from_value(row.payload.clone())
            .map_err(|e| JobError::Fail(format!("unreadable payload: {e}")))?;
        let tctx = TenantCtx::system(tenant);
        let granted = catalog::granted_collectors(ctx, &tctx).await;
        tctx.reads.release().await;
        let granted = granted?;
        let mut tx = TenantTx::open(ctx, &tctx).await?;
        let scope = tx.scope();
        let Some(prev) = scope.find_by_id::<collection_job::Entity, _>(&tx, step.job).await? else {
            return Ok(());
        };
        // Stopped, changed since this step was planned, or carried out already.
        let planned = prev.next_run_at.map(|t| t.timestamp()) == Some(step.at.timestamp());
        let Some(every) = prev.repeat_every_hours.filter(|_| planned) else { return Ok(()) };
        let mut am: collection_job::ActiveModel = prev.clone().into();
        am.next_run_at = Set(None);
        am.updated_at = Set(ctx.now());
        let Some((service, _)) = granted.into_iter().find(|(s, _)| s.id == prev.service_id) else {
            am.repeat_every_hours = Set(None);
            scope.update(&tx, am).await?;
            tx.emit(topic(tenant), &JobEvent { job_id: prev.id, project_id: prev.project_id });
            tx.commit_with(Change {
                action: "collection_job.schedule_changed",
                target_type: "CollectionJob",
                target_id: Some(prev.id),
                before: Some(json!({ "repeatEveryHours": every })),
                after: Some(
                    json!({ "repeatEveryHours": null, "reason": "the collector is no longer available" }),
                ),
            })
            .await?;
            return Ok(());
        };
        let urls: Vec<String> = scope
            .find::<collection_job_input::Entity>()
            .filter(collection_job_input::Column::JobId.eq(prev.id))
            .order_by_asc(collection_job_input::Column::Position)
            .all(&tx)
            .await?
            .into_iter()
            .map(|i| i.url)
            .collect();
        scope.update(&tx, am).await?;
        let next = insert_job(
            &mut tx,
            NewRun {
                project: prev.project_id,
                folder: prev.folder_id,
                service: &service,
                parameters: prev.parameters.clone(),
                urls: &urls,
                repeat_every_hours: Some(every),
                repeat_of: Some(prev.repeat_of.unwrap_or(prev.id)),
                created_by: prev.created_by,
            },
        )
        .await?;
        tx.emit(topic(tenant), &JobEvent { job_id: prev.id, project_id: prev.project_id });
        tx.emit(topic(tenant), &JobEvent { job_id: next.id, project_id: prev.project_id });
        tx.commit_with(Change {
            action: "collection_job.started",
            target_type: "CollectionJob",
            target_id: Some(next.id),
            before: None,
            after: Some(json!({ "repeatOf": prev.id, "inputs": urls.len(), "repeatEveryHours": every })),
        })
        .await?;
        Ok(())
    }
}
