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
        AppSchema, admission,
        batch::{Dispatcher, Driven},
        loaders::Loaders,
    },
    modules::identity::service::authenticate,
    startup::AppState,
    telemetry::GaugeGuard,
};

/// Largest WebSocket message accepted.
pub const MAX_WS_MESSAGE_BYTES: usize = 64 * 1024;

/// Read buffer of one WebSocket. tungstenite allocates it eagerly (128 KiB by default, most
/// of an idle subscriber's memory); GraphQL-over-WebSocket messages are small, and a larger
/// one (up to [`MAX_WS_MESSAGE_BYTES`]) is still read, in more than one chunk.
const WS_READ_BUFFER_BYTES: usize = 4 * 1024;

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

/// Refuses a `POST /graphql` whose body is not declared as JSON, before anything parses it:
/// a cross-site form or `text/plain` POST (which browsers send without a preflight) never runs.
pub async fn require_json(req: axum::extract::Request, next: axum::middleware::Next) -> HttpResponse {
    if req.method() == axum::http::Method::POST {
        let ct = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .unwrap_or_default();
        if ct != "application/json" && ct != GRAPHQL_RESPONSE_JSON {
            return request_error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                req.headers(),
                "UNSUPPORTED_MEDIA_TYPE",
                "POST bodies must be sent as application/json".into(),
            );
        }
    }
    next.run(req).await
}

/// `POST /graphql`.
pub async fn http_post(
    State(s): State<GraphqlState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    req: Result<GraphQLBatchRequest, GraphQLRejection>,
) -> HttpResponse {
    execute_http(s, headers, addr, req, false).await
}

/// `GET /graphql`: queries only; mutations and subscriptions get 405.
pub async fn http_get(
    State(s): State<GraphqlState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    req: Result<GraphQLBatchRequest, GraphQLRejection>,
) -> HttpResponse {
    execute_http(s, headers, addr, req, true).await
}

fn request_error(status: StatusCode, headers: &HeaderMap, code: &str, message: String) -> HttpResponse {
    request_error_with(status, headers, code, message, serde_json::Map::new())
}

/// [`request_error`] with more `extensions` (`field`, `retryAfter`, …).
fn request_error_with(
    status: StatusCode,
    headers: &HeaderMap,
    code: &str,
    message: String,
    mut extensions: serde_json::Map<String, serde_json::Value>,
) -> HttpResponse {
    extensions.insert("code".into(), code.into());
    extensions.insert("requestId".into(), super::request_id(headers).into());
    let body = json!({ "errors": [{ "message": message, "extensions": extensions }] });
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(headers)));
    resp
}

/// The media type to answer with: `application/graphql-response+json` when the client
/// accepts it, else `application/json` (also for clients that send no `Accept`).
fn content_type(headers: &HeaderMap) -> &'static str {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    if accept.contains(GRAPHQL_RESPONSE_JSON) { GRAPHQL_RESPONSE_JSON } else { "application/json" }
}

fn operation_type(req: &Request) -> Option<OperationType> {
    let doc = async_graphql::parser::parse_query(&req.query).ok()?;
    match &req.operation_name {
        Some(name) => doc
            .operations
            .iter()
            .find(|(n, _)| n.map(|n| n.as_str()) == Some(name.as_str()))
            .map(|(_, op)| op.node.ty),
        None => doc.operations.iter().next().map(|(_, op)| op.node.ty),
    }
}

async fn execute_http(
    s: GraphqlState,
    headers: HeaderMap,
    addr: SocketAddr,
    req: Result<GraphQLBatchRequest, GraphQLRejection>,
    is_get: bool,
) -> HttpResponse {
    let batch = match req {
        Ok(req) => req.into_inner(),
        Err(rejection) => {
            let message = match rejection.0 {
                async_graphql::ParseRequestError::PayloadTooLarge => "request body too large".to_string(),
                other => format!("malformed GraphQL request: {other}"),
            };
            return request_error(StatusCode::BAD_REQUEST, &headers, "BAD_REQUEST", message);
        }
    };
    if let BatchRequest::Batch(list) = &batch {
        let max = s.app.config.limits.batch;
        if list.len() > max {
            let message = if max == 0 {
                "batched requests are turned off (ZYGO_MAX_BATCH=0)".to_string()
            } else {
                format!(
                    "a batch holds at most {max} operations (ZYGO_MAX_BATCH); this one has {}",
                    list.len()
                )
            };
            return request_error(StatusCode::BAD_REQUEST, &headers, "BATCH_TOO_LARGE", message);
        }
    }
    let ctx = request_ctx(&s.app, &headers, addr, header_token(&headers)).await;
    // Every member goes through the one admission path (persisted queries, string caps; the
    // limits and the rate limit follow in the schema, after parsing and validation).
    let mut batch = batch;
    let members: Vec<&mut Request> = match &mut batch {
        BatchRequest::Single(r) => vec![r],
        BatchRequest::Batch(rs) => rs.iter_mut().collect(),
    };
    for r in members {
        if let Err(refusal) = admission::admit(&s.app, &ctx, r).await {
            let status = match refusal.code {
                "PERSISTED_QUERY_NOT_FOUND" => StatusCode::OK,
                _ => StatusCode::BAD_REQUEST,
            };
            let mut ext = serde_json::Map::new();
            if let Some(field) = refusal.field {
                ext.insert("field".into(), field.into());
            }
            return request_error_with(status, &headers, refusal.code, refusal.message, ext);
        }
    }
    // After admission, which turned persisted hashes into texts: a mutation sent by hash
    // alone is still a mutation.
    if is_get {
        let requests: Vec<&Request> = match &batch {
            BatchRequest::Single(r) => vec![r],
            BatchRequest::Batch(rs) => rs.iter().collect(),
        };
        if requests
            .iter()
            .any(|r| matches!(operation_type(r), Some(OperationType::Mutation | OperationType::Subscription)))
        {
            let mut resp = request_error(
                StatusCode::METHOD_NOT_ALLOWED,
                &headers,
                "METHOD_NOT_ALLOWED",
                "mutations and subscriptions must use POST (or the WebSocket endpoint)".into(),
            );
            resp.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
            return resp;
        }
    }
    let span = tracing::info_span!(
        "graphql",
        request_id = %ctx.request_id,
        user_id = ctx.viewer.as_ref().map(|v| v.user_id.to_string()).unwrap_or_default(),
    );
    // Every load of the request is batched per turn of its execution (see `graphql::batch`).
    let dispatcher = Arc::new(Dispatcher::default());
    let loaders =
        |ctx: &RequestCtx| Loaders::for_request(&s.app, ctx, Reads::shared(), Some(dispatcher.clone()));
    let batch = match batch {
        BatchRequest::Single(r) => {
            let loaders = loaders(&ctx);
            BatchRequest::Single(r.data(ctx).data(loaders))
        }
        // Each member of a batch gets its own loaders, like separate requests would.
        BatchRequest::Batch(rs) => {
            BatchRequest::Batch(rs.into_iter().map(|r| r.data(ctx.clone()).data(loaders(&ctx))).collect())
        }
    };
    let limit = s.app.config.request_timeout;
    let execution = Driven::new(dispatcher, s.schema.execute_batch(batch));
    match tokio::time::timeout(limit, execution.instrument(span)).await {
        Ok(resp) => respond(resp, &headers),
        // Dropping the future cancels the work; a transaction in flight rolls back.
        Err(_) => request_error(
            StatusCode::SERVICE_UNAVAILABLE,
            &headers,
            "REQUEST_TIMEOUT",
            format!("the request ran longer than {} s (ZYGO_REQUEST_TIMEOUT)", limit.as_secs()),
        ),
    }
}

/// `extensions.retryAfter` of a single response refused by the rate limiter before it ran.
fn rate_limited(resp: &BatchResponse) -> Option<u64> {
    let BatchResponse::Single(r) = resp else { return None };
    if r.data != async_graphql::Value::Null {
        return None;
    }
    let ext = r.errors.first()?.extensions.as_ref()?;
    if ext.get("code") != Some(&async_graphql::Value::from("RATE_LIMITED")) {
        return None;
    }
    match ext.get("retryAfter") {
        Some(async_graphql::Value::Number(n)) => n.as_u64(),
        _ => None,
    }
}

fn respond(resp: BatchResponse, headers: &HeaderMap) -> HttpResponse {
    let ct = content_type(headers);
    // With the GraphQL media type, a request that never reached execution (no `data`) is a
    // client error, as GraphQL over HTTP asks; with plain JSON it is always 200. Errors of an
    // execution carry the path of their field: a root field that failed leaves `data: null`
    // and the answer is a 200, as for any other field error.
    let request_failed = match &resp {
        BatchResponse::Single(r) => {
            !r.errors.is_empty()
                && r.data == async_graphql::Value::Null
                && r.errors.iter().all(|e| e.path.is_empty())
        }
        BatchResponse::Batch(_) => false,
    };
    // Refused by the rate limiter (after validation, in the schema): 429 with Retry-After.
    let retry_after = rate_limited(&resp);
    let status = if retry_after.is_some() {
        StatusCode::TOO_MANY_REQUESTS
    } else if ct == GRAPHQL_RESPONSE_JSON && request_failed {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let http_headers = resp.http_headers();
    // Serialised straight from async-graphql's values, whose objects keep the order of the
    // selection set (a detour through `serde_json::Value` would sort the keys). A request
    // that never executed has no `data` entry at all (GraphQL spec, "Response").
    #[derive(serde::Serialize)]
    struct NotExecuted<'a> {
        errors: &'a [async_graphql::ServerError],
        #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
        extensions: &'a std::collections::BTreeMap<String, async_graphql::Value>,
    }
    let body = match &resp {
        BatchResponse::Single(r) if request_failed => {
            serde_json::to_string(&NotExecuted { errors: &r.errors, extensions: &r.extensions })
        }
        _ => serde_json::to_string(&resp),
    }
    .unwrap_or_else(|_| "{}".into());
    let mut out = HttpResponse::new(Body::from(body));
    *out.status_mut() = status;
    out.headers_mut().extend(http_headers);
    out.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    if let Some(retry) = retry_after {
        out.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry));
    }
    out
}

/// `GET /graphql/ws`: upgrades to a GraphQL WebSocket.
pub async fn websocket(
    State(s): State<GraphqlState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> HttpResponse {
    let protocol = headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .and_then(|list| list.split(',').find_map(|p| WebSocketProtocols::from_str(p.trim()).ok()))
        .unwrap_or(WebSocketProtocols::GraphQLWS);
    let base = request_ctx(&s.app, &headers, addr, None).await;
    upgrade
        .protocols(["graphql-transport-ws", "graphql-ws"])
        .max_message_size(MAX_WS_MESSAGE_BYTES)
        .read_buffer_size(WS_READ_BUFFER_BYTES)
        .write_buffer_size(WS_WRITE_BUFFER_BYTES)
        .on_upgrade(move |socket| {
            serve_websocket(s, socket, protocol, base, header_token(&headers).map(str::to_string))
        })
}

/// Runs the schema over one WebSocket once it is initialised; per-operation loaders come
/// from [`WsExecutor`].
#[derive(Clone)]
struct WsExecutor {
    schema: AppSchema,
    app: AppState,
}

/// The credential a WebSocket connection holds: set by `connection_init` (an access token or
/// an API key, whose `viewer` stays empty), replaced when the client re-authenticates (a
/// graphql-transport-ws `ping` whose payload carries a fresh access token), checked again
/// for every operation.
#[derive(Default)]
struct WsAuth {
    token: Option<String>,
    viewer: Option<crate::auth::Viewer>,
}

type SharedAuth = Arc<std::sync::Mutex<WsAuth>>;

impl Executor for WsExecutor {
    async fn execute(&self, request: Request) -> Response {
        // Same admission as every other operation (async-graphql streams all of ours).
        self.execute_stream(request, None).next().await.unwrap_or_default()
    }

    fn execute_stream(
        &self,
        request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        let session_data = session_data.unwrap_or_default();
        let ctx = session_data
            .get(&TypeId::of::<RequestCtx>())
            .and_then(|b| b.downcast_ref::<RequestCtx>())
            .cloned()
            .unwrap_or_default();
        let token = session_data
            .get(&TypeId::of::<SharedAuth>())
            .and_then(|b| b.downcast_ref::<SharedAuth>())
            .and_then(|a| a.lock().unwrap().token.clone());
        let (schema, app) = (self.schema.clone(), self.app.clone());
        // Every operation re-checks the connection's credential (an expired token, an ended
        // session or a revoked API key stops new operations at once), then takes the same
        // admission path as an HTTP request: persisted queries, caps, limits, rate limits.
        futures::stream::once(async move {
            let mut request = request;
            if let Some(token) = token {
                credential(&app, &token).await.map_err(|why| admission::Refusal {
                    code: "UNAUTHENTICATED",
                    message: why,
                    field: None,
                    retry_after: None,
                })?;
            }
            admission::admit(&app, &ctx, &mut request).await?;
            Ok::<_, admission::Refusal>(request.data(Loaders::for_request(
                &app,
                &ctx,
                Reads::default(),
                None,
            )))
        })
        .flat_map(move |checked| match checked {
            Ok(request) => schema.execute_stream_with_session_data(request, session_data.clone()),
            Err(refusal) => {
                let err = refusal.into_server_error();
                futures::stream::once(futures::future::ready(Response::from_errors(vec![err]))).boxed()
            }
        })
        .boxed()
    }
}

/// Reads the access token from a `connection_init` payload: `Authorization`
/// (`Bearer …` or bare), `authorization`, `token` or `accessToken`.
fn init_token(payload: &serde_json::Value) -> Option<String> {
    ["Authorization", "authorization", "token", "accessToken"]
        .iter()
        .find_map(|k| payload.get(k).and_then(|v| v.as_str()))
        .or_else(|| {
            payload
                .get("headers")
                .and_then(|h| h.get("Authorization").or_else(|| h.get("authorization")))
                .and_then(|v| v.as_str())
        })
        .map(|v| bearer(v).to_string())
        .filter(|t| !t.is_empty())
}

/// Reads a fresh access token from a graphql-transport-ws `ping` payload.
fn reauth_token(frame: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(frame).ok()?;
    if v.get("type")?.as_str()? != "ping" {
        return None;
    }
    init_token(v.get("payload")?)
}

/// The `type` and `id` of an operation message (`subscribe`, `start`, `complete`, `stop`,
/// `error`, `next`, `data`); `None` for messages without an id.
fn frame_type_and_id(frame: &[u8]) -> Option<(String, String)> {
    #[derive(serde::Deserialize)]
    struct Frame {
        #[serde(rename = "type")]
        ty: String,
        id: Option<String>,
    }
    let f: Frame = serde_json::from_slice(frame).ok()?;
    Some((f.ty, f.id?))
}

/// Close code for a connection whose credential ended (graphql-ws' "Unauthorized").
const CLOSE_UNAUTHORIZED: u16 = 4401;

async fn serve_websocket(
    s: GraphqlState,
    socket: WebSocket,
    protocol: WebSocketProtocols,
    base: RequestCtx,
    header_token: Option<String>,
) {
    let _open = GaugeGuard::new(&s.app.metrics.websockets_open);
    let (mut sink, stream) = socket.split();
    let auth: SharedAuth = Arc::default();
    let (app, reauth) = (s.app.clone(), auth.clone());
    let max_subscriptions = s.app.config.ws_max_subscriptions;
    let active: Arc<std::sync::Mutex<std::collections::HashSet<String>>> = Arc::default();
    let active_in = active.clone();
    let (refused_tx, mut refused_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let input = stream
        .take_while(|m| ready(m.is_ok()))
        .filter_map(|m| {
            ready(match m {
                Ok(Message::Text(t)) => Some(t.as_bytes().to_vec()),
                Ok(Message::Binary(b)) => Some(b.to_vec()),
                _ => None,
            })
        })
        .filter_map(move |frame| {
            let (app, auth, active, refused) =
                (app.clone(), reauth.clone(), active_in.clone(), refused_tx.clone());
            async move {
                // A ping carrying a new access token renews the connection's credential
                // (same session only); an invalid one is ignored and the old one runs out.
                if let Some(token) = reauth_token(&frame)
                    && let Ok(viewer) = authenticate(&app, &token).await
                {
                    let mut a = auth.lock().unwrap();
                    // Same session only: a socket never moves to another session.
                    if a.viewer.as_ref().is_some_and(|v| v.session_id == viewer.session_id) {
                        a.token = Some(token);
                        a.viewer = Some(viewer);
                    }
                }
                // At most `ws_max_subscriptions` operations run at once on one socket.
                if let Some((ty, id)) = frame_type_and_id(&frame) {
                    let mut running = active.lock().unwrap();
                    match ty.as_str() {
                        "subscribe" | "start" if !running.contains(&id) => {
                            if running.len() >= max_subscriptions {
                                let _ = refused.send(id);
                                return None;
                            }
                            running.insert(id);
                        }
                        "complete" | "stop" => {
                            running.remove(&id);
                        }
                        _ => {}
                    }
                }
                Some(frame)
            }
        })
        .boxed();
    let app = s.app.clone();
    let rejected = Arc::new(AtomicBool::new(false));
    let rejected_in_init = rejected.clone();
    let auth_in_init = auth.clone();
    let executor = WsExecutor { schema: s.schema.clone(), app: s.app.clone() };
    let mut ws = async_graphql::http::WebSocket::new(executor, input, protocol).on_connection_init(
        move |payload: serde_json::Value| async move {
            let token = init_token(&payload).or(header_token);
            let mut ctx = base;
            let mut data = Data::default();
            if let Some(token) = token {
                // The same credentials as over HTTP: an access JWT or an API key.
                match credential(&app, &token).await {
                    Ok(Credential::User(viewer)) => {
                        ctx.viewer = Some(viewer.clone());
                        *auth_in_init.lock().unwrap() = WsAuth { token: Some(token), viewer: Some(viewer) };
                    }
                    Ok(Credential::ApiKey(key)) => {
                        ctx.api_key = Some(key);
                        *auth_in_init.lock().unwrap() = WsAuth { token: Some(token), viewer: None };
                    }
                    // A client that presents a bad token is told at once (4403 Forbidden).
                    Err(why) => {
                        rejected_in_init.store(true, Ordering::Relaxed);
                        return Err(async_graphql::Error::new(why));
                    }
                }
            }
            data.insert(auth_in_init);
            data.insert(ctx);
            Ok(data)
        },
    );
    let shutdown = s.app.shutdown.clone();
    let init_deadline = tokio::time::Instant::now() + s.app.config.ws_init_timeout;
    let mut acked = false;
    let mut keepalive = tokio::time::interval(s.app.config.ws_ping_interval);
    keepalive.tick().await;
    // Ended sessions and access changes of the connection's user, from every instance.
    let mut ended: Option<BoxStream<'static, Arc<crate::pubsub::Event>>> = None;
    loop {
        let viewer = auth.lock().unwrap().viewer.clone();
        if ended.is_none()
            && let Some(v) = &viewer
        {
            ended = Some(s.app.bus.subscribe(&crate::modules::security::sessions::topic(v.user_id)));
            // A session that ended between connection_init and this subscription: close now.
            let token = auth.lock().unwrap().token.clone();
            if let Some(token) = token
                && authenticate(&s.app, &token).await.is_err()
            {
                let _ = sink
                    .send(Message::Close(Some(CloseFrame {
                        code: CLOSE_UNAUTHORIZED,
                        reason: "session ended".into(),
                    })))
                    .await;
                break;
            }
        }
        let until_expiry = viewer.as_ref().map(|v| {
            let secs = v.token_expires_at - chrono::Utc::now().timestamp();
            std::time::Duration::from_secs(secs.max(0) as u64)
        });
        let close =
            |code: u16, reason: String| Message::Close(Some(CloseFrame { code, reason: reason.into() }));
        tokio::select! {
            msg = ws.next() => match msg {
                Some(WsMessage::Text(text)) => {
                    // Only frames that can end an operation or acknowledge the connection are
                    // parsed; the stream of results passes untouched.
                    let may_end = text.contains("\"complete\"") || text.contains("\"error\"");
                    if may_end && let Some((ty, id)) = frame_type_and_id(text.as_bytes()) {
                        if matches!(ty.as_str(), "complete" | "error") {
                            active.lock().unwrap().remove(&id);
                        }
                    } else if !acked && text.contains("\"connection_ack\"") {
                        acked = true;
                    }
                    if sink.send(Message::Text(text.into())).await.is_err() {
                        break;
                    }
                }
                Some(WsMessage::Close(code, reason)) => {
                    // async-graphql closes with 1002 for both; graphql-transport-ws asks for
                    // 4403 (refused connection_init) and 4400 (invalid message).
                    let code = match code {
                        1002 if rejected.load(Ordering::Relaxed) => 4403,
                        1002 if protocol == WebSocketProtocols::GraphQLWS => 4400,
                        other => other,
                    };
                    let _ = sink.send(close(code, reason)).await;
                    break;
                }
                None => break,
            },
            event = async {
                match ended.as_mut() {
                    Some(stream) => stream.next().await,
                    None => futures::future::pending().await,
                }
            } => {
                let ended_event = event.and_then(|e| {
                    serde_json::from_value::<crate::modules::security::sessions::SessionsEnded>(e.payload.clone()).ok()
                });
                if let (Some(ended_event), Some(v)) = (ended_event, &viewer)
                    && ended_event.covers(v.session_id)
                {
                    let _ = sink.send(close(CLOSE_UNAUTHORIZED, ended_event.reason)).await;
                    break;
                }
            }
            _ = async {
                match until_expiry {
                    Some(d) => tokio::time::sleep(d).await,
                    None => futures::future::pending().await,
                }
            } => {
                // Renewed meanwhile? Then the loop goes on with the new expiry.
                let still = auth.lock().unwrap().viewer.as_ref().map(|v| v.token_expires_at);
                if still.is_some_and(|exp| exp <= chrono::Utc::now().timestamp()) {
                    let _ = sink.send(close(CLOSE_UNAUTHORIZED, "access token expired".into())).await;
                    break;
                }
            }
            Some(id) = refused_rx.recv() => {
                let message = format!(
                    "this connection already runs {max_subscriptions} operations (ZYGO_WS_MAX_SUBSCRIPTIONS)"
                );
                let payload = json!([{ "message": message, "extensions": { "code": "TOO_MANY_SUBSCRIPTIONS" } }]);
                let frame = json!({ "id": id, "type": "error", "payload": payload });
                if sink.send(Message::Text(frame.to_string().into())).await.is_err() {
                    break;
                }
            }
            _ = tokio::time::sleep_until(init_deadline), if !acked => {
                // graphql-transport-ws: 4408 Connection initialisation timeout.
                let _ = sink.send(close(4408, "connection initialisation timeout".into())).await;
                break;
            }
            _ = keepalive.tick(), if acked => {
                let ping = if protocol == WebSocketProtocols::GraphQLWS { r#"{"type":"ping"}"# } else { r#"{"type":"ka"}"# };
                if sink.send(Message::Text(ping.into())).await.is_err() {
                    break;
                }
            }
            _ = shutdown.cancelled() => {
                let _ = sink.send(close(1001, "server shutting down".into())).await;
                break;
            }
        }
    }
}
