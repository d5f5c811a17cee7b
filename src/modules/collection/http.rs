//! `POST /collection/brightdata/notify?job=…`: BrightData's notification that a collection
//! ended. Authenticated by the webhook secret BrightData echoes in `Authorization` (the
//! `auth_header` given at trigger time); the snapshot must be the job's. It only queues the
//! ingestion, keyed by snapshot id, so a replayed or late notification changes nothing.

use axum::{
    Json,
    extract::{Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use entity::collection_job;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{catalog, steps};
use crate::startup::AppState;

/// Largest notification body, in bytes.
pub const MAX_BODY: usize = 64 * 1024;

#[derive(Deserialize)]
pub struct NotifyQuery {
    job: Uuid,
}

fn answer(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

pub async fn notify(
    State(app): State<AppState>,
    Query(q): Query<NotifyQuery>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let secret = match catalog::credentials(&app).await {
        Ok(Some((_, secret))) => secret,
        Ok(None) => return answer(StatusCode::UNAUTHORIZED, json!({ "error": "not configured" })),
        Err(e) => {
            tracing::error!(error = %e, "collection notify: credentials unreadable");
            return answer(StatusCode::INTERNAL_SERVER_ERROR, json!({ "error": "internal error" }));
        }
    };
    let given = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let given = given.strip_prefix("Bearer ").unwrap_or(given);
    if !crate::crypto::constant_time_eq(given.as_bytes(), secret.as_bytes()) {
        tracing::warn!(job = %q.job, "collection notify refused: bad authorization");
        return answer(StatusCode::UNAUTHORIZED, json!({ "error": "bad authorization" }));
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return answer(StatusCode::BAD_REQUEST, json!({ "error": "not JSON" }));
    };
    let Some(snapshot) = body.get("snapshot_id").and_then(Value::as_str) else {
        return answer(StatusCode::BAD_REQUEST, json!({ "error": "no snapshot_id" }));
    };
    // By id, across tenants: the notification names no tenant; the secret authenticated it
    // and the snapshot must match the job's.
    let found = crate::db::owned_by_id::<collection_job::Entity>(
        &crate::db::across_tenants(&app.db),
        collection_job::Column::Id,
        q.job,
    )
    .await;
    let job = match found {
        Ok(Some((_, j))) => j,
        Ok(None) => return answer(StatusCode::NOT_FOUND, json!({ "error": "no such job" })),
        Err(e) => {
            tracing::error!(error = %e, "collection notify: lookup failed");
            return answer(StatusCode::INTERNAL_SERVER_ERROR, json!({ "error": "internal error" }));
        }
    };
    if job.snapshot_id.as_deref() != Some(snapshot) {
        return answer(StatusCode::BAD_REQUEST, json!({ "error": "the snapshot is not this job's" }));
    }
    match steps::queue_ingest(&app, job.tenant_id, job.id, snapshot).await {
        Ok(true) => answer(StatusCode::OK, json!({ "received": true })),
        Ok(false) => answer(StatusCode::OK, json!({ "received": true, "duplicate": true })),
        Err(e) => {
            tracing::error!(error = %e, "collection notify: not queued");
            answer(StatusCode::INTERNAL_SERVER_ERROR, json!({ "error": "internal error" }))
        }
    }
}
