//! Identity queries and mutations: thin resolvers over [`super::service`].

use async_graphql::{Context, ID, InputObject, Json, MaybeUndefined, Object, Result, SimpleObject};

use crate::graphql::viewer::Viewer;

use super::{
    account::{self, Theme},
    service::{self, IssuedTokens, SignUp},
    types::{
        AuthPayload, LogOutPayload, Preferences, ResendVerificationPayload, SignUpPayload, User,
        VerifyEmailPayload,
    },
};
use crate::{
    error::{AppError, AppResult},
    graphql::{app, rctx, scalars::Email},
};

/// Input e-mail fields are strings validated here, so the error names the field.
fn parse_email(field: &str, raw: &str) -> AppResult<Email> {
    Email::parse(raw).map_err(|m| AppError::validation(field, m))
}

#[derive(Default)]
pub struct IdentityQuery;

#[Object]
impl IdentityQuery {
    /// The signed-in user; null when the request carries no access token. A token that is
    /// expired, revoked or forged is UNAUTHENTICATED, so a client knows to refresh.
    async fn viewer(&self, ctx: &Context<'_>) -> Result<Option<Viewer>> {
        let rctx = rctx(ctx);
        match (&rctx.viewer, &rctx.auth_error) {
            (Some(v), _) => Ok(Some(Viewer::new(service::viewer_user(app(ctx), v).await?))),
            (None, Some(_)) => Err(rctx.viewer().map(|_| ()).unwrap_err().into()),
            (None, None) => Ok(None),
        }
    }
}

#[derive(InputObject)]
pub struct SignUpInput {
    /// E-mail address; it becomes the log-in name and must be confirmed.
    pub email: String,
    /// 8 to 128 characters.
    pub password: String,
    /// Display name, 1 to 100 characters.
    pub name: String,
}

#[derive(InputObject)]
pub struct LogInInput {
    pub email: String,
    pub password: String,
}

#[derive(InputObject)]
pub struct UpdateProfileInput {
    pub name: Option<String>,
    /// `null` removes the avatar.
    pub avatar_url: MaybeUndefined<String>,
    /// BCP 47 language tag; `null` clears it.
    pub locale: MaybeUndefined<String>,
    /// IANA time zone; `null` clears it.
    pub time_zone: MaybeUndefined<String>,
}

#[derive(InputObject)]
pub struct UpdatePreferencesInput {
    pub theme: Option<Theme>,
    /// BCP 47 language tag; `null` clears it.
    pub language: MaybeUndefined<String>,
    /// Dashboard layout (any JSON, at most 64 KiB).
    pub dashboard_layout: Option<Json<serde_json::Value>>,
}

#[derive(SimpleObject)]
pub struct ViewerPayload {
    pub viewer: Viewer,
}

#[derive(SimpleObject)]
pub struct PreferencesPayload {
    pub preferences: Preferences,
}

#[derive(SimpleObject)]
pub struct SuccessPayload {
    pub success: bool,
}

fn maybe(v: MaybeUndefined<String>) -> Option<Option<String>> {
    match v {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(s) => Some(Some(s)),
    }
}

#[derive(Default)]
pub struct IdentityMutation;

/// What `logIn` and `exchangeOAuthCode` answer: exactly one of the two is set.
#[derive(SimpleObject)]
pub struct LogInPayload {
    /// The session's tokens, when no second factor is due.
    pub tokens: Option<AuthPayload>,
    /// The account has two-factor authentication: complete the sign-in with
    /// `completeMfaChallenge`.
    pub mfa_challenge: Option<MfaChallenge>,
}

/// A pending second factor.
#[derive(SimpleObject)]
pub struct MfaChallenge {
    /// Pass to `completeMfaChallenge`.
    pub challenge: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
    /// Accepted second factors: `totp`, `backup_code`.
    pub methods: Vec<String>,
}

pub fn log_in_payload(outcome: service::LogInOutcome) -> LogInPayload {
    match outcome {
        service::LogInOutcome::Tokens(t) => {
            LogInPayload { tokens: Some(auth_payload(t)), mfa_challenge: None }
        }
        service::LogInOutcome::Mfa(c) => LogInPayload {
            tokens: None,
            mfa_challenge: Some(MfaChallenge {
                challenge: c.token,
                expires_at: c.expires_at,
                methods: vec!["totp".into(), "backup_code".into()],
            }),
        },
    }
}

pub fn auth_payload(t: IssuedTokens) -> AuthPayload {
    AuthPayload {
        access_token: t.access_token,
        access_token_expires_at: t.access_token_expires_at,
        refresh_token: t.refresh_token,
        refresh_token_expires_at: t.refresh_token_expires_at,
        viewer: Viewer::new(t.user),
    }
}

#[Object]
impl IdentityMutation {
    /// Creates an account and sends a verification mail. The account can log in at once
    /// but cannot create an organisation until the address is verified.
    async fn sign_up(&self, ctx: &Context<'_>, input: SignUpInput) -> Result<SignUpPayload> {
        let user = service::sign_up(
            app(ctx),
            SignUp {
                email: parse_email("input.email", &input.email)?,
                password: input.password,
                name: input.name,
            },
        )
        .await?;
        Ok(SignUpPayload { user: User::own(&user), verification_mail_sent: true })
    }

    /// Confirms an e-mail address with the token from the verification mail.
    async fn verify_email(&self, ctx: &Context<'_>, token: String) -> Result<VerifyEmailPayload> {
        Ok(VerifyEmailPayload { user: User::own(&service::verify_email(app(ctx), &token).await?) })
    }

    /// Sends a fresh verification mail if the address belongs to an unverified account.
    async fn resend_verification(
        &self,
        ctx: &Context<'_>,
        email: String,
    ) -> Result<ResendVerificationPayload> {
        service::resend_verification(app(ctx), parse_email("email", &email)?).await?;
        Ok(ResendVerificationPayload { accepted: true })
    }

    /// Checks e-mail and password. Opens a session (a short-lived access token and a
    /// single-use refresh token), or, for an account with two-factor authentication,
    /// returns an MFA challenge. Repeated failures lock the account for a while
    /// (RATE_LIMITED with `retryAfter`).
    async fn log_in(&self, ctx: &Context<'_>, input: LogInInput) -> Result<LogInPayload> {
        // A malformed address cannot have an account: same answer as a wrong password.
        let email = Email::parse(&input.email)
            .map_err(|_| AppError::unauthenticated("invalid e-mail or password"))?;
        Ok(log_in_payload(service::log_in(app(ctx), rctx(ctx), email, input.password).await?))
    }

    /// Rotates the refresh token. Presenting an already-used refresh token ends the session.
    async fn refresh_session(&self, ctx: &Context<'_>, refresh_token: String) -> Result<AuthPayload> {
        Ok(auth_payload(service::refresh_session(app(ctx), &refresh_token).await?))
    }

    /// Changes the viewer's name, avatar, locale or time zone.
    async fn update_profile(&self, ctx: &Context<'_>, input: UpdateProfileInput) -> Result<ViewerPayload> {
        let viewer = rctx(ctx).viewer()?;
        let update = account::ProfileUpdate {
            name: input.name,
            avatar_url: maybe(input.avatar_url),
            locale: maybe(input.locale),
            time_zone: maybe(input.time_zone),
        };
        Ok(ViewerPayload { viewer: Viewer::new(account::update_profile(app(ctx), viewer, update).await?) })
    }

    /// Changes the password (the current one is needed, or empty for an account that has
    /// none yet); every other session ends.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        current_password: String,
        new_password: String,
    ) -> Result<SuccessPayload> {
        let viewer = rctx(ctx).viewer()?;
        account::change_password(app(ctx), rctx(ctx), viewer, current_password, new_password).await?;
        Ok(SuccessPayload { success: true })
    }

    /// Mails a password reset link if the address has an account. Always answers the same.
    async fn request_password_reset(&self, ctx: &Context<'_>, email: String) -> Result<SuccessPayload> {
        account::request_password_reset(app(ctx), parse_email("email", &email)?).await?;
        Ok(SuccessPayload { success: true })
    }

    /// Sets a new password with the token from the reset mail; every session ends.
    async fn reset_password(
        &self,
        ctx: &Context<'_>,
        token: String,
        new_password: String,
    ) -> Result<SuccessPayload> {
        account::reset_password(app(ctx), rctx(ctx), &token, new_password).await?;
        Ok(SuccessPayload { success: true })
    }

    /// Changes the viewer's preferences.
    async fn update_preferences(
        &self,
        ctx: &Context<'_>,
        input: UpdatePreferencesInput,
    ) -> Result<PreferencesPayload> {
        let viewer = rctx(ctx).viewer()?;
        let update = account::PreferencesUpdate {
            theme: input.theme,
            language: maybe(input.language),
            dashboard_layout: input.dashboard_layout.map(|j| j.0),
        };
        Ok(PreferencesPayload {
            preferences: Preferences(account::update_preferences(app(ctx), viewer, update).await?),
        })
    }

    /// Picks the organisation this session works in (`null` to pick none).
    async fn set_active_tenant(&self, ctx: &Context<'_>, tenant_id: Option<ID>) -> Result<ViewerPayload> {
        let viewer = rctx(ctx).viewer()?;
        let id = match tenant_id {
            None => None,
            Some(id) => {
                let id =
                    crate::graphql::relay::decode_id("tenantId", &id, crate::graphql::relay::kind::TENANT)?;
                crate::graphql::loaders::loaders(ctx).tenant_access(id).await?;
                Some(id)
            }
        };
        account::set_active_tenant(app(ctx), viewer, id).await?;
        Ok(ViewerPayload { viewer: Viewer::new(service::viewer_user(app(ctx), viewer).await?) })
    }

    /// Ends the current session.
    async fn log_out(&self, ctx: &Context<'_>) -> Result<LogOutPayload> {
        let viewer = rctx(ctx).viewer()?;
        service::log_out(app(ctx), viewer).await?;
        Ok(LogOutPayload { success: true })
    }
}
