//! Organisation addresses at the HTTP edge: a request to `{slug}.{ZYGO_BASE_DOMAIN}` or to a
//! verified custom domain is the organisation's (the web app opens on its pages), a verified
//! domain that is not primary redirects to the primary one, signing in there goes on to the
//! organisation (`/login` gets `next=/o/{slug}`), an unknown subdomain gets a page
//! saying so; and `/tls/ask` answers Caddy's on-demand TLS question. The API itself
//! (`/graphql`, its WebSocket) answers on any host and costs no lookup.

use axum::{
    extract::{Query, Request, State},
    http::{StatusCode, header},
    middleware::Next,
    response::{Html, IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use crate::{
    modules::domains::hosts::{self, HostTarget},
    startup::AppState,
};

/// Whether `host` can only be the platform's own: an address, `localhost`, or the host of
/// `ZYGO_PUBLIC_URL` — answered without a database lookup.
fn plainly_platform(state: &AppState, host: &str) -> bool {
    let bare = hosts::bare(host);
    let public = state.config.public_url.split("://").nth(1).unwrap_or_default();
    bare == "localhost"
        || bare.parse::<std::net::IpAddr>().is_ok()
        || bare.starts_with('[')
        || bare == hosts::bare(public.split('/').next().unwrap_or_default())
}

pub async fn route(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(host) = req.headers().get(header::HOST).and_then(|h| h.to_str().ok()).map(str::to_string) else {
        return next.run(req).await;
    };
    if plainly_platform(&state, &host)
        || req.uri().path() == "/tls/ask"
        || req.uri().path().starts_with("/healthz")
    {
        return next.run(req).await;
    }
    match hosts::resolve(&state, &host).await {
        Ok(HostTarget::Platform) => next.run(req).await,
        Ok(HostTarget::Unknown) => (
            StatusCode::NOT_FOUND,
            Html(format!(
                "<!doctype html><meta charset=utf-8><title>No organisation here</title>\
                 <h1>No organisation here</h1><p>No organisation is reachable at <b>{}</b>. \
                 Check the address, or go to <a href=\"{}\">{}</a>.</p>",
                html_escape(&hosts::bare(&host)),
                html_escape(&state.config.public_url),
                html_escape(&state.config.public_url)
            )),
        )
            .into_response(),
        Ok(HostTarget::Redirect { to }) => {
            let scheme = if state.config.public_url.starts_with("https://") { "https" } else { "http" };
            let rest = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
            Redirect::permanent(&format!("{scheme}://{to}{rest}")).into_response()
        }
        Ok(HostTarget::Tenant { slug, .. }) => {
            if req.uri().path() == "/" {
                return Redirect::temporary(&format!("/o/{slug}")).into_response();
            }
            // Signing in at the organisation's address joins its context: the sign-in page
            // goes on to the organisation unless it was told where to go already.
            if req.uri().path() == "/login" {
                let query = req.uri().query().unwrap_or_default();
                if !query.split('&').any(|p| p.starts_with("next=")) {
                    let sep = if query.is_empty() { "" } else { "&" };
                    return Redirect::temporary(&format!("/login?{query}{sep}next=%2Fo%2F{slug}"))
                        .into_response();
                }
            }
            next.run(req).await
        }
        Err(e) => {
            tracing::error!(error = %e, "host lookup failed");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[derive(Deserialize)]
pub struct Ask {
    domain: String,
}

/// `GET /tls/ask?domain=…`: 200 when a certificate may be obtained for the name (the base
/// domain, an organisation's subdomain, a verified custom domain), 404 otherwise.
pub async fn ask(State(state): State<AppState>, Query(q): Query<Ask>) -> StatusCode {
    match hosts::may_serve(&state, &q.domain).await {
        Ok(true) => StatusCode::OK,
        Ok(false) => StatusCode::NOT_FOUND,
        Err(e) => {
            tracing::error!(error = %e, "tls ask lookup failed");
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}
