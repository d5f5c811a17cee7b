//! `POST /hooks/{workflow}/{token}`: starts a workflow that has a webhook trigger.

use axum::{
    Json,
    body::Bytes,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::startup::AppState;

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
    match super::service::trigger_webhook(&app, workflow, &token, input).await {
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
