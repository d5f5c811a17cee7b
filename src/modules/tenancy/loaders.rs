//! Per-request DataLoaders of the tenancy module. Built fresh for every operation (see
//! [`crate::graphql::loaders::Loaders`]), so batches never mix viewers.

use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::Loader;
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
