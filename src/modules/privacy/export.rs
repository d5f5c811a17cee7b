//! Data exports (GDPR articles 15 and 20): a person's data from every table that names them, or
//! an owner's whole organisation from every tenant-owned table, gathered by the `privacy.export`
//! job into a ZIP of one JSON file per table, kept for `LINK_DAYS` days behind a signed link that
//! is mailed to the person who asked.

use std::io::Write;

use axum::{
    extract::{Path, Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Duration, Utc};
use entity::data_export;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, FromQueryResult,
    JsonValue, QueryFilter, Set, Statement, Value,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::catalog;
use crate::{
    ctx::Ctx,
    error::{AppError, AppResult},
    jobs::{Handler, JobError, JobResult, NewJob},
    startup::AppState,
};

pub const EXPORT: &str = "privacy.export";

/// Days an export (and its link) is kept.
pub const LINK_DAYS: i64 = 7;

/// Rows exported per table at most (a person's or an organisation's; more is cut and said so).
const MAX_ROWS: usize = 200_000;

const PURPOSE: &str = "privacy.export";

#[derive(Serialize, Deserialize)]
struct ExportJob {
    export: Uuid,
}

/// Records the request and queues its job; refused while one of the same scope is pending.
pub async fn request(ctx: &Ctx, user: Uuid, organisation: Option<Uuid>) -> AppResult<data_export::Model> {
    let txn = crate::db::begin_across_tenants_txn(&ctx.db).await?;
    let mut pending = data_export::Entity::find()
        .filter(data_export::Column::UserId.eq(user))
        .filter(data_export::Column::Status.eq("PENDING"));
    pending = match organisation {
        Some(o) => pending.filter(data_export::Column::OrganisationId.eq(o)),
        None => pending.filter(data_export::Column::OrganisationId.is_null()),
    };
    if pending.one(&txn).await?.is_some() {
        return Err(AppError::Conflict {
            field: organisation.map(|_| "input.organisationId".to_string()),
            message: "an export is already being prepared; it is mailed when ready".into(),
        });
    }
    let row = data_export::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user),
        organisation_id: Set(organisation),
        status: Set("PENDING".into()),
        archive: Set(None),
        size_bytes: Set(None),
        error: Set(None),
        requested_at: Set(ctx.now()),
        ready_at: Set(None),
        expires_at: Set(None),
    }
    .insert(&txn)
    .await?;
    crate::jobs::enqueue(
        &txn,
        ctx.now(),
        organisation,
        NewJob::new(EXPORT, &ExportJob { export: row.id }).attempts(3),
    )
    .await?;
    txn.commit().await?;
    crate::jobs::wake(ctx).await;
    Ok(row)
}

/// Builds one export.
pub struct Export;

#[async_trait::async_trait]
impl Handler for Export {
    fn kind(&self) -> &'static str {
        EXPORT
    }

    async fn run(&self, ctx: &Ctx, job: &entity::job::Model) -> JobResult {
        let p: ExportJob =
            serde_json::from_value(job.payload.clone()).map_err(|e| JobError::Fail(e.to_string()))?;
        let retry = |e: AppError| JobError::Retry(e.to_string());
        let Some(row) =
            data_export::Entity::find_by_id(p.export).one(&ctx.db).await.map_err(|e| retry(e.into()))?
        else {
            return Ok(());
        };
        if row.status != "PENDING" {
            return Ok(());
        }
        let built = match row.organisation_id {
            Some(org) => organisation_archive(ctx, org).await,
            None => person_archive(ctx, row.user_id).await,
        };
        let now = ctx.now();
        let txn = crate::db::begin_across_tenants_txn(&ctx.db).await.map_err(|e| retry(e.into()))?;
        let mut am: data_export::ActiveModel = row.clone().into();
        match built {
            Ok(bytes) => {
                let expires = now + Duration::days(LINK_DAYS);
                am.size_bytes = Set(Some(bytes.len() as i64));
                am.archive = Set(Some(bytes));
                am.status = Set("READY".into());
                am.ready_at = Set(Some(now));
                am.expires_at = Set(Some(expires));
                am.update(&txn).await.map_err(|e| retry(e.into()))?;
                if let Some(person) = entity::user::Entity::find_by_id(row.user_id)
                    .one(&txn)
                    .await
                    .map_err(|e| retry(e.into()))?
                {
                    let link = download_link(ctx, row.id, expires);
                    let mail = crate::mail::templates::data_export_ready(&person.name, &link, LINK_DAYS);
                    crate::mail::enqueue(&txn, &person.email, mail).await.map_err(retry)?;
                }
            }
            Err(e) if job.attempts < job.max_attempts => return Err(retry(e)),
            Err(e) => {
                am.status = Set("FAILED".into());
                am.error = Set(Some(e.to_string()));
                am.update(&txn).await.map_err(|e| retry(e.into()))?;
            }
        }
        txn.commit().await.map_err(|e| retry(e.into()))?;
        ctx.mail.wake();
        Ok(())
    }
}

/// A signed download link for export `id`, valid until `expires`.
pub fn download_link(ctx: &Ctx, id: Uuid, expires: DateTime<Utc>) -> String {
    let exp = expires.timestamp();
    let sig = ctx.keys.sign(PURPOSE, &format!("{id}:{exp}"));
    format!("{}/privacy/exports/{id}?expires={exp}&sig={sig}", ctx.config.public_url)
}

fn placeholder(backend: sea_orm::DbBackend, n: usize) -> String {
    match backend {
        sea_orm::DbBackend::Postgres => format!("${n}"),
        _ => format!("?{n}"),
    }
}

/// The rows of `table` (its exported columns) matching `condition` over `values`.
async fn rows(
    txn: &DatabaseTransaction,
    table: &str,
    columns: &[String],
    condition: &str,
    values: Vec<Value>,
) -> AppResult<Vec<JsonValue>> {
    let cols: Vec<String> = catalog::exported(columns).into_iter().map(|c| catalog::ident(c)).collect();
    let sql = format!("SELECT {} FROM {} WHERE {condition}", cols.join(", "), catalog::ident(table));
    let stmt = Statement::from_sql_and_values(txn.get_database_backend(), sql, values);
    let mut out = JsonValue::find_by_statement(stmt).all(txn).await?;
    out.truncate(MAX_ROWS);
    Ok(out)
}

/// Every row naming person `user`: by a person column, by their e-mail address, and their
/// account itself.
async fn person_archive(ctx: &Ctx, user: Uuid) -> AppResult<Vec<u8>> {
    // Across tenants: a person's rows are in every organisation they belong to.
    let txn = crate::db::begin_across_tenants_txn(&ctx.db).await?;
    let person = entity::user::Entity::find_by_id(user).one(&txn).await?.ok_or(AppError::NotFound("user"))?;
    let backend = txn.get_database_backend();
    let mut files = Vec::new();
    for (table, columns) in catalog::tables(&txn).await? {
        let mut conditions = Vec::new();
        if table == "users" {
            conditions.push(format!("{} = {}", catalog::ident("id"), placeholder(backend, 1)));
        }
        for c in columns.iter().filter(|c| catalog::PERSON_COLUMNS.contains(&c.as_str())) {
            conditions.push(format!("{} = {}", catalog::ident(c), placeholder(backend, 1)));
        }
        for c in columns.iter().filter(|c| catalog::EMAIL_COLUMNS.contains(&c.as_str())) {
            conditions.push(format!("lower({}) = {}", catalog::ident(c), placeholder(backend, 2)));
        }
        if conditions.is_empty() {
            continue;
        }
        let values = vec![Value::from(user), Value::from(person.email.to_lowercase())];
        let found = rows(&txn, &table, &columns, &conditions.join(" OR "), values).await?;
        if !found.is_empty() {
            files.push((table, found));
        }
    }
    txn.rollback().await?;
    zip(
        &files,
        &format!("Your data at Zygo ({}), one JSON file per table, exported {}.", person.email, ctx.now()),
    )
}

/// Every row of organisation `org`: each tenant-owned table, the organisation itself and its
/// members' names and addresses.
async fn organisation_archive(ctx: &Ctx, org: Uuid) -> AppResult<Vec<u8>> {
    let txn = crate::db::begin_tenant_txn(&ctx.db, crate::db::TenantScope::new(org)).await?;
    let backend = txn.get_database_backend();
    let all = catalog::tables(&txn).await?;
    let mut files = Vec::new();
    let mut owned: Vec<(&str, &str)> = migration::tenant_tables();
    owned.sort();
    for (table, column) in owned {
        let Some(columns) = all.get(table) else { continue };
        let cond = format!("{} = {}", catalog::ident(column), placeholder(backend, 1));
        let found = rows(&txn, table, columns, &cond, vec![Value::from(org)]).await?;
        if !found.is_empty() {
            files.push((table.to_string(), found));
        }
    }
    let members: Vec<Uuid> = crate::db::TenantScope::new(org)
        .find::<entity::membership::Entity>()
        .all(&txn)
        .await?
        .into_iter()
        .map(|m| m.user_id)
        .collect();
    let people: Vec<JsonValue> = entity::user::Entity::find()
        .filter(entity::user::Column::Id.is_in(members))
        .all(&txn)
        .await?
        .into_iter()
        .map(|u| serde_json::json!({ "id": u.id, "name": u.name, "email": u.email }))
        .collect();
    files.push(("members.people".to_string(), people));
    txn.rollback().await?;
    zip(&files, &format!("Organisation {org} at Zygo, one JSON file per table, exported {}.", ctx.now()))
}

fn zip(files: &[(String, Vec<JsonValue>)], readme: &str) -> AppResult<Vec<u8>> {
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let io = |e: std::io::Error| AppError::Internal(e.into());
    let z = |e: zip::result::ZipError| AppError::Internal(e.into());
    out.start_file("README.txt", opts).map_err(z)?;
    out.write_all(readme.as_bytes()).map_err(io)?;
    for (table, rows) in files {
        out.start_file(format!("{table}.json"), opts).map_err(z)?;
        serde_json::to_writer_pretty(&mut out, rows).map_err(|e| AppError::Internal(e.into()))?;
    }
    Ok(out.finish().map_err(z)?.into_inner())
}

#[derive(Deserialize)]
pub struct LinkQuery {
    expires: i64,
    sig: String,
}

/// `GET /privacy/exports/{id}`: the archive, for whoever holds the signed link until it expires.
pub async fn download(
    State(app): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<LinkQuery>,
) -> Response {
    let not_found = || (StatusCode::NOT_FOUND, "no such export link").into_response();
    let Ok(id) = Uuid::parse_str(&id) else { return not_found() };
    let ctx = &app.ctx;
    if q.expires < ctx.now().timestamp() || !ctx.keys.verify(PURPOSE, &format!("{id}:{}", q.expires), &q.sig)
    {
        return not_found();
    }
    match data_export::Entity::find_by_id(id).one(&ctx.db).await {
        Ok(Some(row)) if row.status == "READY" && row.expires_at.is_some_and(|e| e > ctx.now()) => {
            let name =
                format!("zygo-export-{}.zip", row.ready_at.unwrap_or(row.requested_at).format("%Y-%m-%d"));
            (
                [
                    (header::CONTENT_TYPE, "application/zip".to_string()),
                    (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
                    (header::CACHE_CONTROL, "private, no-store".to_string()),
                ],
                row.archive.unwrap_or_default(),
            )
                .into_response()
        }
        Ok(_) => not_found(),
        Err(e) => {
            tracing::error!(error = %e, "data export download");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}
