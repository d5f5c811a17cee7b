//! Saved searches of a project (name, words, filters, sort, optionally one folder) and each
//! member's search history in a project, which `searchSuggestions` reads. Owns
//! `collection_saved_searches` and `collection_search_history`.

use entity::{
    collection_saved_search as saved, collection_search_history as history, project_member::ProjectRole,
};
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use serde_json::json;
use uuid::Uuid;

use super::{
    access::require_project,
    folders::folder_in,
    search::{RecordFilter, Sort, validate},
};
use crate::{
    access::{Change, TenantCtx, TenantTx},
    ctx::Ctx,
    error::{AppError, AppResult},
};

/// How many distinct queries a member's history keeps per project.
pub const HISTORY_KEPT: usize = 50;

/// The fields of a saved search.
#[derive(Clone, Debug, Default)]
pub struct SavedFields {
    pub name: Option<String>,
    /// `Some(None)`: the whole project.
    pub folder: Option<Option<Uuid>>,
    pub filter: Option<RecordFilter>,
    pub sort: Option<Sort>,
}

fn checked_name(name: &str) -> AppResult<String> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 100 {
        return Err(AppError::validation("input.name", "1 to 100 characters"));
    }
    Ok(n.to_string())
}

async fn check_folder(tx: &TenantTx<'_>, project: Uuid, folder: Option<Uuid>) -> AppResult<()> {
    if let Some(f) = folder {
        let f = folder_in(tx, tx.scope(), f)
            .await
            .map_err(|_| AppError::validation("input.folderId", "no such folder"))?;
        if f.project_id != project {
            return Err(AppError::validation("input.folderId", "a folder of another project"));
        }
    }
    Ok(())
}

/// The saved searches of a project, by name (project viewers).
pub async fn list(ctx: &Ctx, tctx: &TenantCtx, project: Uuid) -> AppResult<Vec<saved::Model>> {
    let db = tctx.on(&ctx.db);
    require_project(&db, tctx, project, ProjectRole::Viewer).await?;
    Ok(tctx
        .scope()
        .find::<saved::Entity>()
        .filter(saved::Column::ProjectId.eq(project))
        .order_by_asc(saved::Column::Name)
        .all(&db)
        .await?)
}

/// One saved search (project viewers).
pub async fn get(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> AppResult<saved::Model> {
    let db = tctx.on(&ctx.db);
    let s = tctx
        .scope()
        .find_by_id::<saved::Entity, _>(&db, id)
        .await?
        .ok_or(AppError::NotFound("saved search"))?;
    require_project(&db, tctx, s.project_id, ProjectRole::Viewer).await?;
    Ok(s)
}

/// Saves a search in a project (project editors).
pub async fn create(ctx: &Ctx, tctx: &TenantCtx, project: Uuid, f: SavedFields) -> AppResult<saved::Model> {
    let name = checked_name(f.name.as_deref().unwrap_or(""))?;
    let filter = f.filter.unwrap_or_default();
    validate("input.filter", &filter)?;
    // The rule is the project role, checked before any write.
    let tx = TenantTx::open(ctx, tctx).await?;
    require_project(&tx, tctx, project, ProjectRole::Editor).await?;
    let folder = f.folder.flatten();
    check_folder(&tx, project, folder).await?;
    let now = ctx.now();
    let row = tx
        .scope()
        .insert(
            &tx,
            saved::ActiveModel {
                id: Set(Uuid::now_v7()),
                tenant_id: Set(tx.scope().tenant_id()),
                project_id: Set(project),
                folder_id: Set(folder),
                name: Set(name),
                query: Set(filter.search.clone().unwrap_or_default()),
                filter: Set(json!(filter)),
                sort: Set(json!(f.sort.unwrap_or_default())),
                created_by: Set(tctx.user_id),
                created_at: Set(now),
                updated_at: Set(now),
            },
        )
        .await
        .map_err(|e| AppError::from_db_unique(e, "input.name", "a saved search of that name exists"))?;
    tx.commit_with(Change {
        action: "saved_search.created",
        target_type: "SavedSearch",
        target_id: Some(row.id),
        before: None,
        after: Some(json!({ "name": row.name, "projectId": project })),
    })
    .await?;
    Ok(row)
}

/// Changes a saved search (project editors).
pub async fn update(ctx: &Ctx, tctx: &TenantCtx, id: Uuid, f: SavedFields) -> AppResult<saved::Model> {
    let name = f.name.as_deref().map(checked_name).transpose()?;
    if let Some(filter) = &f.filter {
        validate("input.filter", filter)?;
    }
    let tx = TenantTx::open(ctx, tctx).await?;
    let s = tx
        .scope()
        .find_by_id::<saved::Entity, _>(&tx, id)
        .await?
        .ok_or(AppError::NotFound("saved search"))?;
    require_project(&tx, tctx, s.project_id, ProjectRole::Editor).await?;
    let mut am: saved::ActiveModel = s.clone().into();
    if let Some(n) = name {
        am.name = Set(n);
    }
    if let Some(folder) = f.folder {
        check_folder(&tx, s.project_id, folder).await?;
        am.folder_id = Set(folder);
    }
    if let Some(filter) = f.filter {
        am.query = Set(filter.search.clone().unwrap_or_default());
        am.filter = Set(json!(filter));
    }
    if let Some(sort) = f.sort {
        am.sort = Set(json!(sort));
    }
    am.updated_at = Set(ctx.now());
    let row = tx
        .scope()
        .update(&tx, am)
        .await
        .map_err(|e| AppError::from_db_unique(e, "input.name", "a saved search of that name exists"))?;
    tx.commit_with(Change {
        action: "saved_search.updated",
        target_type: "SavedSearch",
        target_id: Some(id),
        before: Some(json!({ "name": s.name })),
        after: Some(json!({ "name": row.name })),
    })
    .await?;
    Ok(row)
}

/// Deletes a saved search (project editors).
pub async fn delete(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> AppResult<saved::Model> {
    let tx = TenantTx::open(ctx, tctx).await?;
    let s = tx
        .scope()
        .find_by_id::<saved::Entity, _>(&tx, id)
        .await?
        .ok_or(AppError::NotFound("saved search"))?;
    require_project(&tx, tctx, s.project_id, ProjectRole::Editor).await?;
    tx.scope().delete_many::<saved::Entity>().filter(saved::Column::Id.eq(id)).exec(&tx).await?;
    tx.commit_with(Change {
        action: "saved_search.deleted",
        target_type: "SavedSearch",
        target_id: Some(id),
        before: Some(json!({ "name": s.name })),
        after: None,
    })
    .await?;
    Ok(s)
}

/// A saved search's filter and sort as stored.
pub fn spec(s: &saved::Model) -> (RecordFilter, Sort) {
    (
        serde_json::from_value(s.filter.clone()).unwrap_or_default(),
        serde_json::from_value(s.sort.clone()).unwrap_or_default(),
    )
}

fn normalised(q: &str) -> String {
    q.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(200).collect()
}

/// Remembers that the member searched `q` in `project` (nothing for an empty query or a
/// caller that is not a member acting as themselves). Its own small transaction, no audit
/// entry: history is the member's, not the organisation's record.
pub async fn remember(ctx: &Ctx, tctx: &TenantCtx, project: Uuid, q: &str) -> AppResult<()> {
    let q = normalised(q);
    if q.is_empty() || tctx.acting_user().is_none() {
        return Ok(());
    }
    let tx = TenantTx::open(ctx, tctx).await?;
    let scope = tx.scope();
    let now = ctx.now();
    let known = scope
        .find::<history::Entity>()
        .filter(history::Column::ProjectId.eq(project))
        .filter(history::Column::UserId.eq(tctx.user_id))
        .filter(history::Column::Query.eq(q.clone()))
        .one(&tx)
        .await?;
    match known {
        Some(h) => {
            let uses = h.uses;
            let mut am: history::ActiveModel = h.into();
            am.uses = Set(uses.saturating_add(1));
            am.last_used_at = Set(now);
            scope.update(&tx, am).await?;
        }
        None => {
            scope
                .insert(
                    &tx,
                    history::ActiveModel {
                        id: Set(Uuid::now_v7()),
                        tenant_id: Set(scope.tenant_id()),
                        project_id: Set(project),
                        user_id: Set(tctx.user_id),
                        query: Set(q),
                        uses: Set(1),
                        last_used_at: Set(now),
                    },
                )
                .await?;
            // Keep the newest HISTORY_KEPT.
            let old: Vec<Uuid> = scope
                .find::<history::Entity>()
                .select_only()
                .column(history::Column::Id)
                .filter(history::Column::ProjectId.eq(project))
                .filter(history::Column::UserId.eq(tctx.user_id))
                .order_by_desc(history::Column::LastUsedAt)
                .into_tuple::<Uuid>()
                .all(&tx)
                .await?
                .into_iter()
                .skip(HISTORY_KEPT)
                .collect();
            if !old.is_empty() {
                scope
                    .delete_many::<history::Entity>()
                    .filter(history::Column::Id.is_in(old))
                    .exec(&tx)
                    .await?;
            }
        }
    }
    tx.commit().await
}

/// The member's earlier queries in `project` starting with `prefix` (case-insensitive),
/// most recent first (project viewers).
pub async fn suggestions(
    ctx: &Ctx,
    tctx: &TenantCtx,
    project: Uuid,
    prefix: &str,
    limit: usize,
) -> AppResult<Vec<String>> {
    if prefix.chars().count() > 200 {
        return Err(AppError::validation("prefix", "at most 200 characters"));
    }
    let db = tctx.on(&ctx.db);
    require_project(&db, tctx, project, ProjectRole::Viewer).await?;
    let prefix = normalised(prefix).to_lowercase();
    let rows = tctx
        .scope()
        .find::<history::Entity>()
        .filter(history::Column::ProjectId.eq(project))
        .filter(history::Column::UserId.eq(tctx.user_id))
        .order_by_desc(history::Column::LastUsedAt)
        .limit(HISTORY_KEPT as u64)
        .all(&db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|h| h.query)
        .filter(|q| q.to_lowercase().starts_with(&prefix))
        .take(limit.clamp(1, 20))
        .collect())
}
