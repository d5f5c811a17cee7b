//! Managing an organisation's webhook endpoints (`webhooks.manage`): create, change, delete,
//! rotate the secret, send a test event, replay a delivery; and reading them and their logs.

use chrono::Duration;
use entity::{webhook_delivery, webhook_endpoint};
use sea_orm::{ColumnTrait, QueryFilter, Set};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{
    catalog,
    delivery::{self, DeliverJob},
};
use crate::{
    access::{Change, TenantCtx, TenantTx},
    auth::Permission,
    ctx::Ctx,
    db::page::{PageArgs, Window},
    error::{AppError, AppResult},
};

/// What an endpoint is made of, as given.
pub struct EndpointFields {
    pub url: Option<String>,
    pub description: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub enabled: Option<bool>,
    pub ordered: Option<bool>,
}

fn summary(e: &webhook_endpoint::Model) -> Value {
    json!({ "url": e.url, "description": e.description, "eventTypes": e.event_types, "enabled": e.enabled, "ordered": e.ordered })
}

/// A receiver's URL: absolute http(s) with a host, no credentials, at most 2,000 characters.
fn checked_url(raw: &str) -> AppResult<String> {
    let bad = |why: &str| AppError::validation("input.url", why.to_string());
    let raw = raw.trim();
    if raw.len() > 2000 {
        return Err(bad("must be at most 2000 characters"));
    }
    let url = reqwest::Url::parse(raw).map_err(|e| bad(&format!("not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("only http and https URLs"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("the URL has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("credentials do not belong in the URL; verify the signature instead"));
    }
    Ok(url.to_string())
}

/// Event types from the catalog, each once, in catalog order.
fn checked_types(types: &[String]) -> AppResult<Value> {
    if let Some(unknown) = types.iter().find(|t| !catalog::known(t)) {
        return Err(AppError::validation(
            "input.eventTypes",
            format!("unknown event type `{unknown}` (see `webhookEventTypes`)"),
        ));
    }
    let chosen: Vec<&str> =
        catalog::EVENT_TYPES.iter().map(|(t, _)| *t).filter(|t| types.iter().any(|x| x == t)).collect();
    Ok(json!(chosen))
}

fn checked_description(d: &str) -> AppResult<String> {
    let d = d.trim();
    if d.chars().count() > 500 {
        return Err(AppError::validation("input.description", "must be at most 500 characters"));
    }
    Ok(d.to_string())
}

/// Validates a page request of the organisation's endpoints or of an endpoint's deliveries.
pub fn window(ctx: &Ctx, tctx: &TenantCtx, args: &PageArgs) -> AppResult<Window> {
    tctx.require(Permission::WebhooksManage)?;
    args.window(ctx.config.max_page_size)
}

async fn endpoint_in(tx: &TenantTx<'_>, id: Uuid) -> AppResult<webhook_endpoint::Model> {
    tx.scope()
        .find_by_id::<webhook_endpoint::Entity, _>(tx, id)
        .await?
        .ok_or(AppError::NotFound("webhook endpoint"))
}

/// Creates an endpoint; returns it and its signing secret (shown this once).
pub async fn create_endpoint(
    ctx: &Ctx,
    tctx: &TenantCtx,
    fields: EndpointFields,
) -> AppResult<(webhook_endpoint::Model, String)> {
    tctx.require(Permission::WebhooksManage)?;
    let url = checked_url(fields.url.as_deref().unwrap_or_default())?;
    let description = checked_description(fields.description.as_deref().unwrap_or_default())?;
    let event_types = checked_types(fields.event_types.as_deref().unwrap_or_default())?;
    let tx = TenantTx::begin(ctx, tctx, Permission::WebhooksManage).await?;
    let scope = tx.scope();
    let id = Uuid::now_v7();
    let secret = delivery::new_secret();
    let now = ctx.now();
    let endpoint = scope
        .insert(
            &tx,
            webhook_endpoint::ActiveModel {
                id: Set(id),
                tenant_id: Set(scope.tenant_id()),
                url: Set(url),
                description: Set(description),
                event_types: Set(event_types),
                enabled: Set(fields.enabled.unwrap_or(true)),
                ordered: Set(fields.ordered.unwrap_or(false)),
                disabled_reason: Set(None),
                secret: Set(ctx.keys.encrypt(scope.tenant_id(), &delivery::secret_aad(id), &secret)),
                previous_secret: Set(None),
                previous_secret_expires_at: Set(None),
                consecutive_failures: Set(0),
                created_by: Set(Some(tctx.user_id).filter(|u| !u.is_nil())),
                created_at: Set(now),
                updated_at: Set(now),
            },
        )
        .await?;
    tx.commit_with(Change {
        action: "webhook_endpoint.created",
        target_type: "WebhookEndpoint",
        target_id: Some(id),
        before: None,
        after: Some(summary(&endpoint)),
    })
    .await?;
    Ok((endpoint, secret))
}

/// Changes what is given; enabling an endpoint clears its failure count and reason.
pub async fn update_endpoint(
    ctx: &Ctx,
    tctx: &TenantCtx,
    id: Uuid,
    fields: EndpointFields,
) -> AppResult<webhook_endpoint::Model> {
    tctx.require(Permission::WebhooksManage)?;
    let url = fields.url.as_deref().map(checked_url).transpose()?;
    let description = fields.description.as_deref().map(checked_description).transpose()?;
    let event_types = fields.event_types.as_deref().map(checked_types).transpose()?;
    let tx = TenantTx::begin(ctx, tctx, Permission::WebhooksManage).await?;
    let before = endpoint_in(&tx, id).await?;
    let mut am: webhook_endpoint::ActiveModel = before.clone().into();
    if let Some(url) = url {
        am.url = Set(url);
    }
    if let Some(d) = description {
        am.description = Set(d);
    }
    if let Some(t) = event_types {
        am.event_types = Set(t);
    }
    if let Some(enabled) = fields.enabled {
        am.enabled = Set(enabled);
        if enabled {
            am.disabled_reason = Set(None);
            am.consecutive_failures = Set(0);
        }
    }
    if let Some(ordered) = fields.ordered {
        am.ordered = Set(ordered);
    }
    am.updated_at = Set(ctx.now());
    let after = tx.scope().update(&tx, am).await?;
    if before.ordered && !after.ordered {
        // No longer in order: whatever waited its turn goes now.
        super::ordering::release(&tx, id, ctx.now(), None, true).await?;
    }
    tx.commit_with(Change {
        action: "webhook_endpoint.updated",
        target_type: "WebhookEndpoint",
        target_id: Some(id),
        before: Some(summary(&before)),
        after: Some(summary(&after)),
    })
    .await?;
    Ok(after)
}

/// Deletes an endpoint with its delivery log; queued deliveries to it are dropped.
pub async fn delete_endpoint(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> AppResult<webhook_endpoint::Model> {
    let tx = TenantTx::begin(ctx, tctx, Permission::WebhooksManage).await?;
    let endpoint = endpoint_in(&tx, id).await?;
    let scope = tx.scope();
    scope
        .delete_many::<webhook_delivery::Entity>()
        .filter(webhook_delivery::Column::EndpointId.eq(id))
        .exec(&tx)
        .await?;
    scope
        .delete_many::<webhook_endpoint::Entity>()
        .filter(webhook_endpoint::Column::Id.eq(id))
        .exec(&tx)
        .await?;
    tx.commit_with(Change {
        action: "webhook_endpoint.deleted",
        target_type: "WebhookEndpoint",
        target_id: Some(id),
        before: Some(summary(&endpoint)),
        after: None,
    })
    .await?;
    Ok(endpoint)
}

/// A new signing secret; the old one keeps signing (beside it) for the grace period, so
/// receivers can switch without missing an event. Returns the new secret (shown this once).
pub async fn rotate_secret(
    ctx: &Ctx,
    tctx: &TenantCtx,
    id: Uuid,
) -> AppResult<(webhook_endpoint::Model, String)> {
    let tx = TenantTx::begin(ctx, tctx, Permission::WebhooksManage).await?;
    let endpoint = endpoint_in(&tx, id).await?;
    let secret = delivery::new_secret();
    let now = ctx.now();
    let until = now + Duration::hours(ctx.config.webhooks.secret_grace_hours.max(0));
    let mut am: webhook_endpoint::ActiveModel = endpoint.clone().into();
    am.previous_secret = Set(Some(endpoint.secret.clone()));
    am.previous_secret_expires_at = Set(Some(until));
    am.secret = Set(ctx.keys.encrypt(endpoint.tenant_id, &delivery::secret_aad(id), &secret));
    am.updated_at = Set(now);
    let after = tx.scope().update(&tx, am).await?;
    tx.commit_with(Change {
        action: "webhook_endpoint.secret_rotated",
        target_type: "WebhookEndpoint",
        target_id: Some(id),
        before: None,
        after: Some(json!({ "previousSecretSignsUntil": until })),
    })
    .await?;
    Ok((after, secret))
}

/// Queues a `webhook.test` event to the endpoint (whatever types it chose).
pub async fn send_test_event(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> AppResult<webhook_endpoint::Model> {
    let mut tx = TenantTx::begin(ctx, tctx, Permission::WebhooksManage).await?;
    let endpoint = endpoint_in(&tx, id).await?;
    if !endpoint.enabled {
        return Err(AppError::validation("endpointId", "the endpoint is disabled: enable it first"));
    }
    let message_id = format!("msg_{}", Uuid::now_v7().simple());
    let body = json!({
        "type": catalog::TEST_EVENT,
        "timestamp": ctx.now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "data": { "organisationId": crate::graphql::relay::to_global_id(crate::graphql::relay::kind::TENANT, endpoint.tenant_id).to_string(), "test": true },
    });
    let key = format!("{id}:{message_id}");
    let job = DeliverJob { endpoint: id, message_id, event_type: catalog::TEST_EVENT.into(), body }.job(key);
    tx.enqueue(job).await?;
    tx.commit().await?;
    Ok(endpoint)
}

/// Sends a logged delivery's event again (same message id and body), as a new series of
/// attempts.
pub async fn replay_delivery(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> AppResult<webhook_delivery::Model> {
    let mut tx = TenantTx::begin(ctx, tctx, Permission::WebhooksManage).await?;
    let d = tx
        .scope()
        .find_by_id::<webhook_delivery::Entity, _>(&tx, id)
        .await?
        .ok_or(AppError::NotFound("webhook delivery"))?;
    let endpoint = endpoint_in(&tx, d.endpoint_id).await?;
    if !endpoint.enabled {
        return Err(AppError::validation("deliveryId", "the endpoint is disabled: enable it first"));
    }
    let key = format!("{}:{}:replay:{}", d.endpoint_id, d.message_id, Uuid::now_v7().simple());
    let job = DeliverJob {
        endpoint: d.endpoint_id,
        message_id: d.message_id.clone(),
        event_type: d.event_type.clone(),
        body: d.payload.clone(),
    }
    .job(key);
    tx.enqueue(job).await?;
    tx.commit().await?;
    Ok(d)
}
