//! `POST /hooks/{workflow}/{token}`: starts a workflow that has a webhook trigger.

use entity::{
    execution::{self, ExecutionTrigger},
    workflow::{self, WorkflowStatus},
};
use sea_orm::Set;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::modules::workflows::nodes::{NodeKind, WebhookTrigger};
use crate::{
    access::{Change, TenantCtx, TenantTx},
    auth::Permission,
    ctx::Ctx,
    db::{TenantScope, begin_tenant_txn},
    error::{AppError, AppResult},
    modules::workflows::{definition::workflows::*, runtime::executions::*},
    startup::AppState,
};

use axum::{
    Json,
    body::Bytes,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};

/// Headers passed to the run (others, such as cookies and authorization, are left out).
const FORWARDED: &[&str] =
    &["content-type", "user-agent", "x-request-id", "x-github-event", "x-hub-signature-256"];

/// Largest webhook body, in bytes.
pub const MAX_BODY: usize = 1024 * 1024;

pub async fn receive(
    State(app): State<AppState>,
    Path((workflow, token)): Path<(String, String)>,
    Query(query): Query<std::collections::BTreeMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let not_found = || (StatusCode::NOT_FOUND, Json(json!({ "error": "no such webhook" }))).into_response();
    let Ok(workflow) = Uuid::parse_str(&workflow) else { return not_found() };
    if token.len() > 200 {
        return not_found();
    }
    let body = match serde_json::from_slice::<Value>(&body) {
        Ok(v) => v,
        Err(_) if body.is_empty() => Value::Null,
        Err(_) => Value::String(String::from_utf8_lossy(&body).to_string()),
    };
    let headers: serde_json::Map<String, Value> = headers
        .iter()
        .filter(|(k, _)| FORWARDED.contains(&k.as_str()))
        .map(|(k, v)| (k.to_string(), Value::String(v.to_str().unwrap_or_default().to_string())))
        .collect();
    let input = json!({ "body": body, "headers": headers, "query": query });
    match crate::modules::workflows::triggers::webhook::trigger_webhook(&app, workflow, &token, input).await {
        Ok(Some(e)) => (
            StatusCode::ACCEPTED,
            Json(
                json!({ "executionId": crate::graphql::relay::to_global_id(crate::graphql::relay::kind::EXECUTION, e.id).to_string() }),
            ),
        )
            .into_response(),
        Ok(None) => not_found(),
        Err(e) => {
            tracing::error!(error = %e, "webhook failed");
            (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({ "error": "internal error" }))).into_response()
        }
    }
}

/// The webhook URL of a workflow.
pub fn webhook_url(ctx: &Ctx, w: &workflow::Model) -> AppResult<String> {
    let token = ctx
        .keys
        .decrypt(w.tenant_id, &format!("webhook:{}", w.id), &w.webhook_token)
        .map_err(AppError::Internal)?;
    Ok(format!("{}/hooks/{}/{}", ctx.config.public_url, w.id, token))
}

/// A POST to a workflow's webhook: queues a run of its latest version (or draft) when the
/// token matches and the graph has a webhook trigger. `None` means "not found" to the caller,
/// whatever the reason.
pub async fn trigger_webhook(
    app: &AppState,
    workflow_id: Uuid,
    token: &str,
    input: Value,
) -> AppResult<Option<execution::Model>> {
    // The workflow decides the tenant: its owner is looked up before any scope exists.
    let owner = crate::db::owning_tenant::<workflow::Entity>(
        &crate::db::across_tenants(&app.db),
        workflow::Column::Id,
        workflow_id,
    )
    .await?;
    let Some(scope) = owner.map(TenantScope::new) else { return Ok(None) };
    let Some(w) = scope.find_by_id::<workflow::Entity, _>(&scope.on(&app.db), workflow_id).await? else {
        return Ok(None);
    };
    let expected = app
        .keys
        .decrypt(w.tenant_id, &format!("webhook:{}", w.id), &w.webhook_token)
        .map_err(AppError::Internal)?;
    if !crate::auth::tokens::constant_time_eq(expected.as_bytes(), token.as_bytes())
        || w.status != WorkflowStatus::Active
    {
        return Ok(None);
    }
    let txn = begin_tenant_txn(&app.db, scope).await?;
    let (ver, g) = live_graph(&txn, scope, &w).await?;
    if !g.nodes.iter().any(|n| n.node_type == WebhookTrigger::KEY) {
        return Ok(None);
    }
    // A refused run (suspended organisation) is "not found" like any other reason.
    let Ok(e) = enqueue(
        &txn,
        &app.config,
        scope,
        w.id,
        Snapshot::of(&w, ver.as_ref()),
        input,
        ExecutionTrigger::Webhook,
        None,
        None,
    )
    .await?
    else {
        return Ok(None);
    };
    txn.commit().await?;
    announce(app, &e).await;
    Ok(Some(e))
}

/// Replaces a workflow's webhook token (`workflow.edit`); the old URL stops working.
pub async fn rotate_webhook(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> AppResult<workflow::Model> {
    tctx.require(Permission::WorkflowEdit)?;
    let scope = tctx.scope();
    let tx = TenantTx::begin(ctx, tctx, Permission::WorkflowEdit).await?;
    let w = locked(&tx, scope, id).await?;
    let token = crate::auth::tokens::random_token();
    let mut m: workflow::ActiveModel = w.into();
    m.webhook_token = Set(ctx.keys.encrypt(scope.tenant_id(), &format!("webhook:{id}"), &token));
    let w = scope.update(&tx, m).await?;
    tx.commit_with(Change {
        action: "workflow.webhook_rotated",
        target_type: "workflow",
        target_id: Some(id),
        before: None,
        after: None,
    })
    .await?;
    Ok(w)
}
