//! The axum router: `/graphql` (HTTP), `/graphql/ws` (WebSocket), `/graphiql`, `/healthz`,
//! `/readyz`, `/metrics` (unless served on its own listener), OAuth and webhook routes, and the web app at every other path, with
//! request ids, tracing and body limits on every route.

mod graphiql;
mod graphql;
mod health;
pub mod hosts;
pub use health::metrics_router;
mod oauth;
pub mod persisted;
mod spa;

use axum::http::{HeaderValue, header};
use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::{HeaderName, Request},
    routing::get,
};
use tower::ServiceBuilder;
use tower_http::{
    request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer},
    set_header::SetResponseHeaderLayer,
    trace::{DefaultOnFailure, TraceLayer},
};

use crate::{graphql::AppSchema, startup::AppState};

/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Builds the whole HTTP surface of one instance.
pub fn router(state: AppState, schema: AppSchema) -> Router {
    let gql = graphql::GraphqlState { app: state.clone(), schema };
    let graphiql = state.config.graphiql;
    let router = Router::new()
        .route(
            "/graphql",
            get(graphql::http_get)
                .post(graphql::http_post)
                .route_layer(axum::middleware::from_fn(graphql::require_json)),
        )
        .route("/graphql/ws", get(graphql::websocket))
        .with_state(gql)
        .route("/auth/oauth/{provider}", get(oauth::start))
        .route("/auth/oauth/{provider}/callback", get(oauth::callback_get).post(oauth::callback_post))
        .route(
            "/hooks/{workflow}/{token}",
            axum::routing::post(crate::modules::workflows::triggers::webhook::receive).layer(
                axum::extract::DefaultBodyLimit::max(crate::modules::workflows::triggers::webhook::MAX_BODY),
            ),
        )
        .route("/billing/invoices/{id}/pdf", get(crate::modules::billing::http::invoice_pdf))
        .route("/billing/return/{provider}", get(crate::modules::billing::http::provider_return))
        .route(
            "/billing/webhooks/{provider}",
            axum::routing::post(crate::modules::billing::http::provider_webhook)
                .layer(axum::extract::DefaultBodyLimit::max(crate::modules::billing::http::MAX_WEBHOOK_BODY)),
        )
        .route(
            "/notifications/unsubscribe",
            get(crate::modules::notifications::mailing::unsubscribe_page)
                .post(crate::modules::notifications::mailing::unsubscribe),
        )
        .route("/privacy/exports/{id}", get(crate::modules::privacy::export::download))
        .route("/resources/versions/{id}/download", get(crate::modules::resources::http::download_version))
        .route("/resources/share/{token}", get(crate::modules::resources::http::download_shared))
        .route(
            "/collection/brightdata/notify",
            axum::routing::post(crate::modules::collection::http::notify)
                .layer(axum::extract::DefaultBodyLimit::max(crate::modules::collection::http::MAX_BODY)),
        )
        .route("/collection/exports/{tenant}/{id}", get(crate::modules::collection::export::download))
        .route("/tls/ask", get(hosts::ask))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz));
    // Metrics tell a lot about a deployment: on their own listener when ZYGO_METRICS_LISTEN is
    // set, behind ZYGO_METRICS_TOKEN when that is set, public only in development. Elsewhere
    // the path is a plain 404 rather than the web app's index page.
    let config = &state.config;
    let router =
        if config.metrics_listen.is_none() && (config.metrics_token.is_some() || !config.is_production()) {
            router.route("/metrics", get(health::metrics))
        } else {
            router.route("/metrics", get(|| async { axum::http::StatusCode::NOT_FOUND }))
        };
    // GraphiQL is a development tool: off in production unless ZYGO_GRAPHIQL=true.
    // When off, the path is a plain 404 rather than the web app's index page.
    let router = if graphiql {
        router.route("/graphiql", get(graphiql::page))
    } else {
        router.route("/graphiql", get(|| async { axum::http::StatusCode::NOT_FOUND }))
    };
    // The built page is served at /graphiql only (so "off" stays off), never as a static file.
    let router =
        router.route(&format!("/{}", graphiql::PAGE), get(|| async { axum::http::StatusCode::NOT_FOUND }));
    // Browsers on other origins only where configured (ZYGO_CORS_ORIGINS); credentials are
    // bearer tokens, never cookies, so none are allowed.
    let origins: Vec<HeaderValue> =
        state.config.cors_origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
    let frontend = spa::router(&state.config.frontend_dir);
    let by_host = axum::middleware::from_fn_with_state(state.clone(), hosts::route);
    let router = router.with_state(state).merge(frontend).layer(by_host);
    let router = if origins.is_empty() {
        router
    } else {
        router.layer(
            tower_http::cors::CorsLayer::new()
                .allow_origin(tower_http::cors::AllowOrigin::list(origins))
                .allow_methods([axum::http::Method::GET, axum::http::Method::POST])
                .allow_headers([
                    header::AUTHORIZATION,
                    header::CONTENT_TYPE,
                    header::ACCEPT,
                    REQUEST_ID,
                    HeaderName::from_static("apollo-require-preflight"),
                    HeaderName::from_static("x-apollo-operation-name"),
                ])
                .expose_headers([REQUEST_ID])
                .max_age(std::time::Duration::from_secs(600)),
        )
    };
    router
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        // Security headers on every response (the app's pages and GraphiQL set their own CSP,
        // kept by if_not_present).
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        ))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, RandomRequestId))
                .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                    let request_id = req
                        .headers()
                        .get(REQUEST_ID)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default();
                    tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), request_id)
                })
                // A 503 from /readyz is an answer, not a server fault.
                .on_failure(DefaultOnFailure::new().level(tracing::Level::WARN)))
                .layer(PropagateRequestIdLayer::new(REQUEST_ID)),
        )
}

/// A random (version 4) UUID per request, from the thread's userspace generator: tower-http's
/// `MakeRequestUuid` asks the kernel (`getrandom`) for every request, a system call and often
/// a context switch on the hot path.
#[derive(Clone, Copy)]
struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let id = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
        HeaderValue::from_str(&id.to_string()).ok().map(RequestId::new)
    }
}

/// The request id set by [`SetRequestIdLayer`] (or sent by the client).
pub(crate) fn request_id(headers: &axum::http::HeaderMap) -> String {
    headers.get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}
