//! `GET /graphiql`: the GraphiQL explorer, wired for queries, mutations and subscriptions.
//!
//! GraphiQL is bundled from the npm `graphiql` package by the web app's own build (the
//! second Vite entry `frontend/graphiql.html`, built into `ZYGO_FRONTEND_DIR`), so the page
//! loads nothing from another origin and is served under the app's strict
//! content-security policy. The access token goes in GraphiQL's *Headers* pane as
//! `{"Authorization": "Bearer …"}`; see `frontend/src/graphiql/main.tsx`.
//!
//! This file only serves the built page (or says how to build it); whether GraphiQL is on
//! at all is decided by the router (`ZYGO_GRAPHIQL`).

use axum::{
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
};

use crate::startup::AppState;

/// The built page's file name inside `ZYGO_FRONTEND_DIR`.
pub const PAGE: &str = "graphiql.html";

pub async fn page(State(app): State<AppState>) -> Response {
    let path = app.config.frontend_dir.join(PAGE);
    let mut res = match tokio::fs::read_to_string(&path).await {
        Ok(html) => Html(html).into_response(),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Html(
                "<!doctype html><title>Zygo GraphiQL</title><h1>GraphiQL is not built</h1>\
                 <p>GraphiQL is bundled with the web app. Build it with <code>npm ci --prefix frontend \
                 &amp;&amp; npm run build --prefix frontend</code> (or start with <code>bash \
                 scripts/start.sh</code>), or set <code>ZYGO_FRONTEND_DIR</code> to a built app. The \
                 API is at <code>/graphql</code>.</p>",
            ),
        )
            .into_response(),
    };
    let h = res.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(super::spa::CSP));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    res
}
