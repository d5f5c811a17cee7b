//! The background steps of a collection job on the job machinery: `collection.trigger`
//! (BrightData `trigger` with a notify URL; the sample provider collects at once),
//! `collection.poll` (the fallback when no notification comes) and `collection.ingest` (keyed by
//! snapshot id, so a notification and a poll, or a replayed notification, ingest once). Every
//! state change is published on the tenant's `collection_jobs` topic.

use chrono::Duration;
use entity::{
    collection_folder, collection_job, collection_job::CollectionJobStatus,
    collection_job::CollectionProvider, collection_job_input, collection_platform, collection_service, job,
};
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, Set};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{
    brightdata::{self, CallError, Download, Progress},
    catalog,
    jobs::{JobEvent, topic},
    records, sample,
};
use crate::{
    access::{TenantCtx, TenantTx},
    ctx::Ctx,
    error::AppResult,
    jobs::{Handler, JobError, JobResult, NewJob},
    modules::notifications::{catalog::NotificationKind, service as notifications},
};

pub const TRIGGER: &str = "collection.trigger";
pub const POLL: &str = "collection.poll";
pub const INGEST: &str = "collection.ingest";
pub const CANCEL: &str = "collection.cancel";

/// The payload of every collection step: the job.
#[derive(Serialize, Deserialize)]
pub(super) struct Step {
    pub(super) job: Uuid,
}

/// The job, its service and platform, read as the system in its tenant.
async fn load(
    ctx: &Ctx,
    tctx: &TenantCtx,
    id: Uuid,
) -> Result<Option<(collection_job::Model, collection_service::Model, collection_platform::Model)>, JobError>
{
    let job = {
        let db = tctx.on(&ctx.db);
        let found = tctx.scope().find_by_id::<collection_job::Entity, _>(&db, id).await?;
        tctx.reads.release().await;
        found
    };
    let Some(job) = job else { return Ok(None) };
    let Some((s, p)) = catalog::service_with_platform(ctx, job.service_id).await? else {
        return Err(JobError::Fail("the job's service no longer exists".into()));
    };
    Ok(Some((job, s, p)))
}

/// Moves the job to `status` (unless it ended meanwhile) with `change` applied, and announces
/// it. `false`: it had ended, nothing changed.
async fn advance(
    ctx: &Ctx,
    tctx: &TenantCtx,
    id: Uuid,
    status: CollectionJobStatus,
    change: impl FnOnce(&mut collection_job::ActiveModel),
) -> AppResult<bool> {
    let mut tx = TenantTx::open(ctx, tctx).await?;
    let scope = tx.scope();
    let Some(job) = scope.find_by_id::<collection_job::Entity, _>(&tx, id).await? else { return Ok(false) };
    if job.status.is_final() {
        return Ok(false);
    }
    let mut am: collection_job::ActiveModel = job.clone().into();
    am.status = Set(status);
    am.updated_at = Set(ctx.now());
    if status.is_final() {
        am.finished_at = Set(Some(ctx.now()));
    }
    change(&mut am);
    if status.is_final() && status != CollectionJobStatus::Cancelled {
        super::schedule::plan_next(&mut tx, &job, &mut am).await?;
    }
    scope.update(&tx, am).await?;
    if status.is_final() && status != CollectionJobStatus::Cancelled {
        tell_starter(&mut tx, &job, status, job.record_count as i64, job.error_count as i64).await?;
    }
    tx.emit(topic(scope.tenant_id()), &JobEvent { job_id: id, project_id: job.project_id });
    tx.commit().await?;
    Ok(true)
}

/// Tells whoever started `job` that it ended with `status` (`records` collected, `errors`
/// inputs failed), in the transaction that ends it.
async fn tell_starter(
    tx: &mut TenantTx<'_>,
    job: &collection_job::Model,
    status: CollectionJobStatus,
    records: i64,
    errors: i64,
) -> AppResult<()> {
    let Some(starter) = job.created_by else { return Ok(()) };
    let notice = notifications::Notice {
        kind: NotificationKind::CollectionFinished,
        organisation: Some(tx.scope().tenant_id()),
        recipients: notifications::Recipients::Users { ids: vec![starter] },
        title: String::new(),
        body: String::new(),
        link: None,
        data: serde_json::json!({
            "jobId": job.id,
            "status": sea_orm::ActiveEnum::to_value(&status),
            "records": records,
            "errors": errors,
        }),
        except: None,
    };
    notifications::notify_tx(tx, &notice).await
}

async fn fail(ctx: &Ctx, tctx: &TenantCtx, id: Uuid, why: String) -> JobResult {
    tracing::warn!(job = %id, error = %why, "collection job failed");
    advance(ctx, tctx, id, CollectionJobStatus::Failed, |am| am.error = Set(Some(why))).await?;
    Ok(())
}

fn notify_url(ctx: &Ctx, job: Uuid) -> String {
    format!("{}/collection/brightdata/notify?job={job}", ctx.config.public_url.trim_end_matches('/'))
}

async fn brightdata_client(ctx: &Ctx) -> Result<(brightdata::Client, String), JobError> {
    let Some((token, secret)) = catalog::credentials(ctx).await? else {
        return Err(JobError::Fail(format!(
            "no BrightData credentials for the `{}` environment",
            ctx.config.collection.environment
        )));
    };
    Ok((brightdata::Client::new(&ctx.config.collection.brightdata_url, &token), secret))
}

fn payload(job: &job::Model) -> Result<(Uuid, Uuid), JobError> {
    let tenant = job.tenant_id.ok_or_else(|| JobError::Fail("a collection step without a tenant".into()))?;
    let step: Step = serde_json::from_value(job.payload.clone())
        .map_err(|e| JobError::Fail(format!("unreadable payload: {e}")))?;
    Ok((tenant, step.job))
}

fn last_attempt(job: &job::Model) -> bool {
    job.attempts >= job.max_attempts
}

/// `collection.trigger`: asks the provider to collect.
pub struct Trigger;

#[async_trait::async_trait]
impl Handler for Trigger {
    fn kind(&self) -> &'static str {
        TRIGGER
    }

    async fn run(&self, ctx: &Ctx, row: &job::Model) -> JobResult {
        let (tenant, id) = payload(row)?;
        let tctx = TenantCtx::system(tenant);
        let Some((job, service, platform)) = load(ctx, &tctx, id).await? else { return Ok(()) };
        // Ended (cancelled), or triggered by an earlier run: never a second collection.
        if job.status != CollectionJobStatus::Pending || job.snapshot_id.is_some() {
            return Ok(());
        }
        let urls: Vec<String> = {
            let db = tctx.on(&ctx.db);
            let rows = tctx
                .scope()
                .find::<collection_job_input::Entity>()
                .filter(collection_job_input::Column::JobId.eq(id))
                .order_by_asc(collection_job_input::Column::Position)
                .all(&db)
                .await?;
            tctx.reads.release().await;
            rows.into_iter().map(|r| r.url).collect()
        };
        match job.provider {
            CollectionProvider::Sample => {
                let now = ctx.now();
                let items: Vec<Value> = urls
                    .iter()
                    .flat_map(|u| {
                        sample::items_for(&platform.key, &service.service_type, u, now).into_iter().map(
                            move |mut it| {
                                it["input"] = json!({ "url": u });
                                it
                            },
                        )
                    })
                    .collect();
                ingest(ctx, &tctx, &job, &service, &platform, items).await
            }
            CollectionProvider::Brightdata => {
                let (client, secret) = brightdata_client(ctx).await?;
                let notify = notify_url(ctx, id);
                match client.trigger(&service.dataset_id, &urls, &job.parameters, &notify, &secret).await {
                    Ok(snapshot) => {
                        let snap = snapshot.clone();
                        advance(ctx, &tctx, id, CollectionJobStatus::Triggered, move |am| {
                            am.snapshot_id = Set(Some(snap));
                        })
                        .await?;
                        // The fallback when the notification never comes.
                        let at = ctx.now() + Duration::seconds(ctx.config.collection.poll_seconds);
                        let poll = NewJob::new(POLL, &Step { job: id })
                            .key(format!("poll:{id}"))
                            .at(at)
                            .attempts(ctx.config.collection.poll_attempts);
                        enqueue_system(ctx, tenant, poll).await?;
                        Ok(())
                    }
                    Err(CallError::Refused(m)) => fail(ctx, &tctx, id, m).await,
                    Err(CallError::Transient(m)) if last_attempt(row) => fail(ctx, &tctx, id, m).await,
                    Err(CallError::Transient(m)) => Err(JobError::Retry(m)),
                }
            }
        }
    }
}

/// Adds a follow-up step for `tenant` in its own walled transaction and wakes the workers.
async fn enqueue_system(ctx: &Ctx, tenant: Uuid, job: NewJob) -> AppResult<bool> {
    let txn = crate::db::begin_tenant_txn(&ctx.db, TenantCtx::system(tenant).scope()).await?;
    let added = crate::jobs::enqueue(&txn, ctx.now(), Some(tenant), job).await?;
    txn.commit().await?;
    if added {
        crate::jobs::wake(ctx).await;
    }
    Ok(added)
}

/// Queues the ingestion of `snapshot` once, whoever asks (the notification, the poll, a
/// replay): `false` when it was queued already.
pub async fn queue_ingest(ctx: &Ctx, tenant: Uuid, job: Uuid, snapshot: &str) -> AppResult<bool> {
    enqueue_system(
        ctx,
        tenant,
        NewJob::new(INGEST, &Step { job }).key(format!("ingest:{snapshot}")).attempts(20),
    )
    .await
}

/// `collection.poll`: the fallback when BrightData's notification does not arrive.
pub struct Poll;

#[async_trait::async_trait]
impl Handler for Poll {
    fn kind(&self) -> &'static str {
        POLL
    }

    async fn run(&self, ctx: &Ctx, row: &job::Model) -> JobResult {
        let (tenant, id) = payload(row)?;
        let tctx = TenantCtx::system(tenant);
        let Some((job, _, _)) = load(ctx, &tctx, id).await? else { return Ok(()) };
        let Some(snapshot) = job.snapshot_id.clone().filter(|_| !job.status.is_final()) else {
            return Ok(());
        };
        if job.status == CollectionJobStatus::Ingesting {
            return Ok(());
        }
        let (client, _) = brightdata_client(ctx).await?;
        let wait = Duration::seconds(ctx.config.collection.poll_seconds);
        match client.progress(&snapshot).await {
            Ok(Progress::Running) if last_attempt(row) => {
                fail(ctx, &tctx, id, "BrightData did not finish in time".into()).await
            }
            Ok(Progress::Running) => {
                if job.status == CollectionJobStatus::Triggered {
                    advance(ctx, &tctx, id, CollectionJobStatus::Running, |_| {}).await?;
                }
                Err(JobError::RetryAfter(wait, "still running".into()))
            }
            Ok(Progress::Ready | Progress::Failed(_)) => {
                // The ingestion step reads the outcome (and runs once, whoever queued it).
                queue_ingest(ctx, tenant, id, &snapshot).await?;
                Ok(())
            }
            Err(CallError::Refused(m)) => fail(ctx, &tctx, id, m).await,
            Err(CallError::Transient(m)) if last_attempt(row) => fail(ctx, &tctx, id, m).await,
            Err(CallError::Transient(m)) => Err(JobError::RetryAfter(wait, m)),
        }
    }
}

/// `collection.ingest`: downloads a finished snapshot and saves its records.
pub struct Ingest;

#[async_trait::async_trait]
impl Handler for Ingest {
    fn kind(&self) -> &'static str {
        INGEST
    }

    async fn run(&self, ctx: &Ctx, row: &job::Model) -> JobResult {
        let (tenant, id) = payload(row)?;
        let tctx = TenantCtx::system(tenant);
        let Some((job, service, platform)) = load(ctx, &tctx, id).await? else { return Ok(()) };
        let Some(snapshot) = job.snapshot_id.clone().filter(|_| !job.status.is_final()) else {
            return Ok(());
        };
        let (client, _) = brightdata_client(ctx).await?;
        let wait = Duration::seconds(ctx.config.collection.poll_seconds.min(30));
        let retry = |m: String| {
            if last_attempt(row) { Err(JobError::Fail(m)) } else { Err(JobError::RetryAfter(wait, m)) }
        };
        match client.progress(&snapshot).await {
            Ok(Progress::Failed(m)) => return fail(ctx, &tctx, id, format!("BrightData: {m}")).await,
            Ok(Progress::Running) => return retry("not ready yet".into()),
            Ok(Progress::Ready) => {}
            Err(CallError::Refused(m)) => return fail(ctx, &tctx, id, m).await,
            Err(CallError::Transient(m)) => return retry(m),
        }
        advance(ctx, &tctx, id, CollectionJobStatus::Ingesting, |_| {}).await?;
        match client.download(&snapshot).await {
            Ok(Download::Items(items)) => ingest(ctx, &tctx, &job, &service, &platform, items).await,
            Ok(Download::NotReady) => retry("snapshot not ready".into()),
            Err(CallError::Refused(m)) => fail(ctx, &tctx, id, m).await,
            Err(CallError::Transient(m)) => retry(m),
        }
    }
}

/// Normalises and saves `items` into the job's folder in one transaction, marks each input
/// collected or failed, and ends the job SUCCEEDED, PARTIAL (some errors) or FAILED (none
/// usable).
async fn ingest(
    ctx: &Ctx,
    tctx: &TenantCtx,
    job: &collection_job::Model,
    service: &collection_service::Model,
    platform: &collection_platform::Model,
    items: Vec<Value>,
) -> JobResult {
    let mut good = Vec::new();
    let mut failed_inputs: Vec<(String, String)> = Vec::new();
    for item in &items {
        match records::normalise(item, &service.output_mapping) {
            Ok(n) => good.push(n),
            Err(e) => {
                let url = item.get("input").and_then(|i| i.get("url")).or_else(|| item.get("url"));
                failed_inputs.push((url.and_then(Value::as_str).unwrap_or_default().to_string(), e));
            }
        }
    }
    let now = ctx.now();
    let mut tx = TenantTx::open(ctx, tctx).await?;
    let scope = tx.scope();
    let Some(current) = scope.find_by_id::<collection_job::Entity, _>(&tx, job.id).await? else {
        return Ok(());
    };
    if current.status.is_final() {
        return Ok(());
    }
    let saved =
        records::save(&tx, job.folder_id, Some(job.id), &platform.key, &service.service_type, good, now)
            .await?;
    let total = saved.inserted + saved.updated;
    // New records are billable usage; past the plan's monthly allowance nothing is kept.
    let metered = crate::modules::billing::usage::record(
        &tx,
        &ctx.config,
        scope,
        crate::modules::billing::plans::Limit::CollectedRecordsPerMonth,
        saved.inserted as i64,
        now,
    )
    .await?;
    if let Err(exceeded) = metered {
        drop(tx);
        return fail(ctx, tctx, job.id, exceeded.error().to_string()).await;
    }
    for (url, err) in &failed_inputs {
        scope
            .update_many::<collection_job_input::Entity>()
            .col_expr(collection_job_input::Column::Status, sea_orm::sea_query::Expr::value("failed"))
            .col_expr(collection_job_input::Column::Error, sea_orm::sea_query::Expr::value(err.clone()))
            .filter(collection_job_input::Column::JobId.eq(job.id))
            .filter(collection_job_input::Column::Url.eq(url.clone()))
            .exec(&tx)
            .await?;
    }
    scope
        .update_many::<collection_job_input::Entity>()
        .col_expr(collection_job_input::Column::Status, sea_orm::sea_query::Expr::value("collected"))
        .filter(collection_job_input::Column::JobId.eq(job.id))
        .filter(collection_job_input::Column::Status.eq("pending"))
        .exec(&tx)
        .await?;
    let status = match (total, failed_inputs.len()) {
        (0, 0) => CollectionJobStatus::Succeeded,
        (0, _) => CollectionJobStatus::Failed,
        (_, 0) => CollectionJobStatus::Succeeded,
        _ => CollectionJobStatus::Partial,
    };
    let mut am: collection_job::ActiveModel = current.clone().into();
    am.status = Set(status);
    am.record_count = Set(total as i32);
    am.error_count = Set(failed_inputs.len() as i32);
    if status == CollectionJobStatus::Failed {
        am.error = Set(failed_inputs.first().map(|(_, e)| e.clone()));
    }
    am.updated_at = Set(now);
    am.finished_at = Set(Some(now));
    super::schedule::plan_next(&mut tx, &current, &mut am).await?;
    scope.update(&tx, am).await?;
    tell_starter(&mut tx, &current, status, total as i64, failed_inputs.len() as i64).await?;
    // The folder shows when it last changed.
    scope
        .update_many::<collection_folder::Entity>()
        .col_expr(collection_folder::Column::UpdatedAt, sea_orm::sea_query::Expr::value(now))
        .filter(collection_folder::Column::Id.eq(job.folder_id))
        .exec(&tx)
        .await?;
    tx.emit(topic(scope.tenant_id()), &JobEvent { job_id: job.id, project_id: job.project_id });
    tx.commit().await?;
    tracing::info!(job = %job.id, inserted = saved.inserted, updated = saved.updated, errors = failed_inputs.len(), "collection ingested");
    Ok(())
}

/// `collection.cancel`: asks BrightData to stop collecting a cancelled job's snapshot, so the
/// organisation is not billed for what it no longer wants (a snapshot that ended meanwhile
/// is nothing to cancel).
pub struct Cancel;

#[async_trait::async_trait]
impl Handler for Cancel {
    fn kind(&self) -> &'static str {
        CANCEL
    }

    async fn run(&self, ctx: &Ctx, row: &job::Model) -> JobResult {
        let (tenant, id) = payload(row)?;
        let tctx = TenantCtx::system(tenant);
        let Some((job, _, _)) = load(ctx, &tctx, id).await? else { return Ok(()) };
        let Some(snapshot) = job.snapshot_id.filter(|_| job.status == CollectionJobStatus::Cancelled) else {
            return Ok(());
        };
        let (client, _) = brightdata_client(ctx).await?;
        match client.cancel(&snapshot).await {
            Ok(()) => Ok(()),
            Err(CallError::Refused(m)) => {
                tracing::info!(job = %id, snapshot, reason = %m, "BrightData had nothing to cancel");
                Ok(())
            }
            Err(CallError::Transient(m)) => Err(JobError::Retry(m)),
        }
    }
}
