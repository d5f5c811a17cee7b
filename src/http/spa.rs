//! The single-page app (`frontend/`, built into `ZYGO_FRONTEND_DIR`) served at `/`: hashed
//! assets cached for a year, every other path answered with `index.html` so the app's own
//! router handles deep links (`/o/acme/workflows/…`, links in mails).

use std::path::Path;

use axum::{
    Router,
    body::Body,
    http::{HeaderValue, Request, StatusCode, header},
    response::{Html, IntoResponse, Response},
};
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

/// The policy of the app's pages (GraphiQL's too): scripts and styles from this origin only
/// (React Flow, GraphiQL and the app set inline `style` attributes), API calls and the
/// WebSocket to this origin. Fonts may also be `data:` URIs: GraphiQL's own stylesheet, served
/// from here, embeds its fonts that way (no other origin is involved).
pub(super) const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                   img-src 'self' data: blob:; connect-src 'self'; font-src 'self' data:; object-src 'none'; \
                   base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// A fallback router serving `dir`; when the app is not built, a page saying how to build it.
pub fn router(dir: &Path) -> Router {
    let index = dir.join("index.html");
    if !index.is_file() {
        tracing::warn!(dir = %dir.display(), "frontend not built: `/` explains how to build it");
        return Router::new().fallback(not_built);
    }
    // A missing hashed asset is a 404 (a stale page asking for an old build), never index.html.
    let assets = ServeDir::new(dir);
    let pages = ServeDir::new(dir).fallback(ServeFile::new(&index));
    Router::new().fallback_service(tower::service_fn(move |req: Request<Body>| {
        let (assets, pages) = (assets.clone(), pages.clone());
        async move {
            if !matches!(*req.method(), axum::http::Method::GET | axum::http::Method::HEAD) {
                return Ok::<_, std::convert::Infallible>(StatusCode::METHOD_NOT_ALLOWED.into_response());
            }
            let hashed = req.uri().path().starts_with("/assets/");
            let mut res = if hashed { assets.oneshot(req).await } else { pages.oneshot(req).await }
                .map(IntoResponse::into_response)?;
            let ok = res.status().is_success();
            let h = res.headers_mut();
            h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
            let cache = if hashed && ok { "public, max-age=31536000, immutable" } else { "no-cache" };
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
            Ok(res)
        }
    }))
}

async fn not_built() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Html(
            "<!doctype html><title>Zygo</title><h1>Zygo is running</h1>\
             <p>The web app is not built. Build it with <code>npm ci --prefix frontend &amp;&amp; \
             npm run build --prefix frontend</code> (or start with <code>bash scripts/start.sh</code>), \
             or set <code>ZYGO_FRONTEND_DIR</code>. The API is at <code>/graphql</code>.</p>",
        ),
    )
        .into_response()
}
