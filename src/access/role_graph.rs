//! The role graph of a tenant: its roles, their parents and direct grants, and the
//! effective permissions a role holds through its ancestors. It lives below the modules
//! because the access check (`auth::TenantCtx`) carries it; the roles module edits it.

use std::collections::{HashMap, HashSet};

use crate::auth::Permissions;

use entity::{role, role_permission};
use sea_orm::{ConnectionTrait, DbErr};
use uuid::Uuid;

use crate::db::load_for_tenants;

/// The roles of one tenant with their direct grants.
#[derive(Clone, Debug, Default)]
pub struct RoleGraph {
    pub roles: HashMap<Uuid, role::Model>,
    pub grants: HashMap<Uuid, Permissions>,
}

impl RoleGraph {
    /// Own grants plus every ancestor's. A cycle (which the service never lets in) stops the
    /// walk instead of looping.
    pub fn effective(&self, role_id: Uuid) -> Permissions {
        let mut out = Permissions::EMPTY;
        let mut seen = HashSet::new();
        let mut next = Some(role_id);
        while let Some(id) = next {
            if !seen.insert(id) {
                break;
            }
            if let Some(g) = self.grants.get(&id) {
                out = out | *g;
            }
            next = self.roles.get(&id).and_then(|r| r.parent_id);
        }
        out
    }

    /// Would `role_id` get `parent` as parent without a cycle?
    pub fn creates_cycle(&self, role_id: Uuid, parent: Uuid) -> bool {
        let mut next = Some(parent);
        let mut seen = HashSet::new();
        while let Some(id) = next {
            if id == role_id || !seen.insert(id) {
                return true;
            }
            next = self.roles.get(&id).and_then(|r| r.parent_id);
        }
        false
    }
}

/// The role graphs of `tenants`: two statements whatever their number.
pub async fn role_graphs(
    db: &impl ConnectionTrait,
    tenants: &[Uuid],
) -> Result<HashMap<Uuid, RoleGraph>, DbErr> {
    let mut roles = load_for_tenants::<role::Entity, _>(db, tenants).await?;
    let mut grants = load_for_tenants::<role_permission::Entity, _>(db, tenants).await?;
    Ok(tenants
        .iter()
        .map(|t| {
            let mut g = RoleGraph::default();
            for r in roles.remove(t).unwrap_or_default() {
                g.roles.insert(r.id, r);
            }
            for p in grants.remove(t).unwrap_or_default() {
                // A key the catalog no longer has grants nothing.
                if let Some(permission) = crate::auth::Permission::from_key(&p.permission) {
                    g.grants.entry(p.role_id).or_default().insert(permission);
                }
            }
            // Built-in roles grant what the code says, so a permission added to the catalog
            // reaches every existing tenant's built-in roles at once.
            for r in g.roles.values().filter(|r| r.is_builtin) {
                if let Some(b) = crate::auth::permissions::BUILTIN_ROLES.iter().find(|b| b.key == r.key) {
                    g.grants.insert(r.id, b.permissions.iter().collect());
                }
            }
            (*t, g)
        })
        .collect())
}
