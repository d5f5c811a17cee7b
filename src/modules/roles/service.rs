//! Business logic of roles: custom role changes and the matrix. The role graph itself is
//! [`crate::access::role_graph`], below every module.

use entity::{invitation, membership, role, role_permission};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::json;
use uuid::Uuid;

use crate::{
    access::{Change, TenantCtx, TenantTx},
    auth::{Permission, Permissions, permissions::role_rank},
    ctx::Ctx,
    db::TenantScope,
    error::{AppError, AppResult},
};

pub use crate::access::role_graph::{RoleGraph, role_graphs};

async fn graph(db: &impl ConnectionTrait, tenant: Uuid) -> AppResult<RoleGraph> {
    Ok(role_graphs(db, &[tenant]).await?.remove(&tenant).unwrap_or_default())
}

/// Role keys: 2–40 characters of a-z, 0-9, '-' and '_'.
fn validate_key(field: &str, key: &str) -> AppResult<String> {
    let key = key.trim();
    let ok = (2..=40).contains(&key.len())
        && key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !ok {
        return Err(AppError::validation(field, "must be 2 to 40 characters of a-z, 0-9, '-' and '_'"));
    }
    Ok(key.to_string())
}

fn validate_name(field: &str, name: &str) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 60 {
        return Err(AppError::validation(field, "must be 1 to 60 characters"));
    }
    Ok(name.to_string())
}

/// Nobody grants what they do not hold.
fn check_held(tctx: &TenantCtx, field: &str, wanted: Permissions) -> AppResult<()> {
    let missing = wanted.without(tctx.permissions);
    if missing.is_empty() {
        Ok(())
    } else {
        Err(AppError::ForbiddenWith(format!(
            "{field}: you cannot grant permissions you do not hold: {}",
            missing.keys().join(", ")
        )))
    }
}

/// Nobody edits a role at or above their own; built-in roles are fixed.
fn check_editable(tctx: &TenantCtx, role: &role::Model) -> AppResult<()> {
    if role.is_builtin {
        return Err(AppError::ForbiddenWith(format!("the built-in role `{}` cannot be changed", role.key)));
    }
    if tctx.role_key != "owner" && role_rank(&role.key) <= role_rank(&tctx.role_key) {
        return Err(AppError::ForbiddenWith("you cannot edit a role at or above your own".into()));
    }
    Ok(())
}

fn role_summary(r: &role::Model, perms: Permissions) -> serde_json::Value {
    let perms = perms.keys();
    json!({ "key": r.key, "name": r.name, "description": r.description, "parentId": r.parent_id, "permissions": perms })
}

/// Fields of a new custom role.
pub struct NewRole {
    pub key: String,
    pub name: String,
    pub description: String,
    pub parent_id: Option<Uuid>,
    pub permissions: Permissions,
}

fn check_parent(g: &RoleGraph, tctx: &TenantCtx, role_id: Uuid, parent: Option<Uuid>) -> AppResult<()> {
    let Some(parent) = parent else { return Ok(()) };
    let p = g
        .roles
        .get(&parent)
        .ok_or_else(|| AppError::validation("input.parentId", "no such role in this organisation"))?;
    if p.key == "owner" {
        return Err(AppError::validation("input.parentId", "no role can inherit from the owner role"));
    }
    if g.creates_cycle(role_id, parent) {
        return Err(AppError::validation(
            "input.parentId",
            "this parent would make the role inherit from itself",
        ));
    }
    check_held(tctx, "input.parentId", g.effective(parent))
}

/// Creates a custom role (`roles.manage`).
pub async fn create_role(ctx: &Ctx, tctx: &TenantCtx, input: NewRole) -> AppResult<role::Model> {
    let tx = TenantTx::begin_locked(ctx, tctx, Permission::RolesManage).await?;
    let key = validate_key("input.key", &input.key)?;
    let name = validate_name("input.name", &input.name)?;
    check_held(tctx, "input.permissions", input.permissions)?;
    let scope = tx.scope();
    let g = graph(&tx, scope.tenant_id()).await?;
    if g.roles.values().any(|r| r.key == key) {
        return Err(AppError::conflict("input.key", "a role with this key exists"));
    }
    let id = Uuid::now_v7();
    check_parent(&g, tctx, id, input.parent_id)?;
    let role = scope
        .insert(
            &tx,
            role::ActiveModel {
                id: Set(id),
                tenant_id: Set(scope.tenant_id()),
                key: Set(key),
                name: Set(name),
                description: Set(input.description.trim().to_string()),
                is_builtin: Set(false),
                parent_id: Set(input.parent_id),
                created_at: Set(ctx.now()),
            },
        )
        .await?;
    write_grants(&tx, scope, role.id, input.permissions).await?;
    tx.commit_with(Change {
        action: "role.created",
        target_type: "Role",
        target_id: Some(role.id),
        before: None,
        after: Some(role_summary(&role, input.permissions)),
    })
    .await?;
    Ok(role)
}

async fn write_grants(
    db: &impl ConnectionTrait,
    scope: TenantScope,
    role_id: Uuid,
    perms: Permissions,
) -> AppResult<()> {
    scope
        .delete_many::<role_permission::Entity>()
        .filter(role_permission::Column::RoleId.eq(role_id))
        .exec(db)
        .await?;
    if !perms.is_empty() {
        role_permission::Entity::insert_many(perms.iter().map(|p| role_permission::ActiveModel {
            tenant_id: Set(scope.tenant_id()),
            role_id: Set(role_id),
            permission: Set(p.key().to_string()),
        }))
        .exec(db)
        .await?;
    }
    Ok(())
}

/// Changes to an existing custom role; `None` leaves a field as it is.
#[derive(Default)]
pub struct RoleUpdate {
    pub name: Option<String>,
    pub description: Option<String>,
    /// `Some(None)` removes the parent.
    pub parent_id: Option<Option<Uuid>>,
    pub permissions: Option<Permissions>,
}

/// Updates a custom role (`roles.manage`).
pub async fn update_role(
    ctx: &Ctx,
    tctx: &TenantCtx,
    id: Uuid,
    update: RoleUpdate,
) -> AppResult<role::Model> {
    let tx = TenantTx::begin_locked(ctx, tctx, Permission::RolesManage).await?;
    let scope = tx.scope();
    let g = graph(&tx, scope.tenant_id()).await?;
    let current = g.roles.get(&id).cloned().ok_or(AppError::NotFound("role"))?;
    check_editable(tctx, &current)?;
    let before_perms = g.grants.get(&id).cloned().unwrap_or_default();
    let mut am: role::ActiveModel = current.clone().into();
    if let Some(name) = &update.name {
        am.name = Set(validate_name("input.name", name)?);
    }
    if let Some(d) = &update.description {
        am.description = Set(d.trim().to_string());
    }
    if let Some(parent) = update.parent_id {
        check_parent(&g, tctx, id, parent)?;
        am.parent_id = Set(parent);
    }
    let perms = match update.permissions {
        Some(p) => {
            check_held(tctx, "input.permissions", p)?;
            write_grants(&tx, scope, id, p).await?;
            p
        }
        None => before_perms,
    };
    let updated = scope.update(&tx, am).await?;
    tx.commit_with(Change {
        action: if update.permissions.is_some() && update.name.is_none() && update.parent_id.is_none() {
            "role.permissions_set"
        } else {
            "role.updated"
        },
        target_type: "Role",
        target_id: Some(id),
        before: Some(role_summary(&current, before_perms)),
        after: Some(role_summary(&updated, perms)),
    })
    .await?;
    Ok(updated)
}

/// Deletes a custom role that nobody holds, nobody is invited to and no role inherits from.
pub async fn delete_role(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> AppResult<role::Model> {
    let tx = TenantTx::begin_locked(ctx, tctx, Permission::RolesManage).await?;
    let scope = tx.scope();
    let g = graph(&tx, scope.tenant_id()).await?;
    let current = g.roles.get(&id).cloned().ok_or(AppError::NotFound("role"))?;
    check_editable(tctx, &current)?;
    let holders =
        scope.find::<membership::Entity>().filter(membership::Column::RoleId.eq(id)).count(&tx).await?;
    if holders > 0 {
        return Err(AppError::conflict("id", format!("the role is assigned to {holders} member(s)")));
    }
    let invited = scope
        .find::<invitation::Entity>()
        .filter(invitation::Column::RoleId.eq(id))
        .filter(invitation::Column::Status.eq("pending"))
        .count(&tx)
        .await?;
    if invited > 0 {
        return Err(AppError::conflict("id", format!("{invited} pending invitation(s) grant this role")));
    }
    if g.roles.values().any(|r| r.parent_id == Some(id)) {
        return Err(AppError::conflict("id", "other roles inherit from this role"));
    }
    let before = role_summary(&current, g.grants.get(&id).copied().unwrap_or_default());
    scope
        .delete_many::<role_permission::Entity>()
        .filter(role_permission::Column::RoleId.eq(id))
        .exec(&tx)
        .await?;
    scope.delete_many::<role::Entity>().filter(role::Column::Id.eq(id)).exec(&tx).await?;
    tx.commit_with(Change {
        action: "role.deleted",
        target_type: "Role",
        target_id: Some(id),
        before: Some(before),
        after: None,
    })
    .await?;
    Ok(current)
}

/// The tenant's role graph for the matrix screen (`tenant.read`).
pub async fn matrix(ctx: &Ctx, tctx: &TenantCtx) -> AppResult<RoleGraph> {
    tctx.require(Permission::TenantRead)?;
    graph(&tctx.on(&ctx.db), tctx.tenant_id).await
}
