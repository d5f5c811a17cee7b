//! Project-scoped access on top of the tenant roles: `collection.manage` acts as the owner
//! of every project; anyone else needs `collection.read` and a project membership, whose
//! project role decides what they may change — capped at VIEWER without `projects.manage`
//! (a tenant role that may not change projects cannot be given more inside one). A project
//! one cannot see is NOT_FOUND.

use entity::{project, project_member, project_member::ProjectRole};
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter};
use uuid::Uuid;

use crate::{
    access::TenantCtx,
    auth::Permission,
    error::{AppError, AppResult},
};

/// Rank of a project role: lower may do more.
fn rank(role: ProjectRole) -> u8 {
    match role {
        ProjectRole::Owner => 0,
        ProjectRole::Editor => 1,
        ProjectRole::Viewer => 2,
    }
}

/// The caller's role in `project` (owner for `collection.manage`), if they may see it.
pub async fn role_in(
    db: &impl ConnectionTrait,
    tctx: &TenantCtx,
    project: Uuid,
) -> AppResult<Option<ProjectRole>> {
    tctx.require(Permission::CollectionRead)?;
    if tctx.has(Permission::CollectionManage) {
        return Ok(Some(ProjectRole::Owner));
    }
    let row = tctx
        .scope()
        .find::<project_member::Entity>()
        .filter(project_member::Column::ProjectId.eq(project))
        .filter(project_member::Column::UserId.eq(tctx.user_id))
        .one(db)
        .await?;
    let cap = |r: ProjectRole| if tctx.has(Permission::ProjectsManage) { r } else { ProjectRole::Viewer };
    Ok(row.map(|m| cap(m.role)))
}

/// The project, when the caller holds at least `needed` in it: NOT_FOUND when they cannot see
/// it at all, FORBIDDEN when their project role is below `needed`.
pub async fn require_project(
    db: &impl ConnectionTrait,
    tctx: &TenantCtx,
    project_id: Uuid,
    needed: ProjectRole,
) -> AppResult<(project::Model, ProjectRole)> {
    let project = tctx
        .scope()
        .find_by_id::<project::Entity, _>(db, project_id)
        .await?
        .ok_or(AppError::NotFound("project"))?;
    let role = role_in(db, tctx, project_id).await?.ok_or(AppError::NotFound("project"))?;
    if rank(role) > rank(needed) {
        return Err(AppError::ForbiddenWith(format!(
            "needs the project role {} (yours is {})",
            role_name(needed),
            role_name(role)
        )));
    }
    Ok((project, role))
}

/// The projects the caller may see (every one with `collection.manage`) with their role in
/// each, in one statement.
pub async fn visible_projects(
    db: &impl ConnectionTrait,
    tctx: &TenantCtx,
) -> AppResult<std::collections::HashMap<Uuid, ProjectRole>> {
    tctx.require(Permission::CollectionRead)?;
    let roles = if tctx.has(Permission::CollectionManage) {
        tctx.scope()
            .find::<project::Entity>()
            .all(db)
            .await?
            .into_iter()
            .map(|p| (p.id, ProjectRole::Owner))
            .collect()
    } else {
        let cap = |r: ProjectRole| if tctx.has(Permission::ProjectsManage) { r } else { ProjectRole::Viewer };
        tctx.scope()
            .find::<project_member::Entity>()
            .filter(project_member::Column::UserId.eq(tctx.user_id))
            .all(db)
            .await?
            .into_iter()
            .map(|m| (m.project_id, cap(m.role)))
            .collect()
    };
    Ok(roles)
}

pub fn role_name(r: ProjectRole) -> &'static str {
    match r {
        ProjectRole::Owner => "OWNER",
        ProjectRole::Editor => "EDITOR",
        ProjectRole::Viewer => "VIEWER",
    }
}
