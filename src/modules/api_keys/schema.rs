//! API key mutations.

use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};
use entity::api_key;

use super::{
    service,
    types::{ApiKey, ApiKeyPayload, CreateApiKeyPayload},
};
use crate::{
    auth::Permission,
    graphql::{app, loaders::loaders, rctx, relay},
};

#[derive(InputObject)]
pub struct CreateApiKeyInput {
    pub tenant_id: ID,
    pub name: String,
    /// What the key may do; you can give only permissions you hold.
    pub permissions: Vec<Permission>,
    /// When the key stops working (never, if left out).
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Default)]
pub struct ApiKeysMutation;

#[Object]
impl ApiKeysMutation {
    /// Creates an API key (needs `API_KEYS_MANAGE`). The secret is in the payload only.
    async fn create_api_key(
        &self,
        ctx: &Context<'_>,
        input: CreateApiKeyInput,
    ) -> Result<CreateApiKeyPayload> {
        rctx(ctx).require_principal()?;
        let tenant = relay::decode_id("input.tenantId", &input.tenant_id, relay::kind::TENANT)?;
        let tctx = loaders(ctx).tenant_access(tenant).await?;
        let perms = input.permissions.iter().collect();
        let (key, secret) =
            service::create_api_key(app(ctx), &tctx, &input.name, perms, input.expires_at).await?;
        Ok(CreateApiKeyPayload { api_key: ApiKey(key), secret })
    }

    /// Revokes an API key; it stops working at once.
    async fn revoke_api_key(&self, ctx: &Context<'_>, id: ID) -> Result<ApiKeyPayload> {
        let (uuid, tctx) = crate::graphql::owned_row::<api_key::Entity>(
            ctx,
            "id",
            &id,
            relay::kind::API_KEY,
            "API key",
            api_key::Column::Id,
        )
        .await?;
        Ok(ApiKeyPayload { api_key: ApiKey(service::revoke_api_key(app(ctx), &tctx, uuid).await?) })
    }
}
