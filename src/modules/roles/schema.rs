//! Roles queries and mutations: the catalog, custom roles and their permissions.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject};
use entity::role;

use super::{
    service::{self, NewRole, RoleUpdate},
    types::{PermissionInfo, Role},
};
use crate::{
    auth::Permission,
    error::AppError,
    graphql::{app, loaders::loaders, rctx, relay},
};

#[derive(Default)]
pub struct RolesQuery;

#[Object]
impl RolesQuery {
    /// The permission catalog: every permission with its key, area and description.
    async fn permissions(&self) -> Vec<PermissionInfo> {
        Permission::ALL.iter().copied().map(PermissionInfo).collect()
    }
}

#[derive(InputObject)]
pub struct CreateRoleInput {
    /// The organisation's global ID.
    pub tenant_id: ID,
    /// Unique key within the organisation: 2–40 characters of a-z, 0-9, '-' and '_'.
    pub key: String,
    pub name: String,
    #[graphql(default)]
    pub description: String,
    /// A role of the same organisation whose permissions this one inherits.
    pub parent_id: Option<ID>,
    /// Permissions granted directly; you can grant only what you hold.
    #[graphql(default)]
    pub permissions: Vec<Permission>,
}

#[derive(InputObject)]
pub struct UpdateRoleInput {
    pub id: ID,
    pub name: Option<String>,
    pub description: Option<String>,
    /// A new parent role; `null` removes the parent, leaving it out keeps it.
    pub parent_id: MaybeUndefined<ID>,
}

#[derive(InputObject)]
pub struct SetRolePermissionsInput {
    pub role_id: ID,
    /// The complete set of permissions granted directly.
    pub permissions: Vec<Permission>,
}

#[derive(SimpleObject)]
pub struct RolePayload {
    pub role: Role,
}

#[derive(SimpleObject)]
pub struct DeleteRolePayload {
    pub deleted_role_id: ID,
}

#[derive(Default)]
pub struct RolesMutation;

async fn role_ctx(
    ctx: &Context<'_>,
    field: &str,
    id: &ID,
) -> Result<(uuid::Uuid, std::sync::Arc<crate::access::TenantCtx>)> {
    crate::graphql::owned_row::<role::Entity>(ctx, field, id, relay::kind::ROLE, "role", role::Column::Id)
        .await
}

fn keys(perms: &[Permission]) -> crate::auth::Permissions {
    perms.iter().collect()
}

#[Object]
impl RolesMutation {
    /// Creates a custom role (needs `ROLES_MANAGE`).
    async fn create_role(&self, ctx: &Context<'_>, input: CreateRoleInput) -> Result<RolePayload> {
        rctx(ctx).require_principal()?;
        let tenant = relay::decode_id("input.tenantId", &input.tenant_id, relay::kind::TENANT)?;
        let tctx = loaders(ctx).tenant_access(tenant).await?;
        let parent_id = input
            .parent_id
            .as_ref()
            .map(|p| relay::decode_id("input.parentId", p, relay::kind::ROLE))
            .transpose()
            .map_err(|_| AppError::validation("input.parentId", "no such role in this organisation"))?;
        let role = service::create_role(
            app(ctx),
            &tctx,
            NewRole {
                key: input.key,
                name: input.name,
                description: input.description,
                parent_id,
                permissions: keys(&input.permissions),
            },
        )
        .await?;
        loaders(ctx).forget_access();
        Ok(RolePayload { role: Role(role) })
    }

    /// Renames a custom role or changes its parent (needs `ROLES_MANAGE`).
    async fn update_role(&self, ctx: &Context<'_>, input: UpdateRoleInput) -> Result<RolePayload> {
        let (id, tctx) = role_ctx(ctx, "input.id", &input.id).await?;
        let parent_id = match input.parent_id {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(p) => {
                Some(Some(relay::decode_id("input.parentId", &p, relay::kind::ROLE).map_err(|_| {
                    AppError::validation("input.parentId", "no such role in this organisation")
                })?))
            }
        };
        let update =
            RoleUpdate { name: input.name, description: input.description, parent_id, permissions: None };
        let role = service::update_role(app(ctx), &tctx, id, update).await?;
        loaders(ctx).forget_access();
        Ok(RolePayload { role: Role(role) })
    }

    /// Replaces the permissions a custom role grants directly (needs `ROLES_MANAGE`).
    async fn set_role_permissions(
        &self,
        ctx: &Context<'_>,
        input: SetRolePermissionsInput,
    ) -> Result<RolePayload> {
        let (id, tctx) = role_ctx(ctx, "input.roleId", &input.role_id).await?;
        let update = RoleUpdate { permissions: Some(keys(&input.permissions)), ..Default::default() };
        let role = service::update_role(app(ctx), &tctx, id, update).await?;
        loaders(ctx).forget_access();
        Ok(RolePayload { role: Role(role) })
    }

    /// Deletes a custom role; a role still assigned, invited to or inherited from is a CONFLICT.
    async fn delete_role(&self, ctx: &Context<'_>, id: ID) -> Result<DeleteRolePayload> {
        let (uuid, tctx) = role_ctx(ctx, "id", &id).await?;
        let role = service::delete_role(app(ctx), &tctx, uuid).await?;
        Ok(DeleteRolePayload { deleted_role_id: relay::to_global_id(relay::kind::ROLE, role.id) })
    }
}
