//! Liveness, readiness and Prometheus metrics.

use axum::{
    Json,
    extract::State,
    http::{StatusCode, header},
    response::IntoResponse,
};
use serde_json::json;

use crate::startup::AppState;

/// `GET /healthz`: the process is up.
pub async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

/// `GET /readyz`: the database and the event bus are reachable; 503 naming what is down.
pub async fn readyz(State(app): State<AppState>) -> impl IntoResponse {
    let database = match crate::db::ping(&app.db).await {
        Ok(()) => "up".to_string(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: database down");
            "down".to_string()
        }
    };
    let bus = match app.bus.check().await {
        Ok(()) => "up".to_string(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: event bus down");
            "down".to_string()
        }
    };
    let ready = database == "up" && bus == "up";
    let mut down = Vec::new();
    if database != "up" {
        down.push("database");
    }
    if bus != "up" {
        down.push(app.bus.kind());
    }
    let body = json!({
        "status": if ready { "ready" } else { "unavailable" },
        "checks": { "database": database, app.bus.kind(): bus },
        "down": down,
    });
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(body))
}

/// `GET /metrics`: Prometheus text format. With `ZYGO_METRICS_TOKEN` set, only for requests
/// bearing that token (401 otherwise), wherever it is served.
pub async fn metrics(
    State(app): State<AppState>,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    if let Some(expected) = &app.config.metrics_token {
        use secrecy::ExposeSecret;
        use sha2::{Digest, Sha256};
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().strip_prefix("Bearer "))
            .unwrap_or_default()
            .trim();
        // Compared as digests: the time taken says nothing about the token.
        if Sha256::digest(given.as_bytes()) != Sha256::digest(expected.expose_secret().as_bytes()) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "metrics need a token\n",
            )
                .into_response();
        }
    }
    let (size, idle) = pool_usage(&app.db);
    app.metrics.db_pool_connections.with_label_values(&["in_use"]).set(size.saturating_sub(idle) as i64);
    app.metrics.db_pool_connections.with_label_values(&["idle"]).set(idle as i64);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], app.metrics.render()).into_response()
}

/// The router of the separate metrics listener (`ZYGO_METRICS_LISTEN`): `/metrics` only.
pub fn metrics_router(state: AppState) -> axum::Router {
    axum::Router::new().route("/metrics", axum::routing::get(metrics)).with_state(state)
}

fn pool_usage(db: &sea_orm::DatabaseConnection) -> (u32, u32) {
    if crate::db::is_postgres(db) {
        let pool = db.get_postgres_connection_pool();
        (pool.size(), pool.num_idle() as u32)
    } else {
        let pool = db.get_sqlite_connection_pool();
        (pool.size(), pool.num_idle() as u32)
    }
}
