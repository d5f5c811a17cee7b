//! The signed-in user's own account: profile, password change and reset, preferences, and
//! the active organisation kept on the session.

use chrono::{Duration, Utc};
use entity::user_token::TokenKind;
use entity::{session, user};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, sea_query::Expr,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::service::{validate_name, viewer_user};
use super::user_tokens;
use crate::ctx::Ctx;
use crate::{
    auth::{RequestCtx, Viewer, password},
    error::{AppError, AppResult},
    graphql::scalars::Email,
    mail,
    modules::security::{
        events::{self, SecurityEventKind},
        sessions::{self, SessionsEnded},
        throttle::{Throttle, keys},
    },
    startup::AppState,
};

const PASSWORD_RESET: TokenKind = TokenKind::PasswordReset;
const RESET_TTL_MINUTES: i64 = 60;

/// Profile changes; `None` keeps a field, `Some(None)` clears an optional one.
#[derive(Default)]
pub struct ProfileUpdate {
    pub name: Option<String>,
    pub avatar_url: Option<Option<String>>,
    pub locale: Option<Option<String>>,
    pub time_zone: Option<Option<String>>,
}

fn validate_avatar(url: &str) -> AppResult<String> {
    let url = url.trim();
    let ok = (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() <= 2048
        && !url.contains(char::is_whitespace)
        && url.split("://").nth(1).is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'));
    if !ok {
        return Err(AppError::validation(
            "input.avatarUrl",
            "must be an http(s) URL of at most 2048 characters",
        ));
    }
    Ok(url.to_string())
}

/// BCP 47 shape: a 2–3 letter language, then subtags of 2–8 letters or digits.
pub fn validate_locale(field: &str, locale: &str) -> AppResult<String> {
    let locale = locale.trim();
    let mut parts = locale.split('-');
    let lang_ok =
        parts.next().is_some_and(|l| (2..=3).contains(&l.len()) && l.chars().all(|c| c.is_ascii_lowercase()));
    let rest_ok = parts.all(|p| (2..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()));
    if !(lang_ok && rest_ok) {
        return Err(AppError::validation(field, "must be a language tag such as `en` or `en-GB`"));
    }
    Ok(locale.to_string())
}

fn validate_time_zone(tz: &str) -> AppResult<String> {
    let tz = tz.trim();
    tz.parse::<chrono_tz::Tz>().map(|_| tz.to_string()).map_err(|_| {
        AppError::validation("input.timeZone", "must be an IANA time zone such as `Europe/Berlin`")
    })
}

/// Changes the viewer's profile.
pub async fn update_profile(ctx: &Ctx, viewer: &Viewer, update: ProfileUpdate) -> AppResult<user::Model> {
    let user = viewer_user(ctx, viewer).await?;
    let mut am: user::ActiveModel = user.into();
    if let Some(name) = &update.name {
        am.name = Set(validate_name("input.name", name)?);
    }
    if let Some(avatar) = update.avatar_url {
        am.avatar_url = Set(avatar.as_deref().map(validate_avatar).transpose()?);
    }
    if let Some(locale) = update.locale {
        am.locale = Set(locale.as_deref().map(|l| validate_locale("input.locale", l)).transpose()?);
    }
    if let Some(tz) = update.time_zone {
        am.time_zone = Set(tz.as_deref().map(validate_time_zone).transpose()?);
    }
    am.updated_at = Set(Utc::now());
    Ok(am.update(&ctx.db).await?)
}

async fn set_password(db: &impl ConnectionTrait, user: user::Model, hash: String) -> AppResult<user::Model> {
    let mut am: user::ActiveModel = user.into();
    am.password_hash = Set(hash);
    am.updated_at = Set(Utc::now());
    Ok(am.update(db).await?)
}

/// Changes the password after checking the current one; every other session ends.
///
/// An account without a password (signed up through OAuth) sets its first one with
/// `current` empty.
pub async fn change_password(
    app: &AppState,
    rctx: &RequestCtx,
    viewer: &Viewer,
    current: String,
    new: String,
) -> AppResult<()> {
    let user = viewer_user(app, viewer).await?;
    password::validate("newPassword", &new, &user.email, &user.name)?;
    match user.password_hash() {
        Some(hash) => {
            if !app.passwords.verify(current, Some(hash.to_string())).await? {
                return Err(AppError::validation("currentPassword", "the current password is wrong"));
            }
        }
        // A first password is proof enough of nothing: it needs a fresh sign-in.
        None => sessions::require_recent_sign_in(app, viewer, "currentPassword").await?,
    }
    let hash = app.passwords.hash(new).await?;
    let txn = crate::db::begin_write(&app.db).await?;
    set_password(&txn, user, hash).await?;
    sessions::revoke_all(&txn, viewer.user_id, Some(viewer.session_id), "password changed").await?;
    events::record(
        app,
        &txn,
        viewer.user_id,
        SecurityEventKind::PasswordChanged,
        Some(rctx),
        Some(viewer.session_id),
        None,
    )
    .await?;
    txn.commit().await?;
    crate::jobs::wake(app).await;
    sessions::notify(
        app,
        viewer.user_id,
        SessionsEnded { sessions: None, except: Some(viewer.session_id), reason: "password changed".into() },
    )
    .await;
    Ok(())
}

/// Mails a reset link when `email` has an account. Answers the same either way.
pub async fn request_password_reset(ctx: &Ctx, email: Email) -> AppResult<()> {
    // Counted for unknown addresses too, so the answer tells nothing about accounts.
    Throttle::new(
        keys::mail_request("password_reset", email.as_str()),
        ctx.config.security.mail_requests_per_hour,
        std::time::Duration::from_secs(3600),
    )
    .attempt(ctx)
    .await?
    .into_result()?;
    let Some(user) = user::Entity::find().filter(user::Column::Email.eq(email.as_str())).one(&ctx.db).await?
    else {
        return Ok(());
    };
    let txn = crate::db::begin_write(&ctx.db).await?;
    // Only the newest link works.
    user_tokens::supersede(&txn, user.id, PASSWORD_RESET).await?;
    let token =
        user_tokens::issue(&txn, user.id, PASSWORD_RESET, Duration::minutes(RESET_TTL_MINUTES)).await?;
    let link = format!("{}/reset-password?token={token}", ctx.config.public_url);
    let mail = mail::templates::password_reset(&user.name, &link, &token, RESET_TTL_MINUTES);
    mail::enqueue(&txn, &user.email, mail).await?;
    txn.commit().await?;
    ctx.mail.wake();
    Ok(())
}

/// Sets a new password with a reset token (single-use, expiring); every session ends.
pub async fn reset_password(app: &AppState, rctx: &RequestCtx, token: &str, new: String) -> AppResult<()> {
    let invalid = || AppError::validation("token", "invalid or expired reset token");
    // Looked up first (the policy needs the user, and hashing must not hold the write
    // lock), claimed in the transaction.
    let row = user_tokens::find_valid(&app.db, token, PASSWORD_RESET).await?.ok_or_else(invalid)?;
    let user = user::Entity::find_by_id(row.user_id).one(&app.db).await?.ok_or_else(invalid)?;
    password::validate("newPassword", &new, &user.email, &user.name)?;
    let hash = app.passwords.hash(new).await?;
    let txn = crate::db::begin_write(&app.db).await?;
    if user_tokens::claim(&txn, token, PASSWORD_RESET).await?.map(|r| r.id) != Some(row.id) {
        return Err(invalid());
    }
    let now = Utc::now();
    let verified = user.email_verified_at.is_some();
    let user_email = user.email.clone();
    let user = set_password(&txn, user, hash).await?;
    if !verified {
        // The reset link reached the address: that confirms it.
        let mut am: user::ActiveModel = user.into();
        am.email_verified_at = Set(Some(now));
        am.update(&txn).await?;
    }
    sessions::revoke_all(&txn, row.user_id, None, "password reset").await?;
    // Whoever holds the reset link holds the mailbox: a sign-in lockout ends too.
    crate::modules::security::throttle::Throttle::clear_in(&txn, &keys::login_account(&user_email)).await?;
    events::record(app, &txn, row.user_id, SecurityEventKind::PasswordReset, Some(rctx), None, None).await?;
    txn.commit().await?;
    crate::jobs::wake(app).await;
    sessions::notify(
        app,
        row.user_id,
        SessionsEnded { sessions: None, except: None, reason: "password reset".into() },
    )
    .await;
    Ok(())
}

/// Appearance of the apps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, async_graphql::Enum)]
pub enum Theme {
    Light,
    Dark,
    #[default]
    System,
}

/// The viewer's preferences as stored.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Preferences {
    pub theme: Theme,
    pub language: Option<String>,
    pub dashboard_layout: serde_json::Value,
}

/// The stored preferences (defaults for a user who set none).
pub fn preferences(user: &user::Model) -> Preferences {
    user.preferences.clone().and_then(|v| serde_json::from_value(v).ok()).unwrap_or_default()
}

/// Preference changes; `None` keeps a field.
#[derive(Default)]
pub struct PreferencesUpdate {
    pub theme: Option<Theme>,
    pub language: Option<Option<String>>,
    pub dashboard_layout: Option<serde_json::Value>,
}

/// Largest stored JSON document of one preference, in bytes.
const MAX_JSON_BYTES: usize = 64 * 1024;

fn check_json(field: &str, v: &serde_json::Value, object: bool) -> AppResult<()> {
    if object && !v.is_object() {
        return Err(AppError::validation(field, "must be a JSON object"));
    }
    if v.to_string().len() > MAX_JSON_BYTES {
        return Err(AppError::validation(field, format!("must be at most {MAX_JSON_BYTES} bytes of JSON")));
    }
    Ok(())
}

/// Changes the viewer's preferences.
pub async fn update_preferences(
    ctx: &Ctx,
    viewer: &Viewer,
    update: PreferencesUpdate,
) -> AppResult<Preferences> {
    let user = viewer_user(ctx, viewer).await?;
    let mut prefs = preferences(&user);
    if let Some(theme) = update.theme {
        prefs.theme = theme;
    }
    if let Some(language) = update.language {
        prefs.language = language.as_deref().map(|l| validate_locale("input.language", l)).transpose()?;
    }
    if let Some(d) = update.dashboard_layout {
        check_json("input.dashboardLayout", &d, false)?;
        prefs.dashboard_layout = d;
    }
    let mut am: user::ActiveModel = user.into();
    am.preferences = Set(Some(serde_json::to_value(&prefs).map_err(anyhow::Error::from)?));
    am.updated_at = Set(Utc::now());
    am.update(&ctx.db).await?;
    Ok(prefs)
}

/// Keeps `tenant_id` (already access-checked by the caller, or `None`) as the session's
/// active organisation.
pub async fn set_active_tenant(ctx: &Ctx, viewer: &Viewer, tenant_id: Option<Uuid>) -> AppResult<()> {
    session::Entity::update_many()
        .col_expr(session::Column::ActiveTenantId, Expr::value(tenant_id))
        .filter(session::Column::Id.eq(viewer.session_id))
        .exec(&ctx.db)
        .await?;
    Ok(())
}

/// The session's active organisation id, if one was picked.
pub async fn active_tenant(ctx: &Ctx, viewer: &Viewer) -> AppResult<Option<Uuid>> {
    Ok(session::Entity::find_by_id(viewer.session_id).one(&ctx.db).await?.and_then(|s| s.active_tenant_id))
}
