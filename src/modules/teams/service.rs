//! Business logic of teams.

use chrono::Utc;
use entity::{membership, team, team_member};
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::{
    access::{Change, TenantCtx, TenantTx},
    auth::Permission,
    ctx::Ctx,
    db::page::PageArgs,
    db::{TenantScope, page::Window},
    error::{AppError, AppResult},
};

pub use entity::team_member::TeamRole;

/// A team to join, as carried by an invitation.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TeamAssignment {
    pub team_id: Uuid,
    pub role: TeamRole,
}

fn validate_name(field: &str, name: &str) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 80 {
        return Err(AppError::validation(field, "must be 1 to 80 characters"));
    }
    Ok(name.to_string())
}

async fn team_of(db: &impl ConnectionTrait, scope: TenantScope, id: Uuid) -> AppResult<team::Model> {
    scope.find_by_id::<team::Entity, _>(db, id).await?.ok_or(AppError::NotFound("team"))
}

/// `teams.manage`, or being an owner of this team.
async fn check_manage(db: &impl ConnectionTrait, tctx: &TenantCtx, team_id: Uuid) -> AppResult<()> {
    if tctx.has(Permission::TeamsManage) {
        return tctx.require(Permission::TeamsManage);
    }
    let owner = tctx
        .scope()
        .find::<team_member::Entity>()
        .filter(team_member::Column::TeamId.eq(team_id))
        .filter(team_member::Column::MembershipId.eq(tctx.membership_id))
        .filter(team_member::Column::Role.eq(TeamRole::Owner))
        .one(db)
        .await?;
    match owner {
        Some(_) if !tctx.suspended => Ok(()),
        _ => tctx.require(Permission::TeamsManage),
    }
}

fn summary(t: &team::Model) -> serde_json::Value {
    json!({ "name": t.name, "description": t.description })
}

/// Checks that every assignment names a team of the tenant; errors name `field`.
pub async fn check_assignments(
    db: &impl ConnectionTrait,
    scope: TenantScope,
    field: &str,
    teams: &[TeamAssignment],
) -> AppResult<()> {
    for a in teams {
        if scope.find_by_id::<team::Entity, _>(db, a.team_id).await?.is_none() {
            return Err(AppError::validation(field, "no such team in this organisation"));
        }
    }
    Ok(())
}

/// Adds `membership_id` to each team of `teams` (inside the caller's transaction).
pub async fn join_teams(
    db: &impl ConnectionTrait,
    scope: TenantScope,
    membership_id: Uuid,
    teams: &[TeamAssignment],
) -> AppResult<()> {
    for a in teams {
        if scope.find_by_id::<team::Entity, _>(db, a.team_id).await?.is_none() {
            continue; // deleted since the invitation was sent
        }
        scope
            .insert(
                db,
                team_member::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    tenant_id: Set(scope.tenant_id()),
                    team_id: Set(a.team_id),
                    membership_id: Set(membership_id),
                    role: Set(a.role),
                    created_at: Set(Utc::now()),
                },
            )
            .await?;
    }
    Ok(())
}

/// Creates a team (`teams.manage`).
pub async fn create_team(
    ctx: &Ctx,
    tctx: &TenantCtx,
    name: &str,
    description: &str,
) -> AppResult<team::Model> {
    let mut tx = TenantTx::begin(ctx, tctx, Permission::TeamsManage).await?;
    let name = validate_name("input.name", name)?;
    crate::modules::billing::usage::require_room(&mut tx, crate::modules::billing::plans::Limit::Teams, 1)
        .await?;
    let scope = tx.scope();
    if scope.find::<team::Entity>().filter(team::Column::Name.eq(&name)).one(&tx).await?.is_some() {
        return Err(AppError::conflict("input.name", "a team with this name exists"));
    }
    let now = ctx.now();
    let team = scope
        .insert(
            &tx,
            team::ActiveModel {
                id: Set(Uuid::now_v7()),
                tenant_id: Set(scope.tenant_id()),
                name: Set(name),
                description: Set(description.trim().to_string()),
                created_at: Set(now),
                updated_at: Set(now),
            },
        )
        .await
        .map_err(|e| AppError::from_db_unique(e, "input.name", "a team with this name exists"))?;
    tx.commit_with(Change {
        action: "team.created",
        target_type: "Team",
        target_id: Some(team.id),
        before: None,
        after: Some(summary(&team)),
    })
    .await?;
    Ok(team)
}

/// Renames a team or changes its description.
pub async fn update_team(
    ctx: &Ctx,
    tctx: &TenantCtx,
    id: Uuid,
    name: Option<&str>,
    description: Option<&str>,
) -> AppResult<team::Model> {
    // The rule depends on the row (a team's own owner may edit it): checked below.
    let tx = TenantTx::open(ctx, tctx).await?;
    let scope = tx.scope();
    let current = team_of(&tx, scope, id).await?;
    check_manage(&tx, tctx, id).await?;
    let mut am: team::ActiveModel = current.clone().into();
    if let Some(n) = name {
        let n = validate_name("input.name", n)?;
        if scope
            .find::<team::Entity>()
            .filter(team::Column::Name.eq(&n))
            .filter(team::Column::Id.ne(id))
            .one(&tx)
            .await?
            .is_some()
        {
            return Err(AppError::conflict("input.name", "a team with this name exists"));
        }
        am.name = Set(n);
    }
    if let Some(d) = description {
        am.description = Set(d.trim().to_string());
    }
    am.updated_at = Set(ctx.now());
    let updated = scope
        .update(&tx, am)
        .await
        .map_err(|e| AppError::from_db_unique(e, "input.name", "a team with this name exists"))?;
    tx.commit_with(Change {
        action: "team.updated",
        target_type: "Team",
        target_id: Some(id),
        before: Some(summary(&current)),
        after: Some(summary(&updated)),
    })
    .await?;
    Ok(updated)
}

/// Deletes a team and its memberships (`teams.manage`).
pub async fn delete_team(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> AppResult<team::Model> {
    let tx = TenantTx::begin(ctx, tctx, Permission::TeamsManage).await?;
    let scope = tx.scope();
    let current = team_of(&tx, scope, id).await?;
    scope.delete_many::<team_member::Entity>().filter(team_member::Column::TeamId.eq(id)).exec(&tx).await?;
    scope.delete_many::<team::Entity>().filter(team::Column::Id.eq(id)).exec(&tx).await?;
    tx.commit_with(Change {
        action: "team.deleted",
        target_type: "Team",
        target_id: Some(id),
        before: Some(summary(&current)),
        after: None,
    })
    .await?;
    Ok(current)
}

/// Adds a member to a team with `role`, or changes their team role if already in it.
pub async fn set_team_member(
    ctx: &Ctx,
    tctx: &TenantCtx,
    team_id: Uuid,
    membership_id: Uuid,
    role: TeamRole,
) -> AppResult<team_member::Model> {
    // The rule depends on the row (a team's own owner may manage it): checked below.
    let tx = TenantTx::open(ctx, tctx).await?;
    let scope = tx.scope();
    team_of(&tx, scope, team_id).await?;
    check_manage(&tx, tctx, team_id).await?;
    scope
        .find_by_id::<membership::Entity, _>(&tx, membership_id)
        .await?
        .ok_or_else(|| AppError::validation("input.membershipId", "no such member in this organisation"))?;
    let existing = scope
        .find::<team_member::Entity>()
        .filter(team_member::Column::TeamId.eq(team_id))
        .filter(team_member::Column::MembershipId.eq(membership_id))
        .one(&tx)
        .await?;
    let (before, row) = match existing {
        Some(tm) => {
            let before = json!({ "membershipId": membership_id, "role": tm.role });
            let mut am: team_member::ActiveModel = tm.into();
            am.role = Set(role);
            (Some(before), scope.update(&tx, am).await?)
        }
        None => {
            let row = scope
                .insert(
                    &tx,
                    team_member::ActiveModel {
                        id: Set(Uuid::now_v7()),
                        tenant_id: Set(scope.tenant_id()),
                        team_id: Set(team_id),
                        membership_id: Set(membership_id),
                        role: Set(role),
                        created_at: Set(ctx.now()),
                    },
                )
                .await
                .map_err(|e| {
                    AppError::from_db_unique(e, "input.membershipId", "already in this team; try again")
                })?;
            (None, row)
        }
    };
    tx.commit_with(Change {
        action: if before.is_some() { "team.member_role_changed" } else { "team.member_added" },
        target_type: "Team",
        target_id: Some(team_id),
        before,
        after: Some(json!({ "membershipId": membership_id, "role": role })),
    })
    .await?;
    Ok(row)
}

/// Removes a member from a team.
pub async fn remove_team_member(
    ctx: &Ctx,
    tctx: &TenantCtx,
    team_id: Uuid,
    membership_id: Uuid,
) -> AppResult<()> {
    // The rule depends on the row (a team's own owner may manage it): checked below.
    let tx = TenantTx::open(ctx, tctx).await?;
    let scope = tx.scope();
    team_of(&tx, scope, team_id).await?;
    check_manage(&tx, tctx, team_id).await?;
    let removed = scope
        .delete_many::<team_member::Entity>()
        .filter(team_member::Column::TeamId.eq(team_id))
        .filter(team_member::Column::MembershipId.eq(membership_id))
        .exec(&tx)
        .await?;
    if removed.rows_affected == 0 {
        return Err(AppError::NotFound("team member"));
    }
    tx.commit_with(Change {
        action: "team.member_removed",
        target_type: "Team",
        target_id: Some(team_id),
        before: Some(json!({ "membershipId": membership_id })),
        after: None,
    })
    .await?;
    Ok(())
}

/// Validates a page request of teams (`tenant.read`).
pub fn teams_window(ctx: &Ctx, tctx: &TenantCtx, args: &PageArgs) -> AppResult<Window> {
    tctx.require(Permission::TenantRead)?;
    args.window(ctx.config.max_page_size)
}

/// Validates a page request of a team's members (`members.read`).
pub fn team_members_window(ctx: &Ctx, tctx: &TenantCtx, args: &PageArgs) -> AppResult<Window> {
    tctx.require(Permission::MembersRead)?;
    args.window(ctx.config.max_page_size)
}
