//! Support sessions' life: an operator starts one (ACTIVE at once, or PENDING_APPROVAL when
//! the organisation requires its owners' approval), an owner approves or denies it, either
//! side ends it; an ACTIVE one past `expires_at` reads as EXPIRED and gives no access (the
//! access check compares the time itself, no job needed). Every step is one transaction
//! audited in the organisation's log (actor `platform_admin` for the operator) and, for the
//! operator's steps, the platform's; each changes access, so cached checks are forgotten on
//! every instance (`support_session.*` entries).

use std::collections::HashMap;

use chrono::Duration;
use entity::support_session::{self, SupportSessionStatus as Status};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use serde_json::json;
use uuid::Uuid;

use crate::{
    access::{Actor, Change, TenantCtx, TenantTx, platform},
    auth::Permission,
    ctx::Ctx,
    db::across_tenants,
    error::{AppError, AppResult},
};

/// Default length of a session.
pub const DEFAULT_MINUTES: i32 = 60;
/// Longest session one may ask for (8 hours).
pub const MAX_MINUTES: i32 = 480;

/// A session with what its readers show next to it.
#[derive(Clone, Debug)]
pub struct SessionView {
    pub session: support_session::Model,
    pub tenant_name: String,
    pub tenant_slug: String,
    pub operator_email: String,
    pub operator_name: String,
    /// The status as of the read (EXPIRED once its time ran out).
    pub status: Status,
}

/// What the operator asks for.
pub struct NewSession {
    pub tenant_id: Uuid,
    pub reason: String,
    pub minutes: Option<i32>,
    pub read_only: bool,
}

/// A written reason: 10 to 500 characters, more than one word.
fn checked_reason(reason: &str) -> AppResult<String> {
    let reason = reason.trim();
    let words = reason.split_whitespace().count();
    if reason.chars().count() < 10 || reason.chars().count() > 500 || words < 2 {
        return Err(AppError::validation(
            "input.reason",
            "say why you need access, in 10 to 500 characters (a ticket number and what you will look at)",
        ));
    }
    Ok(reason.to_string())
}

fn checked_minutes(minutes: Option<i32>) -> AppResult<i32> {
    let m = minutes.unwrap_or(DEFAULT_MINUTES);
    if !(1..=MAX_MINUTES).contains(&m) {
        return Err(AppError::validation("input.minutes", format!("must be 1 to {MAX_MINUTES} minutes")));
    }
    Ok(m)
}

/// Starts a session of `operator` (the caller checked the platform role) into the
/// organisation: PENDING_APPROVAL when it requires its owners' approval, else ACTIVE for
/// `minutes`. CONFLICT while the operator already has an open session there.
pub async fn start(ctx: &Ctx, operator: Uuid, request: &Actor, req: NewSession) -> AppResult<SessionView> {
    let reason = checked_reason(&req.reason)?;
    let minutes = checked_minutes(req.minutes)?;
    let tctx = TenantCtx::platform_operator(req.tenant_id, operator, request);
    let mut tx = TenantTx::open(ctx, &tctx).await?;
    let scope = tx.scope();
    crate::db::lock_tenant(&tx, scope).await?;
    let org = scope.find::<entity::tenant::Entity>().one(&tx).await?.ok_or(AppError::NotFound("tenant"))?;
    let now = ctx.now();
    let open = scope
        .find::<support_session::Entity>()
        .filter(support_session::Column::UserId.eq(operator))
        .filter(support_session::Column::Status.is_in([Status::PendingApproval, Status::Active]))
        .all(&tx)
        .await?;
    if open.iter().any(|s| s.effective_status(now) != Status::Expired) {
        return Err(AppError::conflict(
            "input.tenantId",
            "you already have an open support session in this organisation: end it first",
        ));
    }
    let approval = crate::modules::tenancy::admin::settings(&org).support.require_approval;
    let (status, started, expires) = if approval {
        (Status::PendingApproval, None, None)
    } else {
        (Status::Active, Some(now), Some(now + Duration::minutes(minutes.into())))
    };
    let session = scope
        .insert(
            &tx,
            support_session::ActiveModel {
                id: Set(Uuid::now_v7()),
                tenant_id: Set(org.id),
                user_id: Set(operator),
                reason: Set(reason.clone()),
                read_only: Set(req.read_only),
                minutes: Set(minutes),
                status: Set(status),
                requested_at: Set(now),
                approved_by: Set(None),
                approved_at: Set(None),
                denied_by: Set(None),
                denied_at: Set(None),
                started_at: Set(started),
                expires_at: Set(expires),
                ended_by: Set(None),
                ended_at: Set(None),
            },
        )
        .await?;
    let action = if approval { "support_session.requested" } else { "support_session.started" };
    let summary = json!({
        "reason": reason, "readOnly": req.read_only, "minutes": minutes, "expiresAt": session.expires_at,
    });
    tx.audit(Change {
        action,
        target_type: "SupportSession",
        target_id: Some(session.id),
        before: None,
        after: Some(summary.clone()),
    })
    .await?;
    platform::audit(
        &tx,
        platform::PlatformEntry {
            actor_id: Some(operator),
            action: if approval {
                "admin.support_session_requested"
            } else {
                "admin.support_session_started"
            },
            organisation_id: Some(org.id),
            target_type: "SupportSession",
            target_id: Some(session.id.to_string()),
            reason: Some(reason),
            metadata: Some(summary),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    one(ctx, session).await
}

/// Ends session `id` from the console: its own operator, or any super administrator (the
/// caller checked a platform role; `super_admin` says whether it is that one).
pub async fn end_by_operator(
    ctx: &Ctx,
    operator: Uuid,
    super_admin: bool,
    request: &Actor,
    id: Uuid,
) -> AppResult<SessionView> {
    // The session names its organisation: looked up before the tenant is known.
    let found = support_session::Entity::find_by_id(id)
        .one(&across_tenants(&ctx.db))
        .await?
        .filter(|s| super_admin || s.user_id == operator)
        .ok_or(AppError::NotFound("supportSession"))?;
    let tctx = TenantCtx::platform_operator(found.tenant_id, operator, request);
    let session = transition(ctx, &tctx, id, Step::End, Some("admin.support_session_ended")).await?;
    one(ctx, session).await
}

/// What the organisation's side does to a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Approve,
    Deny,
    End,
}

/// An owner (or anyone holding `tenant.update`) approves, denies or ends session `id` of
/// the organisation. Not from within a support session: an operator never answers for the
/// organisation about support access.
pub async fn decide(ctx: &Ctx, tctx: &TenantCtx, id: Uuid, step: Step) -> AppResult<SessionView> {
    tctx.require(Permission::TenantUpdate)?;
    if tctx.support.is_some() {
        return Err(AppError::ForbiddenWith(
            "support access is the organisation's own decision: not from within a support session".into(),
        ));
    }
    let session = transition(ctx, tctx, id, step, None).await?;
    one(ctx, session).await
}

/// Moves session `id` of `tctx`'s tenant by `step`, audited in the organisation's log (and,
/// with `platform_action`, the platform's) in the same transaction.
async fn transition(
    ctx: &Ctx,
    tctx: &TenantCtx,
    id: Uuid,
    step: Step,
    platform_action: Option<&str>,
) -> AppResult<support_session::Model> {
    let mut tx = TenantTx::open(ctx, tctx).await?;
    let scope = tx.scope();
    crate::db::lock_tenant(&tx, scope).await?;
    let current = scope
        .find::<support_session::Entity>()
        .filter(support_session::Column::Id.eq(id))
        .one(&tx)
        .await?
        .ok_or(AppError::NotFound("supportSession"))?;
    let now = ctx.now();
    let status = current.effective_status(now);
    let mut am: support_session::ActiveModel = current.clone().into();
    let actor = Some(tctx.user_id);
    let action = match (step, status) {
        (Step::Approve, Status::PendingApproval) => {
            am.status = Set(Status::Active);
            am.approved_by = Set(actor);
            am.approved_at = Set(Some(now));
            am.started_at = Set(Some(now));
            am.expires_at = Set(Some(now + Duration::minutes(current.minutes.into())));
            "support_session.approved"
        }
        (Step::Deny, Status::PendingApproval) => {
            am.status = Set(Status::Denied);
            am.denied_by = Set(actor);
            am.denied_at = Set(Some(now));
            "support_session.denied"
        }
        (Step::End, Status::PendingApproval | Status::Active) => {
            am.status = Set(Status::Ended);
            am.ended_by = Set(actor);
            am.ended_at = Set(Some(now));
            "support_session.ended"
        }
        (_, other) => {
            return Err(AppError::conflict(
                "id",
                format!("the session is {} : nothing to do", format!("{other:?}").to_lowercase()),
            ));
        }
    };
    let updated = am.update(&tx).await?;
    tx.audit(Change {
        action,
        target_type: "SupportSession",
        target_id: Some(updated.id),
        before: Some(json!({ "status": status })),
        after: Some(json!({ "status": updated.status, "expiresAt": updated.expires_at })),
    })
    .await?;
    if let Some(action) = platform_action {
        platform::audit(
            &tx,
            platform::PlatformEntry {
                actor_id: Some(tctx.user_id),
                action,
                organisation_id: Some(updated.tenant_id),
                target_type: "SupportSession",
                target_id: Some(updated.id.to_string()),
                reason: Some(updated.reason.clone()),
                metadata: None,
            },
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(updated)
}

/// The organisation's sessions, newest first (`audit.read`): what its owners review.
pub async fn for_tenant(ctx: &Ctx, tctx: &TenantCtx) -> AppResult<Vec<SessionView>> {
    tctx.require(Permission::AuditRead)?;
    let rows = tctx
        .scope()
        .find::<support_session::Entity>()
        .order_by_desc(support_session::Column::RequestedAt)
        .limit(200)
        .all(&tctx.on(&ctx.db))
        .await?;
    views(ctx, rows).await
}

/// Every organisation's sessions for the console (the caller checked a platform role),
/// newest first; `open_only` keeps the pending and live ones.
pub async fn all(ctx: &Ctx, open_only: bool) -> AppResult<Vec<SessionView>> {
    // The console spans organisations.
    let mut q =
        support_session::Entity::find().order_by_desc(support_session::Column::RequestedAt).limit(200);
    if open_only {
        q = q.filter(support_session::Column::Status.is_in([Status::PendingApproval, Status::Active]));
    }
    let rows = q.all(&across_tenants(&ctx.db)).await?;
    let now = ctx.now();
    let rows =
        rows.into_iter().filter(|s| !open_only || s.effective_status(now) != Status::Expired).collect();
    views(ctx, rows).await
}

/// The viewer's own live sessions (what the web app shows its banner for).
pub async fn live_for(ctx: &Ctx, user_id: Uuid) -> AppResult<Vec<SessionView>> {
    let now = ctx.now();
    // The viewer's own sessions, across the organisations they are in.
    let rows = support_session::Entity::find()
        .filter(support_session::Column::UserId.eq(user_id))
        .filter(support_session::Column::Status.is_in([Status::PendingApproval, Status::Active]))
        .order_by_desc(support_session::Column::RequestedAt)
        .all(&across_tenants(&ctx.db))
        .await?
        .into_iter()
        .filter(|s| s.effective_status(now) != Status::Expired)
        .collect();
    views(ctx, rows).await
}

async fn one(ctx: &Ctx, session: support_session::Model) -> AppResult<SessionView> {
    views(ctx, vec![session])
        .await?
        .pop()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("a session without its organisation")))
}

/// Names of organisations and operators for `rows`: two statements whatever their number.
async fn views(ctx: &Ctx, rows: Vec<support_session::Model>) -> AppResult<Vec<SessionView>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let db = across_tenants(&ctx.db);
    let tenants: HashMap<Uuid, (String, String)> = entity::tenant::Entity::find()
        .filter(entity::tenant::Column::Id.is_in(rows.iter().map(|r| r.tenant_id)))
        .all(&db)
        .await?
        .into_iter()
        .map(|t| (t.id, (t.name, t.slug)))
        .collect();
    let users: HashMap<Uuid, (String, String)> = entity::user::Entity::find()
        .filter(entity::user::Column::Id.is_in(rows.iter().map(|r| r.user_id)))
        .all(&db)
        .await?
        .into_iter()
        .map(|u| (u.id, (u.email, u.name)))
        .collect();
    let now = ctx.now();
    Ok(rows
        .into_iter()
        .map(|s| {
            let (tenant_name, tenant_slug) = tenants.get(&s.tenant_id).cloned().unwrap_or_default();
            let (operator_email, operator_name) = users.get(&s.user_id).cloned().unwrap_or_default();
            SessionView {
                status: s.effective_status(now),
                session: s,
                tenant_name,
                tenant_slug,
                operator_email,
                operator_name,
            }
        })
        .collect())
}
