//! Secret and environment-variable mutations.

use async_graphql::{Context, ID, InputObject, Object, Result};
use entity::{environment_variable, secret};

use super::{service, types::*};
use crate::graphql::{app, loaders::loaders, rctx, relay};

#[derive(InputObject)]
pub struct CreateSecretInput {
    pub tenant_id: ID,
    /// 1–64 letters, digits or `_`, unique in the organisation.
    pub name: String,
    /// The value, up to 16 KiB. Stored encrypted; never returned.
    pub value: String,
    #[graphql(default)]
    pub description: String,
}

#[derive(InputObject)]
pub struct UpdateSecretInput {
    pub id: ID,
    pub value: Option<String>,
    pub description: Option<String>,
}

#[derive(InputObject)]
pub struct SetEnvironmentVariableInput {
    pub tenant_id: ID,
    pub name: String,
    pub value: String,
}

#[derive(Default)]
pub struct SecretsMutation;

#[Object]
impl SecretsMutation {
    /// Stores a secret for workflows (needs `SECRET_MANAGE`).
    async fn create_secret(&self, ctx: &Context<'_>, input: CreateSecretInput) -> Result<SecretPayload> {
        rctx(ctx).require_principal()?;
        let tenant = relay::decode_id("input.tenantId", &input.tenant_id, relay::kind::TENANT)?;
        let tctx = loaders(ctx).tenant_access(tenant).await?;
        let s =
            service::create_secret(app(ctx), &tctx, &input.name, &input.value, &input.description).await?;
        Ok(SecretPayload { secret: Secret(s) })
    }

    /// Replaces a secret's value or description (needs `SECRET_MANAGE`).
    async fn update_secret(&self, ctx: &Context<'_>, input: UpdateSecretInput) -> Result<SecretPayload> {
        let (id, tctx) = crate::graphql::owned_row::<secret::Entity>(
            ctx,
            "input.id",
            &input.id,
            relay::kind::SECRET,
            "secret",
            secret::Column::Id,
        )
        .await?;
        let s =
            service::update_secret(app(ctx), &tctx, id, input.value.as_deref(), input.description.as_deref())
                .await?;
        Ok(SecretPayload { secret: Secret(s) })
    }

    /// Deletes a secret (needs `SECRET_MANAGE`).
    async fn delete_secret(&self, ctx: &Context<'_>, id: ID) -> Result<DeleteSecretPayload> {
        let (uuid, tctx) = crate::graphql::owned_row::<secret::Entity>(
            ctx,
            "id",
            &id,
            relay::kind::SECRET,
            "secret",
            secret::Column::Id,
        )
        .await?;
        service::delete_secret(app(ctx), &tctx, uuid).await?;
        Ok(DeleteSecretPayload { deleted_secret_id: id })
    }

    /// Creates or replaces an environment variable (needs `SECRET_MANAGE`).
    async fn set_environment_variable(
        &self,
        ctx: &Context<'_>,
        input: SetEnvironmentVariableInput,
    ) -> Result<EnvironmentVariablePayload> {
        rctx(ctx).require_principal()?;
        let tenant = relay::decode_id("input.tenantId", &input.tenant_id, relay::kind::TENANT)?;
        let tctx = loaders(ctx).tenant_access(tenant).await?;
        let v = service::set_env_var(app(ctx), &tctx, &input.name, &input.value).await?;
        Ok(EnvironmentVariablePayload { environment_variable: EnvironmentVariable(v) })
    }

    /// Deletes an environment variable (needs `SECRET_MANAGE`).
    async fn delete_environment_variable(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<DeleteEnvironmentVariablePayload> {
        let (uuid, tctx) = crate::graphql::owned_row::<environment_variable::Entity>(
            ctx,
            "id",
            &id,
            relay::kind::ENVIRONMENT_VARIABLE,
            "environment variable",
            environment_variable::Column::Id,
        )
        .await?;
        service::delete_env_var(app(ctx), &tctx, uuid).await?;
        Ok(DeleteEnvironmentVariablePayload { deleted_environment_variable_id: id })
    }
}
