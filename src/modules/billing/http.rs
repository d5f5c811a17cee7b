//! Billing's HTTP endpoints beside GraphQL:
//! - `GET /billing/invoices/{id}/pdf?expires=…&sig=…`: an invoice's PDF by its signed link
//!   (`Invoice.pdfUrl`). The signature is the authorization: an expired or altered link is a
//!   404, like an unknown invoice.
//! - `GET /billing/return/{provider}?state=…`: the customer back from a provider's page (a
//!   checkout signed by Zygo; completed, then redirected to the app).
//! - `POST /billing/webhooks/{provider}`: a payment provider's webhook (400 when its signature
//!   does not verify; 200 once applied or recorded, also for a replay; 503 for one that cannot
//!   apply yet, such as a PayPal sale before its subscription's activation: PayPal redelivers).

use axum::{
    Json,
    body::Bytes,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use entity::{invoice, tenant};
use serde::Deserialize;
use uuid::Uuid;

use super::documents;
use crate::startup::AppState;

#[derive(Deserialize)]
pub struct LinkQuery {
    expires: i64,
    sig: String,
}

pub async fn invoice_pdf(
    State(app): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<LinkQuery>,
) -> Response {
    let not_found = || (StatusCode::NOT_FOUND, "no such invoice link").into_response();
    let Ok(id) = Uuid::parse_str(&id) else { return not_found() };
    if !documents::link_valid(&app, id, q.expires, &q.sig, app.now()) {
        return not_found();
    }
    let loaded = async {
        // The signed link names the invoice (its signature was just checked); its
        // organisation is found across tenants, then read through its own wall.
        let Some(tenant) = super::invoices::owner_of(&app.db, id).await? else { return Ok(None) };
        let tctx = crate::access::TenantCtx::system(tenant);
        let (db, scope) = (tctx.on(&app.db), tctx.scope());
        let inv = scope.find_by_id::<invoice::Entity, _>(&db, id).await?;
        let org = scope.find_by_id::<tenant::Entity, _>(&db, tenant).await?;
        let account = super::service::account_view(&app, &db, scope).await?;
        tctx.reads.release().await;
        Ok::<_, crate::error::AppError>(inv.zip(org).map(|(i, o)| (i, o, account)))
    }
    .await;
    match loaded {
        Ok(Some((inv, org, account))) => {
            let bytes = documents::invoice_pdf(&inv, &org, &account);
            (
                [
                    (header::CONTENT_TYPE, "application/pdf".to_string()),
                    (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{}.pdf\"", inv.number)),
                    (header::CACHE_CONTROL, "private, no-store".to_string()),
                ],
                bytes,
            )
                .into_response()
        }
        Ok(None) => not_found(),
        Err(e) => {
            tracing::error!(error = %e, "invoice PDF");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// Largest webhook body, in bytes.
pub const MAX_WEBHOOK_BODY: usize = 256 * 1024;

pub async fn provider_webhook(
    State(app): State<AppState>,
    Path(provider): Path<String>,
    axum::extract::ConnectInfo(addr): axum::extract::ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    use super::checkout::{Receipt, receive_webhook};
    match receive_webhook(&app, &provider, &headers, &body, Some(addr.ip().to_string())).await {
        Err(reason) => {
            (StatusCode::BAD_REQUEST, Json(serde_json::json!({ "error": reason }))).into_response()
        }
        Ok(Ok(Receipt::Applied)) => Json(serde_json::json!({ "received": true })).into_response(),
        Ok(Ok(Receipt::Duplicate)) => {
            Json(serde_json::json!({ "received": true, "duplicate": true })).into_response()
        }
        Ok(Ok(Receipt::Recorded(outcome))) => {
            Json(serde_json::json!({ "received": true, "outcome": outcome })).into_response()
        }
        // Verified, not applicable yet: the provider retries a 503 later.
        Ok(Ok(Receipt::Later(why))) => {
            (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({ "received": false, "retry": why })))
                .into_response()
        }
        Ok(Err(e)) => {
            // The provider retries a 5xx; nothing was recorded, so the retry applies it.
            tracing::error!(error = %e, provider, "payment webhook failed");
            (StatusCode::INTERNAL_SERVER_ERROR, Json(serde_json::json!({ "error": "internal error" })))
                .into_response()
        }
    }
}

/// `GET /billing/return/{provider}?state=…&…`: the customer back from a provider's page.
pub async fn provider_return(
    State(app): State<AppState>,
    Path(provider): Path<String>,
    Query(query): Query<std::collections::BTreeMap<String, String>>,
) -> Response {
    match super::checkout::complete_return(&app, &provider, &query).await {
        Err(reason) => (StatusCode::BAD_REQUEST, reason).into_response(),
        Ok(Ok(to)) => axum::response::Redirect::to(&to).into_response(),
        Ok(Err(e)) => {
            tracing::error!(error = %e, provider, "checkout return failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}
