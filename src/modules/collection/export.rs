//! Record exports: starting one (anyone who may read the folder's records, with the records
//! filters of a search), the `collection.export` job that writes the file page by page into
//! the file store ([`crate::storage`], under the organisation's prefix, so purging an
//! organisation removes its exports too) while publishing its progress on the tenant's
//! `collection_exports` topic (`recordExportUpdated`), and the short-lived signed download
//! link served by `GET /collection/exports/{tenant}/{id}` ([`download`]). A link names the
//! organisation, the export and its expiry and is signed with a key derived from the master
//! key (as invoice PDFs' links are): an altered or expired one is a 404.

use axum::{
    body::Body,
    extract::{Path, Query, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use entity::{
    collection_export::{self, ExportFormat, ExportStatus},
    project_member::ProjectRole,
};
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::io::AsyncReadExt;
use uuid::Uuid;

use super::{
    access::require_project,
    export_file::{Finished, Sink, XLSX_MAX_ROWS, file_type},
    folders::folder_in,
    search::{self, RecordFilter},
};
use crate::{
    access::{Change, TenantCtx, TenantTx},
    ctx::Ctx,
    error::{AppError, AppResult},
    jobs::{Handler, JobError, JobResult, NewJob},
    pubsub::Topic,
    startup::AppState,
    storage::Upload,
};

pub const EXPORT: &str = "collection.export";

/// How long a download link works.
pub const LINK_TTL_SECS: i64 = 15 * 60;

const PURPOSE: &str = "collection-export";

/// Records read per statement while exporting.
const PAGE: usize = 500;

/// Least time between two progress events of one export, in milliseconds.
const PROGRESS_EVERY_MS: u128 = 500;

/// The topic of an organisation's record exports.
pub fn topic(tenant: Uuid) -> Topic {
    Topic::tenant(tenant, "collection_exports")
}

/// What `recordExportUpdated` carries: the export and where it was at that moment (a
/// subscriber reading the row later may already find it further on).
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct ExportEvent {
    pub export_id: Uuid,
    pub project_id: Uuid,
    pub status: ExportStatus,
    pub written_rows: i64,
    pub total_rows: i64,
}

impl ExportEvent {
    fn of(e: &collection_export::Model) -> Self {
        Self {
            export_id: e.id,
            project_id: e.project_id,
            status: e.status,
            written_rows: e.written_rows,
            total_rows: e.total_rows,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Step {
    export: Uuid,
}

/// Starts exporting the records of `folder` matching `filter` to `format` (anyone who may
/// read them). Bad filters are named under `input.filter`.
pub async fn start_export(
    ctx: &Ctx,
    tctx: &TenantCtx,
    folder: Uuid,
    format: ExportFormat,
    filter: RecordFilter,
) -> AppResult<collection_export::Model> {
    let mut tx = TenantTx::open(ctx, tctx).await?;
    let scope = tx.scope();
    let f = folder_in(&tx, scope, folder).await?;
    require_project(&tx, tctx, f.project_id, ProjectRole::Viewer).await?;
    search::validate("input.filter", &filter)?;
    let now = ctx.now();
    let id = Uuid::now_v7();
    let row = scope
        .insert(
            &tx,
            collection_export::ActiveModel {
                id: Set(id),
                tenant_id: Set(scope.tenant_id()),
                project_id: Set(f.project_id),
                folder_id: Set(folder),
                format: Set(format),
                filter: Set(serde_json::to_value(&filter).map_err(|e| AppError::Internal(e.into()))?),
                status: Set(ExportStatus::Pending),
                total_rows: Set(0),
                written_rows: Set(0),
                storage_key: Set(None),
                size_bytes: Set(None),
                error: Set(None),
                created_by: Set(tctx.acting_user()),
                created_at: Set(now),
                updated_at: Set(now),
                finished_at: Set(None),
            },
        )
        .await?;
    tx.enqueue(NewJob::new(EXPORT, &Step { export: id }).key(format!("export:{id}")).attempts(3)).await?;
    tx.emit(topic(scope.tenant_id()), &ExportEvent::of(&row));
    tx.commit_with(Change {
        action: "records.export_started",
        target_type: "Folder",
        target_id: Some(folder),
        before: None,
        after: Some(json!({ "export": id, "format": format, "filter": row.filter })),
    })
    .await?;
    Ok(row)
}

/// One export (anyone who may read its folder's records).
pub async fn get_export(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> AppResult<collection_export::Model> {
    let db = tctx.on(&ctx.db);
    let e = tctx
        .scope()
        .find_by_id::<collection_export::Entity, _>(&db, id)
        .await?
        .ok_or(AppError::NotFound("export"))?;
    require_project(&db, tctx, e.project_id, ProjectRole::Viewer).await?;
    Ok(e)
}

/// A folder's last `limit` exports, newest first (anyone who may read its records).
pub async fn folder_exports(
    ctx: &Ctx,
    tctx: &TenantCtx,
    folder: Uuid,
    limit: u64,
) -> AppResult<Vec<collection_export::Model>> {
    let db = tctx.on(&ctx.db);
    let f = folder_in(&db, tctx.scope(), folder).await?;
    require_project(&db, tctx, f.project_id, ProjectRole::Viewer).await?;
    Ok(tctx
        .scope()
        .find::<collection_export::Entity>()
        .filter(collection_export::Column::FolderId.eq(folder))
        .order_by_desc(collection_export::Column::Id)
        .limit(limit)
        .all(&db)
        .await?)
}

/// The file name a download gets.
pub fn file_name(e: &collection_export::Model) -> String {
    format!("records-{}.{}", e.created_at.format("%Y%m%d-%H%M%S"), file_type(e.format).0)
}

fn message(tenant: Uuid, id: Uuid, expires: i64) -> String {
    format!("{tenant}:{id}:{expires}")
}

/// A download link of export `e`, valid for [`LINK_TTL_SECS`] from `now`.
pub fn download_link(ctx: &Ctx, e: &collection_export::Model, now: DateTime<Utc>) -> String {
    let expires = now.timestamp() + LINK_TTL_SECS;
    let sig = ctx.keys.sign(PURPOSE, &message(e.tenant_id, e.id, expires));
    format!(
        "{}/collection/exports/{}/{}?expires={expires}&sig={sig}",
        ctx.config.public_url.trim_end_matches('/'),
        e.tenant_id,
        e.id
    )
}

/// Whether a link's `expires` and `sig` are valid for export `id` of `tenant` at `now`.
pub fn link_valid(ctx: &Ctx, tenant: Uuid, id: Uuid, expires: i64, sig: &str, now: DateTime<Utc>) -> bool {
    expires >= now.timestamp() && ctx.keys.verify(PURPOSE, &message(tenant, id, expires), sig)
}

fn storage_key(e: &collection_export::Model) -> String {
    format!("{}/collection-exports/{}.{}", e.tenant_id, e.id, file_type(e.format).0)
}

fn storage_err(e: object_store::Error) -> AppError {
    AppError::Internal(anyhow::anyhow!("storage: {e}"))
}

/// Changes export `id` (unless it ended) and announces it.
async fn update(
    ctx: &Ctx,
    tctx: &TenantCtx,
    id: Uuid,
    change: impl FnOnce(&mut collection_export::ActiveModel),
) -> AppResult<Option<collection_export::Model>> {
    let mut tx = TenantTx::open(ctx, tctx).await?;
    let scope = tx.scope();
    let Some(e) = scope.find_by_id::<collection_export::Entity, _>(&tx, id).await? else { return Ok(None) };
    if e.status.is_final() {
        return Ok(None);
    }
    let mut am: collection_export::ActiveModel = e.clone().into();
    change(&mut am);
    am.updated_at = Set(ctx.now());
    let after = scope.update(&tx, am).await?;
    tx.emit(topic(scope.tenant_id()), &ExportEvent::of(&after));
    tx.commit().await?;
    Ok(Some(after))
}

/// `collection.export`: writes the file.
pub struct Export;

#[async_trait::async_trait]
impl Handler for Export {
    fn kind(&self) -> &'static str {
        EXPORT
    }

    async fn run(&self, ctx: &Ctx, job: &entity::job::Model) -> JobResult {
        let tenant = job.tenant_id.ok_or_else(|| JobError::Fail("an export without a tenant".into()))?;
        let step: Step =
            serde_json::from_value(job.payload.clone()).map_err(|e| JobError::Fail(e.to_string()))?;
        let tctx = TenantCtx::system(tenant);
        let found = {
            let db = tctx.on(&ctx.db);
            let found = tctx.scope().find_by_id::<collection_export::Entity, _>(&db, step.export).await?;
            tctx.reads.release().await;
            found
        };
        // Gone with its folder, or done by an earlier run.
        let Some(e) = found.filter(|e| !e.status.is_final()) else { return Ok(()) };
        match write(ctx, &tctx, &e).await {
            Ok(Some((key, size, rows))) => {
                let now = ctx.now();
                update(ctx, &tctx, e.id, |am| {
                    am.status = Set(ExportStatus::Succeeded);
                    am.storage_key = Set(Some(key));
                    am.size_bytes = Set(Some(size as i64));
                    am.written_rows = Set(rows as i64);
                    am.finished_at = Set(Some(now));
                })
                .await?;
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(Failure::Refused(why)) => fail(ctx, &tctx, e.id, why).await,
            Err(Failure::Broken(why)) if job.attempts < job.max_attempts => Err(JobError::Retry(why)),
            Err(Failure::Broken(why)) => fail(ctx, &tctx, e.id, why).await,
        }
    }
}

async fn fail(ctx: &Ctx, tctx: &TenantCtx, id: Uuid, why: String) -> JobResult {
    tracing::warn!(export = %id, error = %why, "record export failed");
    let now = ctx.now();
    update(ctx, tctx, id, |am| {
        am.status = Set(ExportStatus::Failed);
        am.error = Set(Some(why));
        am.finished_at = Set(Some(now));
    })
    .await?;
    Ok(())
}

/// Why writing an export stopped.
enum Failure {
    /// Never worth another attempt (too many rows for the format): said to the caller.
    Refused(String),
    /// Perhaps better next time (the store or the database unreachable).
    Broken(String),
}

impl From<AppError> for Failure {
    fn from(e: AppError) -> Self {
        Self::Broken(e.to_string())
    }
}

/// Writes the file of export `e` into the store; its key, size and rows, or `None` when the
/// export went meanwhile.
async fn write(
    ctx: &Ctx,
    tctx: &TenantCtx,
    e: &collection_export::Model,
) -> Result<Option<(String, u64, u64)>, Failure> {
    let filter: RecordFilter = serde_json::from_value(e.filter.clone())
        .map_err(|x| Failure::Refused(format!("unreadable filter: {x}")))?;
    let total = {
        let db = tctx.on(&ctx.db);
        let n = search::count(&db, e.tenant_id, e.folder_id, &filter).await?;
        tctx.reads.release().await;
        n
    };
    if e.format == ExportFormat::Xlsx && total >= XLSX_MAX_ROWS {
        return Err(Failure::Refused(format!(
            "{total} records are more than an Excel sheet holds ({} rows): export CSV or JSON instead",
            XLSX_MAX_ROWS - 1
        )));
    }
    let started = update(ctx, tctx, e.id, |am| {
        am.status = Set(ExportStatus::Running);
        am.total_rows = Set(total as i64);
        am.written_rows = Set(0);
    })
    .await?;
    if started.is_none() {
        return Ok(None);
    }
    let key = storage_key(e);
    let mut upload = ctx.storage.upload(&key).await.map_err(|x| Failure::from(storage_err(x)))?;
    match fill(ctx, tctx, e, &filter, &mut upload).await {
        Ok(Some((size, rows))) => {
            upload.finish().await.map_err(|x| Failure::from(storage_err(x)))?;
            Ok(Some((key, size, rows)))
        }
        other => {
            let _ = upload.abort().await;
            other.map(|_| None)
        }
    }
}

/// Sends `bytes` to the store; how many.
async fn put(upload: &mut Upload, bytes: &[u8]) -> Result<u64, Failure> {
    if !bytes.is_empty() {
        upload.write(bytes).await.map_err(|x| Failure::from(storage_err(x)))?;
    }
    Ok(bytes.len() as u64)
}

/// Pages through the records into `upload`; the bytes and rows written, or `None` when the
/// export went meanwhile.
async fn fill(
    ctx: &Ctx,
    tctx: &TenantCtx,
    e: &collection_export::Model,
    filter: &RecordFilter,
    upload: &mut Upload,
) -> Result<Option<(u64, u64)>, Failure> {
    let (mut sink, head) = Sink::start(e.format)?;
    let mut size = put(upload, &head).await?;
    let mut rows: u64 = 0;
    let mut after = None;
    let mut told = std::time::Instant::now();
    loop {
        let page = {
            let db = tctx.on(&ctx.db);
            let page = search::page_after(&db, e.tenant_id, e.folder_id, filter, after, PAGE).await?;
            tctx.reads.release().await;
            page
        };
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        let n = page.len();
        rows += n as u64;
        let bytes = sink.page(page).await?;
        size += put(upload, &bytes).await?;
        if n < PAGE {
            break;
        }
        // Progress, not too often: each is a write and an event.
        if told.elapsed().as_millis() >= PROGRESS_EVERY_MS {
            told = std::time::Instant::now();
            let written = rows as i64;
            if update(ctx, tctx, e.id, |am| am.written_rows = Set(written)).await?.is_none() {
                return Ok(None);
            }
        }
    }
    match sink.finish().await? {
        Finished::Bytes(b) => size += put(upload, &b).await?,
        Finished::File(file) => {
            let mut f =
                tokio::fs::File::open(file.path()).await.map_err(|x| Failure::Broken(x.to_string()))?;
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = f.read(&mut buf).await.map_err(|x| Failure::Broken(x.to_string()))?;
                if n == 0 {
                    break;
                }
                size += put(upload, &buf[..n]).await?;
            }
        }
    }
    Ok(Some((size, rows)))
}

/// A link's query; anything missing makes it invalid (a 404 like any other bad link).
#[derive(Deserialize)]
pub struct LinkQuery {
    #[serde(default)]
    expires: i64,
    #[serde(default)]
    sig: String,
}

/// `GET /collection/exports/{tenant}/{id}?expires=…&sig=…`: an export's file, streamed from the
/// store, for whoever holds its signed link until it expires.
pub async fn download(
    State(app): State<AppState>,
    Path((tenant, id)): Path<(String, String)>,
    Query(q): Query<LinkQuery>,
) -> Response {
    let not_found = || {
        (StatusCode::NOT_FOUND, [(header::CACHE_CONTROL, "no-store")], "no such export link").into_response()
    };
    let (Ok(tenant), Ok(id)) = (Uuid::parse_str(&tenant), Uuid::parse_str(&id)) else { return not_found() };
    if !link_valid(&app, tenant, id, q.expires, &q.sig, app.now()) {
        return not_found();
    }
    // The signature names the organisation: its rows are read through its own wall.
    let tctx = TenantCtx::system(tenant);
    let found = {
        let db = tctx.on(&app.db);
        let found = tctx.scope().find_by_id::<collection_export::Entity, _>(&db, id).await;
        tctx.reads.release().await;
        found
    };
    let e = match found {
        Ok(Some(e)) if e.status == ExportStatus::Succeeded => e,
        Ok(_) => return not_found(),
        Err(e) => {
            tracing::error!(error = %e, "export download");
            return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
        }
    };
    let Some(key) = e.storage_key.as_deref() else { return not_found() };
    let got = match app.storage.get(key, None).await {
        Ok(d) => d,
        Err(x) => {
            tracing::error!(error = %x, "export download");
            return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
        }
    };
    let mut resp = Response::new(Body::from_stream(got.body));
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(file_type(e.format).1));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(got.size));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    if let Ok(d) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", file_name(&e))) {
        h.insert(header::CONTENT_DISPOSITION, d);
    }
    resp
}
