//! [`TenantCtx`]: the viewer (a user, or an API key) acting as an active member of one
//! tenant, with the role's permissions — the result of the access check, and the only way
//! to a [`TenantScope`] outside the workers.

use uuid::Uuid;

use super::audit::Actor;
use crate::{
    auth::{Permission, Permissions},
    db::TenantScope,
    error::{AppError, AppResult},
};

/// The viewer acting as an active member of one tenant, with the role's permissions.
#[derive(Clone, Debug)]
pub struct TenantCtx {
    pub user_id: Uuid,
    pub tenant_id: Uuid,
    pub membership_id: Uuid,
    pub role_id: Uuid,
    pub role_key: String,
    pub permissions: Permissions,
    /// The organisation is suspended: only reading, and the owner's reactivation or
    /// deletion, remain possible.
    pub suspended: bool,
    /// An owner deleted the organisation and its grace period runs: as while suspended, only
    /// reading, and the owner's taking the deletion back, remain possible.
    pub pending_deletion: bool,
    /// The tenant's roles and grants, as read for this access check: role lookups of the
    /// same request use it instead of querying again.
    pub roles: std::sync::Arc<crate::access::RoleGraph>,
    /// The organisation requires two-factor authentication and this user has not turned it
    /// on: its data answers MFA_REQUIRED until they do.
    pub mfa_missing: bool,
    /// Who acts, as audit entries record it (the request's user or API key, address and
    /// request id; `system` for workers).
    pub actor: std::sync::Arc<Actor>,
    /// Permissions of the modules the platform switched off for this organisation (a
    /// `module.<name>` feature flag set false): [`TenantCtx::require`] answers FEATURE_DISABLED
    /// naming the module, [`TenantCtx::has`] says no.
    pub switched_off: Permissions,
    /// The operation's shared read transaction ([`crate::db::Reads`]) that [`TenantCtx::on`]
    /// reads through; separate transactions outside a GraphQL operation over HTTP.
    pub reads: crate::db::Reads,
    /// Set when a platform operator reaches the organisation through a support session
    /// (developer mode) instead of a membership: see [`crate::access::support`].
    pub support: Option<crate::access::support::SupportAccess>,
}

impl TenantCtx {
    /// Someone becoming a member (founding the organisation, or accepting an invitation) as
    /// membership `membership_id` with role `role_id`: the context their joining runs in,
    /// holding no permission, with `actor` as its audit entries record it.
    pub fn joining(user_id: Uuid, tenant_id: Uuid, membership_id: Uuid, role_id: Uuid, actor: Actor) -> Self {
        Self {
            user_id,
            tenant_id,
            membership_id,
            role_id,
            role_key: String::new(),
            permissions: Default::default(),
            suspended: false,
            pending_deletion: false,
            roles: Default::default(),
            mfa_missing: false,
            switched_off: Permissions::EMPTY,
            actor: std::sync::Arc::new(actor),
            reads: Default::default(),
            support: None,
        }
    }

    /// A worker acting for the platform in `tenant_id` (renewals, dunning): no member, no
    /// permission, audit entries by `system`. Open its work with [`crate::access::TenantTx::open`].
    pub fn system(tenant_id: Uuid) -> Self {
        Self::joining(
            Uuid::nil(),
            tenant_id,
            Uuid::nil(),
            Uuid::nil(),
            Actor { kind: "system", id: None, ip: None, user_agent: None, request_id: None },
        )
    }

    /// A platform operator (`operator`, holding a platform role) acting on `tenant_id` from
    /// the admin API: no membership, no permission, audit entries by `platform_admin` with the
    /// request's address. Open its work with [`crate::access::TenantTx::open`] after checking
    /// the platform role.
    pub fn platform_operator(tenant_id: Uuid, operator: Uuid, request: &Actor) -> Self {
        Self::joining(
            operator,
            tenant_id,
            Uuid::nil(),
            Uuid::nil(),
            Actor { kind: "platform_admin", id: Some(operator), ..request.clone() },
        )
    }

    /// The user acting, when a user acts (not an API key, not a worker): who a created row
    /// records as its creator.
    pub fn acting_user(&self) -> Option<Uuid> {
        (self.actor.kind == "user").then_some(self.actor.id).flatten()
    }

    pub fn has(&self, permission: Permission) -> bool {
        self.permissions.contains(permission) && !self.switched_off.contains(permission)
    }

    /// FORBIDDEN naming the permission unless the member's role grants it; FEATURE_DISABLED
    /// naming the module (and its flag) when the platform switched that module off for the
    /// organisation — the one gate every operation of a module passes.
    pub fn require(&self, permission: Permission) -> AppResult<()> {
        if self.switched_off.contains(permission)
            && let Some(module) = permission.module()
        {
            return Err(AppError::RejectedWith {
                code: "FEATURE_DISABLED",
                message: format!("the {module} module is switched off for this organisation"),
                details: serde_json::json!({ "module": module, "flag": format!("module.{module}") }),
            });
        }
        if !self.has(permission) {
            return Err(AppError::Forbidden { permission: permission.key() });
        }
        let allowed_while_suspended = matches!(
            permission,
            Permission::TenantRead
                | Permission::MembersRead
                | Permission::AuditRead
                | Permission::TenantDelete
        );
        if self.pending_deletion && !allowed_while_suspended {
            return Err(AppError::ForbiddenWith(
                "the organisation is scheduled for deletion; an owner can take the deletion back \
                 (cancelTenantDeletion)"
                    .into(),
            ));
        }
        if self.suspended && !allowed_while_suspended {
            return Err(AppError::ForbiddenWith(
                "the organisation is suspended; an owner can reactivate it".into(),
            ));
        }
        Ok(())
    }

    /// The scoped query helpers for this tenant.
    pub fn scope(&self) -> TenantScope {
        TenantScope::new(self.tenant_id)
    }

    /// `db` behind this tenant's row-level security wall (see [`TenantScope::on`]).
    pub fn on<'a>(&self, db: &'a sea_orm::DatabaseConnection) -> crate::db::ScopedConn<'a> {
        self.reads.tenant(db, self.scope())
    }
}
