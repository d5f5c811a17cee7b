//! Documents: who may read and change them, the revision every edit checks and advances,
//! snapshots of the whole draft, and the document's own create, rename and delete.

use entity::{document, document_page, document_section, team, team_member};
use sea_orm::{
    ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder, Set,
    sea_query::{Expr, ExprTrait},
};
use serde_json::{Value, json};
use uuid::Uuid;

use super::events::{DocumentEvent, DocumentEventKind};
use crate::{
    access::{Change, TenantCtx, TenantTx},
    auth::Permission,
    ctx::Ctx,
    db::{
        TenantScope,
        page::{PageArgs, Window},
    },
    error::{AppError, AppResult},
    graphql::relay::{self, kind},
};

pub use entity::{document::DocumentStatus, document_section::SectionKind};

/// A title or a page title: 1 to 200 characters once trimmed; errors name `field`.
pub fn validate_title(field: &str, title: &str) -> AppResult<String> {
    let t = title.trim();
    if t.is_empty() || t.chars().count() > 200 {
        return Err(AppError::validation(field, "must be 1 to 200 characters"));
    }
    Ok(t.to_string())
}

/// Document `id` of the tenant, NOT_FOUND when it does not exist or was deleted.
pub async fn document_of(
    db: &impl ConnectionTrait,
    scope: TenantScope,
    id: Uuid,
) -> AppResult<document::Model> {
    scope
        .find_by_id::<document::Entity, _>(db, id)
        .await?
        .filter(|d| d.deleted_at.is_none())
        .ok_or(AppError::NotFound("document"))
}

/// `permission`, and the right to change documents of `team_id`: `documents.manage`, or being
/// an owner or editor of the team (a team's viewers, and members outside it, read only).
pub async fn require_team_edit(
    db: &impl ConnectionTrait,
    tctx: &TenantCtx,
    team_id: Uuid,
    permission: Permission,
) -> AppResult<()> {
    tctx.require(permission)?;
    if tctx.has(Permission::DocumentsManage) {
        return tctx.require(Permission::DocumentsManage);
    }
    use entity::team_member::TeamRole;
    let role = tctx
        .scope()
        .find::<team_member::Entity>()
        .filter(team_member::Column::TeamId.eq(team_id))
        .filter(team_member::Column::MembershipId.eq(tctx.membership_id))
        .one(db)
        .await?
        .map(|m| m.role);
    match role {
        Some(TeamRole::Owner | TeamRole::Editor) => Ok(()),
        _ => Err(AppError::ForbiddenWith(
            "only the team's owners and editors (or holders of documents.manage) may change its documents"
                .into(),
        )),
    }
}

/// The `CONFLICT` of a stale edit: the document's current revision and whole content, so the
/// client can merge or reload; nothing was written.
pub async fn stale(db: &impl ConnectionTrait, scope: TenantScope, id: Uuid, base_revision: i64) -> AppError {
    let current = match document_of(db, scope, id).await {
        Ok(d) => d,
        Err(e) => return e,
    };
    let content = match snapshot(db, scope, &current).await {
        Ok(s) => s,
        Err(e) => return e,
    };
    AppError::RejectedWith {
        code: "CONFLICT",
        message: format!(
            "the document changed since revision {base_revision}: it is at revision {}; merge with the \
             current content and retry",
            current.revision
        ),
        details: json!({
            "field": "input.baseRevision",
            "currentRevision": current.revision,
            "current": content,
        }),
    }
}

/// Opens an edit of document `id`: the permission and team rule, then advances the revision
/// from `base_revision` (CONFLICT with the current content when the document has moved on).
/// Returns the transaction and the document as it is after the edit's revision.
pub async fn begin_edit<'c>(
    ctx: &'c Ctx,
    tctx: &'c TenantCtx,
    id: Uuid,
    base_revision: i64,
    permission: Permission,
) -> AppResult<(TenantTx<'c>, document::Model)> {
    // The rule depends on the row (the document's team): checked below, before any write.
    tctx.require(permission)?;
    let tx = TenantTx::open(ctx, tctx).await?;
    let scope = tx.scope();
    let mut doc = document_of(&tx, scope, id).await?;
    require_team_edit(&tx, tctx, doc.team_id, permission).await?;
    let now = ctx.now();
    // Check and advance in one statement: of two edits from the same revision exactly one
    // passes, on either backend.
    let advanced = scope
        .update_many::<document::Entity>()
        .col_expr(document::Column::Revision, Expr::col(document::Column::Revision).add(1))
        .col_expr(document::Column::UpdatedAt, Expr::value(now))
        .filter(document::Column::Id.eq(id))
        .filter(document::Column::Revision.eq(base_revision))
        .filter(document::Column::DeletedAt.is_null())
        .exec(&tx)
        .await?;
    if advanced.rows_affected == 0 {
        return Err(stale(&tx, scope, id, base_revision).await);
    }
    doc.revision = base_revision + 1;
    doc.updated_at = now;
    Ok((tx, doc))
}

/// The pages of document `id` in order.
pub async fn pages_of(
    db: &impl ConnectionTrait,
    scope: TenantScope,
    id: Uuid,
) -> AppResult<Vec<document_page::Model>> {
    Ok(scope
        .find::<document_page::Entity>()
        .filter(document_page::Column::DocumentId.eq(id))
        .order_by_asc(document_page::Column::Position)
        .order_by_asc(document_page::Column::Id)
        .all(db)
        .await?)
}

/// Every section of document `id`, by page and position.
pub async fn sections_of(
    db: &impl ConnectionTrait,
    scope: TenantScope,
    id: Uuid,
) -> AppResult<Vec<document_section::Model>> {
    Ok(scope
        .find::<document_section::Entity>()
        .filter(document_section::Column::DocumentId.eq(id))
        .order_by_asc(document_section::Column::Position)
        .order_by_asc(document_section::Column::Id)
        .all(db)
        .await?)
}

/// A section kind's API name.
pub fn kind_name(kind: SectionKind) -> &'static str {
    match kind {
        SectionKind::Text => "TEXT",
        SectionKind::Image => "IMAGE",
        SectionKind::Embed => "EMBED",
        SectionKind::Code => "CODE",
    }
}

/// The kind named `name` (as [`kind_name`] writes it).
pub fn kind_from_name(name: &str) -> Option<SectionKind> {
    [SectionKind::Text, SectionKind::Image, SectionKind::Embed, SectionKind::Code]
        .into_iter()
        .find(|k| kind_name(*k) == name)
}

/// The whole draft as one JSON value, with the API's IDs: `{title, revision, pages: [{id,
/// title, sections: [{id, kind, content}]}]}`. Versions keep it; CONFLICT errors carry it.
pub async fn snapshot(
    db: &impl ConnectionTrait,
    scope: TenantScope,
    doc: &document::Model,
) -> AppResult<Value> {
    let pages = pages_of(db, scope, doc.id).await?;
    let sections = sections_of(db, scope, doc.id).await?;
    Ok(snapshot_of(doc, &pages, &sections))
}

/// [`snapshot`] of rows already read.
pub fn snapshot_of(
    doc: &document::Model,
    pages: &[document_page::Model],
    sections: &[document_section::Model],
) -> Value {
    let pages: Vec<Value> = pages
        .iter()
        .map(|p| {
            let sections: Vec<Value> = sections
                .iter()
                .filter(|s| s.page_id == p.id)
                .map(|s| {
                    json!({
                        "id": relay::to_global_id(kind::DOCUMENT_SECTION, s.id).to_string(),
                        "kind": kind_name(s.kind),
                        "content": s.content,
                    })
                })
                .collect();
            json!({
                "id": relay::to_global_id(kind::DOCUMENT_PAGE, p.id).to_string(),
                "title": p.title,
                "sections": sections,
            })
        })
        .collect();
    json!({ "title": doc.title, "revision": doc.revision, "pages": pages })
}

/// Queues `event` of the document for its live viewers (published after the commit).
pub fn emit(tx: &mut TenantTx<'_>, event: DocumentEvent) {
    let topic = super::events::document_topic(tx.scope().tenant_id(), event.document_id);
    tx.emit(topic, &event);
}

/// An event of `kind` about `doc`, by the acting user, now.
pub fn event(ctx: &Ctx, tctx: &TenantCtx, doc: &document::Model, kind: DocumentEventKind) -> DocumentEvent {
    DocumentEvent {
        kind,
        document_id: doc.id,
        revision: doc.revision,
        change: None,
        page_id: None,
        section_id: None,
        user_id: tctx.acting_user(),
        lock_expires_at: None,
        version: None,
        at: ctx.now(),
    }
}

/// Creates a document of `team_id` with one empty page (`documents.write`, and an owner or
/// editor of the team unless `documents.manage`).
pub async fn create_document(
    ctx: &Ctx,
    tctx: &TenantCtx,
    team_id: Uuid,
    title: &str,
) -> AppResult<document::Model> {
    // The rule depends on the team: checked below, before any write.
    tctx.require(Permission::DocumentsWrite)?;
    let tx = TenantTx::open(ctx, tctx).await?;
    let scope = tx.scope();
    let title = validate_title("input.title", title)?;
    scope
        .find_by_id::<team::Entity, _>(&tx, team_id)
        .await?
        .ok_or_else(|| AppError::validation("input.teamId", "no such team in this organisation"))?;
    require_team_edit(&tx, tctx, team_id, Permission::DocumentsWrite).await?;
    let now = ctx.now();
    let doc = scope
        .insert(
            &tx,
            document::ActiveModel {
                id: Set(Uuid::now_v7()),
                tenant_id: Set(scope.tenant_id()),
                team_id: Set(team_id),
                title: Set(title),
                status: Set(DocumentStatus::Draft),
                revision: Set(1),
                published_revision: Set(None),
                created_by: Set(tctx.acting_user()),
                created_at: Set(now),
                updated_at: Set(now),
                deleted_at: Set(None),
            },
        )
        .await?;
    scope
        .insert(
            &tx,
            document_page::ActiveModel {
                id: Set(Uuid::now_v7()),
                tenant_id: Set(scope.tenant_id()),
                document_id: Set(doc.id),
                position: Set(0),
                title: Set("Page 1".into()),
                created_at: Set(now),
                updated_at: Set(now),
            },
        )
        .await?;
    tx.commit_with(Change {
        action: "document.created",
        target_type: "Document",
        target_id: Some(doc.id),
        before: None,
        after: Some(json!({ "title": doc.title, "teamId": team_id })),
    })
    .await?;
    Ok(doc)
}

/// Renames a document (an edit: `baseRevision` checked, the revision advances).
pub async fn update_document(
    ctx: &Ctx,
    tctx: &TenantCtx,
    id: Uuid,
    base_revision: i64,
    title: &str,
) -> AppResult<document::Model> {
    let title = validate_title("input.title", title)?;
    let (mut tx, mut doc) = begin_edit(ctx, tctx, id, base_revision, Permission::DocumentsWrite).await?;
    let before = doc.title.clone();
    tx.scope()
        .update_many::<document::Entity>()
        .col_expr(document::Column::Title, Expr::value(title.clone()))
        .filter(document::Column::Id.eq(id))
        .exec(&tx)
        .await?;
    doc.title = title;
    let mut e = event(ctx, tctx, &doc, DocumentEventKind::Edited);
    e.change = Some("document.renamed".into());
    emit(&mut tx, e);
    tx.commit_with(Change {
        action: "document.renamed",
        target_type: "Document",
        target_id: Some(id),
        before: Some(json!({ "title": before })),
        after: Some(json!({ "title": doc.title, "revision": doc.revision })),
    })
    .await?;
    Ok(doc)
}

/// Deletes a document (`documents.manage`): gone for every reader; its live viewers hear of it.
pub async fn delete_document(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> AppResult<document::Model> {
    let mut tx = TenantTx::begin(ctx, tctx, Permission::DocumentsManage).await?;
    let scope = tx.scope();
    let doc = document_of(&tx, scope, id).await?;
    let now = ctx.now();
    scope
        .update_many::<document::Entity>()
        .col_expr(document::Column::DeletedAt, Expr::value(now))
        .filter(document::Column::Id.eq(id))
        .exec(&tx)
        .await?;
    emit(&mut tx, event(ctx, tctx, &doc, DocumentEventKind::Deleted));
    tx.commit_with(Change {
        action: "document.deleted",
        target_type: "Document",
        target_id: Some(id),
        before: Some(json!({ "title": doc.title, "revision": doc.revision })),
        after: None,
    })
    .await?;
    Ok(doc)
}

/// Document `id` for a reader (`documents.read`).
pub async fn get_document(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> AppResult<document::Model> {
    tctx.require(Permission::DocumentsRead)?;
    document_of(&tctx.on(&ctx.db), tctx.scope(), id).await
}

/// Validates a page request of documents (`documents.read`).
pub fn documents_window(ctx: &Ctx, tctx: &TenantCtx, args: &PageArgs) -> AppResult<Window> {
    tctx.require(Permission::DocumentsRead)?;
    args.window(ctx.config.max_page_size)
}
