//! Who is calling ([`RequestCtx`]) and as which member of which tenant ([`TenantCtx`]).

use std::collections::HashSet;

use uuid::Uuid;

use super::Permission;
use crate::{
    db::TenantScope,
    error::{AppError, AppResult},
};

/// The authenticated user behind a request.
#[derive(Clone, Debug)]
pub struct Viewer {
    pub user_id: Uuid,
    pub session_id: Uuid,
    /// When the access token presented expires (Unix seconds).
    pub token_expires_at: i64,
}

/// A tenant API key presenting itself as `Authorization: Bearer zyk_…`.
#[derive(Clone, Debug)]
pub struct ApiKeyPrincipal {
    pub id: Uuid,
    pub tenant_id: Uuid,
    /// The member who created the key: the key never holds more than they do now.
    pub created_by: Uuid,
    pub permissions: HashSet<String>,
}

/// Built once per HTTP request or WebSocket connection, before any resolver runs.
#[derive(Clone, Debug, Default)]
pub struct RequestCtx {
    pub request_id: String,
    pub viewer: Option<Viewer>,
    /// Set instead of `viewer` when the request authenticated with an API key.
    pub api_key: Option<ApiKeyPrincipal>,
    /// Why a presented credential was refused (expired, revoked, …), reported when an
    /// operation needs a viewer.
    pub auth_error: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl RequestCtx {
    /// Ok when a user or an API key authenticated the request, else UNAUTHENTICATED. For
    /// tenant operations, which either may perform.
    pub fn require_principal(&self) -> AppResult<()> {
        if self.api_key.is_some() { Ok(()) } else { self.viewer().map(|_| ()) }
    }

    /// The viewer, or UNAUTHENTICATED.
    pub fn viewer(&self) -> AppResult<&Viewer> {
        self.viewer.as_ref().ok_or_else(|| {
            AppError::unauthenticated(self.auth_error.clone().unwrap_or_else(|| "sign in required".into()))
        })
    }
}

/// The viewer acting as an active member of one tenant, with the role's permissions.
#[derive(Clone, Debug)]
pub struct TenantCtx {
    pub user_id: Uuid,
    pub tenant_id: Uuid,
    pub membership_id: Uuid,
    pub role_id: Uuid,
    pub role_key: String,
    pub permissions: HashSet<String>,
    /// The organisation is suspended: only reading, and the owner's reactivation or
    /// deletion, remain possible.
    pub suspended: bool,
    /// The tenant's roles and grants, as read for this access check: role lookups of the
    /// same request use it instead of querying again.
    pub roles: std::sync::Arc<crate::access::RoleGraph>,
    /// The organisation requires two-factor authentication and this user has not turned it
    /// on: its data answers MFA_REQUIRED until they do.
    pub mfa_missing: bool,
}

impl TenantCtx {
    pub fn has(&self, permission: Permission) -> bool {
        self.permissions.contains(permission.key())
    }

    /// FORBIDDEN naming the permission unless the member's role grants it.
    pub fn require(&self, permission: Permission) -> AppResult<()> {
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
        self.scope().on(db)
    }
}
