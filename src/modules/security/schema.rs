//! GraphQL surface of account security: the viewer's sessions, security log, MFA and
//! connected accounts (fields of `Viewer`, see `types::ViewerSecurity`), and their mutations.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{oauth_identity, security_event, session};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::{mfa, oauth, sessions};
use crate::{
    error::AppError,
    graphql::{
        app, rctx,
        relay::{self, Conn, PageArgs},
    },
    modules::identity::{
        schema::{LogInPayload, SuccessPayload, log_in_payload},
        service::IssuedTokens,
        types::AuthPayload,
    },
};

/// A signed-in device or browser.
pub struct Session(pub session::Model, pub bool);

#[Object]
impl Session {
    pub async fn id(&self) -> ID {
        relay::to_global_id(relay::kind::SESSION, self.0.id)
    }
    /// "Firefox on Linux"-style description of the user agent.
    async fn device(&self) -> String {
        sessions::describe_device(self.0.user_agent.as_deref())
    }
    async fn user_agent(&self) -> Option<&str> {
        self.0.user_agent.as_deref()
    }
    /// IP address the session signed in from.
    async fn ip(&self) -> Option<&str> {
        self.0.ip.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Last time the session was used (to the minute).
    async fn last_used_at(&self) -> DateTime<Utc> {
        self.0.last_used_at
    }
    async fn expires_at(&self) -> DateTime<Utc> {
        self.0.expires_at
    }
    /// This is the session making the request.
    async fn current(&self) -> bool {
        self.1
    }
}

/// One entry of the account's security log.
pub struct SecurityEvent(pub security_event::Model);

#[Object]
impl SecurityEvent {
    pub async fn id(&self) -> ID {
        relay::to_global_id(relay::kind::SECURITY_EVENT, self.0.id)
    }
    async fn kind(&self) -> Option<SecurityEventKind> {
        Some(self.0.kind.into())
    }
    async fn ip(&self) -> Option<&str> {
        self.0.ip.as_deref()
    }
    async fn device(&self) -> Option<String> {
        self.0.user_agent.as_deref().map(|ua| sessions::describe_device(Some(ua)))
    }
    async fn user_agent(&self) -> Option<&str> {
        self.0.user_agent.as_deref()
    }
    /// Event details, e.g. `{"method": "totp"}` for a sign-in.
    async fn details(&self) -> Option<async_graphql::Json<serde_json::Value>> {
        self.0.details.clone().map(async_graphql::Json)
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// The viewer's two-factor authentication.
#[derive(SimpleObject)]
pub struct MfaStatus {
    /// TOTP is on: signing in needs a code after the password.
    pub totp_enabled: bool,
    pub totp_enabled_at: Option<DateTime<Utc>>,
    /// Backup codes not used yet.
    pub backup_codes_remaining: u64,
}

/// A provider account linked to the viewer.
pub struct ConnectedAccount(pub oauth_identity::Model);

#[Object]
impl ConnectedAccount {
    pub async fn id(&self) -> ID {
        relay::to_global_id(relay::kind::CONNECTED_ACCOUNT, self.0.id)
    }
    /// Provider name, e.g. `google`.
    async fn provider(&self) -> &str {
        &self.0.provider
    }
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_used_at
    }
}

/// A sign-in provider offered by this deployment.
#[derive(SimpleObject)]
pub struct OAuthProviderInfo {
    pub name: String,
    pub display_name: String,
    /// Send the browser here to sign in.
    pub sign_in_url: String,
}

/// Fields of `Viewer` about account security (called from [`super::types::ViewerSecurity`]).
pub async fn viewer_sessions(ctx: &Context<'_>) -> Result<Vec<Session>> {
    let viewer = rctx(ctx).viewer()?;
    Ok(sessions::list(app(ctx), viewer)
        .await?
        .into_iter()
        .map(|s| {
            let current = s.id == viewer.session_id;
            Session(s, current)
        })
        .collect())
}

pub async fn viewer_security_events(ctx: &Context<'_>, args: PageArgs) -> Result<Conn<SecurityEvent>> {
    let viewer = rctx(ctx).viewer()?;
    let app = app(ctx);
    let select = security_event::Entity::find().filter(security_event::Column::UserId.eq(viewer.user_id));
    Ok(relay::paginate(
        &app.db,
        select,
        security_event::Column::Id,
        |m| m.id,
        args,
        app.config.max_page_size,
        SecurityEvent,
    )
    .await?)
}

pub async fn viewer_mfa(ctx: &Context<'_>, user: &entity::user::Model) -> Result<MfaStatus> {
    Ok(MfaStatus {
        totp_enabled: user.mfa_enabled(),
        totp_enabled_at: user.totp_enabled_at,
        backup_codes_remaining: if user.mfa_enabled() {
            mfa::remaining_backup_codes(app(ctx), user.id).await?
        } else {
            0
        },
    })
}

pub async fn viewer_connected_accounts(ctx: &Context<'_>) -> Result<Vec<ConnectedAccount>> {
    let viewer = rctx(ctx).viewer()?;
    Ok(oauth::connected_accounts(app(ctx), viewer).await?.into_iter().map(ConnectedAccount).collect())
}

#[derive(Default)]
pub struct SecurityQuery;

#[Object]
impl SecurityQuery {
    /// Sign-in providers configured on this deployment (public).
    async fn oauth_providers(&self, ctx: &Context<'_>) -> Vec<OAuthProviderInfo> {
        let app = app(ctx);
        app.config
            .oauth
            .iter()
            .map(|p| OAuthProviderInfo {
                name: p.name.clone(),
                display_name: p.display_name.clone(),
                sign_in_url: format!("{}/auth/oauth/{}", app.config.public_url, p.name),
            })
            .collect()
    }
}

#[derive(SimpleObject)]
pub struct TotpEnrollment {
    /// Base32 secret, for typing into an app by hand.
    pub secret: String,
    /// `otpauth://totp/…` URI (what the QR code holds).
    pub otpauth_uri: String,
    /// The URI as a QR code, an SVG `data:` URL usable as an `<img src>`.
    pub qr_code: String,
}

#[derive(SimpleObject)]
pub struct BackupCodesPayload {
    /// Ten single-use codes. Shown this once: only their hashes are kept.
    pub backup_codes: Vec<String>,
}

#[derive(SimpleObject)]
pub struct RevokeSessionsPayload {
    /// Sessions that ended.
    pub revoked_count: u64,
}

#[derive(SimpleObject)]
pub struct AuthorizationUrlPayload {
    /// Send the browser here; the provider comes back to Zygo, which links the account.
    pub authorization_url: String,
}

#[derive(SimpleObject)]
pub struct ConnectedAccountPayload {
    pub connected_account: Option<ConnectedAccount>,
}

#[derive(Default)]
pub struct SecurityMutation;

fn auth_payload(t: IssuedTokens) -> AuthPayload {
    crate::modules::identity::schema::auth_payload(t)
}

#[Object]
impl SecurityMutation {
    /// Starts TOTP enrollment: a new secret for the authenticator app. MFA is on only after
    /// `confirmTotpEnrollment`.
    async fn start_totp_enrollment(&self, ctx: &Context<'_>) -> Result<TotpEnrollment> {
        let e = mfa::start_enrollment(app(ctx), rctx(ctx).viewer()?).await?;
        Ok(TotpEnrollment { secret: e.secret, otpauth_uri: e.otpauth_uri, qr_code: e.qr_code_svg_data_url })
    }

    /// Turns TOTP on with a code from the app; returns ten backup codes, shown once.
    async fn confirm_totp_enrollment(&self, ctx: &Context<'_>, code: String) -> Result<BackupCodesPayload> {
        let codes = mfa::confirm_enrollment(app(ctx), rctx(ctx), rctx(ctx).viewer()?, &code).await?;
        Ok(BackupCodesPayload { backup_codes: codes })
    }

    /// Turns TOTP off; needs a current code (or a backup code) or the password.
    async fn disable_totp(
        &self,
        ctx: &Context<'_>,
        code: Option<String>,
        password: Option<String>,
    ) -> Result<SuccessPayload> {
        mfa::disable(app(ctx), rctx(ctx), rctx(ctx).viewer()?, code, password).await?;
        Ok(SuccessPayload { success: true })
    }

    /// Replaces the backup codes with ten new ones; needs a current TOTP code.
    async fn regenerate_backup_codes(&self, ctx: &Context<'_>, code: String) -> Result<BackupCodesPayload> {
        let codes = mfa::regenerate_backup_codes(app(ctx), rctx(ctx), rctx(ctx).viewer()?, &code).await?;
        Ok(BackupCodesPayload { backup_codes: codes })
    }

    /// Completes a sign-in that returned an `mfaChallenge`, with a TOTP `code` or a
    /// `backupCode`.
    async fn complete_mfa_challenge(
        &self,
        ctx: &Context<'_>,
        challenge: String,
        code: Option<String>,
        backup_code: Option<String>,
    ) -> Result<AuthPayload> {
        Ok(auth_payload(mfa::complete_challenge(app(ctx), rctx(ctx), &challenge, code, backup_code).await?))
    }

    /// Ends one of the viewer's sessions; its WebSockets close within a second.
    async fn revoke_session(&self, ctx: &Context<'_>, id: ID) -> Result<SuccessPayload> {
        let id = relay::decode_id("id", &id, relay::kind::SESSION)?;
        sessions::revoke(app(ctx), rctx(ctx), rctx(ctx).viewer()?, id).await?;
        Ok(SuccessPayload { success: true })
    }

    /// Ends every session of the viewer except the current one.
    async fn revoke_other_sessions(&self, ctx: &Context<'_>) -> Result<RevokeSessionsPayload> {
        let n = sessions::revoke_others(app(ctx), rctx(ctx), rctx(ctx).viewer()?).await?;
        Ok(RevokeSessionsPayload { revoked_count: n })
    }

    /// Lifts a sign-in lockout with the token from the lockout mail.
    async fn unlock_account(&self, ctx: &Context<'_>, token: String) -> Result<SuccessPayload> {
        crate::modules::identity::service::unlock_account(app(ctx), rctx(ctx), &token).await?;
        Ok(SuccessPayload { success: true })
    }

    /// Trades the one-time code an OAuth sign-in redirected back with for tokens (or an MFA
    /// challenge).
    async fn exchange_o_auth_code(&self, ctx: &Context<'_>, code: String) -> Result<LogInPayload> {
        Ok(log_in_payload(oauth::exchange_sign_in_code(app(ctx), rctx(ctx), &code).await?))
    }

    /// Starts linking a provider account to the viewer: send the browser to the returned URL;
    /// it comes back to `/settings/security?provider=…&linkCode=…` for `completeOAuthLink`.
    async fn link_o_auth_account(
        &self,
        ctx: &Context<'_>,
        provider: String,
    ) -> Result<AuthorizationUrlPayload> {
        let viewer = rctx(ctx).viewer()?;
        let url =
            oauth::authorization_url(app(ctx), &provider, Some(viewer.user_id), None).await.map_err(|e| {
                match e {
                    AppError::NotFound(_) => {
                        AppError::validation("provider", "no such provider is configured")
                    }
                    other => other,
                }
            })?;
        Ok(AuthorizationUrlPayload { authorization_url: url })
    }

    /// Finishes linking: the provider sent the browser back to the frontend with
    /// `linkCode`, which only the session that asked for the link can redeem.
    async fn complete_o_auth_link(&self, ctx: &Context<'_>, code: String) -> Result<ConnectedAccountPayload> {
        let viewer = rctx(ctx).viewer()?;
        let provider = oauth::complete_link(app(ctx), rctx(ctx), viewer, &code).await?;
        let account = oauth::connected_accounts(app(ctx), viewer)
            .await?
            .into_iter()
            .find(|a| a.provider == provider)
            .map(ConnectedAccount);
        Ok(ConnectedAccountPayload { connected_account: account })
    }

    /// Unlinks a provider account; refused when it is the last way to sign in.
    async fn unlink_o_auth_account(&self, ctx: &Context<'_>, id: ID) -> Result<SuccessPayload> {
        let id = relay::decode_id("id", &id, relay::kind::CONNECTED_ACCOUNT)?;
        oauth::unlink(app(ctx), rctx(ctx), rctx(ctx).viewer()?, id).await?;
        Ok(SuccessPayload { success: true })
    }
}

/// What happened.
#[derive(async_graphql::Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::security_event::SecurityEventKind")]
pub enum SecurityEventKind {
    LoginSucceeded,
    LoginFailed,
    AccountLocked,
    AccountUnlocked,
    MfaEnabled,
    MfaDisabled,
    MfaChallengeFailed,
    BackupCodeUsed,
    BackupCodesRegenerated,
    SessionRevoked,
    PasswordChanged,
    PasswordReset,
    OauthAccountLinked,
    OauthAccountUnlinked,
}
