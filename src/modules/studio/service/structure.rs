//! Pages of a document's draft (add, rename, move, duplicate, delete) and what section edits
//! share with them: content rules, ordering, opening an edit of a page or section. Each is an
//! edit (see [`super::documents::begin_edit`]): it carries the revision it was based on and
//! advances the document's; sections locked by someone else are refused.

use entity::{document, document_page, document_section};
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder, Set, sea_query::Expr};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{
    documents::{begin_edit, emit, event, validate_title},
    events::DocumentEventKind,
    locks::guard_edit,
};
use crate::{
    access::{Change, TenantCtx, TenantTx},
    auth::Permission,
    ctx::Ctx,
    db::TenantScope,
    error::{AppError, AppResult},
};

pub use entity::document_section::SectionKind;

/// Largest section content, serialised.
pub const MAX_CONTENT_BYTES: usize = 256 * 1024;

/// Checks `content` against what a section of `kind` holds; errors name `field`.
pub fn validate_content(field: &str, kind: SectionKind, content: &Value) -> AppResult<Value> {
    let bytes = serde_json::to_vec(content).map(|v| v.len()).unwrap_or(usize::MAX);
    if bytes > MAX_CONTENT_BYTES {
        return Err(AppError::validation(field, format!("at most {MAX_CONTENT_BYTES} bytes of JSON")));
    }
    let Value::Object(map) = content else {
        return Err(AppError::validation(field, "must be a JSON object"));
    };
    let string = |key: &str, required: bool| -> AppResult<()> {
        match map.get(key) {
            Some(Value::String(_)) => Ok(()),
            None | Some(Value::Null) if !required => Ok(()),
            _ => Err(AppError::validation(format!("{field}.{key}"), "must be a string")),
        }
    };
    match kind {
        // Rich text as structured JSON (a document tree such as ProseMirror's): any object.
        SectionKind::Text => {}
        SectionKind::Code => {
            string("language", true)?;
            string("source", true)?;
            if map.keys().any(|k| k != "language" && k != "source") {
                return Err(AppError::validation(field, "a CODE section holds only `language` and `source`"));
            }
        }
        // The shape only; the version it names is checked in the edit's transaction
        // (`sections::check_reference`, by resources).
        SectionKind::Image | SectionKind::Embed => {
            string("resourceVersionId", false)?;
            string("alt", false)?;
            if map.keys().any(|k| k != "resourceVersionId" && k != "alt") {
                return Err(AppError::validation(
                    field,
                    "an IMAGE or EMBED section holds only `resourceVersionId` and `alt`",
                ));
            }
        }
    }
    Ok(content.clone())
}

/// The empty content of a new section of `kind`.
pub fn empty_content(kind: SectionKind) -> Value {
    match kind {
        SectionKind::Text => json!({ "type": "doc", "content": [] }),
        SectionKind::Code => json!({ "language": "plaintext", "source": "" }),
        SectionKind::Image | SectionKind::Embed => json!({ "resourceVersionId": null, "alt": "" }),
    }
}

/// The new order of `ids` once `moving` is at index `to` (clamped to the list); `moving` is
/// appended first when it is not in the list yet.
pub fn reorder(ids: &[Uuid], moving: Uuid, to: i32) -> Vec<Uuid> {
    let mut out: Vec<Uuid> = ids.iter().copied().filter(|i| *i != moving).collect();
    let at = (to.max(0) as usize).min(out.len());
    out.insert(at, moving);
    out
}

/// A position argument: 0 or more; errors name `field`.
pub(super) fn check_position(field: &str, p: Option<i32>) -> AppResult<Option<i32>> {
    match p {
        Some(p) if p < 0 => Err(AppError::validation(field, "must be 0 or more")),
        p => Ok(p),
    }
}

/// Writes positions 0.. to the pages of `order` whose position differs (ids not in `current`,
/// such as the one being added, are skipped).
async fn renumber_pages(
    db: &impl ConnectionTrait,
    scope: TenantScope,
    current: &[document_page::Model],
    order: &[Uuid],
) -> AppResult<()> {
    for (i, id) in order.iter().enumerate() {
        let Some(now) = current.iter().find(|p| p.id == *id).map(|p| p.position) else { continue };
        if now != i as i32 {
            scope
                .update_many::<document_page::Entity>()
                .col_expr(document_page::Column::Position, Expr::value(i as i32))
                .filter(document_page::Column::Id.eq(*id))
                .exec(db)
                .await?;
        }
    }
    Ok(())
}

/// Writes positions 0.. (and page `page_id`) to the sections of `order` that differ (ids not
/// in `current` are skipped).
pub(super) async fn renumber_sections(
    db: &impl ConnectionTrait,
    scope: TenantScope,
    current: &[document_section::Model],
    page_id: Uuid,
    order: &[Uuid],
) -> AppResult<()> {
    for (i, id) in order.iter().enumerate() {
        let Some(now) = current.iter().find(|s| s.id == *id).map(|s| (s.page_id, s.position)) else {
            continue;
        };
        if now != (page_id, i as i32) {
            scope
                .update_many::<document_section::Entity>()
                .col_expr(document_section::Column::Position, Expr::value(i as i32))
                .col_expr(document_section::Column::PageId, Expr::value(page_id))
                .filter(document_section::Column::Id.eq(*id))
                .exec(db)
                .await?;
        }
    }
    Ok(())
}

async fn pages(
    db: &impl ConnectionTrait,
    scope: TenantScope,
    doc: Uuid,
) -> AppResult<Vec<document_page::Model>> {
    super::documents::pages_of(db, scope, doc).await
}

pub(super) async fn sections_of_page(
    db: &impl ConnectionTrait,
    scope: TenantScope,
    page: Uuid,
) -> AppResult<Vec<document_section::Model>> {
    Ok(scope
        .find::<document_section::Entity>()
        .filter(document_section::Column::PageId.eq(page))
        .order_by_asc(document_section::Column::Position)
        .order_by_asc(document_section::Column::Id)
        .all(db)
        .await?)
}

/// Page `id` (its document not deleted), read behind the wall before the edit opens.
pub async fn page_of(
    db: &impl ConnectionTrait,
    scope: TenantScope,
    id: Uuid,
) -> AppResult<document_page::Model> {
    scope.find_by_id::<document_page::Entity, _>(db, id).await?.ok_or(AppError::NotFound("page"))
}

/// Section `id`, read behind the wall.
pub async fn section_of(
    db: &impl ConnectionTrait,
    scope: TenantScope,
    id: Uuid,
) -> AppResult<document_section::Model> {
    scope.find_by_id::<document_section::Entity, _>(db, id).await?.ok_or(AppError::NotFound("section"))
}

/// Opens an edit of the document owning page `page_id`, and re-reads the page inside it.
pub(super) async fn edit_page<'c>(
    ctx: &'c Ctx,
    tctx: &'c TenantCtx,
    page_id: Uuid,
    base_revision: i64,
) -> AppResult<(TenantTx<'c>, document::Model, document_page::Model)> {
    tctx.require(Permission::DocumentsWrite)?;
    let doc_id = page_of(&tctx.on(&ctx.db), tctx.scope(), page_id).await?.document_id;
    let (tx, doc) = begin_edit(ctx, tctx, doc_id, base_revision, Permission::DocumentsWrite).await?;
    let page = page_of(&tx, tx.scope(), page_id).await?;
    Ok((tx, doc, page))
}

/// Opens an edit of the document owning section `section_id`, re-reads the section inside it
/// and refuses it (LOCKED) when someone else holds its lock.
pub(super) async fn edit_section<'c>(
    ctx: &'c Ctx,
    tctx: &'c TenantCtx,
    section_id: Uuid,
    base_revision: i64,
) -> AppResult<(TenantTx<'c>, document::Model, document_section::Model)> {
    tctx.require(Permission::DocumentsWrite)?;
    let doc_id = section_of(&tctx.on(&ctx.db), tctx.scope(), section_id).await?.document_id;
    let (mut tx, doc) = begin_edit(ctx, tctx, doc_id, base_revision, Permission::DocumentsWrite).await?;
    let section = section_of(&tx, tx.scope(), section_id).await?;
    let section = guard_edit(&mut tx, ctx, tctx, &doc, section).await?;
    Ok((tx, doc, section))
}

/// Queues the EDITED event of `change` and commits with its audit entry.
pub(super) async fn finish(
    mut tx: TenantTx<'_>,
    ctx: &Ctx,
    doc: &document::Model,
    change: &str,
    page_id: Option<Uuid>,
    section_id: Option<Uuid>,
    details: Value,
) -> AppResult<()> {
    let mut e = event(ctx, tx.tctx(), doc, DocumentEventKind::Edited);
    e.change = Some(change.to_string());
    e.page_id = page_id;
    e.section_id = section_id;
    emit(&mut tx, e);
    let mut after = details;
    after["revision"] = json!(doc.revision);
    tx.commit_with(Change {
        action: &format!("document.{}", change.replace('.', "_")),
        target_type: "Document",
        target_id: Some(doc.id),
        before: None,
        after: Some(after),
    })
    .await
}

/// Adds a page titled `title` at `position` (the end by default).
pub async fn add_page(
    ctx: &Ctx,
    tctx: &TenantCtx,
    document_id: Uuid,
    base_revision: i64,
    title: &str,
    position: Option<i32>,
) -> AppResult<(document::Model, document_page::Model)> {
    let title = validate_title("input.title", title)?;
    let position = check_position("input.position", position)?;
    let (tx, doc) = begin_edit(ctx, tctx, document_id, base_revision, Permission::DocumentsWrite).await?;
    let scope = tx.scope();
    let current = pages(&tx, scope, doc.id).await?;
    let now = ctx.now();
    let id = Uuid::now_v7();
    let order = reorder(&current.iter().map(|p| p.id).collect::<Vec<_>>(), id, position.unwrap_or(i32::MAX));
    let at = order.iter().position(|i| *i == id).unwrap_or_default() as i32;
    renumber_pages(&tx, scope, &current, &order).await?;
    let page = scope
        .insert(
            &tx,
            document_page::ActiveModel {
                id: Set(id),
                tenant_id: Set(scope.tenant_id()),
                document_id: Set(doc.id),
                position: Set(at),
                title: Set(title),
                created_at: Set(now),
                updated_at: Set(now),
            },
        )
        .await?;
    finish(
        tx,
        ctx,
        &doc,
        "page.added",
        Some(page.id),
        None,
        json!({ "pageId": page.id, "title": page.title }),
    )
    .await?;
    Ok((doc, page))
}

/// Renames a page.
pub async fn update_page(
    ctx: &Ctx,
    tctx: &TenantCtx,
    page_id: Uuid,
    base_revision: i64,
    title: &str,
) -> AppResult<(document::Model, document_page::Model)> {
    let title = validate_title("input.title", title)?;
    let (tx, doc, page) = edit_page(ctx, tctx, page_id, base_revision).await?;
    let mut am: document_page::ActiveModel = page.into();
    am.title = Set(title);
    am.updated_at = Set(ctx.now());
    let page = tx.scope().update(&tx, am).await?;
    finish(
        tx,
        ctx,
        &doc,
        "page.renamed",
        Some(page.id),
        None,
        json!({ "pageId": page.id, "title": page.title }),
    )
    .await?;
    Ok((doc, page))
}

/// Moves a page to `position` among the document's pages.
pub async fn move_page(
    ctx: &Ctx,
    tctx: &TenantCtx,
    page_id: Uuid,
    base_revision: i64,
    position: i32,
) -> AppResult<(document::Model, document_page::Model)> {
    check_position("input.position", Some(position))?;
    let (tx, doc, page) = edit_page(ctx, tctx, page_id, base_revision).await?;
    let scope = tx.scope();
    let current = pages(&tx, scope, doc.id).await?;
    let order = reorder(&current.iter().map(|p| p.id).collect::<Vec<_>>(), page.id, position);
    renumber_pages(&tx, scope, &current, &order).await?;
    let page = page_of(&tx, scope, page_id).await?;
    finish(
        tx,
        ctx,
        &doc,
        "page.moved",
        Some(page.id),
        None,
        json!({ "pageId": page.id, "position": page.position }),
    )
    .await?;
    Ok((doc, page))
}

/// Copies a page and its sections (new IDs, no locks) right after it.
pub async fn duplicate_page(
    ctx: &Ctx,
    tctx: &TenantCtx,
    page_id: Uuid,
    base_revision: i64,
) -> AppResult<(document::Model, document_page::Model)> {
    let (tx, doc, page) = edit_page(ctx, tctx, page_id, base_revision).await?;
    let scope = tx.scope();
    let current = pages(&tx, scope, doc.id).await?;
    let id = Uuid::now_v7();
    let mut order: Vec<Uuid> = current.iter().map(|p| p.id).collect();
    let at = order.iter().position(|i| *i == page.id).unwrap_or(order.len().saturating_sub(1)) + 1;
    order.insert(at, id);
    renumber_pages(&tx, scope, &current, &order).await?;
    let now = ctx.now();
    let copy = scope
        .insert(
            &tx,
            document_page::ActiveModel {
                id: Set(id),
                tenant_id: Set(scope.tenant_id()),
                document_id: Set(doc.id),
                position: Set(at as i32),
                title: Set(format!("{} (copy)", page.title).chars().take(200).collect()),
                created_at: Set(now),
                updated_at: Set(now),
            },
        )
        .await?;
    let sections = sections_of_page(&tx, scope, page.id).await?;
    if !sections.is_empty() {
        scope
            .insert_many::<document_section::Entity, _>(sections.iter().map(|s| {
                document_section::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    tenant_id: Set(scope.tenant_id()),
                    document_id: Set(doc.id),
                    page_id: Set(copy.id),
                    position: Set(s.position),
                    kind: Set(s.kind),
                    content: Set(s.content.clone()),
                    lock_holder: Set(None),
                    lock_expires_at: Set(None),
                    updated_by: Set(tctx.acting_user()),
                    created_at: Set(now),
                    updated_at: Set(now),
                }
            }))
            .exec(&tx)
            .await?;
    }
    finish(
        tx,
        ctx,
        &doc,
        "page.duplicated",
        Some(copy.id),
        None,
        json!({ "pageId": copy.id, "from": page.id }),
    )
    .await?;
    Ok((doc, copy))
}

/// Deletes a page and its sections; refused (LOCKED) while someone else holds a lock in it.
pub async fn delete_page(
    ctx: &Ctx,
    tctx: &TenantCtx,
    page_id: Uuid,
    base_revision: i64,
) -> AppResult<(document::Model, document_page::Model)> {
    let (mut tx, doc, page) = edit_page(ctx, tctx, page_id, base_revision).await?;
    let scope = tx.scope();
    for s in sections_of_page(&tx, scope, page.id).await? {
        guard_edit(&mut tx, ctx, tctx, &doc, s).await?;
    }
    scope
        .delete_many::<document_section::Entity>()
        .filter(document_section::Column::PageId.eq(page.id))
        .exec(&tx)
        .await?;
    scope
        .delete_many::<document_page::Entity>()
        .filter(document_page::Column::Id.eq(page.id))
        .exec(&tx)
        .await?;
    let rest = pages(&tx, scope, doc.id).await?;
    let order: Vec<Uuid> = rest.iter().map(|p| p.id).collect();
    renumber_pages(&tx, scope, &rest, &order).await?;
    finish(
        tx,
        ctx,
        &doc,
        "page.deleted",
        Some(page.id),
        None,
        json!({ "pageId": page.id, "title": page.title }),
    )
    .await?;
    Ok((doc, page))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reorder_moves_inserts_and_clamps() {
        let [a, b, c, d] = [Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7()];
        assert_eq!(reorder(&[a, b, c], a, 2), vec![b, c, a]);
        assert_eq!(reorder(&[a, b, c], c, 0), vec![c, a, b]);
        assert_eq!(reorder(&[a, b, c], b, 99), vec![a, c, b], "past the end is the end");
        assert_eq!(reorder(&[a, b, c], d, 1), vec![a, d, b, c], "a new one is inserted");
        assert_eq!(reorder(&[], d, 5), vec![d]);
    }

    #[test]
    fn content_is_checked_against_its_kind() {
        let ok = |k, v: Value| validate_content("input.content", k, &v).is_ok();
        assert!(ok(SectionKind::Text, json!({ "type": "doc", "content": [] })));
        assert!(!ok(SectionKind::Text, json!("plain string")));
        assert!(ok(SectionKind::Code, json!({ "language": "rust", "source": "fn main() {}" })));
        assert!(!ok(SectionKind::Code, json!({ "language": "rust" })));
        assert!(!ok(SectionKind::Code, json!({ "language": "rust", "source": "", "extra": 1 })));
        assert!(ok(SectionKind::Image, json!({ "resourceVersionId": null, "alt": "" })));
        assert!(ok(SectionKind::Embed, json!({ "resourceVersionId": "UmVzb3VyY2U6eA" })));
        assert!(!ok(SectionKind::Embed, json!({ "resourceVersionId": 5 })));
        let big = json!({ "text": "x".repeat(MAX_CONTENT_BYTES) });
        let e = validate_content("input.content", SectionKind::Text, &big).unwrap_err();
        assert!(matches!(e, AppError::Validation { field, .. } if field == "input.content"));
    }
}
