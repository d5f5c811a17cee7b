//! GraphQL types of the roles module.

use async_graphql::{Context, Object, Result, SimpleObject};

use async_graphql::ID;
use entity::role;

use crate::{
    auth::Permission,
    error::AppError,
    graphql::{
        app,
        loaders::{empty_rows, loader_err, loaders},
        relay,
    },
    modules::tenancy::service as tenancy,
};

/// One entry of the permission catalog.
pub struct PermissionInfo(pub Permission);

#[Object]
impl PermissionInfo {
    /// The enum value used everywhere in the API.
    async fn permission(&self) -> Permission {
        self.0
    }
    /// The stable key, e.g. `members.manage`.
    async fn key(&self) -> &'static str {
        self.0.key()
    }
    /// The area it belongs to, e.g. `members`.
    async fn area(&self) -> &'static str {
        self.0.area()
    }
    async fn description(&self) -> &'static str {
        self.0.description()
    }
}

/// One row of the matrix: a role with what it grants itself and what it ends up holding.
#[derive(SimpleObject)]
pub struct PermissionMatrixRow {
    pub role: Role,
    /// Granted to this role directly.
    pub granted: Vec<Permission>,
    /// Held through the role, including what it inherits from its parent roles.
    pub effective: Vec<Permission>,
}

/// Roles × permissions of one organisation, in one query.
pub struct PermissionMatrix {
    pub rows: Vec<PermissionMatrixRow>,
}

#[Object]
impl PermissionMatrix {
    /// The columns: the whole catalog.
    async fn permissions(&self, _ctx: &Context<'_>) -> Result<Vec<PermissionInfo>> {
        Ok(Permission::ALL.iter().copied().map(PermissionInfo).collect())
    }
    /// The rows: one per role, built-in roles first.
    async fn rows(&self) -> &[PermissionMatrixRow] {
        &self.rows
    }
}

/// The permissions of `set`, in catalog order.
pub fn to_permissions(set: crate::auth::Permissions) -> Vec<Permission> {
    set.iter().collect()
}

/// A role: a named set of permissions inside one organisation.
#[derive(Clone)]
pub struct Role(pub role::Model);

#[Object]
impl Role {
    /// Global ID.
    pub async fn id(&self) -> ID {
        relay::to_global_id(relay::kind::ROLE, self.0.id)
    }
    /// The database id (a time-ordered UUID), e.g. for correlating with logs and exports.
    async fn database_id(&self) -> uuid::Uuid {
        self.0.id
    }
    /// Stable key: `owner`, `admin`, `member`, `viewer`, or a custom role's key.
    async fn key(&self) -> &str {
        &self.0.key
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// Built-in roles cannot be deleted.
    async fn is_builtin(&self) -> bool {
        self.0.is_builtin
    }
    /// Permissions the role holds: its own and those inherited from its parent roles.
    async fn permissions(&self, ctx: &Context<'_>) -> Result<Vec<Permission>> {
        let graph = loaders(ctx).role_graph(self.0.tenant_id).await?;
        Ok(crate::modules::roles::types::to_permissions(graph.effective(self.0.id)))
    }
    /// Permissions granted to this role directly.
    async fn granted_permissions(&self, ctx: &Context<'_>) -> Result<Vec<Permission>> {
        let graph = loaders(ctx).role_graph(self.0.tenant_id).await?;
        Ok(crate::modules::roles::types::to_permissions(
            graph.grants.get(&self.0.id).copied().unwrap_or_default(),
        ))
    }
    /// The role whose permissions this one inherits.
    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<Role>> {
        let Some(parent) = self.0.parent_id else { return Ok(None) };
        Ok(loaders(ctx).role(self.0.tenant_id, parent).await?.map(Role))
    }
}

/// The roles part of `Tenant`: the viewer's role and permissions, the roles and their matrix.
#[derive(Clone)]
pub struct TenantRoles(pub crate::graphql::tenant::TenantRow);

#[Object]
impl TenantRoles {
    /// The viewer's role in this organisation.
    async fn viewer_role(&self, ctx: &Context<'_>) -> Result<Role> {
        let tctx = loaders(ctx).tenant_access(self.0.id).await?;
        let role = loaders(ctx).role(self.0.id, tctx.role_id).await?.ok_or(AppError::NotFound("role"))?;
        Ok(Role(role))
    }
    /// What the viewer may do in this organisation, so a client can render by permission.
    async fn viewer_permissions(&self, ctx: &Context<'_>) -> Result<Vec<Permission>> {
        let tctx = loaders(ctx).tenant_access(self.0.id).await?;
        Ok(Permission::ALL.iter().copied().filter(|p| tctx.has(*p)).collect())
    }
    /// Roles × permissions in one query, for the matrix screen.
    async fn permission_matrix(
        &self,
        ctx: &Context<'_>,
    ) -> Result<crate::modules::roles::types::PermissionMatrix> {
        use crate::modules::roles::types::{PermissionMatrix, PermissionMatrixRow, to_permissions};
        let tctx = loaders(ctx).tenant_access(self.0.id).await?;
        let graph = crate::modules::roles::service::matrix(app(ctx), &tctx).await?;
        let mut roles: Vec<_> = graph.roles.values().cloned().collect();
        roles.sort_by_key(|r| (!r.is_builtin, r.id));
        let rows = roles
            .into_iter()
            .map(|r| PermissionMatrixRow {
                granted: to_permissions(graph.grants.get(&r.id).copied().unwrap_or_default()),
                effective: to_permissions(graph.effective(r.id)),
                role: Role(r),
            })
            .collect();
        Ok(PermissionMatrix { rows })
    }
    /// Roles defined in the organisation, built-in ones first.
    #[graphql(complexity = "crate::graphql::relay::cost(first, last, child_complexity)")]
    async fn roles(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<relay::Conn<Role>> {
        let tctx = loaders(ctx).tenant_access(self.0.id).await?;
        let args = relay::PageArgs::new(after, before, first, last);
        let window = tenancy::roles_window(app(ctx), &tctx, &args)?;
        let rows = loaders(ctx)
            .role_pages
            .load_one((self.0.id, crate::graphql::relay::counted(ctx, window)))
            .await
            .map_err(loader_err)?;
        Ok(relay::to_connection(rows.unwrap_or_else(empty_rows), |r| r.id, Role))
    }
}
