//! Custom domain mutations (`tenant.update`).

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use entity::tenant_domain;

use super::{service, types::TenantDomain};
use crate::graphql::{app, loaders::loaders, owned_row, rctx, relay};

#[derive(InputObject)]
pub struct AddTenantDomainInput {
    pub tenant_id: ID,
    /// E.g. `app.example.com`.
    pub domain: String,
}

#[derive(SimpleObject)]
pub struct TenantDomainPayload {
    pub domain: TenantDomain,
}

#[derive(SimpleObject)]
pub struct VerifyTenantDomainPayload {
    pub domain: TenantDomain,
    /// Why it is not verified, when it is not (no record, another value, a failed lookup).
    pub problem: Option<String>,
}

#[derive(Default)]
pub struct DomainsMutation;

async fn domain_access(
    ctx: &Context<'_>,
    id: &ID,
) -> Result<(uuid::Uuid, std::sync::Arc<crate::access::TenantCtx>)> {
    owned_row::<tenant_domain::Entity>(
        ctx,
        "id",
        id,
        relay::kind::TENANT_DOMAIN,
        "domain",
        tenant_domain::Column::Id,
    )
    .await
}

#[Object]
impl DomainsMutation {
    /// Adds a custom domain (PENDING until its TXT record is found; see
    /// `TenantDomain.verificationRecord`). CONFLICT when any organisation has it already.
    async fn add_tenant_domain(
        &self,
        ctx: &Context<'_>,
        input: AddTenantDomainInput,
    ) -> Result<TenantDomainPayload> {
        rctx(ctx).require_principal()?;
        let tenant = relay::decode_id("input.tenantId", &input.tenant_id, relay::kind::TENANT)?;
        let tctx = loaders(ctx).tenant_access(tenant).await?;
        Ok(TenantDomainPayload { domain: TenantDomain(service::add(app(ctx), &tctx, &input.domain).await?) })
    }

    /// Looks the domain's TXT record up now ("check now").
    async fn verify_tenant_domain(&self, ctx: &Context<'_>, id: ID) -> Result<VerifyTenantDomainPayload> {
        let (id, tctx) = domain_access(ctx, &id).await?;
        let checked = service::verify(app(ctx), &tctx, id).await?;
        Ok(VerifyTenantDomainPayload { domain: TenantDomain(checked.domain), problem: checked.problem })
    }

    /// Makes a verified domain the primary one; the others redirect to it.
    async fn set_primary_tenant_domain(&self, ctx: &Context<'_>, id: ID) -> Result<TenantDomainPayload> {
        let (id, tctx) = domain_access(ctx, &id).await?;
        Ok(TenantDomainPayload { domain: TenantDomain(service::set_primary(app(ctx), &tctx, id).await?) })
    }

    /// Removes a custom domain.
    async fn remove_tenant_domain(&self, ctx: &Context<'_>, id: ID) -> Result<TenantDomainPayload> {
        let (id, tctx) = domain_access(ctx, &id).await?;
        Ok(TenantDomainPayload { domain: TenantDomain(service::remove(app(ctx), &tctx, id).await?) })
    }
}
