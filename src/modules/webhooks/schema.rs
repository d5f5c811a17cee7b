//! Webhook queries and mutations.

use async_graphql::{Context, ID, InputObject, Object, Result};
use entity::{webhook_delivery, webhook_endpoint};

use super::{
    catalog, service,
    service::EndpointFields,
    types::{
        CreateWebhookEndpointPayload, ReplayWebhookDeliveryPayload, RotateWebhookEndpointSecretPayload,
        WebhookDelivery, WebhookEndpoint, WebhookEndpointPayload, WebhookEventType,
    },
};
use crate::graphql::{app, loaders::loaders, owned_row, rctx, relay};

#[derive(Default)]
pub struct WebhooksQuery;

#[Object]
impl WebhooksQuery {
    /// Every event type a webhook endpoint can receive.
    async fn webhook_event_types(&self) -> Vec<WebhookEventType> {
        catalog::EVENT_TYPES
            .iter()
            .map(|(name, description)| WebhookEventType {
                name: name.to_string(),
                description: description.to_string(),
            })
            .collect()
    }
}

#[derive(InputObject)]
pub struct CreateWebhookEndpointInput {
    pub tenant_id: ID,
    /// Where events are POSTed (http or https; public addresses only unless the operator
    /// allows private ones).
    pub url: String,
    pub description: Option<String>,
    /// Event types from `webhookEventTypes`.
    pub event_types: Vec<String>,
    /// Default true.
    pub enabled: Option<bool>,
    /// Deliver one event at a time, in order (default false: in parallel, faster).
    pub ordered: Option<bool>,
}

#[derive(InputObject)]
pub struct UpdateWebhookEndpointInput {
    pub endpoint_id: ID,
    pub url: Option<String>,
    pub description: Option<String>,
    pub event_types: Option<Vec<String>>,
    /// Enabling clears the failure count and the reason it was switched off.
    pub enabled: Option<bool>,
    /// Deliver one event at a time, in order; turning it off lets every waiting event go.
    pub ordered: Option<bool>,
}

#[derive(Default)]
pub struct WebhooksMutation;

async fn endpoint_access(
    ctx: &Context<'_>,
    field: &str,
    id: &ID,
) -> Result<(uuid::Uuid, std::sync::Arc<crate::access::TenantCtx>)> {
    owned_row::<webhook_endpoint::Entity>(
        ctx,
        field,
        id,
        relay::kind::WEBHOOK_ENDPOINT,
        "webhook endpoint",
        webhook_endpoint::Column::Id,
    )
    .await
}

#[Object]
impl WebhooksMutation {
    /// Creates a webhook endpoint (needs `WEBHOOKS_MANAGE`). The secret is in the payload only.
    async fn create_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        input: CreateWebhookEndpointInput,
    ) -> Result<CreateWebhookEndpointPayload> {
        rctx(ctx).require_principal()?;
        let tenant = relay::decode_id("input.tenantId", &input.tenant_id, relay::kind::TENANT)?;
        let tctx = loaders(ctx).tenant_access(tenant).await?;
        let fields = EndpointFields {
            url: Some(input.url),
            description: input.description,
            event_types: Some(input.event_types),
            enabled: input.enabled,
            ordered: input.ordered,
        };
        let (endpoint, secret) = service::create_endpoint(app(ctx), &tctx, fields).await?;
        Ok(CreateWebhookEndpointPayload { endpoint: WebhookEndpoint(endpoint), secret })
    }

    /// Changes an endpoint's URL, description, event types or whether it is enabled.
    async fn update_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        input: UpdateWebhookEndpointInput,
    ) -> Result<WebhookEndpointPayload> {
        let (id, tctx) = endpoint_access(ctx, "input.endpointId", &input.endpoint_id).await?;
        let fields = EndpointFields {
            url: input.url,
            description: input.description,
            event_types: input.event_types,
            enabled: input.enabled,
            ordered: input.ordered,
        };
        let endpoint = service::update_endpoint(app(ctx), &tctx, id, fields).await?;
        Ok(WebhookEndpointPayload { endpoint: WebhookEndpoint(endpoint) })
    }

    /// Deletes an endpoint and its delivery log; events not yet delivered to it are dropped.
    async fn delete_webhook_endpoint(&self, ctx: &Context<'_>, id: ID) -> Result<WebhookEndpointPayload> {
        let (id, tctx) = endpoint_access(ctx, "id", &id).await?;
        let endpoint = service::delete_endpoint(app(ctx), &tctx, id).await?;
        Ok(WebhookEndpointPayload { endpoint: WebhookEndpoint(endpoint) })
    }

    /// A new signing secret (in the payload only); the previous one signs too for a grace
    /// period (`ZYGO_WEBHOOK_SECRET_GRACE_HOURS`).
    async fn rotate_webhook_endpoint_secret(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<RotateWebhookEndpointSecretPayload> {
        let (id, tctx) = endpoint_access(ctx, "id", &id).await?;
        let (endpoint, secret) = service::rotate_secret(app(ctx), &tctx, id).await?;
        Ok(RotateWebhookEndpointSecretPayload { endpoint: WebhookEndpoint(endpoint), secret })
    }

    /// Sends a `webhook.test` event to the endpoint (queued; see its deliveries).
    async fn send_test_webhook_event(&self, ctx: &Context<'_>, id: ID) -> Result<WebhookEndpointPayload> {
        let (id, tctx) = endpoint_access(ctx, "id", &id).await?;
        let endpoint = service::send_test_event(app(ctx), &tctx, id).await?;
        Ok(WebhookEndpointPayload { endpoint: WebhookEndpoint(endpoint) })
    }

    /// Sends a logged delivery's event again, with the same `webhook-id` and body.
    async fn replay_webhook_delivery(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<ReplayWebhookDeliveryPayload> {
        let (id, tctx) = owned_row::<webhook_delivery::Entity>(
            ctx,
            "id",
            &id,
            relay::kind::WEBHOOK_DELIVERY,
            "webhook delivery",
            webhook_delivery::Column::Id,
        )
        .await?;
        let delivery = service::replay_delivery(app(ctx), &tctx, id).await?;
        Ok(ReplayWebhookDeliveryPayload { delivery: WebhookDelivery(delivery) })
    }
}
