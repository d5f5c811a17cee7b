//! Collection jobs: starting one (inputs checked and normalised, parameters checked against
//! the service's JSON Schema, a folder made for it under its service type's folder, the
//! trigger step queued — see [`super::steps`]), cancelling, and reading them. Every state
//! change is published on the tenant's `collection_jobs` topic (`collectionJobUpdated`).

use entity::{
    collection_folder, collection_job, collection_job::CollectionJobStatus, collection_job_input,
    project_member::ProjectRole,
};
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, Set};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{access::require_project, catalog, folders, inputs};
use crate::{
    access::{Change, TenantCtx, TenantTx},
    ctx::Ctx,
    error::{AppError, AppResult},
    jobs::NewJob,
    pubsub::Topic,
};

/// The topic of an organisation's collection job changes.
pub fn topic(tenant: Uuid) -> Topic {
    Topic::tenant(tenant, "collection_jobs")
}

/// What `collectionJobUpdated` carries.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct JobEvent {
    pub job_id: Uuid,
    pub project_id: Uuid,
}

/// What a job is asked to do.
pub struct StartJob {
    pub project: Uuid,
    pub service: Uuid,
    /// URLs one a line, or CSV rows.
    pub urls: String,
    pub parameters: Value,
    /// Collect into this folder rather than a new one.
    pub folder: Option<Uuid>,
    /// Auto-update: collect again every so many hours.
    pub repeat_every_hours: Option<i32>,
}

fn service_label(t: &str) -> &'static str {
    catalog::SERVICE_TYPES.iter().find(|(k, _)| *k == t).map(|(_, l)| *l).unwrap_or("Records")
}

/// Starts a collection job (project editors, a collector the organisation was granted).
/// Bad URLs are reported by line (`input.urls`), bad parameters by place
/// (`input.parameters…`); nothing is created then.
pub async fn start_job(ctx: &Ctx, tctx: &TenantCtx, req: StartJob) -> AppResult<collection_job::Model> {
    // Who may collect here is decided before the input is looked at.
    {
        let db = tctx.on(&ctx.db);
        require_project(&db, tctx, req.project, ProjectRole::Editor).await?;
        tctx.reads.release().await;
    }
    let (service, platform) = catalog::usable_service(ctx, tctx, req.service).await?;
    let urls = inputs::parse(&platform.key, &req.urls).map_err(|errors| {
        let lines: Vec<String> =
            errors.iter().map(|(n, e)| if *n == 0 { e.clone() } else { format!("line {n}: {e}") }).collect();
        AppError::validation("input.urls", lines.join("; "))
    })?;
    let parameters = if req.parameters.is_null() { json!({}) } else { req.parameters };
    catalog::check_parameters(&service, &parameters)?;
    if let Some(h) = req.repeat_every_hours {
        super::schedule::check_every(h)?;
    }
    let now = ctx.now();
    let mut tx = TenantTx::open(ctx, tctx).await?;
    require_project(&tx, tctx, req.project, ProjectRole::Editor).await?;
    let scope = tx.scope();
    let folder = match req.folder {
        Some(f) => {
            let f = folders::folder_in(&tx, scope, f)
                .await
                .map_err(|_| AppError::validation("input.folderId", "no such folder"))?;
            if f.project_id != req.project {
                return Err(AppError::validation("input.folderId", "the folder is in another project"));
            }
            f.id
        }
        None => {
            // Organised by service type: the type's top-level folder, then one per job.
            let label = service_label(&service.service_type);
            let parent = scope
                .find::<collection_folder::Entity>()
                .filter(collection_folder::Column::ProjectId.eq(req.project))
                .filter(collection_folder::Column::ParentId.is_null())
                .filter(collection_folder::Column::Name.eq(label))
                .one(&tx)
                .await?;
            let parent = match parent {
                Some(p) => p.id,
                None => folders::insert_folder(&tx, req.project, None, label, json!([]), now).await?.id,
            };
            let name =
                format!("{} {} · {}", platform.name, service.service_type, now.format("%Y-%m-%d %H:%M:%S"));
            folders::insert_folder(&tx, req.project, Some(parent), &name, json!([platform.key]), now)
                .await?
                .id
        }
    };
    let job = insert_job(
        &mut tx,
        NewRun {
            project: req.project,
            folder,
            service: &service,
            parameters,
            urls: &urls,
            repeat_every_hours: req.repeat_every_hours,
            repeat_of: None,
            created_by: tctx.acting_user(),
        },
    )
    .await?;
    let id = job.id;
    tx.emit(topic(scope.tenant_id()), &JobEvent { job_id: id, project_id: req.project });
    tx.commit_with(Change {
        action: "collection_job.started",
        target_type: "CollectionJob",
        target_id: Some(id),
        before: None,
        after: Some(json!({ "service": service.name, "platform": platform.key, "inputs": urls.len() })),
    })
    .await?;
    Ok(job)
}

/// A run to add: a job and its inputs.
pub(super) struct NewRun<'a> {
    pub project: Uuid,
    pub folder: Uuid,
    pub service: &'a entity::collection_service::Model,
    pub parameters: Value,
    pub urls: &'a [String],
    pub repeat_every_hours: Option<i32>,
    pub repeat_of: Option<Uuid>,
    pub created_by: Option<Uuid>,
}

/// Adds a PENDING job with its inputs and queues its trigger step, in `tx`.
pub(super) async fn insert_job(tx: &mut TenantTx<'_>, run: NewRun<'_>) -> AppResult<collection_job::Model> {
    let scope = tx.scope();
    let now = tx.ctx().now();
    let id = Uuid::now_v7();
    let job = scope
        .insert(
            &*tx,
            collection_job::ActiveModel {
                id: Set(id),
                tenant_id: Set(scope.tenant_id()),
                project_id: Set(run.project),
                folder_id: Set(run.folder),
                service_id: Set(run.service.id),
                provider: Set(run.service.provider),
                status: Set(CollectionJobStatus::Pending),
                snapshot_id: Set(None),
                parameters: Set(run.parameters),
                input_count: Set(run.urls.len() as i32),
                record_count: Set(0),
                error_count: Set(0),
                error: Set(None),
                created_by: Set(run.created_by),
                created_at: Set(now),
                updated_at: Set(now),
                finished_at: Set(None),
                repeat_every_hours: Set(run.repeat_every_hours),
                next_run_at: Set(None),
                repeat_of: Set(run.repeat_of),
            },
        )
        .await?;
    let rows: Vec<collection_job_input::ActiveModel> = run
        .urls
        .iter()
        .enumerate()
        .map(|(i, u)| collection_job_input::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(scope.tenant_id()),
            job_id: Set(id),
            position: Set(i as i32),
            url: Set(u.clone()),
            status: Set("pending".into()),
            error: Set(None),
        })
        .collect();
    for chunk in rows.chunks(500) {
        scope
            .insert_many::<collection_job_input::Entity, _>(chunk.to_vec())
            .exec_without_returning(&*tx)
            .await?;
    }
    tx.enqueue(
        NewJob::new(super::steps::TRIGGER, &super::steps::Step { job: id })
            .key(format!("trigger:{id}"))
            .attempts(8),
    )
    .await?;
    Ok(job)
}

/// Cancels a job that has not ended (project editors); its later steps do nothing, and a
/// snapshot BrightData is collecting is cancelled there too (`collection.cancel`).
pub async fn cancel_job(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> AppResult<collection_job::Model> {
    let mut tx = TenantTx::open(ctx, tctx).await?;
    let scope = tx.scope();
    let job = scope
        .find_by_id::<collection_job::Entity, _>(&tx, id)
        .await?
        .ok_or(AppError::NotFound("collection job"))?;
    require_project(&tx, tctx, job.project_id, ProjectRole::Editor).await?;
    if job.status.is_final() {
        return Err(AppError::conflict("id", "the job has ended already"));
    }
    let mut am: collection_job::ActiveModel = job.clone().into();
    am.status = Set(CollectionJobStatus::Cancelled);
    am.updated_at = Set(ctx.now());
    am.finished_at = Set(Some(ctx.now()));
    // A cancelled run ends its schedule too: nothing collects again unless asked.
    am.repeat_every_hours = Set(None);
    let after = scope.update(&tx, am).await?;
    // BrightData is collecting for it: told to stop, durably (after the commit, by the job).
    if job.provider == entity::collection_job::CollectionProvider::Brightdata && job.snapshot_id.is_some() {
        tx.enqueue(
            NewJob::new(super::steps::CANCEL, &super::steps::Step { job: id })
                .key(format!("cancel:{id}"))
                .attempts(8),
        )
        .await?;
    }
    tx.emit(topic(scope.tenant_id()), &JobEvent { job_id: id, project_id: job.project_id });
    tx.commit_with(Change {
        action: "collection_job.cancelled",
        target_type: "CollectionJob",
        target_id: Some(id),
        before: None,
        after: None,
    })
    .await?;
    Ok(after)
}

/// A project's jobs, newest first (anyone who may see it).
pub async fn list_jobs(ctx: &Ctx, tctx: &TenantCtx, project: Uuid) -> AppResult<Vec<collection_job::Model>> {
    let db = tctx.on(&ctx.db);
    require_project(&db, tctx, project, ProjectRole::Viewer).await?;
    Ok(tctx
        .scope()
        .find::<collection_job::Entity>()
        .filter(collection_job::Column::ProjectId.eq(project))
        .order_by_desc(collection_job::Column::Id)
        .all(&db)
        .await?)
}

/// One job (anyone who may see its project).
pub async fn get_job(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> AppResult<collection_job::Model> {
    let db = tctx.on(&ctx.db);
    let job = tctx
        .scope()
        .find_by_id::<collection_job::Entity, _>(&db, id)
        .await?
        .ok_or(AppError::NotFound("collection job"))?;
    require_project(&db, tctx, job.project_id, ProjectRole::Viewer).await?;
    Ok(job)
}

/// A job's inputs, in order.
pub async fn job_inputs(
    ctx: &Ctx,
    tctx: &TenantCtx,
    id: Uuid,
) -> AppResult<Vec<collection_job_input::Model>> {
    get_job(ctx, tctx, id).await?;
    let db = tctx.on(&ctx.db);
    Ok(tctx
        .scope()
        .find::<collection_job_input::Entity>()
        .filter(collection_job_input::Column::JobId.eq(id))
        .order_by_asc(collection_job_input::Column::Position)
        .all(&db)
        .await?)
}
