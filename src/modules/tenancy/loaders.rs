//! Per-request DataLoaders of the tenancy module. Built fresh for every operation (see
//! [`crate::graphql::loaders::Loaders`]), so batches never mix viewers.

use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::Loader;
use entity::{role, role_permission};
use sea_orm::{DatabaseConnection, DbErr};
use uuid::Uuid;

use crate::auth::TenantCtx;

/// The viewer's [`TenantCtx`] per tenant id (cached for the request: permission checks of
/// many fields cost one batch).
pub struct TenantAccessLoader {
    pub db: DatabaseConnection,
    pub user_id: Option<Uuid>,
}

impl Loader<Uuid> for TenantAccessLoader {
    type Value = TenantCtx;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, TenantCtx>, Self::Error> {
        match self.user_id {
            None => Ok(HashMap::new()),
            Some(user) => super::service::access(&self.db, user, keys).await.map_err(Arc::new),
        }
    }
}

/// Roles by `(tenant, role id)`.
pub struct RoleLoader {
    pub db: DatabaseConnection,
}

impl Loader<(Uuid, Uuid)> for RoleLoader {
    type Value = role::Model;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[(Uuid, Uuid)]) -> Result<HashMap<(Uuid, Uuid), role::Model>, Self::Error> {
        crate::db::load_scoped_by_ids::<role::Entity, _>(&self.db, role::Column::Id, keys)
            .await
            .map_err(Arc::new)
    }
}

/// Permission keys granted by each role, by `(tenant, role id)`.
pub struct RolePermissionsLoader {
    pub db: DatabaseConnection,
}

impl Loader<(Uuid, Uuid)> for RolePermissionsLoader {
    type Value = Vec<String>;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[(Uuid, Uuid)]) -> Result<HashMap<(Uuid, Uuid), Vec<String>>, Self::Error> {
        let rows = crate::db::load_scoped_children::<role_permission::Entity, _>(
            &self.db,
            role_permission::Column::RoleId,
            keys,
        )
        .await
        .map_err(Arc::new)?;
        Ok(rows
            .into_iter()
            .map(|(k, grants)| (k, grants.into_iter().map(|g| g.permission).collect()))
            .collect())
    }
}
