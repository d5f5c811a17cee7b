//! Granting and revoking platform roles: from the command line (`zygo admin grant|revoke`,
//! the bootstrap, no operator) and by a super administrator (`adminGrantPlatformRole`,
//! `adminRevokePlatformRole`). Each change writes its platform audit entry in the same
//! transaction. Whether a role may be used is [`crate::access::platform`]'s.

use entity::{platform_role, platform_role::PlatformRoleKind, user};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::{
    access::platform::{PlatformEntry, audit},
    error::{AppError, AppResult},
};

/// Reads a role as the command line spells it (`super-admin`, `support`).
pub fn parse_role(s: &str) -> Option<PlatformRoleKind> {
    match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
        "super-admin" | "superadmin" => Some(PlatformRoleKind::SuperAdmin),
        "support" => Some(PlatformRoleKind::Support),
        _ => None,
    }
}

async fn user_by_email(db: &impl sea_orm::ConnectionTrait, email: &str) -> AppResult<user::Model> {
    let email = email.trim().to_lowercase();
    user::Entity::find()
        .filter(user::Column::Email.eq(email))
        .one(db)
        .await?
        .ok_or_else(|| AppError::validation("email", "no account has this e-mail address"))
}

/// Gives the account with `email` the platform role `role` (replacing another), by
/// `operator` (`None`: the command line). Returns the account.
pub async fn grant(
    db: &DatabaseConnection,
    email: &str,
    role: PlatformRoleKind,
    operator: Option<Uuid>,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<user::Model> {
    let txn = crate::db::begin_write(db).await?;
    let account = user_by_email(&txn, email).await?;
    let existing =
        platform_role::Entity::find().filter(platform_role::Column::UserId.eq(account.id)).one(&txn).await?;
    let before = existing.as_ref().map(|r| r.role);
    match existing {
        Some(r) => {
            let mut am: platform_role::ActiveModel = r.into();
            am.role = Set(role);
            am.granted_by = Set(operator);
            am.granted_at = Set(now);
            am.update(&txn).await?;
        }
        None => {
            platform_role::ActiveModel {
                id: Set(Uuid::now_v7()),
                user_id: Set(account.id),
                role: Set(role),
                granted_by: Set(operator),
                granted_at: Set(now),
            }
            .insert(&txn)
            .await?;
        }
    }
    audit(
        &txn,
        PlatformEntry {
            actor_id: operator,
            action: "admin.role_granted",
            organisation_id: None,
            target_type: "User",
            target_id: Some(account.id.to_string()),
            reason: None,
            metadata: Some(serde_json::json!({ "email": account.email, "role": role, "before": before })),
        },
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(account)
}

/// Takes the platform role of the account with `email` away, by `operator` (`None`: the
/// command line). A super administrator cannot revoke their own role (someone must remain).
pub async fn revoke(
    db: &DatabaseConnection,
    email: &str,
    operator: Option<Uuid>,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<user::Model> {
    let txn = crate::db::begin_write(db).await?;
    let account = user_by_email(&txn, email).await?;
    if operator == Some(account.id) {
        return Err(AppError::validation("email", "you cannot revoke your own platform role"));
    }
    let existing = platform_role::Entity::find()
        .filter(platform_role::Column::UserId.eq(account.id))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::validation("email", "this account holds no platform role"))?;
    let role = existing.role;
    platform_role::Entity::delete_by_id(existing.id).exec(&txn).await?;
    audit(
        &txn,
        PlatformEntry {
            actor_id: operator,
            action: "admin.role_revoked",
            organisation_id: None,
            target_type: "User",
            target_id: Some(account.id.to_string()),
            reason: None,
            metadata: Some(serde_json::json!({ "email": account.email, "role": role })),
        },
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(account)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_spells_roles_with_dashes() {
        assert_eq!(parse_role("super-admin"), Some(PlatformRoleKind::SuperAdmin));
        assert_eq!(parse_role("SUPER_ADMIN"), Some(PlatformRoleKind::SuperAdmin));
        assert_eq!(parse_role("support"), Some(PlatformRoleKind::Support));
        assert_eq!(parse_role("owner"), None);
    }
}
