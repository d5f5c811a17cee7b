//! Developer mode (support access), the access side: a platform operator's ACTIVE, unexpired
//! support session in an organisation makes them act there as an owner (only the `*.read`
//! permissions in a read-only session), with audit entries by `platform_admin`. The access
//! check ([`super::check`]) asks [`active`] for the tenants the user is no member of; nothing
//! else gives a platform user an organisation's data. Starting, approving and ending
//! sessions are the support module's.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{support_session, support_session::SupportSessionStatus};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use uuid::Uuid;

use super::{Actor, Change};
use crate::{
    auth::{Permission, Permissions},
    ctx::Ctx,
    db::TenantScope,
};

/// What a [`super::TenantCtx`] reached through a support session carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SupportAccess {
    pub session_id: Uuid,
    /// Nothing of the organisation may change ([`super::TenantTx::open`] refuses).
    pub read_only: bool,
    /// When the access ends, whatever any cache holds.
    pub expires_at: DateTime<Utc>,
}

impl SupportAccess {
    /// Still usable at `now`.
    pub fn live(&self, now: DateTime<Utc>) -> bool {
        now < self.expires_at
    }
}

/// Whether `permission` only lets one look: the catalog's `*.read` permissions. A read-only
/// session holds these and nothing else.
pub fn is_read_permission(permission: Permission) -> bool {
    permission.key().ends_with(".read")
}

/// The permissions of a read-only session.
pub fn read_permissions() -> Permissions {
    Permission::ALL.iter().copied().filter(|p| is_read_permission(*p)).collect()
}

/// `user_id`'s live sessions in `tenant_ids`, by tenant, when the account still holds a
/// platform role with two-factor authentication on (a revoked role ends every session).
/// `db` must see across tenants: this lookup *is* the access check.
pub async fn active(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    tenant_ids: &[Uuid],
    now: DateTime<Utc>,
) -> Result<HashMap<Uuid, SupportAccess>, DbErr> {
    if tenant_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let sessions = support_session::Entity::find()
        .filter(support_session::Column::UserId.eq(user_id))
        .filter(support_session::Column::TenantId.is_in(tenant_ids.iter().copied()))
        .filter(support_session::Column::Status.eq(SupportSessionStatus::Active))
        .filter(support_session::Column::ExpiresAt.gt(now))
        .all(db)
        .await?;
    if sessions.is_empty() {
        return Ok(HashMap::new());
    }
    let role = entity::platform_role::Entity::find()
        .filter(entity::platform_role::Column::UserId.eq(user_id))
        .one(db)
        .await?;
    let mfa = entity::user::Entity::find_by_id(user_id).one(db).await?.is_some_and(|u| u.mfa_enabled());
    if role.is_none() || !mfa {
        return Ok(HashMap::new());
    }
    Ok(sessions
        .into_iter()
        .filter_map(|s| {
            Some((
                s.tenant_id,
                SupportAccess { session_id: s.id, read_only: s.read_only, expires_at: s.expires_at? },
            ))
        })
        .collect())
}

/// The audit entry of one GraphQL operation (`op_type` `query`/`mutation`/`subscription`,
/// its name if given) made by `actor` in `tenant_id` through session `session_id`: every
/// request of developer mode leaves one in the organisation's log, actor `platform_admin`.
pub async fn record_request(
    ctx: &Ctx,
    tenant_id: Uuid,
    session_id: Uuid,
    actor: &Actor,
    op_type: &str,
    op_name: Option<&str>,
) -> crate::error::AppResult<()> {
    let scope = TenantScope::new(tenant_id);
    let txn = crate::db::begin_tenant_txn(&ctx.db, scope).await?;
    let entry = super::audit::record(
        &txn,
        scope,
        actor,
        Change {
            action: "support_session.request",
            target_type: "SupportSession",
            target_id: Some(session_id),
            before: None,
            after: Some(serde_json::json!({ "operationType": op_type, "operationName": op_name })),
        },
        ctx.now(),
    )
    .await?;
    txn.commit().await?;
    super::audit::announce(ctx, &[entry]).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_only_session_holds_the_read_permissions_only() {
        let read = read_permissions();
        for p in
            [Permission::TenantRead, Permission::MembersRead, Permission::AuditRead, Permission::BillingRead]
        {
            assert!(read.contains(p), "{p:?}");
        }
        for p in [
            Permission::TenantUpdate,
            Permission::MembersManage,
            Permission::SecretManage,
            Permission::WorkflowExecute,
            Permission::InfrastructureConsole,
        ] {
            assert!(!read.contains(p), "{p:?}");
        }
    }
}
