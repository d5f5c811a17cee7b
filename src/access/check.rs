//! The access check: is this user an active member of these tenants, with which role and
//! permissions, is the organisation suspended, does its MFA rule hold for them. Answers come
//! from the instance's [`AccessCache`](super::cache::AccessCache) when it has them, else from
//! three to five statements whatever the number of tenants (and, when a feature flag gates a
//! module, what the flags module needs to evaluate it).

use std::collections::{HashMap, HashSet};

use entity::{membership, tenant};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::{Actor, TenantCtx};
use crate::{
    ctx::Ctx,
    db::Reads,
    error::{AppError, AppResult},
};

/// The user's access to each of `tenant_ids` they are an active member of. Tenants missing
/// from the result are NOT_FOUND for this user.
pub async fn access(
    ctx: &Ctx,
    user_id: Uuid,
    tenant_ids: &[Uuid],
) -> Result<HashMap<Uuid, TenantCtx>, DbErr> {
    access_in(ctx, &Reads::default(), user_id, tenant_ids).await
}

/// [`access`], reading (when the cache does not answer) through `reads`.
pub async fn access_in(
    ctx: &Ctx,
    reads: &Reads,
    user_id: Uuid,
    tenant_ids: &[Uuid],
) -> Result<HashMap<Uuid, TenantCtx>, DbErr> {
    let mut out = HashMap::new();
    let mut missing = Vec::new();
    let now = ctx.now();
    for &tenant in tenant_ids {
        match ctx.access.get(user_id, tenant) {
            // A support session's end is checked at every access, whatever the cache holds.
            Some(Some(tctx)) if tctx.support.as_ref().is_some_and(|s| !s.live(now)) => missing.push(tenant),
            Some(Some(tctx)) => {
                out.insert(tenant, tctx);
            }
            Some(None) => {}
            None => missing.push(tenant),
        }
    }
    if missing.is_empty() {
        return Ok(out);
    }
    let ticket = ctx.access.ticket();
    let mut found = read(&ctx.db, reads, user_id, &missing, now).await?;
    if !found.is_empty() {
        // The modules the platform switched off there (nothing read while no flag gates one).
        let member_of: Vec<Uuid> = found.keys().copied().collect();
        let off = ctx.features.switched_off(ctx, reads, user_id, &member_of).await?;
        for (tenant, permissions) in off {
            if let Some(tctx) = found.get_mut(&tenant) {
                tctx.switched_off = permissions;
            }
        }
    }
    ctx.access.store(ticket, user_id, missing.iter().map(|t| (*t, found.get(t).cloned())));
    out.extend(found);
    Ok(out)
}

/// One tenant's access for `user_id`, or NOT_FOUND; MFA_REQUIRED when the organisation's
/// rule is not met.
pub async fn access_one(ctx: &Ctx, user_id: Uuid, tenant_id: Uuid) -> AppResult<TenantCtx> {
    access(ctx, user_id, &[tenant_id])
        .await?
        .remove(&tenant_id)
        .ok_or(AppError::NotFound("tenant"))
        .and_then(|tctx| require_mfa_met(&tctx).map(|()| tctx))
}

/// MFA_REQUIRED when the organisation requires two-factor authentication the member lacks.
pub fn require_mfa_met(tctx: &TenantCtx) -> AppResult<()> {
    if tctx.mfa_missing {
        return Err(AppError::rejected(
            "MFA_REQUIRED",
            "tenant",
            "this organisation requires two-factor authentication: turn it on in your account \
             (startTotpEnrollment) to reach its data",
        ));
    }
    Ok(())
}

/// The access check from the database: the active memberships and, for the other tenants,
/// live support sessions (developer mode, see [`super::support`]), then (behind the wall of
/// those tenants only) their role graphs and states, and the user's two-factor setting when
/// some organisation requires it.
async fn read(
    pool: &sea_orm::DatabaseConnection,
    reads: &Reads,
    user_id: Uuid,
    tenant_ids: &[Uuid],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<HashMap<Uuid, TenantCtx>, DbErr> {
    // The membership lookup *is* the access check, so it filters by user, not by a scope,
    // and looks across tenants.
    let memberships = membership::Entity::find()
        .filter(membership::Column::UserId.eq(user_id))
        .filter(membership::Column::TenantId.is_in(tenant_ids.iter().copied()))
        .filter(membership::Column::Status.eq(membership::MembershipStatus::Active))
        .all(&reads.across(pool))
        .await?;
    // Where the user is no member, a support session may let them in (one statement, and
    // only for a user who has sessions at all).
    let others: Vec<Uuid> =
        tenant_ids.iter().copied().filter(|t| !memberships.iter().any(|m| m.tenant_id == *t)).collect();
    let sessions = super::support::active(&reads.across(pool), user_id, &others, now).await?;
    if memberships.is_empty() && sessions.is_empty() {
        return Ok(HashMap::new());
    }
    let tenants: Vec<Uuid> =
        memberships.iter().map(|m| m.tenant_id).chain(sessions.keys().copied()).collect();
    // From here on only the tenants the user is a member of.
    let db = &reads.tenants(pool, tenants.iter().copied());
    let mut graphs = super::role_graph::role_graphs(db, &tenants).await?;
    type State =
        (Uuid, tenant::TenantStatus, Option<serde_json::Value>, Option<chrono::DateTime<chrono::Utc>>);
    let states: Vec<State> = tenant::Entity::find()
        .select_only()
        .column(tenant::Column::Id)
        .column(tenant::Column::Status)
        .column(tenant::Column::Settings)
        .column(tenant::Column::DeletionDueAt)
        .filter(tenant::Column::Id.is_in(tenants.iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    let suspended: HashSet<Uuid> = states
        .iter()
        .filter(|(_, status, _, _)| *status == tenant::TenantStatus::Suspended)
        .map(|(id, _, _, _)| *id)
        .collect();
    let pending_deletion: HashSet<Uuid> =
        states.iter().filter(|(_, _, _, due)| due.is_some()).map(|(id, _, _, _)| *id).collect();
    let requiring_mfa: HashSet<Uuid> = states
        .iter()
        .filter(|(_, _, settings, _)| {
            settings.as_ref().and_then(|s| s.pointer("/security/requireMfa")).and_then(|v| v.as_bool())
                == Some(true)
        })
        .map(|(id, _, _, _)| *id)
        .collect();
    // Only asked when some organisation requires MFA.
    let has_mfa = if requiring_mfa.is_empty() {
        true
    } else {
        entity::user::Entity::find_by_id(user_id).one(db).await?.is_some_and(|u| u.mfa_enabled())
    };
    let actor = std::sync::Arc::new(Actor::user(user_id));
    // The operator acts as an owner (only reading in a read-only session); the owner role
    // of every organisation holds the whole catalog.
    let operator = std::sync::Arc::new(Actor { kind: "platform_admin", ..Actor::user(user_id) });
    let mut supported: HashMap<Uuid, TenantCtx> = HashMap::new();
    for (tenant_id, access) in sessions {
        let Some(graph) = graphs.remove(&tenant_id) else { continue };
        let Some(owner) = graph.roles.values().find(|r| r.key == "owner").cloned() else { continue };
        let permissions = if access.read_only {
            graph.effective(owner.id).and(super::support::read_permissions())
        } else {
            graph.effective(owner.id)
        };
        supported.insert(
            tenant_id,
            TenantCtx {
                user_id,
                tenant_id,
                membership_id: Uuid::nil(),
                role_id: owner.id,
                role_key: owner.key.clone(),
                permissions,
                suspended: suspended.contains(&tenant_id),
                pending_deletion: pending_deletion.contains(&tenant_id),
                roles: std::sync::Arc::new(graph),
                // Checked when the session started (a platform role requires MFA).
                mfa_missing: false,
                switched_off: Default::default(),
                actor: operator.clone(),
                reads: Reads::default(),
                support: Some(access),
            },
        );
    }
    Ok(memberships
        .into_iter()
        .filter_map(|m| {
            let graph = std::sync::Arc::new(graphs.remove(&m.tenant_id)?);
            let role = graph.roles.get(&m.role_id)?;
            Some((
                m.tenant_id,
                TenantCtx {
                    user_id,
                    tenant_id: m.tenant_id,
                    membership_id: m.id,
                    role_id: role.id,
                    role_key: role.key.clone(),
                    permissions: graph.effective(role.id),
                    suspended: suspended.contains(&m.tenant_id),
                    pending_deletion: pending_deletion.contains(&m.tenant_id),
                    roles: graph.clone(),
                    mfa_missing: !has_mfa && requiring_mfa.contains(&m.tenant_id),
                    switched_off: Default::default(),
                    actor: actor.clone(),
                    reads: Reads::default(),
                    support: None,
                },
            ))
        })
        .chain(supported)
        .collect())
}
