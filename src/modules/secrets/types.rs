//! GraphQL types of secrets and environment variables.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{environment_variable, secret, secret_access};

use crate::{
    auth::Permission,
    graphql::{app, loaders::loaders, relay},
};

/// A secret's name and metadata. Its value is write-only: no field returns it.
pub struct Secret(pub secret::Model);

#[Object]
impl Secret {
    pub async fn id(&self) -> ID {
        relay::to_global_id(relay::kind::SECRET, self.0.id)
    }
    /// How expressions refer to it: `{{ secrets.NAME }}`.
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// When a workflow run last read it.
    async fn last_accessed_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_accessed_at
    }
    /// Every read by a workflow run, oldest first (needs `SECRET_MANAGE`).
    #[graphql(complexity = "crate::graphql::relay::cost(first, last, child_complexity)")]
    async fn access_log(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<relay::Conn<SecretAccess>> {
        let tctx = loaders(ctx).tenant_access(self.0.tenant_id).await?;
        tctx.require(Permission::SecretManage)?;
        let window =
            relay::PageArgs::new(after, before, first, last).window(app(ctx).config.max_page_size)?;
        let rows = crate::graphql::loaders::child_page(
            ctx,
            &loaders(ctx).secret_access_pages,
            self.0.tenant_id,
            self.0.id,
            window,
            None,
        )
        .await?;
        Ok(relay::to_connection(rows, |a| a.id, SecretAccess))
    }
}

/// One read of a secret's value.
pub struct SecretAccess(pub secret_access::Model);

#[Object]
impl SecretAccess {
    async fn accessed_at(&self) -> DateTime<Utc> {
        self.0.accessed_at
    }
    /// The execution that read it.
    async fn execution_id(&self) -> Option<ID> {
        self.0.execution_id.map(|id| relay::to_global_id(relay::kind::EXECUTION, id))
    }
    /// The node of that execution.
    async fn node_id(&self) -> Option<&str> {
        self.0.node_id.as_deref()
    }
}

/// A plain configuration value of the tenant's workflows: `{{ env.NAME }}`.
pub struct EnvironmentVariable(pub environment_variable::Model);

#[Object]
impl EnvironmentVariable {
    pub async fn id(&self) -> ID {
        relay::to_global_id(relay::kind::ENVIRONMENT_VARIABLE, self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn value(&self) -> &str {
        &self.0.value
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

#[derive(SimpleObject)]
pub struct SecretPayload {
    pub secret: Secret,
}

#[derive(SimpleObject)]
pub struct DeleteSecretPayload {
    pub deleted_secret_id: ID,
}

#[derive(SimpleObject)]
pub struct EnvironmentVariablePayload {
    pub environment_variable: EnvironmentVariable,
}

#[derive(SimpleObject)]
pub struct DeleteEnvironmentVariablePayload {
    pub deleted_environment_variable_id: ID,
}

/// The secrets part of `Tenant`: secrets and environment variables.
#[derive(Clone)]
pub struct TenantSecrets(pub crate::graphql::tenant::TenantRow);

#[Object]
impl TenantSecrets {
    /// The organisation's secrets: names and metadata, never values (needs `WORKFLOW_READ`
    /// or `SECRET_MANAGE`).
    #[graphql(complexity = "crate::graphql::relay::cost(first, last, child_complexity)")]
    async fn secrets(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<relay::Conn<crate::modules::secrets::types::Secret>> {
        use crate::auth::Permission;
        let tctx = loaders(ctx).tenant_access(self.0.id).await?;
        if !tctx.has(Permission::SecretManage) {
            tctx.require(Permission::WorkflowRead)?;
        }
        let window =
            relay::PageArgs::new(after, before, first, last).window(app(ctx).config.max_page_size)?;
        let rows = loaders(ctx)
            .secret_pages
            .load_one((self.0.id, crate::graphql::relay::counted(ctx, window)))
            .await
            .map_err(crate::graphql::loaders::loader_err)?
            .unwrap_or_else(crate::graphql::loaders::empty_rows);
        Ok(relay::to_connection(rows, |s| s.id, crate::modules::secrets::types::Secret))
    }
    /// The organisation's environment variables by name (needs `WORKFLOW_READ`).
    async fn environment_variables(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Vec<crate::modules::secrets::types::EnvironmentVariable>> {
        use sea_orm::QueryOrder;
        let tctx = loaders(ctx).tenant_access(self.0.id).await?;
        tctx.require(crate::auth::Permission::WorkflowRead)?;
        let rows = tctx
            .scope()
            .find::<entity::environment_variable::Entity>()
            .order_by_asc(entity::environment_variable::Column::Name)
            .all(&tctx.on(&app(ctx).db))
            .await
            .map_err(crate::error::AppError::from)?;
        Ok(rows.into_iter().map(crate::modules::secrets::types::EnvironmentVariable).collect())
    }
}
