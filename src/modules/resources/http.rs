//! Downloads over plain HTTP beside GraphQL, streamed from storage with `Content-Type`,
//! `Content-Length`, `Content-Disposition` and single byte ranges (`Range: bytes=a-b`):
//! - `GET /resources/versions/{id}/download`: a member, by bearer token or by the signed
//!   short-lived address `ResourceVersion.downloadUrl` gives (for `<img src>` and links);
//!   the visibility rule applies; anything not visible is a 404.
//! - `GET /resources/share/{token}`: anyone holding a share link; its password, if it has
//!   one, in the `x-share-password` header or the `password` query parameter (401 without
//!   it, 404 for a link forged, expired, revoked or of a file no longer shared).
//!
//! Every download (a request from the first byte) is logged and counted.

use std::net::SocketAddr;

use axum::{
    body::Body,
    extract::{ConnectInfo, Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use entity::resource_version;
use serde::Deserialize;
use uuid::Uuid;

use super::sharing::{self, Downloader, LinkRefusal};
use crate::startup::AppState;

#[derive(Deserialize)]
pub struct SignedQuery {
    user: Option<String>,
    expires: Option<i64>,
    sig: Option<String>,
}

fn status(code: StatusCode, message: &'static str) -> Response {
    (code, [(header::CACHE_CONTROL, "no-store")], message).into_response()
}

fn internal(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "resource download");
    status(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
}

/// `bytes=a-b`, `bytes=a-` or `bytes=-n` of a file of `size` bytes, as a half-open range;
/// `Err` when it cannot be satisfied, `Ok(None)` for no (or an unsupported) Range.
fn byte_range(headers: &HeaderMap, size: u64) -> Result<Option<std::ops::Range<u64>>, ()> {
    let Some(spec) = headers.get(header::RANGE).and_then(|v| v.to_str().ok()) else { return Ok(None) };
    let Some(spec) = spec.trim().strip_prefix("bytes=") else { return Ok(None) };
    if spec.contains(',') {
        return Ok(None); // several ranges: the whole file instead
    }
    let (a, b) = spec.split_once('-').ok_or(())?;
    let range = match (a.trim(), b.trim()) {
        ("", n) => {
            let n: u64 = n.parse().map_err(|_| ())?;
            size.saturating_sub(n)..size
        }
        (a, "") => a.parse().map_err(|_| ())?..size,
        (a, b) => {
            let (a, b): (u64, u64) = (a.parse().map_err(|_| ())?, b.parse().map_err(|_| ())?);
            a..(b + 1).min(size)
        }
    };
    if range.start >= range.end || range.start >= size { Err(()) } else { Ok(Some(range)) }
}

/// `attachment; filename*=UTF-8''…` (RFC 6266 / 5987); images inline, so a page can show them.
fn disposition(v: &resource_version::Model) -> String {
    let encoded: String = v
        .filename
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let kind = if v.mime_type.starts_with("image/") && v.mime_type != "image/svg+xml" {
        "inline"
    } else {
        "attachment"
    };
    format!("{kind}; filename*=UTF-8''{encoded}")
}

/// Streams `version` (logging the download unless the request starts past the first byte).
async fn stream(
    app: &AppState,
    headers: &HeaderMap,
    tenant: Uuid,
    v: resource_version::Model,
    who: Downloader,
) -> Response {
    let size = v.size_bytes.max(0) as u64;
    let range = match byte_range(headers, size) {
        Ok(r) => r,
        Err(()) => {
            let mut resp = status(StatusCode::RANGE_NOT_SATISFIABLE, "range not satisfiable");
            if let Ok(h) = HeaderValue::from_str(&format!("bytes */{size}")) {
                resp.headers_mut().insert(header::CONTENT_RANGE, h);
            }
            return resp;
        }
    };
    let download = match app.storage.get(&v.storage_key, range.clone()).await {
        Ok(d) => d,
        Err(e) => return internal(e),
    };
    if range.as_ref().is_none_or(|r| r.start == 0)
        && let Err(e) = sharing::record_download(app, tenant, &v, who).await
    {
        return internal(e);
    }
    let (code, length) = match &range {
        Some(r) => (StatusCode::PARTIAL_CONTENT, r.end - r.start),
        None => (StatusCode::OK, download.size),
    };
    let mut resp = Response::new(Body::from_stream(download.body));
    *resp.status_mut() = code;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&v.mime_type).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    if let Ok(d) = HeaderValue::from_str(&disposition(&v)) {
        h.insert(header::CONTENT_DISPOSITION, d);
    }
    if let Ok(e) = HeaderValue::from_str(&format!("\"{}\"", v.sha256)) {
        h.insert(header::ETAG, e);
    }
    if let Some(r) = range
        && let Ok(c) = HeaderValue::from_str(&format!("bytes {}-{}/{size}", r.start, r.end - 1))
    {
        h.insert(header::CONTENT_RANGE, c);
    }
    resp
}

fn user_agent(headers: &HeaderMap) -> Option<String> {
    headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_string)
}

/// `GET /resources/versions/{id}/download`.
pub async fn download_version(
    State(app): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<SignedQuery>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let not_found = || status(StatusCode::NOT_FOUND, "no such file");
    let Ok(id) = Uuid::parse_str(&id) else { return not_found() };
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().strip_prefix("Bearer ").map(str::trim))
        .filter(|t| !t.is_empty());
    let user = match (bearer, q.sig.as_deref()) {
        (Some(token), _) => match crate::modules::identity::service::authenticate(&app, token).await {
            Ok(viewer) => viewer.user_id,
            Err(_) => return status(StatusCode::UNAUTHORIZED, "sign in again"),
        },
        (None, Some(sig)) => {
            match sharing::verify_download(
                &app,
                id,
                q.user.as_deref().unwrap_or(""),
                q.expires.unwrap_or(0),
                sig,
            ) {
                Some(user) => user,
                None => {
                    return status(StatusCode::FORBIDDEN, "this download address has expired or was altered");
                }
            }
        }
        (None, None) => return status(StatusCode::UNAUTHORIZED, "sign in to download"),
    };
    let found = async {
        // The version names its organisation (read across tenants); the user's access to
        // that organisation and the file's visibility decide.
        let across = crate::db::across_tenants(&app.db);
        let Some(tenant) =
            crate::db::owning_tenant::<resource_version::Entity>(&across, resource_version::Column::Id, id)
                .await?
        else {
            return Ok(None);
        };
        let tctx = match crate::access::access_one(&app, user, tenant).await {
            Ok(t) => t,
            Err(_) => return Ok(None),
        };
        let db = tctx.on(&app.db);
        let found = super::service::visible_version(&db, &tctx, id).await.ok();
        tctx.reads.release().await;
        Ok::<_, crate::error::AppError>(found.map(|(_, v)| (tenant, v)))
    }
    .await;
    match found {
        Ok(Some((tenant, v))) => {
            let who = Downloader {
                user_id: Some(user),
                share_link_id: None,
                ip: Some(addr.ip().to_string()),
                user_agent: user_agent(&headers),
            };
            stream(&app, &headers, tenant, v, who).await
        }
        Ok(None) => not_found(),
        Err(e) => internal(e),
    }
}

#[derive(Deserialize)]
pub struct ShareQuery {
    password: Option<String>,
}

/// `GET /resources/share/{token}`.
pub async fn download_shared(
    State(app): State<AppState>,
    Path(token): Path<String>,
    Query(q): Query<ShareQuery>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let password =
        headers.get("x-share-password").and_then(|v| v.to_str().ok()).map(str::to_string).or(q.password);
    match sharing::open_link(&app, &token, password, true).await {
        Ok(Ok(shared)) => {
            let who = Downloader {
                user_id: None,
                share_link_id: Some(shared.link.id),
                ip: Some(addr.ip().to_string()),
                user_agent: user_agent(&headers),
            };
            stream(&app, &headers, shared.tenant, shared.version, who).await
        }
        Ok(Err(LinkRefusal::Password)) => status(StatusCode::UNAUTHORIZED, "this link needs its password"),
        Ok(Err(LinkRefusal::Gone)) => status(StatusCode::NOT_FOUND, "this link has expired or was revoked"),
        Err(e) => internal(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(spec: &str, size: u64) -> Result<Option<std::ops::Range<u64>>, ()> {
        let mut h = HeaderMap::new();
        h.insert(header::RANGE, HeaderValue::from_str(spec).unwrap());
        byte_range(&h, size)
    }

    #[test]
    fn byte_ranges_are_read_as_rfc_9110_says() {
        assert_eq!(range("bytes=0-9", 100), Ok(Some(0..10)));
        assert_eq!(range("bytes=90-", 100), Ok(Some(90..100)));
        assert_eq!(range("bytes=-5", 100), Ok(Some(95..100)));
        assert_eq!(range("bytes=50-500", 100), Ok(Some(50..100)));
        assert_eq!(range("bytes=100-", 100), Err(()));
        assert_eq!(range("bytes=0-1,5-6", 100), Ok(None));
        assert_eq!(range("items=0-1", 100), Ok(None));
    }
}
