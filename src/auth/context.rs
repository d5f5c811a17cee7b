//! Who is calling ([`RequestCtx`]); as which member of which tenant is
//! [`crate::access::TenantCtx`].

use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// The authenticated user behind a request.
#[derive(Clone, Debug)]
pub struct Viewer {
    pub user_id: Uuid,
    pub session_id: Uuid,
    /// When the access token presented expires (Unix seconds).
    pub token_expires_at: i64,
}

/// A tenant API key presenting itself as `Authorization: Bearer zyk_…`.
#[derive(Clone, Debug)]
pub struct ApiKeyPrincipal {
    pub id: Uuid,
    pub tenant_id: Uuid,
    /// The member who created the key: the key never holds more than they do now.
    pub created_by: Uuid,
    pub permissions: crate::auth::Permissions,
}

/// Built once per HTTP request or WebSocket connection, before any resolver runs.
#[derive(Clone, Debug, Default)]
pub struct RequestCtx {
    pub request_id: String,
    pub viewer: Option<Viewer>,
    /// Set instead of `viewer` when the request authenticated with an API key.
    pub api_key: Option<ApiKeyPrincipal>,
    /// Why a presented credential was refused (expired, revoked, …), reported when an
    /// operation needs a viewer.
    pub auth_error: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// Over a WebSocket, the connection's own id (the same for every operation on it): what
    /// ties a light message on the socket (e.g. `updatePresence`) to the socket's
    /// subscriptions. `None` over HTTP.
    pub connection_id: Option<String>,
}

impl RequestCtx {
    /// Ok when a user or an API key authenticated the request, else UNAUTHENTICATED. For
    /// tenant operations, which either may perform.
    pub fn require_principal(&self) -> AppResult<()> {
        if self.api_key.is_some() { Ok(()) } else { self.viewer().map(|_| ()) }
    }

    /// The viewer, or UNAUTHENTICATED.
    pub fn viewer(&self) -> AppResult<&Viewer> {
        self.viewer.as_ref().ok_or_else(|| {
            AppError::unauthenticated(self.auth_error.clone().unwrap_or_else(|| "sign in required".into()))
        })
    }
}
