//! `/auth/oauth/{provider}` and its callback: the browser legs of OAuth / OpenID Connect
//! sign-in (see `modules::security::oauth`). Every answer is a redirect: to the provider,
//! or back to the frontend's `/oauth/callback` with a one-time `code` or an `error`.

use std::{collections::HashMap, net::SocketAddr};

use axum::{
    extract::{ConnectInfo, Form, Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use crate::{
    auth::RequestCtx,
    error::AppError,
    modules::security::oauth::{self, CallbackResult},
    startup::AppState,
};

fn redirect(to: &str) -> Response {
    let mut resp = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn frontend_error(app: &AppState, code: &str, message: &str) -> Response {
    let mut url =
        reqwest::Url::parse(&format!("{}/oauth/callback", app.config.public_url)).expect("public URL");
    url.query_pairs_mut().append_pair("error", code).append_pair("message", message);
    redirect(url.as_str())
}

fn error_code(e: &AppError) -> &'static str {
    match e {
        AppError::Rejected { code, .. } => code,
        AppError::NotFound(_) => "OAUTH_PROVIDER_UNKNOWN",
        _ => "OAUTH_FAILED",
    }
}

const BROWSER_COOKIE: &str = "zygo_oauth";

/// The browser-binding cookie sent back to the callback.
fn browser_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == BROWSER_COOKIE)
        .map(|(_, v)| v.to_string())
}

/// `GET /auth/oauth/{provider}`: to the provider's sign-in page, with a cookie that binds
/// the sign-in to this browser.
pub async fn start(State(app): State<AppState>, Path(provider): Path<String>) -> Response {
    let browser = crate::auth::tokens::random_token();
    match oauth::authorization_url(&app, &provider, None, Some(&browser)).await {
        Ok(url) => {
            let mut resp = redirect(&url);
            let secure = app.config.public_url.starts_with("https://");
            // Apple answers with a cross-site form POST, which only carries SameSite=None.
            let same_site = if provider == "apple" && secure { "None" } else { "Lax" };
            let cookie = format!(
                "{BROWSER_COOKIE}={browser}; Path=/auth/oauth; Max-Age=600; HttpOnly; SameSite={same_site}{}",
                if secure { "; Secure" } else { "" }
            );
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                resp.headers_mut().insert(header::SET_COOKIE, v);
            }
            resp
        }
        Err(AppError::NotFound(_)) => (StatusCode::NOT_FOUND, "no such sign-in provider").into_response(),
        Err(e) => frontend_error(&app, error_code(&e), &e.to_string()),
    }
}

/// `GET|POST /auth/oauth/{provider}/callback` (POST for providers answering with
/// `response_mode=form_post`, such as Apple).
pub async fn callback_get(
    State(app): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(provider): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    callback(app, addr, headers, provider, params).await
}

pub async fn callback_post(
    State(app): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(provider): Path<String>,
    Form(params): Form<HashMap<String, String>>,
) -> Response {
    callback(app, addr, headers, provider, params).await
}

async fn callback(
    app: AppState,
    addr: SocketAddr,
    headers: HeaderMap,
    provider: String,
    params: HashMap<String, String>,
) -> Response {
    if let Some(err) = params.get("error") {
        let message = params.get("error_description").map(String::as_str).unwrap_or("the provider refused");
        return frontend_error(&app, &format!("OAUTH_{}", err.to_ascii_uppercase()), message);
    }
    let (Some(code), Some(state)) = (params.get("code"), params.get("state")) else {
        return frontend_error(&app, "OAUTH_FAILED", "the provider sent no code or state");
    };
    let rctx = RequestCtx {
        request_id: super::request_id(&headers),
        ip: Some(addr.ip().to_string()),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(512).collect()),
        ..Default::default()
    };
    let browser = browser_cookie(&headers);
    match oauth::callback(&app, &rctx, &provider, code, state, browser.as_deref()).await {
        Ok(CallbackResult::SignedIn { code }) => {
            let mut url = reqwest::Url::parse(&format!("{}/oauth/callback", app.config.public_url))
                .expect("public URL");
            url.query_pairs_mut().append_pair("code", &code);
            redirect(url.as_str())
        }
        Ok(CallbackResult::LinkPending { code }) => {
            let mut url = reqwest::Url::parse(&format!("{}/settings/security", app.config.public_url))
                .expect("public URL");
            url.query_pairs_mut().append_pair("provider", &provider).append_pair("linkCode", &code);
            redirect(url.as_str())
        }
        Err(e) => frontend_error(&app, error_code(&e), &e.to_string()),
    }
}
