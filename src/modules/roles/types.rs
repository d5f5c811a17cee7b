//! GraphQL types of the roles module.

use async_graphql::{Context, Object, Result, SimpleObject};

use crate::{auth::Permission, modules::tenancy::types::Role};

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
