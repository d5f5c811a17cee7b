//! Projects and their members: creating one (`projects.manage`; the creator becomes its
//! owner), changing it and its members (project owners), deleting it with everything in it,
//! and the projects a member may see.

use entity::{membership, project, project_member, project_member::ProjectRole};
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, Set};
use serde_json::json;
use uuid::Uuid;

use super::access::{require_project, visible_projects};
use crate::{
    access::{Change, TenantCtx, TenantTx},
    auth::Permission,
    ctx::Ctx,
    error::{AppError, AppResult},
};

fn checked_name(name: &str) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::validation("input.name", "must be 1 to 100 characters"));
    }
    Ok(name.to_string())
}

fn checked_description(d: &str) -> AppResult<String> {
    if d.chars().count() > 2000 {
        return Err(AppError::validation("input.description", "must be at most 2000 characters"));
    }
    Ok(d.trim().to_string())
}

/// Creates a project; the creator is its owner.
pub async fn create_project(
    ctx: &Ctx,
    tctx: &TenantCtx,
    name: &str,
    description: Option<&str>,
) -> AppResult<project::Model> {
    tctx.require(Permission::CollectionRead)?;
    let name = checked_name(name)?;
    let description = checked_description(description.unwrap_or_default())?;
    let tx = TenantTx::begin(ctx, tctx, Permission::ProjectsManage).await?;
    let scope = tx.scope();
    let now = ctx.now();
    let p = scope
        .insert(
            &tx,
            project::ActiveModel {
                id: Set(Uuid::now_v7()),
                tenant_id: Set(scope.tenant_id()),
                name: Set(name),
                description: Set(description),
                settings: Set(json!({})),
                created_by: Set(Some(tctx.user_id).filter(|u| !u.is_nil())),
                created_at: Set(now),
                updated_at: Set(now),
            },
        )
        .await
        .map_err(|e| AppError::from_db_unique(e, "input.name", "a project with this name exists"))?;
    if !tctx.user_id.is_nil() {
        scope
            .insert(
                &tx,
                project_member::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    tenant_id: Set(scope.tenant_id()),
                    project_id: Set(p.id),
                    user_id: Set(tctx.user_id),
                    role: Set(ProjectRole::Owner),
                    created_at: Set(now),
                },
            )
            .await?;
    }
    tx.commit_with(Change {
        action: "project.created",
        target_type: "Project",
        target_id: Some(p.id),
        before: None,
        after: Some(json!({ "name": p.name })),
    })
    .await?;
    Ok(p)
}

/// Renames a project or changes its description (project owners).
pub async fn update_project(
    ctx: &Ctx,
    tctx: &TenantCtx,
    id: Uuid,
    name: Option<&str>,
    description: Option<&str>,
    settings: Option<serde_json::Value>,
) -> AppResult<project::Model> {
    let name = name.map(checked_name).transpose()?;
    let description = description.map(checked_description).transpose()?;
    let settings = settings.map(|s| super::folders::checked_object("input.settings", s)).transpose()?;
    // The rule is the project role, checked inside before any write.
    let tx = TenantTx::open(ctx, tctx).await?;
    let (before, _) = require_project(&tx, tctx, id, ProjectRole::Owner).await?;
    let mut am: project::ActiveModel = before.clone().into();
    if let Some(n) = name {
        am.name = Set(n);
    }
    if let Some(d) = description {
        am.description = Set(d);
    }
    if let Some(s) = settings {
        am.settings = Set(s);
    }
    am.updated_at = Set(ctx.now());
    let after = tx
        .scope()
        .update(&tx, am)
        .await
        .map_err(|e| AppError::from_db_unique(e, "input.name", "a project with this name exists"))?;
    tx.commit_with(Change {
        action: "project.updated",
        target_type: "Project",
        target_id: Some(id),
        before: Some(json!({ "name": before.name })),
        after: Some(json!({ "name": after.name })),
    })
    .await?;
    Ok(after)
}

/// Deletes a project with its folders, records and jobs (project owners).
pub async fn delete_project(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> AppResult<project::Model> {
    let mut tx = TenantTx::open(ctx, tctx).await?;
    let (p, _) = require_project(&tx, tctx, id, ProjectRole::Owner).await?;
    super::folders::delete_all_of_project(&mut tx, id).await?;
    tx.scope().delete_many::<project::Entity>().filter(project::Column::Id.eq(id)).exec(&tx).await?;
    tx.commit_with(Change {
        action: "project.deleted",
        target_type: "Project",
        target_id: Some(id),
        before: Some(json!({ "name": p.name })),
        after: None,
    })
    .await?;
    Ok(p)
}

/// Gives `user` the project role `role` (adding them if they were not a member); they must be
/// an active member of the organisation. Project owners only.
pub async fn set_member(
    ctx: &Ctx,
    tctx: &TenantCtx,
    project_id: Uuid,
    user: Uuid,
    role: ProjectRole,
) -> AppResult<project_member::Model> {
    let tx = TenantTx::open(ctx, tctx).await?;
    require_project(&tx, tctx, project_id, ProjectRole::Owner).await?;
    let scope = tx.scope();
    let is_member = scope
        .find::<membership::Entity>()
        .filter(membership::Column::UserId.eq(user))
        .filter(membership::Column::Status.eq(membership::MembershipStatus::Active))
        .one(&tx)
        .await?
        .is_some();
    if !is_member {
        return Err(AppError::validation("input.userId", "not an active member of the organisation"));
    }
    let existing = scope
        .find::<project_member::Entity>()
        .filter(project_member::Column::ProjectId.eq(project_id))
        .filter(project_member::Column::UserId.eq(user))
        .one(&tx)
        .await?;
    let before = existing.as_ref().map(|m| json!({ "role": super::access::role_name(m.role) }));
    let member = match existing {
        Some(m) => {
            let mut am: project_member::ActiveModel = m.into();
            am.role = Set(role);
            scope.update(&tx, am).await?
        }
        None => {
            scope
                .insert(
                    &tx,
                    project_member::ActiveModel {
                        id: Set(Uuid::now_v7()),
                        tenant_id: Set(scope.tenant_id()),
                        project_id: Set(project_id),
                        user_id: Set(user),
                        role: Set(role),
                        created_at: Set(ctx.now()),
                    },
                )
                .await?
        }
    };
    tx.commit_with(Change {
        action: "project.member_set",
        target_type: "Project",
        target_id: Some(project_id),
        before,
        after: Some(json!({ "userId": user, "role": super::access::role_name(role) })),
    })
    .await?;
    Ok(member)
}

/// Takes `user` out of the project (project owners); its last owner stays.
pub async fn remove_member(ctx: &Ctx, tctx: &TenantCtx, project_id: Uuid, user: Uuid) -> AppResult<()> {
    let tx = TenantTx::open(ctx, tctx).await?;
    require_project(&tx, tctx, project_id, ProjectRole::Owner).await?;
    let scope = tx.scope();
    let members = scope
        .find::<project_member::Entity>()
        .filter(project_member::Column::ProjectId.eq(project_id))
        .all(&tx)
        .await?;
    let target = members.iter().find(|m| m.user_id == user).ok_or(AppError::NotFound("project member"))?;
    let owners = members.iter().filter(|m| m.role == ProjectRole::Owner).count();
    if target.role == ProjectRole::Owner && owners == 1 {
        return Err(AppError::conflict("input.userId", "the project's last owner stays"));
    }
    scope
        .delete_many::<project_member::Entity>()
        .filter(project_member::Column::Id.eq(target.id))
        .exec(&tx)
        .await?;
    tx.commit_with(Change {
        action: "project.member_removed",
        target_type: "Project",
        target_id: Some(project_id),
        before: Some(json!({ "userId": user })),
        after: None,
    })
    .await
}

/// The projects the caller may see, by name, with their role in each.
pub async fn list_projects(ctx: &Ctx, tctx: &TenantCtx) -> AppResult<Vec<(project::Model, ProjectRole)>> {
    let db = tctx.on(&ctx.db);
    let roles = visible_projects(&db, tctx).await?;
    let list = tctx
        .scope()
        .find::<project::Entity>()
        .filter(project::Column::Id.is_in(roles.keys().copied()))
        .order_by_asc(project::Column::Name)
        .all(&db)
        .await?;
    Ok(list.into_iter().filter_map(|p| roles.get(&p.id).map(|r| (p.clone(), *r))).collect())
}

/// One project the caller may see, with their role in it.
pub async fn get_project(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> AppResult<(project::Model, ProjectRole)> {
    let db = tctx.on(&ctx.db);
    require_project(&db, tctx, id, ProjectRole::Viewer).await
}

/// A project's members (anyone who may see the project).
pub async fn members(ctx: &Ctx, tctx: &TenantCtx, project_id: Uuid) -> AppResult<Vec<project_member::Model>> {
    let db = tctx.on(&ctx.db);
    require_project(&db, tctx, project_id, ProjectRole::Viewer).await?;
    Ok(tctx
        .scope()
        .find::<project_member::Entity>()
        .filter(project_member::Column::ProjectId.eq(project_id))
        .order_by_asc(project_member::Column::Id)
        .all(&db)
        .await?)
}
