//! Section locks: one editor per section at a time. A lock is held for the configured time
//! (`ZYGO_STUDIO_LOCK_SECONDS`, 60 s by default) from its last heartbeat; whether it still
//! holds is decided by the clock (`ctx.now()`), never by a timer, so an expired lock is simply
//! one whose time is past: anyone may take it over. The expiry announces itself: every lock
//! taken or renewed queues a job at its expiry instant ([`LOCK_EXPIRY`], see `jobs.rs`) that
//! clears it, if it was not renewed meanwhile, and tells the document's viewers
//! (LOCK_EXPIRED); the next lock or edit of the section does the same if it comes first.
//!
//! Locks do not change the draft: they neither need nor advance a revision. Taking, releasing
//! and force-releasing are audited; heartbeats are not (they only move the expiry).

use chrono::{DateTime, Utc};
use entity::{document, document_section};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::json;
use uuid::Uuid;

use super::{
    documents::{document_of, emit, event, require_team_edit},
    events::DocumentEventKind,
    structure::section_of,
};
use crate::{
    access::{Change, TenantCtx, TenantTx},
    auth::Permission,
    ctx::Ctx,
    error::{AppError, AppResult},
    graphql::relay::{self, kind},
};

/// The job kind that clears a lock at its expiry instant.
pub const LOCK_EXPIRY: &str = "studio.lock_expiry";

/// What a [`LOCK_EXPIRY`] job names: the section, whose lock, until when.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct LockExpiry {
    pub section: Uuid,
    pub holder: Uuid,
    pub until: DateTime<Utc>,
}

/// Queues the [`LOCK_EXPIRY`] job of `holder`'s lock of `section`, held until `until`.
async fn expire_at(
    tx: &mut TenantTx<'_>,
    section: Uuid,
    holder: Uuid,
    until: DateTime<Utc>,
) -> AppResult<()> {
    let job = crate::jobs::NewJob::new(LOCK_EXPIRY, &LockExpiry { section, holder, until })
        .key(format!("{section}:{}", until.timestamp_millis()))
        .at(until);
    tx.enqueue(job).await?;
    Ok(())
}

/// The [`LOCK_EXPIRY`] job: clears `holder`'s lock of `section` and announces LOCK_EXPIRED,
/// unless it was renewed, released or taken over since (then nothing happens, so a repeated
/// run changes nothing).
pub async fn expire_lock(ctx: &Ctx, tctx: &TenantCtx, job: &LockExpiry) -> AppResult<()> {
    let mut tx = TenantTx::open(ctx, tctx).await?;
    let Ok(section) = section_of(&tx, tx.scope(), job.section).await else { return Ok(()) };
    if section.lock_holder != Some(job.holder) || live_lock(&section, ctx.now()).is_some() {
        return Ok(());
    }
    let Ok(doc) = document_of(&tx, tx.scope(), section.document_id).await else { return Ok(()) };
    clear_expired(&mut tx, ctx, &doc, &section).await?;
    tx.commit().await
}

/// The lock of `section` as it stands at `now`: its holder and expiry, `None` when free or
/// expired.
pub fn live_lock(section: &document_section::Model, now: DateTime<Utc>) -> Option<(Uuid, DateTime<Utc>)> {
    match (section.lock_holder, section.lock_expires_at) {
        (Some(holder), Some(until)) if until > now => Some((holder, until)),
        _ => None,
    }
}

/// LOCKED: the section is held by `holder` until `until`; names them and the expiry.
async fn locked(db: &impl ConnectionTrait, holder: Uuid, until: DateTime<Utc>) -> AppError {
    let name = entity::user::Entity::find_by_id(holder)
        .one(db)
        .await
        .ok()
        .flatten()
        .map(|u| u.name)
        .unwrap_or_else(|| "another member".into());
    AppError::RejectedWith {
        code: "LOCKED",
        message: format!("this section is being edited by {name} until {}", until.to_rfc3339()),
        details: json!({
            "holderId": relay::to_global_id(kind::USER, holder).to_string(),
            "holderName": name,
            "expiresAt": until.to_rfc3339(),
        }),
    }
}

/// The user a lock is taken for: locks are held by people, not API keys.
fn person(tctx: &TenantCtx) -> AppResult<Uuid> {
    tctx.acting_user().ok_or_else(|| {
        AppError::ForbiddenWith("section locks are held by signed-in users, not API keys".into())
    })
}

/// Clears the expired lock of `section` in `tx` and queues LOCK_EXPIRED for its holder.
async fn clear_expired(
    tx: &mut TenantTx<'_>,
    ctx: &Ctx,
    doc: &document::Model,
    section: &document_section::Model,
) -> AppResult<()> {
    let Some(holder) = section.lock_holder else { return Ok(()) };
    tx.scope()
        .update_many::<document_section::Entity>()
        .col_expr(document_section::Column::LockHolder, Expr::value(Option::<Uuid>::None))
        .col_expr(document_section::Column::LockExpiresAt, Expr::value(Option::<DateTime<Utc>>::None))
        .filter(document_section::Column::Id.eq(section.id))
        .filter(document_section::Column::LockHolder.eq(holder))
        .exec(&*tx)
        .await?;
    let mut e = event(ctx, tx.tctx(), doc, DocumentEventKind::LockExpired);
    e.page_id = Some(section.page_id);
    e.section_id = Some(section.id);
    e.user_id = Some(holder);
    emit(tx, e);
    Ok(())
}

/// Releases every lock `holder` holds in `document` of `tenant` (LOCK_RELEASED for each): they
/// left it — closed their last tab, lost their connection, or stopped sending heartbeats — so
/// the others need not wait for the locks to expire. Run by the platform, not audited.
pub async fn release_departed(ctx: &Ctx, tenant: Uuid, document: Uuid, holder: Uuid) -> AppResult<usize> {
    let tctx = TenantCtx::system(tenant);
    let mut tx = TenantTx::open(ctx, &tctx).await?;
    let Ok(doc) = document_of(&tx, tx.scope(), document).await else { return Ok(0) };
    let held = tx
        .scope()
        .find::<document_section::Entity>()
        .filter(document_section::Column::DocumentId.eq(document))
        .filter(document_section::Column::LockHolder.eq(holder))
        .all(&tx)
        .await?;
    for section in &held {
        tx.scope()
            .update_many::<document_section::Entity>()
            .col_expr(document_section::Column::LockHolder, Expr::value(Option::<Uuid>::None))
            .col_expr(document_section::Column::LockExpiresAt, Expr::value(Option::<DateTime<Utc>>::None))
            .filter(document_section::Column::Id.eq(section.id))
            .filter(document_section::Column::LockHolder.eq(holder))
            .exec(&tx)
            .await?;
        let mut e = event(ctx, &tctx, &doc, DocumentEventKind::LockReleased);
        e.page_id = Some(section.page_id);
        e.section_id = Some(section.id);
        e.user_id = Some(holder);
        emit(&mut tx, e);
    }
    tx.commit().await?;
    Ok(held.len())
}

/// Refuses an edit of `section` (LOCKED) while someone other than the acting user holds its
/// lock; an expired lock is cleared (and announced) on the way. Returns the section as it is
/// now.
pub async fn guard_edit(
    tx: &mut TenantTx<'_>,
    ctx: &Ctx,
    tctx: &TenantCtx,
    doc: &document::Model,
    mut section: document_section::Model,
) -> AppResult<document_section::Model> {
    let now = ctx.now();
    match live_lock(&section, now) {
        Some((holder, until)) if Some(holder) != tctx.acting_user() => Err(locked(&*tx, holder, until).await),
        Some(_) => Ok(section),
        None if section.lock_holder.is_some() => {
            clear_expired(tx, ctx, doc, &section).await?;
            section.lock_holder = None;
            section.lock_expires_at = None;
            Ok(section)
        }
        None => Ok(section),
    }
}

/// Opens a lock operation on section `id`: the transaction, the document and the section.
async fn open<'c>(
    ctx: &'c Ctx,
    tctx: &'c TenantCtx,
    id: Uuid,
    permission: Option<Permission>,
) -> AppResult<(TenantTx<'c>, document::Model, document_section::Model)> {
    // The rule depends on the row (the document's team, or its owner): checked below, before
    // any write.
    if let Some(p) = permission {
        tctx.require(p)?;
    }
    let tx = TenantTx::open(ctx, tctx).await?;
    let scope = tx.scope();
    let section = section_of(&tx, scope, id).await?;
    let doc =
        document_of(&tx, scope, section.document_id).await.map_err(|_| AppError::NotFound("section"))?;
    if let Some(p) = permission {
        require_team_edit(&tx, tctx, doc.team_id, p).await?;
    }
    Ok((tx, doc, section))
}

/// Takes (or takes over an expired) lock of section `id` for the acting user, for the
/// configured time; LOCKED while someone else holds it. Taking one's own lock again renews it.
pub async fn acquire_section_lock(
    ctx: &Ctx,
    tctx: &TenantCtx,
    id: Uuid,
) -> AppResult<document_section::Model> {
    tctx.require(Permission::DocumentsWrite)?;
    let me = person(tctx)?;
    let (mut tx, doc, section) = open(ctx, tctx, id, Some(Permission::DocumentsWrite)).await?;
    let now = ctx.now();
    let held = live_lock(&section, now);
    if let Some((holder, until)) = held.filter(|(h, _)| *h != me) {
        return Err(locked(&tx, holder, until).await);
    }
    if held.is_none() && section.lock_holder.is_some_and(|h| h != me) {
        clear_expired(&mut tx, ctx, &doc, &section).await?;
    }
    let until = now + ctx.config.studio_lock_ttl;
    // Conditional: of two takers at once exactly one gets it.
    let taken = tx
        .scope()
        .update_many::<document_section::Entity>()
        .col_expr(document_section::Column::LockHolder, Expr::value(me))
        .col_expr(document_section::Column::LockExpiresAt, Expr::value(until))
        .filter(document_section::Column::Id.eq(id))
        .filter(
            sea_orm::Condition::any()
                .add(document_section::Column::LockHolder.is_null())
                .add(document_section::Column::LockHolder.eq(me))
                .add(document_section::Column::LockExpiresAt.lte(now)),
        )
        .exec(&tx)
        .await?;
    if taken.rows_affected == 0 {
        let now_held = section_of(&tx, tx.scope(), id).await?;
        let (holder, until) = live_lock(&now_held, now).unwrap_or((me, until));
        return Err(locked(&tx, holder, until).await);
    }
    expire_at(&mut tx, id, me, until).await?;
    let section = section_of(&tx, tx.scope(), id).await?;
    if held.is_some() {
        // Already ours: a renewal, which is not audited.
        tx.commit().await?;
        return Ok(section);
    }
    let mut e = event(ctx, tctx, &doc, DocumentEventKind::LockAcquired);
    e.page_id = Some(section.page_id);
    e.section_id = Some(id);
    e.user_id = Some(me);
    e.lock_expires_at = Some(until);
    emit(&mut tx, e);
    tx.commit_with(Change {
        action: "document.section_locked",
        target_type: "Document",
        target_id: Some(doc.id),
        before: None,
        after: Some(json!({ "sectionId": id, "expiresAt": until })),
    })
    .await?;
    Ok(section)
}

/// The heartbeat: moves the expiry of the acting user's lock of section `id` to the configured
/// time from now. LOCKED when someone else holds it; LOCK_NOT_HELD when nobody does (take it
/// again with `acquireSectionLock`).
pub async fn renew_section_lock(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> AppResult<document_section::Model> {
    tctx.require(Permission::DocumentsWrite)?;
    let me = person(tctx)?;
    let (mut tx, _doc, section) = open(ctx, tctx, id, Some(Permission::DocumentsWrite)).await?;
    let now = ctx.now();
    if let Some((holder, until)) = live_lock(&section, now).filter(|(h, _)| *h != me) {
        return Err(locked(&tx, holder, until).await);
    }
    // One's own lock, even just expired, is renewed while nobody else has taken it.
    if section.lock_holder != Some(me) {
        return Err(AppError::rejected(
            "LOCK_NOT_HELD",
            "sectionId",
            "you hold no lock on this section: take it with acquireSectionLock",
        ));
    }
    let until = now + ctx.config.studio_lock_ttl;
    tx.scope()
        .update_many::<document_section::Entity>()
        .col_expr(document_section::Column::LockExpiresAt, Expr::value(until))
        .filter(document_section::Column::Id.eq(id))
        .filter(document_section::Column::LockHolder.eq(me))
        .exec(&tx)
        .await?;
    expire_at(&mut tx, id, me, until).await?;
    let section = section_of(&tx, tx.scope(), id).await?;
    // A heartbeat changes nothing anyone else sees but the expiry: no audit entry, no event.
    tx.commit().await?;
    Ok(section)
}

/// Gives up the acting user's lock of section `id` (nothing to do when they hold none);
/// LOCKED when someone else holds it.
pub async fn release_section_lock(
    ctx: &Ctx,
    tctx: &TenantCtx,
    id: Uuid,
) -> AppResult<document_section::Model> {
    tctx.require(Permission::DocumentsWrite)?;
    let me = person(tctx)?;
    let (tx, doc, section) = open(ctx, tctx, id, Some(Permission::DocumentsWrite)).await?;
    let now = ctx.now();
    if let Some((holder, until)) = live_lock(&section, now).filter(|(h, _)| *h != me) {
        return Err(locked(&tx, holder, until).await);
    }
    if section.lock_holder != Some(me) {
        // Already free (or someone else's expired lock): releasing twice is not an error.
        return Ok(section);
    }
    release(tx, ctx, tctx, &doc, section, me, false).await
}

/// Releases whoever's lock of section `id`: the document's creator or `documents.manage`.
pub async fn force_release_section_lock(
    ctx: &Ctx,
    tctx: &TenantCtx,
    id: Uuid,
) -> AppResult<document_section::Model> {
    let (tx, doc, section) = open(ctx, tctx, id, None).await?;
    let owner = doc.created_by.is_some() && doc.created_by == tctx.acting_user();
    if owner && !tctx.has(Permission::DocumentsManage) {
        tctx.require(Permission::DocumentsWrite)?;
    } else {
        tctx.require(Permission::DocumentsManage)?;
    }
    let Some(holder) = section.lock_holder else { return Ok(section) };
    release(tx, ctx, tctx, &doc, section, holder, true).await
}

async fn release(
    mut tx: TenantTx<'_>,
    ctx: &Ctx,
    tctx: &TenantCtx,
    doc: &document::Model,
    section: document_section::Model,
    holder: Uuid,
    forced: bool,
) -> AppResult<document_section::Model> {
    tx.scope()
        .update_many::<document_section::Entity>()
        .col_expr(document_section::Column::LockHolder, Expr::value(Option::<Uuid>::None))
        .col_expr(document_section::Column::LockExpiresAt, Expr::value(Option::<DateTime<Utc>>::None))
        .filter(document_section::Column::Id.eq(section.id))
        .exec(&tx)
        .await?;
    let mut e = event(ctx, tctx, doc, DocumentEventKind::LockReleased);
    e.page_id = Some(section.page_id);
    e.section_id = Some(section.id);
    e.user_id = Some(holder);
    if forced {
        e.change = Some("lock.force_released".into());
    }
    emit(&mut tx, e);
    let section = section_of(&tx, tx.scope(), section.id).await?;
    tx.commit_with(Change {
        action: if forced { "document.section_lock_force_released" } else { "document.section_unlocked" },
        target_type: "Document",
        target_id: Some(doc.id),
        before: Some(json!({ "sectionId": section.id, "holder": holder })),
        after: None,
    })
    .await?;
    Ok(section)
}
