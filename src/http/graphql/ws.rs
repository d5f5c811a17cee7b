//! GraphQL over WebSocket (`graphql-transport-ws` and the legacy `graphql-ws`): authentication at
//! init and on re-auth frames, small per-socket buffers, close codes.

use super::light::{self, Control};
#[allow(unused_imports)]
use super::*;
use crate::modules::studio::rooms::Delivery;

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
        let request_id = ctx.request_id.clone();
        // Every operation re-checks the connection's credential (an expired token, an ended
        // session or a revoked API key stops new operations at once), then takes the same
        // admission path as an HTTP request: persisted queries, caps, limits, rate limits.
        // Boxed: `once` keeps its future's slot for the stream's whole life, which for a
        // subscription is the life of the operation.
        futures::stream::once(Box::pin(async move {
            let mut request = request;
            if let Some(token) = token {
                still_valid(&app, &token).await?;
            }
            let admitted = admission::admit(&app, &ctx, &mut request).await?;
            let pending = answer::Pending::new(&ctx.request_id, &request, admitted);
            let loaders = Loaders::for_request(&app, &ctx, Reads::default(), None);
            // What a support session's audit entry names (see `Loaders::tenant_access`).
            let _ =
                loaders.operation.set((pending.admitted.label(), pending.admitted.operation_name.clone()));
            let request = request.data(loaders);
            Ok::<_, admission::Refusal>((request, pending, app))
        }))
        .flat_map(move |checked| match checked {
            Ok((request, pending, app)) => {
                let subscription = pending.admitted.op_type == Some(OperationType::Subscription);
                if subscription {
                    pending.measured(&app, true);
                }
                let pending = Arc::new(tokio::sync::Mutex::new(pending));
                schema
                    .execute_stream_with_session_data(request, session_data.clone())
                    .then(move |mut resp| {
                        let (pending, app) = (pending.clone(), app.clone());
                        Box::pin(async move {
                            let mut pending = pending.lock().await;
                            pending.complete(&mut resp);
                            pending.keep(&app, &resp).await;
                            if !subscription {
                                pending.measured(&app, resp.errors.is_empty());
                            }
                            resp
                        })
                    })
                    .boxed()
            }
            Err(refusal) => {
                let mut resp = Response::from_errors(vec![refusal.into_server_error()]);
                answer::shape_errors(&mut resp, Some(&request_id));
                futures::stream::once(futures::future::ready(resp)).boxed()
            }
        })
        .boxed()
    }
}

/// Checks a connection's credential again before an operation (UNAUTHENTICATED once the token
/// expired, its session ended or the API key was revoked).
pub(super) async fn still_valid(app: &AppState, token: &str) -> Result<(), admission::Refusal> {
    credential(app, token).await.map(|_| ()).map_err(|why| admission::Refusal {
        code: "UNAUTHENTICATED",
        message: why,
        field: None,
        retry_after: None,
        document: false,
    })
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

/// The `error` frame of an operation refused for the socket's operation limit.
fn refused_frame(id: &str, max_subscriptions: usize) -> String {
    let message =
        format!("this connection already runs {max_subscriptions} operations (ZYGO_WS_MAX_SUBSCRIPTIONS)");
    let payload = json!([{ "message": message, "extensions": { "code": "TOO_MANY_SUBSCRIPTIONS" } }]);
    json!({ "id": id, "type": "error", "payload": payload }).to_string()
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
    let mut base = base;
    base.connection_id = Some(uuid::Uuid::now_v7().to_string());
    let (mut sink, stream) = socket.split();
    let auth: SharedAuth = Arc::default();
    let (app, reauth) = (s.app.clone(), auth.clone());
    let max_subscriptions = s.app.config.ws_max_subscriptions;
    let active: Arc<std::sync::Mutex<std::collections::HashSet<String>>> = Arc::default();
    let active_in = active.clone();
    // What the loop is told besides the schema's frames: refusals, presence subscriptions
    // (started, completed, answered by their room).
    // futures' channel, not tokio's: tokio's allocates its slots 32 at a time (over 1 KiB with
    // these messages, two blocks once a room has delivered a few), kept for the socket's life.
    let (control_tx, mut control) = futures::channel::mpsc::unbounded::<Control>();
    let deliver: crate::modules::studio::rooms::Deliver = {
        let tx = control_tx.clone();
        Arc::new(move |d| {
            let _ = tx.unbounded_send(Control::Room(d));
        })
    };
    // The presence subscriptions the rooms serve for this socket.
    let mut served: std::collections::HashMap<String, crate::modules::studio::rooms::Ticket> =
        std::collections::HashMap::new();
    let light_base = base.clone();
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
            let (app, auth, active, control) =
                (app.clone(), reauth.clone(), active_in.clone(), control_tx.clone());
            // Boxed: `filter_map` keeps its pending future inline, so an unboxed one (with the
            // session check inside) would be part of every connection's memory for its life.
            Box::pin(async move {
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
                                let _ = control.unbounded_send(Control::Refused(id));
                                return None;
                            }
                            running.insert(id);
                        }
                        "complete" | "stop" => {
                            running.remove(&id);
                            let _ = control.unbounded_send(Control::Complete(id));
                        }
                        _ => {}
                    }
                }
                // A signed-in socket's presence subscription goes to its document's room.
                let signed_in = auth.lock().unwrap().viewer.is_some();
                if signed_in
                    && protocol == WebSocketProtocols::GraphQLWS
                    && let Some(asked) = light::light(&frame)
                {
                    let _ = control.unbounded_send(Control::Subscribe(Box::new(asked)));
                    return None;
                }
                Some(frame)
            })
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
    // The timers and the shutdown signal live as long as the connection: made afresh on
    // every turn of the loop (every frame sent), they registered a timer and a waiter on the
    // one shutdown token per frame, which a fan-out to thousands of sockets paid thousands
    // of times per event.
    let shutdown = shutdown.cancelled();
    let init_timeout = tokio::time::sleep_until(init_deadline);
    let expiry = tokio::time::sleep(std::time::Duration::ZERO);
    tokio::pin!(shutdown, init_timeout, expiry);
    // The token expiry the `expiry` timer is set for.
    let mut armed: Option<i64> = None;
    loop {
        let viewer = auth.lock().unwrap().viewer.clone();
        if ended.is_none()
            && let Some(v) = &viewer
        {
            ended = Some(s.app.bus.subscribe(&crate::modules::security::sessions::topic(v.user_id)));
            // A session that ended between connection_init and this subscription: close now.
            let token = auth.lock().unwrap().token.clone();
            if let Some(token) = token
                && Box::pin(authenticate(&s.app, &token)).await.is_err()
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
        let expires_at = viewer.as_ref().map(|v| v.token_expires_at);
        if expires_at != armed {
            armed = expires_at;
            if let Some(at) = expires_at {
                let secs = at - chrono::Utc::now().timestamp();
                expiry
                    .as_mut()
                    .reset(tokio::time::Instant::now() + std::time::Duration::from_secs(secs.max(0) as u64));
            }
        }
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
            _ = &mut expiry, if armed.is_some() => {
                // Renewed meanwhile? Then the loop goes on with the new expiry (set again).
                armed = None;
                let still = auth.lock().unwrap().viewer.as_ref().map(|v| v.token_expires_at);
                if still.is_some_and(|exp| exp <= chrono::Utc::now().timestamp()) {
                    let _ = sink.send(close(CLOSE_UNAUTHORIZED, "access token expired".into())).await;
                    break;
                }
            }
            Some(told) = control.next() => {
                let frames = match told {
                    Control::Refused(id) => vec![refused_frame(&id, max_subscriptions)],
                    Control::Subscribe(asked) => {
                        let id = asked.id.clone();
                        let (viewer, token) = {
                            let a = auth.lock().unwrap();
                            (a.viewer.clone(), a.token.clone())
                        };
                        let mut ctx = light_base.clone();
                        ctx.viewer = viewer;
                        let (frames, ticket) =
                            Box::pin(light::start(&s.app, &ctx, token, *asked, deliver.clone())).await;
                        match ticket {
                            Some(ticket) => {
                                served.insert(id, ticket);
                            }
                            None => {
                                active.lock().unwrap().remove(&id);
                            }
                        }
                        frames
                    }
                    Control::Complete(id) => match served.remove(&id) {
                        Some(_) => vec![light::complete_frame(&id)],
                        None => vec![],
                    },
                    Control::Room(Delivery::Next { id, payload }) if served.contains_key(&*id) => {
                        vec![light::next_text(&id, &payload)]
                    }
                    Control::Room(Delivery::End { id }) if served.remove(&*id).is_some() => {
                        active.lock().unwrap().remove(&*id);
                        vec![light::complete_frame(&id)]
                    }
                    Control::Room(_) => vec![],
                };
                let mut gone = false;
                for frame in frames {
                    if sink.send(Message::Text(frame.into())).await.is_err() {
                        gone = true;
                        break;
                    }
                }
                if gone {
                    break;
                }
            }
            _ = &mut init_timeout, if !acked => {
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
            _ = &mut shutdown => {
                let _ = sink.send(close(1001, "server shutting down".into())).await;
                break;
            }
        }
    }
}
