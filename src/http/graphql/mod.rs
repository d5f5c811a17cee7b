//! GraphQL over HTTP (`GET`/`POST /graphql`) and over WebSocket (`/graphql/ws`,
//! `graphql-transport-ws` and the legacy `graphql-ws` subprotocol).
//!
//! Both paths authenticate first (a bearer JWT or API key in the `Authorization` header, or
//! the same forms in the `connection_init` payload), build a [`RequestCtx`], pass every
//! operation through the one admission path ([`crate::graphql::admission`]: persisted
//! queries, caps, limits, rate limits) and attach fresh per-operation [`Loaders`] before the
//! schema runs. This file only frames requests and answers for its transport.

use std::{
    any::TypeId,
    net::SocketAddr,
    str::FromStr,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use async_graphql::{
    BatchRequest, BatchResponse, Data, Executor, Request, Response,
    http::{WebSocketProtocols, WsMessage},
    parser::types::OperationType,
};
use async_graphql_axum::{GraphQLBatchRequest, rejection::GraphQLRejection};
use axum::{
    body::Body,
    extract::{
        ConnectInfo, State, WebSocketUpgrade,
        ws::{CloseFrame, Message, WebSocket},
    },
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response as HttpResponse},
};
use futures::{SinkExt, StreamExt, future::ready, stream::BoxStream};
use serde_json::json;
use tracing::Instrument;

use crate::{
    auth::RequestCtx,
    db::Reads,
    graphql::{
        AppSchema, admission, answer,
        batch::{Dispatcher, Driven},
        loaders::Loaders,
    },
    modules::identity::service::authenticate,
    startup::AppState,
    telemetry::GaugeGuard,
};

/// Largest WebSocket message accepted.
pub const MAX_WS_MESSAGE_BYTES: usize = 64 * 1024;

/// Read buffer of one WebSocket. tungstenite allocates it eagerly and keeps it for the
/// socket's life (128 KiB by default, most of an idle subscriber's memory). What clients send
/// on a GraphQL socket is small (`connection_init` with a token, `subscribe`, a presence move:
/// well under 1 KiB); a larger frame (up to [`MAX_WS_MESSAGE_BYTES`]) grows the buffer to fit.
const WS_READ_BUFFER_BYTES: usize = 1024;

/// Outgoing frames are written as they are sent (each send flushes anyway) instead of being
/// gathered in a 128 KiB buffer first.
const WS_WRITE_BUFFER_BYTES: usize = 0;

#[derive(Clone)]
pub struct GraphqlState {
    pub app: AppState,
    pub schema: AppSchema,
}

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

/// Builds the request context: request id, client address, and the viewer behind a bearer
/// token. A refused token does not fail the request; it is reported when an operation
/// needs a viewer.
async fn request_ctx(
    app: &AppState,
    headers: &HeaderMap,
    addr: SocketAddr,
    token: Option<&str>,
) -> RequestCtx {
    let mut ctx = RequestCtx {
        request_id: super::request_id(headers),
        viewer: None,
        api_key: None,
        auth_error: None,
        ip: Some(addr.ip().to_string()),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(512).collect()),
        connection_id: None,
    };
    if let Some(token) = token {
        match credential(app, token).await {
            Ok(Credential::User(viewer)) => ctx.viewer = Some(viewer),
            Ok(Credential::ApiKey(key)) => ctx.api_key = Some(key),
            Err(why) => ctx.auth_error = Some(why),
        }
    }
    ctx
}

/// Who a bearer token stands for: a user's session (access JWT) or an API key.
enum Credential {
    User(crate::auth::Viewer),
    ApiKey(crate::auth::context::ApiKeyPrincipal),
}

/// Checks a bearer token of either kind, the same way for HTTP requests, `connection_init`
/// and every WebSocket operation: `zygo_…` tokens are API keys, anything else an access JWT.
async fn credential(app: &AppState, token: &str) -> Result<Credential, String> {
    if token.starts_with(crate::modules::api_keys::service::KEY_PREFIX) {
        crate::modules::api_keys::service::authenticate(app, token).await.map(Credential::ApiKey)
    } else {
        authenticate(app, token).await.map(Credential::User)
    }
}

fn bearer(value: &str) -> &str {
    let value = value.trim();
    value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")).unwrap_or(value).trim()
}

fn header_token(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(bearer).filter(|t| !t.is_empty())
}

mod light;
mod post;
mod ws;

pub use post::*;
pub use ws::*;
