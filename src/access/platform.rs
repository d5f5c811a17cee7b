//! Platform roles, the access side: whether a user account holds a platform role
//! (SUPER_ADMIN, SUPPORT) and may use it. The one place that decides it: every platform
//! operation (the admin API, the collectors' catalog, `markInvoicePaid`,
//! `platformSecurityEvents`) calls [`require`]. A platform role lives on the user account,
//! never on a membership: no organisation role, grant or invitation leads to it. Granting and
//! revoking are the admin module's.

use entity::{platform_role, platform_role::PlatformRoleKind, user};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// Any platform role.
pub const ANY: &[PlatformRoleKind] = &[PlatformRoleKind::SuperAdmin, PlatformRoleKind::Support];
/// Super administrators only.
pub const SUPER_ADMIN: &[PlatformRoleKind] = &[PlatformRoleKind::SuperAdmin];

/// The platform role of `user_id`, if any.
pub async fn role_of(db: &impl ConnectionTrait, user_id: Uuid) -> AppResult<Option<PlatformRoleKind>> {
    Ok(platform_role::Entity::find()
        .filter(platform_role::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .map(|r| r.role))
}

/// The role `user_id` may use now: FORBIDDEN without a role among `allowed`, MFA_REQUIRED when
/// the account holds one but has not turned two-factor authentication on.
pub async fn require(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    allowed: &[PlatformRoleKind],
) -> AppResult<PlatformRoleKind> {
    let Some(role) = role_of(db, user_id).await? else {
        return Err(AppError::ForbiddenWith("platform administrators only".into()));
    };
    let mfa = user::Entity::find_by_id(user_id).one(db).await?.is_some_and(|u| u.mfa_enabled());
    if !mfa {
        return Err(AppError::rejected(
            "MFA_REQUIRED",
            "platformRole",
            "a platform role is used with two-factor authentication only: turn it on in your \
             account (startTotpEnrollment)",
        ));
    }
    if !allowed.contains(&role) {
        return Err(AppError::ForbiddenWith("super administrators only".into()));
    }
    Ok(role)
}

/// One entry of the platform audit log, as given.
pub struct PlatformEntry<'a> {
    /// The operator; `None` for the command line.
    pub actor_id: Option<Uuid>,
    /// `admin.tenant_suspended`, `admin.role_granted`, …
    pub action: &'a str,
    pub organisation_id: Option<Uuid>,
    pub target_type: &'a str,
    pub target_id: Option<String>,
    pub reason: Option<String>,
    pub metadata: Option<serde_json::Value>,
}

/// Writes `entry` in `db` (the caller's transaction, so it exists exactly when the action
/// does), dated `at`.
pub async fn audit(
    db: &impl ConnectionTrait,
    entry: PlatformEntry<'_>,
    at: chrono::DateTime<chrono::Utc>,
) -> AppResult<entity::platform_audit_entry::Model> {
    use sea_orm::{ActiveModelTrait, Set};
    Ok(entity::platform_audit_entry::ActiveModel {
        id: Set(Uuid::now_v7()),
        actor_id: Set(entry.actor_id),
        action: Set(entry.action.into()),
        organisation_id: Set(entry.organisation_id),
        target_type: Set(entry.target_type.into()),
        target_id: Set(entry.target_id),
        reason: Set(entry.reason),
        metadata: Set(entry.metadata),
        created_at: Set(at),
    }
    .insert(db)
    .await?)
}
