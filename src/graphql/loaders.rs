//! The per-request set of DataLoaders. A fresh [`Loaders`] is attached to every operation
//! (HTTP request or WebSocket operation), never to the schema, so a batch never mixes
//! viewers or tenants.

use std::sync::Arc;

use async_graphql::{
    Context,
    dataloader::{DataLoader, HashMapCache, Loader},
};
use entity::user;
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};
use std::collections::HashMap;
use uuid::Uuid;

use crate::{
    auth::TenantCtx,
    error::{AppError, AppResult},
    modules::tenancy::loaders::{
        MembershipLoader, RoleLoader, RolePermissionsLoader, TenantAccessLoader,
    },
};

/// Users by id. Users are not tenant-owned; who may reach a user is decided by the
/// relation that leads to it (a membership of a tenant the viewer can read).
pub struct UserLoader {
    pub db: DatabaseConnection,
}

impl Loader<Uuid> for UserLoader {
    type Value = user::Model;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, user::Model>, Self::Error> {
        let rows = user::Entity::find()
            .filter(user::Column::Id.is_in(keys.iter().copied()))
            .all(&self.db)
            .await
            .map_err(Arc::new)?;
        Ok(rows.into_iter().map(|u| (u.id, u)).collect())
    }
}

/// All loaders of one operation.
pub struct Loaders {
    pub users: DataLoader<UserLoader>,
    pub roles: DataLoader<RoleLoader>,
    pub role_permissions: DataLoader<RolePermissionsLoader>,
    pub memberships: DataLoader<MembershipLoader>,
    access: DataLoader<TenantAccessLoader, HashMapCache>,
}

impl Loaders {
    pub fn new(db: &DatabaseConnection, viewer: Option<Uuid>) -> Self {
        let db = db.clone();
        Self {
            users: DataLoader::new(UserLoader { db: db.clone() }, tokio::spawn),
            roles: DataLoader::new(RoleLoader { db: db.clone() }, tokio::spawn),
            role_permissions: DataLoader::new(
                RolePermissionsLoader { db: db.clone() },
                tokio::spawn,
            ),
            memberships: DataLoader::new(MembershipLoader { db: db.clone() }, tokio::spawn),
            access: DataLoader::with_cache(
                TenantAccessLoader {
                    db,
                    user_id: viewer,
                },
                tokio::spawn,
                HashMapCache::default(),
            ),
        }
    }

    /// The viewer's access to `tenant_id`: UNAUTHENTICATED without a viewer (reported by the
    /// caller), NOT_FOUND when not an active member.
    pub async fn tenant_access(&self, tenant_id: Uuid) -> AppResult<TenantCtx> {
        self.access
            .load_one(tenant_id)
            .await
            .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?
            .ok_or(AppError::NotFound("tenant"))
    }
}

/// The operation's loaders.
pub fn loaders<'a>(ctx: &Context<'a>) -> &'a Loaders {
    ctx.data_unchecked::<Loaders>()
}
