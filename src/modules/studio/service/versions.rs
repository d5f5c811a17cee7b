//! Published versions: publishing keeps an immutable snapshot of the draft (status PUBLISHED),
//! restoring puts a version's content back into the draft as a new revision, comparing tells
//! what differs per section.

use entity::{document, document_page, document_section, document_version};
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect, Set, sea_query::Expr};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{
    compare::{Comparison, compare},
    documents::{
        DocumentStatus, begin_edit, document_of, emit, event, kind_from_name, require_team_edit, snapshot,
        stale,
    },
    events::DocumentEventKind,
    locks::guard_edit,
};
use crate::{
    access::{Change, TenantCtx, TenantTx},
    auth::Permission,
    ctx::Ctx,
    error::{AppError, AppResult},
    graphql::relay::{self, kind},
};

/// Publishes the draft as it is at `base_revision` (CONFLICT when it has moved on, so one
/// never publishes what one has not seen): a new immutable version, numbered 1, 2, …
pub async fn publish_document(
    ctx: &Ctx,
    tctx: &TenantCtx,
    id: Uuid,
    base_revision: i64,
    note: &str,
) -> AppResult<(document::Model, document_version::Model)> {
    let note = note.trim();
    if note.chars().count() > 500 {
        return Err(AppError::validation("input.note", "at most 500 characters"));
    }
    // The rule depends on the row (the document's team): checked below, before any write.
    tctx.require(Permission::DocumentsPublish)?;
    let mut tx = TenantTx::open(ctx, tctx).await?;
    let scope = tx.scope();
    let mut doc = document_of(&tx, scope, id).await?;
    require_team_edit(&tx, tctx, doc.team_id, Permission::DocumentsPublish).await?;
    // Marks it published only at the revision the caller saw; the row stays locked until the
    // commit, so no edit slips in between the check and the snapshot.
    let marked = scope
        .update_many::<document::Entity>()
        .col_expr(document::Column::Status, Expr::value(DocumentStatus::Published))
        .col_expr(document::Column::PublishedRevision, Expr::value(base_revision))
        .filter(document::Column::Id.eq(id))
        .filter(document::Column::Revision.eq(base_revision))
        .filter(document::Column::DeletedAt.is_null())
        .exec(&tx)
        .await?;
    if marked.rows_affected == 0 {
        return Err(stale(&tx, scope, id, base_revision).await);
    }
    doc.status = DocumentStatus::Published;
    doc.published_revision = Some(base_revision);
    let last: Option<i32> = scope
        .find::<document_version::Entity>()
        .select_only()
        .column(document_version::Column::Number)
        .filter(document_version::Column::DocumentId.eq(id))
        .order_by_desc(document_version::Column::Number)
        .into_tuple()
        .one(&tx)
        .await?;
    let content = snapshot(&tx, scope, &doc).await?;
    let version = scope
        .insert(
            &tx,
            document_version::ActiveModel {
                id: Set(Uuid::now_v7()),
                tenant_id: Set(scope.tenant_id()),
                document_id: Set(id),
                number: Set(last.unwrap_or(0) + 1),
                revision: Set(doc.revision),
                title: Set(doc.title.clone()),
                snapshot: Set(content),
                note: Set(note.to_string()),
                created_by: Set(tctx.acting_user()),
                created_at: Set(ctx.now()),
            },
        )
        .await
        .map_err(|e| AppError::from_db_unique(e, "input.id", "published at the same moment; try again"))?;
    let mut e = event(ctx, tctx, &doc, DocumentEventKind::Published);
    e.version = Some(version.number);
    emit(&mut tx, e);
    tx.commit_with(Change {
        action: "document.published",
        target_type: "Document",
        target_id: Some(id),
        before: None,
        after: Some(json!({ "version": version.number, "revision": doc.revision, "note": version.note })),
    })
    .await?;
    Ok((doc, version))
}

/// Version `id` for a reader (`documents.read`), NOT_FOUND when its document was deleted.
pub async fn get_version(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> AppResult<document_version::Model> {
    tctx.require(Permission::DocumentsRead)?;
    let db = tctx.on(&ctx.db);
    let v = tctx
        .scope()
        .find_by_id::<document_version::Entity, _>(&db, id)
        .await?
        .ok_or(AppError::NotFound("version"))?;
    document_of(&db, tctx.scope(), v.document_id).await.map_err(|_| AppError::NotFound("version"))?;
    Ok(v)
}

/// Compares version `a` with version `b`, or with the current draft when `b` is `None`; both
/// must be of the same document (`documents.read`).
pub async fn compare_versions(
    ctx: &Ctx,
    tctx: &TenantCtx,
    a: Uuid,
    b: Option<Uuid>,
) -> AppResult<(document_version::Model, Option<document_version::Model>, Comparison)> {
    let first = get_version(ctx, tctx, a).await?;
    let (second, other) = match b {
        Some(b) => {
            let v = get_version(ctx, tctx, b).await?;
            if v.document_id != first.document_id {
                return Err(AppError::validation("b", "a version of another document"));
            }
            let s = v.snapshot.clone();
            (Some(v), s)
        }
        None => {
            let db = tctx.on(&ctx.db);
            let doc = document_of(&db, tctx.scope(), first.document_id).await?;
            (None, snapshot(&db, tctx.scope(), &doc).await?)
        }
    };
    let diff = compare(&first.snapshot, &other);
    Ok((first, second, diff))
}

/// Decodes an ID of a snapshot (written by [`snapshot`]) of `type_name`.
fn snapshot_id(v: &Value, type_name: &'static str) -> AppResult<Uuid> {
    v["id"]
        .as_str()
        .and_then(|s| relay::from_global_id(&async_graphql::ID(s.to_string())))
        .filter(|(t, _)| t == type_name)
        .map(|(_, id)| id)
        .ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!("a stored snapshot holds a malformed {type_name} id"))
        })
}

/// Puts version `version_id`'s title, pages and sections back into the draft (their IDs as
/// they were), as a new revision. Refused (LOCKED) while someone else holds a lock in the
/// draft; the draft's sections the version lacks are gone from the draft.
pub async fn restore_document_version(
    ctx: &Ctx,
    tctx: &TenantCtx,
    version_id: Uuid,
    base_revision: i64,
) -> AppResult<document::Model> {
    tctx.require(Permission::DocumentsPublish)?;
    let version = get_version(ctx, tctx, version_id).await?;
    let (mut tx, mut doc) =
        begin_edit(ctx, tctx, version.document_id, base_revision, Permission::DocumentsPublish).await?;
    let scope = tx.scope();
    let current = super::documents::sections_of(&tx, scope, doc.id).await?;
    for s in current {
        guard_edit(&mut tx, ctx, tctx, &doc, s).await?;
    }
    scope
        .delete_many::<document_section::Entity>()
        .filter(document_section::Column::DocumentId.eq(doc.id))
        .exec(&tx)
        .await?;
    scope
        .delete_many::<document_page::Entity>()
        .filter(document_page::Column::DocumentId.eq(doc.id))
        .exec(&tx)
        .await?;
    let now = ctx.now();
    for (p_i, page) in version.snapshot["pages"].as_array().into_iter().flatten().enumerate() {
        let page_id = snapshot_id(page, kind::DOCUMENT_PAGE)?;
        scope
            .insert(
                &tx,
                document_page::ActiveModel {
                    id: Set(page_id),
                    tenant_id: Set(scope.tenant_id()),
                    document_id: Set(doc.id),
                    position: Set(p_i as i32),
                    title: Set(page["title"].as_str().unwrap_or("Page").to_string()),
                    created_at: Set(now),
                    updated_at: Set(now),
                },
            )
            .await?;
        for (s_i, s) in page["sections"].as_array().into_iter().flatten().enumerate() {
            let kind = kind_from_name(s["kind"].as_str().unwrap_or_default()).ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!("a stored snapshot holds an unknown kind"))
            })?;
            scope
                .insert(
                    &tx,
                    document_section::ActiveModel {
                        id: Set(snapshot_id(s, kind::DOCUMENT_SECTION)?),
                        tenant_id: Set(scope.tenant_id()),
                        document_id: Set(doc.id),
                        page_id: Set(page_id),
                        position: Set(s_i as i32),
                        kind: Set(kind),
                        content: Set(s["content"].clone()),
                        lock_holder: Set(None),
                        lock_expires_at: Set(None),
                        updated_by: Set(tctx.acting_user()),
                        created_at: Set(now),
                        updated_at: Set(now),
                    },
                )
                .await?;
        }
    }
    scope
        .update_many::<document::Entity>()
        .col_expr(document::Column::Title, Expr::value(version.title.clone()))
        .filter(document::Column::Id.eq(doc.id))
        .exec(&tx)
        .await?;
    doc.title = version.title.clone();
    let mut e = event(ctx, tctx, &doc, DocumentEventKind::Edited);
    e.change = Some("version.restored".into());
    e.version = Some(version.number);
    emit(&mut tx, e);
    tx.commit_with(Change {
        action: "document.version_restored",
        target_type: "Document",
        target_id: Some(doc.id),
        before: None,
        after: Some(json!({ "version": version.number, "revision": doc.revision })),
    })
    .await?;
    Ok(doc)
}
