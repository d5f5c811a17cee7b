//! GraphQL types of API keys.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::api_key;

use crate::{
    auth::Permission,
    graphql::{
        app,
        loaders::{empty_rows, loader_err, loaders},
        relay,
    },
    modules::{identity::types::User, roles::types::to_permissions},
};

/// A tenant API key's metadata; the secret is never shown after creation.
pub struct ApiKey(pub api_key::Model);

#[Object]
impl ApiKey {
    /// Global ID.
    pub async fn id(&self) -> ID {
        relay::to_global_id(relay::kind::API_KEY, self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The first characters of the secret, to tell keys apart.
    async fn prefix(&self) -> &str {
        &self.0.prefix
    }
    async fn permissions(&self) -> Vec<Permission> {
        to_permissions(super::service::key_permissions(&self.0))
    }
    /// Who created it.
    async fn created_by(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        Ok(loaders(ctx).users.load_one(self.0.created_by).await.map_err(loader_err)?.map(User::new))
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.expires_at
    }
    /// Last use, to the minute.
    async fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_used_at
    }
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }
}

#[derive(SimpleObject)]
pub struct CreateApiKeyPayload {
    pub api_key: ApiKey,
    /// The secret, shown this once: send it as `Authorization: Bearer <secret>`.
    pub secret: String,
}

#[derive(SimpleObject)]
pub struct ApiKeyPayload {
    pub api_key: ApiKey,
}

/// The API-keys part of `Tenant`.
#[derive(Clone)]
pub struct TenantApiKeys(pub crate::graphql::tenant::TenantRow);

#[Object]
impl TenantApiKeys {
    /// The organisation's API keys (needs `API_KEYS_MANAGE`; null with a FORBIDDEN error
    /// otherwise).
    #[graphql(complexity = "crate::graphql::relay::cost(first, last, child_complexity)")]
    async fn api_keys(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<Option<relay::Conn<crate::modules::api_keys::types::ApiKey>>> {
        let tctx = loaders(ctx).tenant_access(self.0.id).await?;
        let args = relay::PageArgs::new(after, before, first, last);
        let window = crate::modules::api_keys::service::keys_window(app(ctx), &tctx, &args)?;
        let rows = loaders(ctx)
            .api_key_pages
            .load_one((self.0.id, crate::graphql::relay::counted(ctx, window)))
            .await
            .map_err(loader_err)?;
        Ok(Some(relay::to_connection(
            rows.unwrap_or_else(empty_rows),
            |k| k.id,
            crate::modules::api_keys::types::ApiKey,
        )))
    }
}
