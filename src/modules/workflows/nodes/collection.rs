//! Data-collection nodes, acting as the user the run acts for (the same project roles as the
//! GraphQL operations): `collection.collect` starts a collection job and by default waits for
//! it to end, then gives its records; `collection.records` reads a project's records (one
//! folder's, or all) with the records filters and sort of `recordSearch` — so collected data
//! feeds LLM, RAG and agent nodes. Projects, folders and collectors are named by their ID or
//! their name.

use std::time::Duration;

use entity::{collection_folder, collection_job, project};
use futures::StreamExt;
use sea_orm::{ColumnTrait, QueryFilter};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{
    NodeError, Out, config,
    kind::{MAIN, MAIN_ERR, NodeCtx, NodeKind},
    main,
    support::access::{acting_access, publisher_holds, require},
};
use crate::{
    access::TenantCtx,
    auth::Permission,
    ctx::Ctx,
    error::AppError,
    graphql::relay::{self, kind},
    modules::collection::{
        catalog, export_file, jobs,
        records::{self, RecordFilter},
        search::{SearchWindow, Sort},
    },
};

/// Records a node gives at most.
const MAX_ITEMS: usize = 500;

fn refused(e: AppError) -> NodeError {
    match e {
        AppError::Internal(_) => NodeError::new("internal", e.to_string()),
        other => NodeError::new("config", other.to_string()),
    }
}

/// The project named `r` (its ID, or its name among those the user sees).
async fn project_named(app: &Ctx, tctx: &TenantCtx, r: &str) -> Result<Uuid, NodeError> {
    if let Ok(id) = relay::decode_id("config.project", &async_graphql::ID::from(r), kind::PROJECT) {
        return Ok(id);
    }
    let found = tctx
        .scope()
        .find::<project::Entity>()
        .filter(project::Column::Name.eq(r))
        .all(&tctx.on(&app.db))
        .await?;
    match found.as_slice() {
        [p] => Ok(p.id),
        [] => Err(NodeError::new("config", format!("config.project: no project is named `{r}`"))),
        _ => Err(NodeError::new("config", format!("config.project: several projects are named `{r}`"))),
    }
}

/// The folder named `r` in `project` (its ID, or its name there).
async fn folder_named(app: &Ctx, tctx: &TenantCtx, project: Uuid, r: &str) -> Result<Uuid, NodeError> {
    if let Ok(id) = relay::decode_id("config.folder", &async_graphql::ID::from(r), kind::COLLECTION_FOLDER) {
        return Ok(id);
    }
    let found = tctx
        .scope()
        .find::<collection_folder::Entity>()
        .filter(collection_folder::Column::ProjectId.eq(project))
        .filter(collection_folder::Column::Name.eq(r))
        .all(&tctx.on(&app.db))
        .await?;
    match found.as_slice() {
        [f] => Ok(f.id),
        [] => Err(NodeError::new("config", format!("config.folder: the project has no folder named `{r}`"))),
        _ => Err(NodeError::new("config", format!("config.folder: several folders are named `{r}`"))),
    }
}

fn limit(n: Option<i64>) -> usize {
    n.unwrap_or(100).clamp(1, MAX_ITEMS as i64) as usize
}

/// The first `limit` records of `folder` (of `project`) matching `filter` in `sort` order, with
/// how many match.
async fn records_of(
    app: &Ctx,
    tctx: &TenantCtx,
    project: Uuid,
    folder: Option<Uuid>,
    filter: &RecordFilter,
    sort: Sort,
    limit: usize,
) -> Result<Value, NodeError> {
    let hits = records::search_project(app, tctx, project, folder, filter, sort, &SearchWindow::first(limit))
        .await
        .map_err(refused)?;
    let items: Vec<Value> = hits.hits.iter().map(|h| export_file::json_line(&h.record)).collect();
    Ok(json!({ "count": hits.total, "items": items }))
}

pub(crate) struct CollectionCollect;

#[derive(Deserialize)]
pub(crate) struct CollectConfig {
    #[serde(default, deserialize_with = "config::lenient")]
    project: Option<String>,
    #[serde(default, deserialize_with = "config::lenient")]
    collector: Option<String>,
    #[serde(default, deserialize_with = "config::present")]
    urls: Option<Value>,
    #[serde(default, deserialize_with = "config::lenient")]
    parameters: Option<Value>,
    #[serde(default, deserialize_with = "config::lenient")]
    folder: Option<String>,
    #[serde(default, deserialize_with = "config::lenient")]
    wait: Option<bool>,
    #[serde(default, deserialize_with = "config::lenient")]
    limit: Option<i64>,
}

impl NodeKind for CollectionCollect {
    const KEY: &'static str = "collection.collect";
    const CATEGORY: &'static str = "data";
    const NAME: &'static str = "Collect Data";
    const DESCRIPTION: &'static str =
        "Starts a collection job (a collector over URLs) and waits for its records.";
    const INPUTS: &'static [&'static str] = MAIN;
    const OUTPUTS: &'static [&'static str] = MAIN_ERR;
    const SAFE_TO_REPEAT: bool = false;
    const DEFAULT_TIMEOUT_MS: u64 = 3_600_000;
    const CHECKPOINT_BEFORE: bool = true;
    const REQUIRED: &'static [&'static str] = &["project", "collector", "urls"];
    type Config = CollectConfig;

    fn properties() -> Value {
        json!({
            "project": { "type": "string", "maxLength": 200, "description": "The project's ID or name" },
            "collector": { "type": "string", "maxLength": 200, "description": "An available collector's ID or name" },
            "urls": { "description": "URLs: one a line, or a list" },
            "parameters": { "type": "object", "description": "The collector's parameters besides the URLs" },
            "folder": { "type": "string", "maxLength": 200, "description": "Collect into this folder (ID or name) instead of a new one" },
            "wait": { "type": "boolean", "default": true, "description": "Wait for the job to end and give its records" },
            "limit": { "type": "integer", "minimum": 1, "maximum": MAX_ITEMS, "default": 100 },
        })
    }

    async fn run(&self, ctx: NodeCtx<'_>, config: CollectConfig) -> Out {
        let runner = ctx.runner.clone();
        let app = &runner.app;
        let tctx = acting_access(&runner).await?;
        require(&tctx, Permission::CollectionRead, "collection")?;
        publisher_holds(&runner, Permission::ProjectsManage, "a collection").await?;
        let project = project_named(
            app,
            &tctx,
            config.project.as_deref().ok_or_else(|| config::not_a_string("project"))?,
        )
        .await?;
        let collector = config.collector.as_deref().ok_or_else(|| config::not_a_string("collector"))?;
        let service = match relay::decode_id(
            "config.collector",
            &async_graphql::ID::from(collector),
            kind::PLATFORM_SERVICE,
        ) {
            Ok(id) => id,
            Err(_) => {
                let all = catalog::available_collectors(app, &tctx).await.map_err(refused)?;
                all.iter().find(|(s, _)| s.name == collector).map(|(s, _)| s.id).ok_or_else(|| {
                    NodeError::new(
                        "config",
                        format!("config.collector: no available collector is named `{collector}`"),
                    )
                })?
            }
        };
        let urls = match &config.urls {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Array(a)) => a
                .iter()
                .map(|u| u.as_str().map(str::to_string).ok_or_else(|| config::not_a_string("urls[]")))
                .collect::<Result<Vec<_>, _>>()?
                .join("\n"),
            _ => return Err(NodeError::new("config", "config.urls must be a string or a list of strings")),
        };
        let folder = match config.folder.as_deref() {
            Some(f) => Some(folder_named(app, &tctx, project, f).await?),
            None => None,
        };
        tctx.reads.release().await;
        let start = jobs::StartJob {
            project,
            service,
            urls,
            parameters: config.parameters.clone().unwrap_or(Value::Null),
            folder,
            repeat_every_hours: None,
        };
        let job = jobs::start_job(app, &tctx, start).await.map_err(refused)?;
        let view = |j: &collection_job::Model| {
            json!({
                "id": relay::to_global_id(kind::COLLECTION_JOB, j.id).to_string(),
                "status": sea_orm::ActiveEnum::to_value(&j.status),
                "inputCount": j.input_count, "recordCount": j.record_count, "errorCount": j.error_count,
                "error": j.error,
            })
        };
        let folder_id = relay::to_global_id(kind::COLLECTION_FOLDER, job.folder_id).to_string();
        if !config.wait.unwrap_or(true) {
            return main(json!({ "job": view(&job), "folderId": folder_id }));
        }
        let job = ended(app, &tctx, job.id).await?;
        if job.status == collection_job::CollectionJobStatus::Failed {
            return Err(NodeError::new(
                "provider",
                format!("the collection failed: {}", job.error.clone().unwrap_or_default()),
            ));
        }
        let filter = RecordFilter { job: Some(job.id), ..Default::default() };
        let mut out = records_of(
            app,
            &tctx,
            project,
            Some(job.folder_id),
            &filter,
            Sort::default(),
            limit(config.limit),
        )
        .await?;
        out["job"] = view(&job);
        out["folderId"] = json!(folder_id);
        main(out)
    }
}

/// Job `id` once it has ended: woken by the organisation's collection job events, looked at
/// again now and then in case one was missed.
async fn ended(app: &Ctx, tctx: &TenantCtx, id: Uuid) -> Result<collection_job::Model, NodeError> {
    let mut events = app.bus.subscribe(&jobs::topic(tctx.scope().tenant_id()));
    loop {
        let j = jobs::get_job(app, tctx, id).await.map_err(refused)?;
        tctx.reads.release().await;
        if j.status.is_final() {
            return Ok(j);
        }
        let _ = tokio::time::timeout(Duration::from_secs(2), events.next()).await;
    }
}

pub(crate) struct CollectionRecords;

#[derive(Deserialize)]
pub(crate) struct RecordsConfig {
    #[serde(default, deserialize_with = "config::lenient")]
    project: Option<String>,
    #[serde(default, deserialize_with = "config::lenient")]
    folder: Option<String>,
    #[serde(default, deserialize_with = "config::present")]
    filter: Option<Value>,
    #[serde(default, deserialize_with = "config::present")]
    sort: Option<Value>,
    #[serde(default, deserialize_with = "config::lenient")]
    limit: Option<i64>,
}

impl NodeKind for CollectionRecords {
    const KEY: &'static str = "collection.records";
    const CATEGORY: &'static str = "data";
    const NAME: &'static str = "Collected Records";
    const DESCRIPTION: &'static str =
        "Reads collected records of a project or folder, filtered, searched and sorted.";
    const INPUTS: &'static [&'static str] = MAIN;
    const OUTPUTS: &'static [&'static str] = MAIN_ERR;
    const SAFE_TO_REPEAT: bool = true;
    const DEFAULT_TIMEOUT_MS: u64 = 30_000;
    const REQUIRED: &'static [&'static str] = &["project"];
    type Config = RecordsConfig;

    fn properties() -> Value {
        json!({
            "project": { "type": "string", "maxLength": 200, "description": "The project's ID or name" },
            "folder": { "type": "string", "maxLength": 200, "description": "One folder (ID or name); none: the whole project" },
            "filter": { "type": "object", "description": "As recordSearch's filter: search, platform, serviceType, author, hashtag, url, postedFrom, postedTo, minLikes … maxViews" },
            "sort": { "type": "object", "description": "{ field: COLLECTED | POSTED_AT | LIKES | COMMENTS | SHARES | VIEWS | RELEVANCE, descending }" },
            "limit": { "type": "integer", "minimum": 1, "maximum": MAX_ITEMS, "default": 100 },
        })
    }

    async fn run(&self, ctx: NodeCtx<'_>, config: RecordsConfig) -> Out {
        let runner = ctx.runner.clone();
        let app = &runner.app;
        let tctx = acting_access(&runner).await?;
        require(&tctx, Permission::CollectionRead, "collection")?;
        let project = project_named(
            app,
            &tctx,
            config.project.as_deref().ok_or_else(|| config::not_a_string("project"))?,
        )
        .await?;
        let folder = match config.folder.as_deref() {
            Some(f) => Some(folder_named(app, &tctx, project, f).await?),
            None => None,
        };
        let filter: RecordFilter = match &config.filter {
            None | Some(Value::Null) => RecordFilter::default(),
            Some(v) => serde_json::from_value(v.clone())
                .map_err(|e| NodeError::new("config", format!("config.filter: {e}")))?,
        };
        let sort: Sort = match &config.sort {
            None | Some(Value::Null) => Sort::default(),
            Some(v) => serde_json::from_value(v.clone())
                .map_err(|e| NodeError::new("config", format!("config.sort: {e}")))?,
        };
        tctx.reads.release().await;
        main(records_of(app, &tctx, project, folder, &filter, sort, limit(config.limit)).await?)
    }
}
