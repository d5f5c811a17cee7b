//! Business logic of invitations and membership changes.

use chrono::{Duration, Utc};
use entity::{
    invitation::{self, InvitationState},
    membership::{self, MembershipStatus},
    role, user,
};
use sea_orm::{ActiveEnum, ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, sea_query::Expr};
use serde_json::json;
use uuid::Uuid;

use crate::{
    access::{Actor, Change, TenantCtx, TenantTx},
    auth::{Permission, RequestCtx, permissions::role_rank, tokens},
    ctx::Ctx,
    db::page::PageArgs,
    db::{TenantScope, page::Window},
    error::{AppError, AppResult},
    graphql::scalars::Email,
    mail,
    modules::tenancy::events::{TenantEventKind, TenantEventPayload, topic},
    startup::AppState,
};

pub const INVITATION_TTL_DAYS: i64 = 7;

/// Queues the tenant event of a membership change on `tx`, published after its commit.
fn emit_member_event(tx: &mut TenantTx<'_>, kind: TenantEventKind, membership_id: Uuid) {
    let tctx = tx.tctx();
    let payload = TenantEventPayload {
        kind,
        tenant_id: tctx.tenant_id,
        membership_id: Some(membership_id),
        actor_id: Some(tctx.user_id),
        occurred_at: tx.ctx().now(),
    };
    tx.emit(topic(tctx.tenant_id), &payload);
}

/// A role of this tenant, or BAD_USER_INPUT on `field`.
async fn tenant_role(
    db: &impl sea_orm::ConnectionTrait,
    scope: TenantScope,
    field: &str,
    id: Uuid,
) -> AppResult<role::Model> {
    scope
        .find_by_id::<role::Entity, _>(db, id)
        .await?
        .ok_or_else(|| AppError::validation(field, "no such role in this organisation"))
}

/// May the actor hand out `role`? Owners may hand out anything; others only roles below
/// their own rank, never `owner`, and never a role holding a permission they lack.
async fn check_grant(
    db: &impl sea_orm::ConnectionTrait,
    tctx: &TenantCtx,
    role: &role::Model,
) -> AppResult<()> {
    if tctx.role_key == "owner" {
        return Ok(());
    }
    if role.key == "owner" || role_rank(&role.key) <= role_rank(&tctx.role_key) {
        return Err(AppError::ForbiddenWith(format!(
            "you cannot grant the role `{}`: it is not below your own",
            role.key
        )));
    }
    let graph =
        crate::modules::roles::service::role_graphs(db, &[tctx.tenant_id]).await?.remove(&tctx.tenant_id);
    let effective = graph.map(|g| g.effective(role.id)).unwrap_or_default();
    if !effective.is_subset(tctx.permissions) {
        return Err(AppError::ForbiddenWith(format!(
            "you cannot grant the role `{}`: it holds permissions you do not hold",
            role.key
        )));
    }
    Ok(())
}

/// May the actor manage a member whose role is `target`? Owners may; others only members
/// ranked strictly below them.
fn check_manage(tctx: &TenantCtx, target: &role::Model) -> AppResult<()> {
    tctx.require(Permission::MembersManage)?;
    if tctx.role_key == "owner" || role_rank(&target.key) > role_rank(&tctx.role_key) {
        Ok(())
    } else {
        Err(AppError::ForbiddenWith(format!(
            "you cannot manage a member whose role (`{}`) is not below your own",
            target.key
        )))
    }
}

fn invitation_summary(i: &invitation::Model, role_key: &str) -> serde_json::Value {
    json!({ "email": i.email, "role": role_key, "status": i.status, "expiresAt": i.expires_at })
}

fn membership_summary(m: &membership::Model, role_key: &str) -> serde_json::Value {
    json!({ "userId": m.user_id, "role": role_key, "status": m.status })
}

async fn queue_invitation_mail(
    ctx: &Ctx,
    db: &impl sea_orm::ConnectionTrait,
    tenant_name: &str,
    to: &str,
    role_name: &str,
    token: &str,
) -> AppResult<()> {
    let link = format!("{}/invitations/accept?token={token}", ctx.config.public_url);
    let mail = mail::templates::invitation(tenant_name, role_name, &link, token, INVITATION_TTL_DAYS);
    mail::enqueue(db, to, mail).await
}

/// Invites `email` to the tenant with `role_id` (`members.manage`); mails a token link.
pub async fn invite_member(
    ctx: &Ctx,
    tctx: &TenantCtx,
    email: Email,
    role_id: Uuid,
    teams: Vec<crate::modules::teams::service::TeamAssignment>,
) -> AppResult<invitation::Model> {
    tctx.require(Permission::MembersManage)?;
    let scope = tctx.scope();
    if !teams.is_empty() {
        // Placing someone in a team (possibly as its owner) is team management.
        tctx.require(Permission::TeamsManage)?;
    }
    let role = {
        // The checks read through one walled transaction, ended before the write below.
        let db = &tctx.on(&ctx.db);
        crate::modules::teams::service::check_assignments(db, scope, "input.teams", &teams).await?;
        let role = tenant_role(db, scope, "input.roleId", role_id).await?;
        check_grant(db, tctx, &role).await?;
        role
    };
    let teams_json = (!teams.is_empty()).then(|| json!(teams));
    let email = email.into_inner();
    let mut tx = TenantTx::begin_locked(ctx, tctx, Permission::MembersManage).await?;
    if let Some(existing) = user::Entity::find().filter(user::Column::Email.eq(&email)).one(&tx).await?
        && scope
            .find::<membership::Entity>()
            .filter(membership::Column::UserId.eq(existing.id))
            .one(&tx)
            .await?
            .is_some()
    {
        return Err(AppError::conflict("input.email", "this person is already a member"));
    }
    let inv = invite_in(&mut tx, &email, &role, teams_json).await?;
    tx.wake_mail();
    tx.commit_with(Change {
        action: "invitation.created",
        target_type: "Invitation",
        target_id: Some(inv.id),
        before: None,
        after: Some(invitation_summary(&inv, &role.key)),
    })
    .await?;
    Ok(inv)
}

async fn pending_invitation(
    db: &impl sea_orm::ConnectionTrait,
    scope: TenantScope,
    id: Uuid,
) -> AppResult<invitation::Model> {
    let inv =
        scope.find_by_id::<invitation::Entity, _>(db, id).await?.ok_or(AppError::NotFound("invitation"))?;
    if inv.status != InvitationState::Pending {
        return Err(AppError::conflict("id", format!("the invitation is {}", inv.status.to_value())));
    }
    Ok(inv)
}

/// Invites `email` with `role` (and `teams`) in `tx` — no pending invitation to the address,
/// a seat of the plan held — and queues the mail with the link; the caller audits and commits
/// (waking the mail worker). The inviter is `tx`'s acting user.
pub(crate) async fn invite_in(
    tx: &mut TenantTx<'_>,
    email: &str,
    role: &role::Model,
    teams: Option<serde_json::Value>,
) -> AppResult<invitation::Model> {
    let ctx = tx.ctx();
    let scope = tx.scope();
    let now = ctx.now();
    let pending = scope
        .find::<invitation::Entity>()
        .filter(invitation::Column::Email.eq(email))
        .filter(invitation::Column::Status.eq(InvitationState::Pending))
        .filter(invitation::Column::ExpiresAt.gt(now))
        .one(&*tx)
        .await?;
    if pending.is_some() {
        return Err(AppError::conflict(
            "input.email",
            "an invitation to this address is pending; resend or revoke it",
        ));
    }
    // A pending invitation holds a seat of the plan.
    crate::modules::billing::usage::require_room(tx, crate::modules::billing::plans::Limit::Members, 1)
        .await?;
    let token = tokens::random_token();
    let inv = scope
        .insert(
            &*tx,
            invitation::ActiveModel {
                id: Set(Uuid::now_v7()),
                tenant_id: Set(scope.tenant_id()),
                email: Set(email.to_string()),
                role_id: Set(role.id),
                token_hash: Set(tokens::hash_token(&token)),
                invited_by: Set(tx.tctx().user_id),
                status: Set(InvitationState::Pending),
                expires_at: Set(now + Duration::days(INVITATION_TTL_DAYS)),
                created_at: Set(now),
                accepted_at: Set(None),
                accepted_by: Set(None),
                teams: Set(teams),
            },
        )
        .await?;
    let tenant = tenant_name(&*tx, scope).await?;
    queue_invitation_mail(ctx, &*tx, &tenant, email, &role.name, &token).await?;
    Ok(inv)
}

/// Sends a pending invitation again with a fresh token and expiry; the old link stops working.
pub async fn resend_invitation(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> AppResult<invitation::Model> {
    let mut tx = TenantTx::begin_locked(ctx, tctx, Permission::MembersManage).await?;
    let scope = tx.scope();
    let inv = pending_invitation(&tx, scope, id).await?;
    let role = tenant_role(&tx, scope, "id", inv.role_id).await?;
    check_grant(&tx, tctx, &role).await?;
    let token = tokens::random_token();
    let mut am: invitation::ActiveModel = inv.clone().into();
    am.token_hash = Set(tokens::hash_token(&token));
    am.expires_at = Set(ctx.now() + Duration::days(INVITATION_TTL_DAYS));
    let updated = scope.update(&tx, am).await?;
    let tenant = tenant_name(&tx, scope).await?;
    queue_invitation_mail(ctx, &tx, &tenant, &updated.email, &role.name, &token).await?;
    tx.wake_mail();
    tx.commit_with(Change {
        action: "invitation.resent",
        target_type: "Invitation",
        target_id: Some(updated.id),
        before: Some(invitation_summary(&inv, &role.key)),
        after: Some(invitation_summary(&updated, &role.key)),
    })
    .await?;
    Ok(updated)
}

/// Withdraws a pending invitation; its link stops working.
pub async fn revoke_invitation(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> AppResult<invitation::Model> {
    let tx = TenantTx::begin_locked(ctx, tctx, Permission::MembersManage).await?;
    let scope = tx.scope();
    let inv = pending_invitation(&tx, scope, id).await?;
    let role = tenant_role(&tx, scope, "id", inv.role_id).await?;
    let mut am: invitation::ActiveModel = inv.clone().into();
    am.status = Set(InvitationState::Revoked);
    let updated = scope.update(&tx, am).await?;
    tx.commit_with(Change {
        action: "invitation.revoked",
        target_type: "Invitation",
        target_id: Some(updated.id),
        before: Some(invitation_summary(&inv, &role.key)),
        after: Some(invitation_summary(&updated, &role.key)),
    })
    .await?;
    Ok(updated)
}

/// What an invitation link shows before it is accepted, found by its token alone.
pub struct InvitationPreview {
    pub invitation: invitation::Model,
    pub tenant_name: String,
    pub role_name: String,
    pub invited_by: Option<String>,
}

/// The invitation behind `token`, for the page its link opens — callable signed out, since
/// the invitee may not have an account yet. The token is the credential (like
/// [`accept_invitation`]'s), so the lookup crosses tenants; an unknown token is `None`.
pub async fn preview_invitation(ctx: &Ctx, token: &str) -> AppResult<Option<InvitationPreview>> {
    if token.is_empty() || token.len() > 200 {
        return Ok(None);
    }
    // The token is the credential that names the tenant (as in `accept_invitation`): this
    // lookup by its hash precedes, and is, the tenant decision; what follows is walled to it.
    let Some(inv) = invitation::Entity::find()
        .filter(invitation::Column::TokenHash.eq(tokens::hash_token(token)))
        .one(&crate::db::across_tenants(&ctx.db))
        .await?
    else {
        return Ok(None);
    };
    let scope = TenantScope::new(inv.tenant_id);
    let (tenant, role) = {
        let conn = scope.on(&ctx.db);
        let tenant = scope.find::<entity::tenant::Entity>().one(&conn).await?;
        let role = scope.find_by_id::<role::Entity, _>(&conn, inv.role_id).await?;
        (tenant, role)
    };
    let invited_by = user::Entity::find_by_id(inv.invited_by).one(&ctx.db).await?.map(|u| u.name);
    Ok(Some(InvitationPreview {
        tenant_name: tenant.map(|t| t.name).unwrap_or_default(),
        role_name: role.map(|r| r.name).unwrap_or_default(),
        invited_by,
        invitation: inv,
    }))
}

/// Joins the viewer to the inviting tenant. The token is single-use, expires, and only
/// works for the address it was sent to; accepting also confirms that address.
pub async fn accept_invitation(ctx: &Ctx, rctx: &RequestCtx, token: &str) -> AppResult<membership::Model> {
    let viewer = rctx.viewer()?;
    let user = crate::modules::identity::service::viewer_user(ctx, viewer).await?;
    // The token is the credential that names the tenant: this lookup precedes, and is, the
    // tenant decision.
    let inv = invitation::Entity::find()
        .filter(invitation::Column::TokenHash.eq(tokens::hash_token(token)))
        .one(&crate::db::across_tenants(&ctx.db))
        .await?
        .ok_or_else(|| AppError::rejected("INVITATION_INVALID", "token", "invalid invitation token"))?;
    let now = Utc::now();
    match inv.status {
        InvitationState::Revoked => {
            return Err(AppError::rejected("INVITATION_REVOKED", "token", "this invitation was revoked"));
        }
        InvitationState::Accepted => {
            return Err(AppError::rejected(
                "INVITATION_ALREADY_USED",
                "token",
                "this invitation was already used",
            ));
        }
        _ if inv.expires_at <= now => {
            return Err(AppError::rejected("INVITATION_EXPIRED", "token", "this invitation has expired"));
        }
        _ => {}
    }
    if !inv.email.eq_ignore_ascii_case(&user.email) {
        return Err(AppError::rejected(
            "INVITATION_EMAIL_MISMATCH",
            "token",
            "this invitation was sent to another e-mail address",
        ));
    }
    // The joining member acts; the audit entry records the request they sent.
    let tctx =
        TenantCtx::joining(user.id, inv.tenant_id, Uuid::now_v7(), inv.role_id, Actor::from_request(rctx));
    // Joining needs no permission: the unused, unexpired invitation to this address is it.
    let mut tx = TenantTx::open(ctx, &tctx).await?;
    let scope = tx.scope();
    crate::db::lock_tenant(&tx, scope).await?;
    let claimed = invitation::Entity::update_many()
        .col_expr(invitation::Column::Status, Expr::value(InvitationState::Accepted))
        .col_expr(invitation::Column::AcceptedAt, Expr::value(now))
        .col_expr(invitation::Column::AcceptedBy, Expr::value(user.id))
        .filter(invitation::Column::Id.eq(inv.id))
        .filter(invitation::Column::TenantId.eq(inv.tenant_id))
        .filter(invitation::Column::TokenHash.eq(&inv.token_hash))
        .filter(invitation::Column::Status.eq(InvitationState::Pending))
        .exec(&tx)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(AppError::rejected(
            "INVITATION_ALREADY_USED",
            "token",
            "this invitation was already used",
        ));
    }
    if scope
        .find::<membership::Entity>()
        .filter(membership::Column::UserId.eq(user.id))
        .one(&tx)
        .await?
        .is_some()
    {
        return Err(AppError::conflict("token", "you are already a member of this organisation"));
    }
    let role = tenant_role(&tx, scope, "token", inv.role_id).await?;
    let membership = scope
        .insert(
            &tx,
            membership::ActiveModel {
                id: Set(tctx.membership_id),
                tenant_id: Set(inv.tenant_id),
                user_id: Set(user.id),
                role_id: Set(role.id),
                status: Set(MembershipStatus::Active),
                created_at: Set(now),
                updated_at: Set(now),
            },
        )
        .await?;
    if let Some(teams) = inv
        .teams
        .clone()
        .and_then(|t| serde_json::from_value::<Vec<crate::modules::teams::service::TeamAssignment>>(t).ok())
    {
        crate::modules::teams::service::join_teams(&tx, scope, membership.id, &teams).await?;
    }
    if user.email_verified_at.is_none() {
        // The token reached this address: that confirms it.
        let mut am: user::ActiveModel = user.clone().into();
        am.email_verified_at = Set(Some(now));
        am.update(&tx).await?;
    }
    tx.audit(Change {
        action: "member.joined",
        target_type: "Membership",
        target_id: Some(membership.id),
        before: None,
        after: Some(json!({ "userId": user.id, "role": role.key, "invitationId": inv.id })),
    })
    .await?;
    emit_member_event(&mut tx, TenantEventKind::MemberJoined, membership.id);
    tx.commit().await?;
    Ok(membership)
}

/// How a membership changes.
pub enum MemberChange {
    Role(Uuid),
    Suspend,
    Reactivate,
    Remove,
}

/// Applies `change` to membership `id` under the tenant lock. Returns the membership as it
/// is afterwards (as it was, for a removal).
pub async fn change_member(
    app: &AppState,
    tctx: &TenantCtx,
    id: Uuid,
    change: MemberChange,
) -> AppResult<membership::Model> {
    let ctx: &Ctx = app;
    let is_self_leave = matches!(change, MemberChange::Remove) && id == tctx.membership_id;
    if !is_self_leave {
        tctx.require(Permission::MembersManage)?;
    }
    // Leaving needs no permission; anything else was checked above.
    let mut tx = TenantTx::open(ctx, tctx).await?;
    let scope = tx.scope();
    crate::db::lock_tenant(&tx, scope).await?;
    let member =
        scope.find_by_id::<membership::Entity, _>(&tx, id).await?.ok_or(AppError::NotFound("membership"))?;
    let current_role = tenant_role(&tx, scope, "membershipId", member.role_id).await?;
    if !is_self_leave {
        check_manage(tctx, &current_role)?;
    }
    let new_role = match &change {
        MemberChange::Role(role_id) => {
            let r = tenant_role(&tx, scope, "input.roleId", *role_id).await?;
            check_grant(&tx, tctx, &r).await?;
            Some(r)
        }
        _ => None,
    };
    let loses_ownership = current_role.key == "owner"
        && member.status == MembershipStatus::Active
        && match &change {
            MemberChange::Role(_) => new_role.as_ref().is_some_and(|r| r.key != "owner"),
            MemberChange::Suspend | MemberChange::Remove => true,
            MemberChange::Reactivate => false,
        };
    if loses_ownership {
        let other_owners = scope
            .find::<membership::Entity>()
            .filter(membership::Column::RoleId.eq(current_role.id))
            .filter(membership::Column::Status.eq(MembershipStatus::Active))
            .filter(membership::Column::Id.ne(member.id))
            .all(&tx)
            .await?;
        if other_owners.is_empty() {
            return Err(AppError::conflict(
                "membershipId",
                "the last owner cannot be demoted, suspended or removed; make someone else owner first",
            ));
        }
    }
    let before = membership_summary(&member, &current_role.key);
    let now = ctx.now();
    let (action, kind, after, result) = match change {
        MemberChange::Remove => {
            scope
                .delete_many::<membership::Entity>()
                .filter(membership::Column::Id.eq(member.id))
                .exec(&tx)
                .await?;
            let action = if is_self_leave { "member.left" } else { "member.removed" };
            (action, TenantEventKind::MemberRemoved, None, member.clone())
        }
        other => {
            let mut am: membership::ActiveModel = member.clone().into();
            let action = match other {
                MemberChange::Role(_) => {
                    am.role_id = Set(new_role.as_ref().expect("role resolved above").id);
                    "member.role_changed"
                }
                MemberChange::Suspend => {
                    am.status = Set(MembershipStatus::Suspended);
                    "member.suspended"
                }
                _ => {
                    am.status = Set(MembershipStatus::Active);
                    "member.reactivated"
                }
            };
            am.updated_at = Set(now);
            let updated = scope.update(&tx, am).await?;
            let role_key = new_role.as_ref().map(|r| r.key.as_str()).unwrap_or(&current_role.key);
            let after = membership_summary(&updated, role_key);
            (action, TenantEventKind::MemberUpdated, Some(after), updated)
        }
    };
    if matches!(kind, TenantEventKind::MemberRemoved) || result.status == MembershipStatus::Suspended {
        // Their sessions stop working in this organisation: none keeps it as active.
        entity::session::Entity::update_many()
            .col_expr(entity::session::Column::ActiveTenantId, Expr::value(Option::<Uuid>::None))
            .filter(entity::session::Column::UserId.eq(member.user_id))
            .filter(entity::session::Column::ActiveTenantId.eq(scope.tenant_id()))
            .exec(&tx)
            .await?;
    }
    tx.audit(Change {
        action,
        target_type: "Membership",
        target_id: Some(member.id),
        before: Some(before),
        after,
    })
    .await?;
    emit_member_event(&mut tx, kind, member.id);
    tx.commit().await?;
    if !is_self_leave
        && (matches!(kind, TenantEventKind::MemberRemoved) || result.status == MembershipStatus::Suspended)
    {
        // Their open WebSockets close (on every instance); reconnecting re-checks access.
        crate::modules::security::sessions::notify(
            app,
            member.user_id,
            crate::modules::security::sessions::SessionsEnded {
                sessions: None,
                except: None,
                reason: "access to an organisation ended".into(),
            },
        )
        .await;
    }
    Ok(result)
}

/// Validates a page request of the tenant's invitations (`members.manage`).
pub fn invitations_window(ctx: &Ctx, tctx: &TenantCtx, args: &PageArgs) -> AppResult<Window> {
    tctx.require(Permission::MembersManage)?;
    args.window(ctx.config.max_page_size)
}

/// One invitation of the tenant (`members.manage`).
pub async fn get_invitation(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> AppResult<invitation::Model> {
    tctx.require(Permission::MembersManage)?;
    tctx.scope()
        .find_by_id::<invitation::Entity, _>(&tctx.on(&ctx.db), id)
        .await?
        .ok_or(AppError::NotFound("invitation"))
}

/// The tenant's name, for the invitation mail, read in the mutation's own transaction.
async fn tenant_name(db: &impl sea_orm::ConnectionTrait, scope: TenantScope) -> AppResult<String> {
    Ok(scope.find::<entity::tenant::Entity>().one(db).await?.ok_or(AppError::NotFound("tenant"))?.name)
}
