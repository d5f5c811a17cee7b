//! Sections of a document's pages: add, rewrite (the autosave), move (within a page or to
//! another), duplicate and delete. Each is an edit (see [`super::documents::begin_edit`]); a
//! section locked by someone else is refused (LOCKED) except for copying it.

use entity::{document, document_page, document_section};
use sea_orm::{ColumnTrait, QueryFilter, Set};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{
    documents::{begin_edit, kind_name},
    structure::{
        check_position, edit_page, edit_section, empty_content, finish, renumber_sections, reorder,
        section_of, sections_of_page, validate_content,
    },
};
use crate::{
    access::TenantCtx,
    auth::Permission,
    ctx::Ctx,
    error::{AppError, AppResult},
};

pub use entity::document_section::SectionKind;

/// An IMAGE or EMBED section's file version must be one the editor may see (resources decide).
async fn check_reference(
    db: &impl sea_orm::ConnectionTrait,
    tctx: &TenantCtx,
    kind: SectionKind,
    content: &Value,
) -> AppResult<()> {
    if !matches!(kind, SectionKind::Image | SectionKind::Embed) {
        return Ok(());
    }
    let image = kind == SectionKind::Image;
    crate::modules::resources::service::check_section_reference(db, tctx, "input.content", image, content)
        .await
}

/// Adds a section of `kind` to a page at `position` (the end by default), with `content` or
/// the kind's empty content.
pub async fn add_section(
    ctx: &Ctx,
    tctx: &TenantCtx,
    page_id: Uuid,
    base_revision: i64,
    kind: SectionKind,
    content: Option<Value>,
    position: Option<i32>,
) -> AppResult<(document::Model, document_section::Model)> {
    let content = match content {
        Some(c) => validate_content("input.content", kind, &c)?,
        None => empty_content(kind),
    };
    let position = check_position("input.position", position)?;
    let (mut tx, doc, page) = edit_page(ctx, tctx, page_id, base_revision).await?;
    check_reference(&tx, tctx, kind, &content).await?;
    let scope = tx.scope();
    let current = sections_of_page(&tx, scope, page.id).await?;
    let id = Uuid::now_v7();
    let order = reorder(&current.iter().map(|s| s.id).collect::<Vec<_>>(), id, position.unwrap_or(i32::MAX));
    let at = order.iter().position(|i| *i == id).unwrap_or_default();
    renumber_sections(&tx, scope, &current, page.id, &order).await?;
    let now = ctx.now();
    let section = scope
        .insert(
            &tx,
            document_section::ActiveModel {
                id: Set(id),
                tenant_id: Set(scope.tenant_id()),
                document_id: Set(doc.id),
                page_id: Set(page.id),
                position: Set(at as i32),
                kind: Set(kind),
                content: Set(content),
                lock_holder: Set(None),
                lock_expires_at: Set(None),
                updated_by: Set(tctx.acting_user()),
                created_at: Set(now),
                updated_at: Set(now),
            },
        )
        .await?;
    if kind == SectionKind::Text {
        super::mentions::tell_new_mentions(&mut tx, &doc, section.id, None, &section.content).await?;
    }
    finish(
        tx,
        ctx,
        &doc,
        "section.added",
        Some(page.id),
        Some(section.id),
        json!({ "sectionId": section.id, "kind": kind_name(kind) }),
    )
    .await?;
    Ok((doc, section))
}

/// Replaces a section's content (and optionally its kind): the autosave of a section.
pub async fn update_section(
    ctx: &Ctx,
    tctx: &TenantCtx,
    section_id: Uuid,
    base_revision: i64,
    kind: Option<SectionKind>,
    content: &Value,
) -> AppResult<(document::Model, document_section::Model)> {
    let (mut tx, doc, section) = edit_section(ctx, tctx, section_id, base_revision).await?;
    let kind = kind.unwrap_or(section.kind);
    let content = validate_content("input.content", kind, content)?;
    check_reference(&tx, tctx, kind, &content).await?;
    if kind == SectionKind::Text {
        let before = (section.kind == SectionKind::Text).then_some(&section.content);
        super::mentions::tell_new_mentions(&mut tx, &doc, section.id, before, &content).await?;
    }
    let mut am: document_section::ActiveModel = section.into();
    am.kind = Set(kind);
    am.content = Set(content);
    am.updated_by = Set(tctx.acting_user());
    am.updated_at = Set(ctx.now());
    let section = tx.scope().update(&tx, am).await?;
    finish(
        tx,
        ctx,
        &doc,
        "section.updated",
        Some(section.page_id),
        Some(section.id),
        json!({ "sectionId": section.id, "kind": kind_name(kind) }),
    )
    .await?;
    Ok((doc, section))
}

/// Moves a section to `position` of page `page_id` (its own page by default).
pub async fn move_section(
    ctx: &Ctx,
    tctx: &TenantCtx,
    section_id: Uuid,
    base_revision: i64,
    page_id: Option<Uuid>,
    position: i32,
) -> AppResult<(document::Model, document_section::Model)> {
    check_position("input.position", Some(position))?;
    let (tx, doc, section) = edit_section(ctx, tctx, section_id, base_revision).await?;
    let scope = tx.scope();
    let target = match page_id {
        Some(p) => {
            let page = scope
                .find_by_id::<document_page::Entity, _>(&tx, p)
                .await?
                .filter(|page| page.document_id == doc.id)
                .ok_or_else(|| AppError::validation("input.pageId", "no such page in this document"))?;
            page.id
        }
        None => section.page_id,
    };
    if target != section.page_id {
        // Close the gap it leaves in its old page.
        let old = sections_of_page(&tx, scope, section.page_id).await?;
        let order: Vec<Uuid> = old.iter().map(|s| s.id).filter(|i| *i != section.id).collect();
        renumber_sections(&tx, scope, &old, section.page_id, &order).await?;
    }
    let current = sections_of_page(&tx, scope, target).await?;
    let order = reorder(&current.iter().map(|s| s.id).collect::<Vec<_>>(), section.id, position);
    let mut with_moving = current.clone();
    if !with_moving.iter().any(|s| s.id == section.id) {
        with_moving.push(section.clone());
    }
    renumber_sections(&tx, scope, &with_moving, target, &order).await?;
    let section = section_of(&tx, scope, section_id).await?;
    finish(
        tx,
        ctx,
        &doc,
        "section.moved",
        Some(section.page_id),
        Some(section.id),
        json!({ "sectionId": section.id, "pageId": section.page_id, "position": section.position }),
    )
    .await?;
    Ok((doc, section))
}

/// Copies a section (new ID, no lock) right after it.
pub async fn duplicate_section(
    ctx: &Ctx,
    tctx: &TenantCtx,
    section_id: Uuid,
    base_revision: i64,
) -> AppResult<(document::Model, document_section::Model)> {
    tctx.require(Permission::DocumentsWrite)?;
    let doc_id = section_of(&tctx.on(&ctx.db), tctx.scope(), section_id).await?.document_id;
    // Reading a locked section to copy it is no edit of it: no lock check.
    let (tx, doc) = begin_edit(ctx, tctx, doc_id, base_revision, Permission::DocumentsWrite).await?;
    let scope = tx.scope();
    let section = section_of(&tx, scope, section_id).await?;
    let current = sections_of_page(&tx, scope, section.page_id).await?;
    let id = Uuid::now_v7();
    let mut order: Vec<Uuid> = current.iter().map(|s| s.id).collect();
    let at = order.iter().position(|i| *i == section.id).unwrap_or(order.len().saturating_sub(1)) + 1;
    order.insert(at, id);
    renumber_sections(&tx, scope, &current, section.page_id, &order).await?;
    let now = ctx.now();
    let copy = scope
        .insert(
            &tx,
            document_section::ActiveModel {
                id: Set(id),
                tenant_id: Set(scope.tenant_id()),
                document_id: Set(doc.id),
                page_id: Set(section.page_id),
                position: Set(at as i32),
                kind: Set(section.kind),
                content: Set(section.content.clone()),
                lock_holder: Set(None),
                lock_expires_at: Set(None),
                updated_by: Set(tctx.acting_user()),
                created_at: Set(now),
                updated_at: Set(now),
            },
        )
        .await?;
    finish(
        tx,
        ctx,
        &doc,
        "section.duplicated",
        Some(copy.page_id),
        Some(copy.id),
        json!({ "sectionId": copy.id, "from": section.id }),
    )
    .await?;
    Ok((doc, copy))
}

/// Deletes a section; refused (LOCKED) while someone else holds its lock.
pub async fn delete_section(
    ctx: &Ctx,
    tctx: &TenantCtx,
    section_id: Uuid,
    base_revision: i64,
) -> AppResult<(document::Model, document_section::Model)> {
    let (tx, doc, section) = edit_section(ctx, tctx, section_id, base_revision).await?;
    let scope = tx.scope();
    scope
        .delete_many::<document_section::Entity>()
        .filter(document_section::Column::Id.eq(section.id))
        .exec(&tx)
        .await?;
    let rest = sections_of_page(&tx, scope, section.page_id).await?;
    let order: Vec<Uuid> = rest.iter().map(|s| s.id).collect();
    renumber_sections(&tx, scope, &rest, section.page_id, &order).await?;
    finish(
        tx,
        ctx,
        &doc,
        "section.deleted",
        Some(section.page_id),
        Some(section.id),
        json!({ "sectionId": section.id }),
    )
    .await?;
    Ok((doc, section))
}
