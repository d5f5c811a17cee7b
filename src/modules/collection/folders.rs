//! A project's tree of folders: create, rename, move (never under itself or its own
//! descendants), delete (empty, or with everything in it when asked), and each folder's
//! record count and last update.

use std::collections::HashMap;

use entity::{
    collection_export, collection_folder, collection_job, collection_job_input, collection_record,
    collection_record_copy, project_member::ProjectRole,
};
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use serde_json::{Value, json};
use uuid::Uuid;

use super::access::require_project;
use crate::{
    access::{Change, TenantCtx, TenantTx},
    ctx::Ctx,
    db::TenantScope,
    error::{AppError, AppResult},
};

/// Deepest a tree may go.
const MAX_DEPTH: usize = 20;

fn checked_name(name: &str) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 || name.contains('/') {
        return Err(AppError::validation("input.name", "1 to 200 characters, without `/`"));
    }
    Ok(name.to_string())
}

fn checked_tags(tags: &[String]) -> AppResult<Value> {
    if tags.len() > 20 || tags.iter().any(|t| t.trim().is_empty() || t.len() > 40) {
        return Err(AppError::validation("input.tags", "at most 20 tags of 1 to 40 characters"));
    }
    Ok(json!(tags.iter().map(|t| t.trim()).collect::<Vec<_>>()))
}

/// The folder, in the caller's tenant; NOT_FOUND otherwise.
pub async fn folder_in(
    db: &impl ConnectionTrait,
    scope: TenantScope,
    id: Uuid,
) -> AppResult<collection_folder::Model> {
    scope.find_by_id::<collection_folder::Entity, _>(db, id).await?.ok_or(AppError::NotFound("folder"))
}

/// Every folder of a project.
async fn tree(
    db: &impl ConnectionTrait,
    scope: TenantScope,
    project: Uuid,
) -> AppResult<Vec<collection_folder::Model>> {
    Ok(scope
        .find::<collection_folder::Entity>()
        .filter(collection_folder::Column::ProjectId.eq(project))
        .order_by_asc(collection_folder::Column::Name)
        .all(db)
        .await?)
}

/// `root` and every folder beneath it.
fn subtree(all: &[collection_folder::Model], root: Uuid) -> Vec<Uuid> {
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        let cur = out[i];
        out.extend(all.iter().filter(|f| f.parent_id == Some(cur)).map(|f| f.id));
        i += 1;
    }
    out
}

fn depth(all: &[collection_folder::Model], mut parent: Option<Uuid>) -> usize {
    let mut d = 0;
    while let Some(p) = parent {
        d += 1;
        parent = all.iter().find(|f| f.id == p).and_then(|f| f.parent_id);
        if d > MAX_DEPTH + 1 {
            break;
        }
    }
    d
}

/// Creates a folder in a project (project editors), under `parent` if given.
pub async fn create_folder(
    ctx: &Ctx,
    tctx: &TenantCtx,
    project_id: Uuid,
    parent: Option<Uuid>,
    name: &str,
    tags: &[String],
) -> AppResult<collection_folder::Model> {
    let name = checked_name(name)?;
    let tags = checked_tags(tags)?;
    // The rule is the project role, checked before any write.
    let tx = TenantTx::open(ctx, tctx).await?;
    require_project(&tx, tctx, project_id, ProjectRole::Editor).await?;
    let folder = insert_folder(&tx, project_id, parent, &name, tags, ctx.now()).await?;
    tx.commit_with(Change {
        action: "folder.created",
        target_type: "Folder",
        target_id: Some(folder.id),
        before: None,
        after: Some(json!({ "name": folder.name, "parentId": folder.parent_id })),
    })
    .await?;
    Ok(folder)
}

/// A caller's free-form JSON (project settings, folder metadata): an object of at most 16 KiB.
pub(super) fn checked_object(field: &str, v: Value) -> AppResult<Value> {
    if !v.is_object() {
        return Err(AppError::validation(field, "must be a JSON object"));
    }
    if v.to_string().len() > 16 * 1024 {
        return Err(AppError::validation(field, "must be at most 16 KiB"));
    }
    Ok(v)
}

/// Adds a folder inside an open transaction (also for the folder a job creates).
pub async fn insert_folder(
    tx: &TenantTx<'_>,
    project_id: Uuid,
    parent: Option<Uuid>,
    name: &str,
    tags: Value,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<collection_folder::Model> {
    let scope = tx.scope();
    if let Some(p) = parent {
        let pf = folder_in(tx, scope, p)
            .await
            .map_err(|_| AppError::validation("input.parentFolderId", "no such folder"))?;
        if pf.project_id != project_id {
            return Err(AppError::validation("input.parentFolderId", "the parent is in another project"));
        }
        let all = tree(tx, scope, project_id).await?;
        if depth(&all, Some(p)) >= MAX_DEPTH {
            return Err(AppError::validation(
                "input.parentFolderId",
                format!("folders nest at most {MAX_DEPTH} deep"),
            ));
        }
    }
    Ok(scope
        .insert(
            tx,
            collection_folder::ActiveModel {
                id: Set(Uuid::now_v7()),
                tenant_id: Set(scope.tenant_id()),
                project_id: Set(project_id),
                parent_id: Set(parent),
                name: Set(name.to_string()),
                tags: Set(tags),
                metadata: Set(json!({})),
                created_at: Set(now),
                updated_at: Set(now),
            },
        )
        .await?)
}

/// Renames a folder, moves it (`parent`: `Some(None)` to the top), or changes its tags.
pub async fn update_folder(
    ctx: &Ctx,
    tctx: &TenantCtx,
    id: Uuid,
    name: Option<&str>,
    parent: Option<Option<Uuid>>,
    tags: Option<&[String]>,
    metadata: Option<Value>,
) -> AppResult<collection_folder::Model> {
    let name = name.map(checked_name).transpose()?;
    let tags = tags.map(checked_tags).transpose()?;
    let metadata = metadata.map(|m| checked_object("input.metadata", m)).transpose()?;
    let tx = TenantTx::open(ctx, tctx).await?;
    let scope = tx.scope();
    let before = folder_in(&tx, scope, id).await?;
    require_project(&tx, tctx, before.project_id, ProjectRole::Editor).await?;
    let mut am: collection_folder::ActiveModel = before.clone().into();
    if let Some(m) = metadata {
        am.metadata = Set(m);
    }
    if let Some(parent) = parent {
        if let Some(p) = parent {
            let all = tree(&tx, scope, before.project_id).await?;
            if !all.iter().any(|f| f.id == p) {
                return Err(AppError::validation("input.parentFolderId", "no such folder in this project"));
            }
            // A folder cannot go under itself or any folder beneath it.
            if subtree(&all, id).contains(&p) {
                return Err(AppError::validation(
                    "input.parentFolderId",
                    "a folder cannot move into itself or its own subfolders",
                ));
            }
            let below = subtree(&all, id).iter().map(|f| depth(&all, Some(*f)) - depth(&all, Some(id))).max();
            if depth(&all, Some(p)) + below.unwrap_or(0) >= MAX_DEPTH {
                return Err(AppError::validation(
                    "input.parentFolderId",
                    format!("folders nest at most {MAX_DEPTH} deep"),
                ));
            }
        }
        am.parent_id = Set(parent);
    }
    if let Some(n) = name {
        am.name = Set(n);
    }
    if let Some(t) = tags {
        am.tags = Set(t);
    }
    am.updated_at = Set(ctx.now());
    let after = scope.update(&tx, am).await?;
    let action = if after.parent_id != before.parent_id { "folder.moved" } else { "folder.updated" };
    tx.commit_with(Change {
        action,
        target_type: "Folder",
        target_id: Some(id),
        before: Some(json!({ "name": before.name, "parentId": before.parent_id })),
        after: Some(json!({ "name": after.name, "parentId": after.parent_id })),
    })
    .await?;
    Ok(after)
}

/// Deletes the folders `ids` with their records, jobs, job inputs and exports; the exports'
/// files leave the file store by a durable job enqueued here, so they go exactly when the
/// rows do.
async fn delete_folders(tx: &mut TenantTx<'_>, ids: Vec<Uuid>) -> AppResult<()> {
    let scope = tx.scope();
    let files: Vec<Option<String>> = scope
        .find::<collection_export::Entity>()
        .filter(collection_export::Column::FolderId.is_in(ids.clone()))
        .select_only()
        .column(collection_export::Column::StorageKey)
        .into_tuple()
        .all(&*tx)
        .await?;
    let files: Vec<String> = files.into_iter().flatten().collect();
    if !files.is_empty() {
        let key = format!("collection-folders:{}", ids[0]);
        tx.enqueue(crate::modules::resources::purge::remove_objects(files, key)).await?;
    }
    // Copies shown in these folders, and copies elsewhere of the records that go.
    let gone: Vec<Uuid> = scope
        .find::<collection_record::Entity>()
        .filter(collection_record::Column::FolderId.is_in(ids.clone()))
        .select_only()
        .column(collection_record::Column::Id)
        .into_tuple()
        .all(&*tx)
        .await?;
    for chunk in gone.chunks(500) {
        scope
            .delete_many::<collection_record_copy::Entity>()
            .filter(collection_record_copy::Column::RecordId.is_in(chunk.iter().copied()))
            .exec(&*tx)
            .await?;
    }
    scope
        .delete_many::<collection_record_copy::Entity>()
        .filter(collection_record_copy::Column::FolderId.is_in(ids.clone()))
        .exec(&*tx)
        .await?;
    scope
        .delete_many::<collection_export::Entity>()
        .filter(collection_export::Column::FolderId.is_in(ids.clone()))
        .exec(&*tx)
        .await?;
    let jobs: Vec<Uuid> = scope
        .find::<collection_job::Entity>()
        .filter(collection_job::Column::FolderId.is_in(ids.clone()))
        .select_only()
        .column(collection_job::Column::Id)
        .into_tuple()
        .all(&*tx)
        .await?;
    scope
        .delete_many::<collection_job_input::Entity>()
        .filter(collection_job_input::Column::JobId.is_in(jobs.clone()))
        .exec(&*tx)
        .await?;
    scope
        .delete_many::<collection_record::Entity>()
        .filter(collection_record::Column::FolderId.is_in(ids.clone()))
        .exec(&*tx)
        .await?;
    scope
        .delete_many::<collection_job::Entity>()
        .filter(collection_job::Column::Id.is_in(jobs))
        .exec(&*tx)
        .await?;
    // Children first: a parent row is referenced by its children.
    for id in ids.into_iter().rev() {
        scope
            .delete_many::<collection_folder::Entity>()
            .filter(collection_folder::Column::Id.eq(id))
            .exec(&*tx)
            .await?;
    }
    Ok(())
}

/// Every folder of a project, with its contents (the project is being deleted).
pub async fn delete_all_of_project(tx: &mut TenantTx<'_>, project: Uuid) -> AppResult<()> {
    let all = tree(&*tx, tx.scope(), project).await?;
    let mut order = Vec::new();
    for root in all.iter().filter(|f| f.parent_id.is_none()) {
        order.extend(subtree(&all, root.id));
    }
    delete_folders(tx, order).await
}

/// Deletes a folder: refused with CONFLICT when it holds folders or records, unless
/// `with_contents` (then everything beneath it goes too).
pub async fn delete_folder(
    ctx: &Ctx,
    tctx: &TenantCtx,
    id: Uuid,
    with_contents: bool,
) -> AppResult<collection_folder::Model> {
    let mut tx = TenantTx::open(ctx, tctx).await?;
    let scope = tx.scope();
    let f = folder_in(&tx, scope, id).await?;
    require_project(&tx, tctx, f.project_id, ProjectRole::Editor).await?;
    let all = tree(&tx, scope, f.project_id).await?;
    let ids = subtree(&all, id);
    if !with_contents {
        let records = scope
            .find::<collection_record::Entity>()
            .filter(collection_record::Column::FolderId.eq(id))
            .one(&tx)
            .await?;
        let copies = scope
            .find::<collection_record_copy::Entity>()
            .filter(collection_record_copy::Column::FolderId.eq(id))
            .one(&tx)
            .await?;
        if ids.len() > 1 || records.is_some() || copies.is_some() {
            return Err(AppError::conflict(
                "withContents",
                "the folder is not empty; delete it with its contents",
            ));
        }
    }
    delete_folders(&mut tx, ids).await?;
    tx.commit_with(Change {
        action: "folder.deleted",
        target_type: "Folder",
        target_id: Some(id),
        before: Some(json!({ "name": f.name, "withContents": with_contents })),
        after: None,
    })
    .await?;
    Ok(f)
}

/// Record count and last record update of each folder of `folders` (one statement).
pub async fn counts(
    db: &impl ConnectionTrait,
    scope: TenantScope,
    folders: Vec<Uuid>,
) -> AppResult<HashMap<Uuid, (i64, Option<chrono::DateTime<chrono::Utc>>)>> {
    use sea_orm::sea_query::{Expr, Func};
    let rows: Vec<(Uuid, i64, Option<chrono::DateTime<chrono::Utc>>)> = scope
        .find::<collection_record::Entity>()
        .filter(collection_record::Column::FolderId.is_in(folders.clone()))
        .select_only()
        .column(collection_record::Column::FolderId)
        .column_as(Expr::expr(Func::count(Expr::col(collection_record::Column::Id))), "n")
        .column_as(Expr::expr(Func::max(Expr::col(collection_record::Column::UpdatedAt))), "last")
        .group_by(collection_record::Column::FolderId)
        .into_tuple()
        .all(db)
        .await?;
    let copies: Vec<(Uuid, i64, Option<chrono::DateTime<chrono::Utc>>)> = scope
        .find::<collection_record_copy::Entity>()
        .filter(collection_record_copy::Column::FolderId.is_in(folders))
        .select_only()
        .column(collection_record_copy::Column::FolderId)
        .column_as(Expr::expr(Func::count(Expr::col(collection_record_copy::Column::Id))), "n")
        .column_as(Expr::expr(Func::max(Expr::col(collection_record_copy::Column::CreatedAt))), "last")
        .group_by(collection_record_copy::Column::FolderId)
        .into_tuple()
        .all(db)
        .await?;
    let mut out: HashMap<Uuid, (i64, Option<chrono::DateTime<chrono::Utc>>)> =
        rows.into_iter().map(|(f, n, l)| (f, (n, l))).collect();
    for (f, n, l) in copies {
        let e = out.entry(f).or_insert((0, None));
        e.0 += n;
        e.1 = e.1.max(l);
    }
    Ok(out)
}

/// A project's folders (anyone who may see it).
pub async fn list_folders(
    ctx: &Ctx,
    tctx: &TenantCtx,
    project: Uuid,
) -> AppResult<Vec<collection_folder::Model>> {
    let db = tctx.on(&ctx.db);
    require_project(&db, tctx, project, ProjectRole::Viewer).await?;
    tree(&db, tctx.scope(), project).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(id: Uuid, parent: Option<Uuid>) -> collection_folder::Model {
        collection_folder::Model {
            id,
            tenant_id: Uuid::nil(),
            project_id: Uuid::nil(),
            parent_id: parent,
            name: "f".into(),
            tags: json!([]),
            metadata: json!({}),
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn a_subtree_holds_every_descendant_and_depth_counts_ancestors() {
        let (a, b, c, d) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let all = vec![f(a, None), f(b, Some(a)), f(c, Some(b)), f(d, None)];
        let s = subtree(&all, a);
        assert_eq!(s.len(), 3);
        assert!(s.contains(&c) && !s.contains(&d));
        assert_eq!(depth(&all, Some(c)), 3);
        assert_eq!(depth(&all, None), 0);
    }
}
