//! Tenancy queries, mutations and the `tenantEvents` subscription.

use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject, Subscription};
use futures::{Stream, StreamExt};

use super::{
    events::{self, TenantEventPayload},
    service,
    types::{Tenant, TenantEvent},
};
use crate::{
    auth::Permission,
    error::AppError,
    graphql::{app, loaders::loaders, rctx, relay},
    pubsub::Event,
    telemetry::GaugeGuard,
};

#[derive(Default)]
pub struct TenancyQuery;

#[Object]
impl TenancyQuery {
    /// An organisation the viewer belongs to, by global `id` or by `slug` (exactly one).
    /// Any other organisation is NOT_FOUND, whether or not it exists.
    async fn tenant(&self, ctx: &Context<'_>, id: Option<ID>, slug: Option<String>) -> Result<Tenant> {
        rctx(ctx).viewer()?;
        let tenant_id = match (id, slug) {
            (Some(id), None) => relay::decode_id("id", &id, "Tenant")?,
            (None, Some(slug)) => {
                service::tenant_id_by_slug(app(ctx), &slug).await?.ok_or(AppError::NotFound("tenant"))?
            }
            _ => {
                return Err(AppError::validation("id", "give exactly one of `id` and `slug`").into());
            }
        };
        let tctx = loaders(ctx).tenant_access(tenant_id).await?;
        Ok(Tenant(service::get_tenant(app(ctx), &tctx).await?))
    }
}

#[derive(InputObject)]
pub struct CreateTenantInput {
    /// Display name, 1 to 100 characters.
    pub name: String,
    /// Unique URL name: 3 to 40 characters of a-z, 0-9 and '-'.
    pub slug: String,
}

#[derive(SimpleObject)]
pub struct CreateTenantPayload {
    pub tenant: Tenant,
}

#[derive(InputObject)]
pub struct UpdateTenantInput {
    /// The organisation's global ID.
    pub id: ID,
    /// New display name.
    pub name: Option<String>,
}

#[derive(SimpleObject)]
pub struct UpdateTenantPayload {
    pub tenant: Tenant,
}

#[derive(Default)]
pub struct TenancyMutation;

#[Object]
impl TenancyMutation {
    /// Creates an organisation and makes the viewer its owner. Needs a verified e-mail.
    async fn create_tenant(
        &self,
        ctx: &Context<'_>,
        input: CreateTenantInput,
    ) -> Result<CreateTenantPayload> {
        let tenant = service::create_tenant(app(ctx), rctx(ctx), &input.name, &input.slug).await?;
        Ok(CreateTenantPayload { tenant: Tenant(tenant) })
    }

    /// Changes an organisation's settings (needs `TENANT_UPDATE`).
    async fn update_tenant(
        &self,
        ctx: &Context<'_>,
        input: UpdateTenantInput,
    ) -> Result<UpdateTenantPayload> {
        rctx(ctx).viewer()?;
        let tenant_id = relay::decode_id("input.id", &input.id, "Tenant")?;
        let tctx = loaders(ctx).tenant_access(tenant_id).await?;
        let tenant = service::update_tenant(app(ctx), rctx(ctx), &tctx, input.name.as_deref()).await?;
        Ok(UpdateTenantPayload { tenant: Tenant(tenant) })
    }
}

#[derive(Default)]
pub struct TenancySubscription;

#[Subscription]
impl TenancySubscription {
    /// Live changes of an organisation and its memberships, for its members only. Access
    /// is checked when the subscription starts.
    async fn tenant_events(
        &self,
        ctx: &Context<'_>,
        tenant_id: ID,
    ) -> Result<impl Stream<Item = TenantEvent> + use<>> {
        let viewer = rctx(ctx).viewer()?;
        let id = relay::decode_id("tenantId", &tenant_id, "Tenant")?;
        let app = app(ctx).clone();
        let tctx = service::access_one(&app, viewer, id).await?;
        tctx.require(Permission::TenantRead)?;
        let guard = Arc::new(GaugeGuard::new(&app.metrics.subscriptions_active));
        let stream = app.bus.subscribe(&events::topic(id)).filter_map(move |event: Arc<Event>| {
            let tctx = tctx.clone();
            let _alive = guard.clone();
            async move {
                match serde_json::from_value::<TenantEventPayload>(event.payload.clone()) {
                    Ok(payload) if payload.tenant_id == tctx.tenant_id => Some(TenantEvent { payload, tctx }),
                    Ok(_) => None,
                    Err(e) => {
                        tracing::warn!(error = %e, "undecodable tenant event ignored");
                        None
                    }
                }
            }
        });
        Ok(stream)
    }
}
