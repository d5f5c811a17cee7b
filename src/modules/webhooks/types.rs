//! GraphQL types of outbound webhooks.

use async_graphql::{Context, ID, Json, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{webhook_delivery, webhook_endpoint};

use crate::{
    db::page::PageArgs,
    graphql::{
        app,
        loaders::{child_page, empty_rows, loader_err, loaders},
        relay,
    },
};

/// A receiver of the organisation's events, signed per the Standard Webhooks specification
/// (`webhook-id`, `webhook-timestamp`, `webhook-signature`). Its secret is shown only when it
/// is created or rotated.
pub struct WebhookEndpoint(pub webhook_endpoint::Model);

#[Object]
impl WebhookEndpoint {
    /// Global ID.
    pub async fn id(&self) -> ID {
        relay::to_global_id(relay::kind::WEBHOOK_ENDPOINT, self.0.id)
    }
    async fn url(&self) -> &str {
        &self.0.url
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// The event types it receives (see `webhookEventTypes`).
    async fn event_types(&self) -> Vec<String> {
        serde_json::from_value(self.0.event_types.clone()).unwrap_or_default()
    }
    async fn enabled(&self) -> bool {
        self.0.enabled
    }
    /// Events are delivered one at a time, in the order they happened: each after the previous
    /// one was delivered or given up.
    async fn ordered(&self) -> bool {
        self.0.ordered
    }
    /// Why the platform switched it off (repeated failures), if it did.
    async fn disabled_reason(&self) -> Option<&str> {
        self.0.disabled_reason.as_deref()
    }
    /// Events in a row whose every attempt failed, since the last success.
    async fn consecutive_failures(&self) -> i32 {
        self.0.consecutive_failures
    }
    /// Until when the secret before the last rotation still signs (beside the new one).
    async fn previous_secret_expires_at(&self, ctx: &Context<'_>) -> Option<DateTime<Utc>> {
        let now = app(ctx).now();
        self.0.previous_secret_expires_at.filter(|t| *t > now)
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Every delivery attempt, oldest first (`last: n` for the newest).
    #[graphql(complexity = "crate::graphql::relay::cost(first, last, child_complexity)")]
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<relay::Conn<WebhookDelivery>> {
        let window = PageArgs::new(after, before, first, last).window(app(ctx).config.max_page_size)?;
        let rows =
            child_page(ctx, &loaders(ctx).webhooks.delivery_pages, self.0.tenant_id, self.0.id, window, None)
                .await?;
        Ok(relay::to_connection(rows, |d| d.id, WebhookDelivery))
    }
}

/// One attempt to deliver one event to an endpoint.
pub struct WebhookDelivery(pub webhook_delivery::Model);

#[Object]
impl WebhookDelivery {
    /// Global ID.
    pub async fn id(&self) -> ID {
        relay::to_global_id(relay::kind::WEBHOOK_DELIVERY, self.0.id)
    }
    /// `webhook-id`: the same on every attempt and replay of one event.
    async fn message_id(&self) -> &str {
        &self.0.message_id
    }
    async fn event_type(&self) -> &str {
        &self.0.event_type
    }
    /// 1 for an event's first attempt (a replay starts again at 1).
    async fn attempt(&self) -> i32 {
        self.0.attempt
    }
    /// The body sent.
    async fn payload(&self) -> Json<serde_json::Value> {
        Json(self.0.payload.clone())
    }
    /// The receiver's HTTP status, if it answered.
    async fn response_status(&self) -> Option<i32> {
        self.0.response_status
    }
    /// The first KiB of its answer.
    async fn response_excerpt(&self) -> Option<&str> {
        self.0.response_excerpt.as_deref()
    }
    /// Why there was no answer (could not connect, timed out, private address).
    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }
    async fn duration_ms(&self) -> i64 {
        self.0.duration_ms
    }
    /// Whether the receiver answered 2xx.
    async fn succeeded(&self) -> bool {
        self.0.succeeded
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// An event type endpoints can subscribe to.
#[derive(SimpleObject)]
pub struct WebhookEventType {
    /// `area.verb`, e.g. `team.created`: the `type` of the event's body.
    pub name: String,
    pub description: String,
}

#[derive(SimpleObject)]
pub struct CreateWebhookEndpointPayload {
    pub endpoint: WebhookEndpoint,
    /// The signing secret (`whsec_…`), shown this once.
    pub secret: String,
}

#[derive(SimpleObject)]
pub struct RotateWebhookEndpointSecretPayload {
    pub endpoint: WebhookEndpoint,
    /// The new signing secret, shown this once; the previous one signs too until
    /// `endpoint.previousSecretExpiresAt`.
    pub secret: String,
}

#[derive(SimpleObject)]
pub struct WebhookEndpointPayload {
    pub endpoint: WebhookEndpoint,
}

#[derive(SimpleObject)]
pub struct ReplayWebhookDeliveryPayload {
    /// The delivery whose event is sent again.
    pub delivery: WebhookDelivery,
}

/// The webhooks part of `Tenant`.
#[derive(Clone)]
pub struct TenantWebhooks(pub crate::graphql::tenant::TenantRow);

#[Object]
impl TenantWebhooks {
    /// The organisation's webhook endpoints (needs `WEBHOOKS_MANAGE`; null with a FORBIDDEN
    /// error otherwise).
    #[graphql(complexity = "crate::graphql::relay::cost(first, last, child_complexity)")]
    async fn webhook_endpoints(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<Option<relay::Conn<WebhookEndpoint>>> {
        let tctx = loaders(ctx).tenant_access(self.0.id).await?;
        let args = PageArgs::new(after, before, first, last);
        let window = super::service::window(app(ctx), &tctx, &args)?;
        let rows = loaders(ctx)
            .webhooks
            .endpoint_pages
            .load_one((self.0.id, crate::graphql::relay::counted(ctx, window)))
            .await
            .map_err(loader_err)?;
        Ok(Some(relay::to_connection(rows.unwrap_or_else(empty_rows), |e| e.id, WebhookEndpoint)))
    }
}
