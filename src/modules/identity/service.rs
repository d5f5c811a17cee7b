//! Business logic of sign-up, verification, log-in, refresh and log-out.

use chrono::{DateTime, Duration, Utc};
use entity::user_token::TokenKind;
use entity::{refresh_token, session, user};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, sea_query::Expr,
};
use uuid::Uuid;

use super::user_tokens;
use crate::ctx::Ctx;
use crate::{
    auth::{RequestCtx, Viewer, password, tokens},
    error::{AppError, AppResult},
    graphql::scalars::Email,
    mail,
    modules::security::{
        events::{self, SecurityEventKind},
        mfa, sessions,
        throttle::{self, Attempt, Throttle},
    },
    startup::AppState,
};

const EMAIL_VERIFICATION: TokenKind = TokenKind::EmailVerification;
const VERIFICATION_TTL_HOURS: i64 = 24;

/// Input of [`sign_up`].
pub struct SignUp {
    pub email: Email,
    pub password: String,
    pub name: String,
}

/// Tokens handed out by [`log_in`] and [`refresh_session`].
pub struct IssuedTokens {
    pub session_id: Uuid,
    pub access_token: String,
    pub access_token_expires_at: DateTime<Utc>,
    pub refresh_token: String,
    pub refresh_token_expires_at: DateTime<Utc>,
    pub user: user::Model,
}

/// Validates a display name; `field` names the input field in errors.
pub fn validate_name(field: &str, name: &str) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AppError::validation(field, "must not be empty"));
    }
    if name.chars().count() > 100 {
        return Err(AppError::validation(field, "must be at most 100 characters"));
    }
    Ok(name.to_string())
}

/// Creates an unverified user and sends the verification mail.
///
/// An address that already has an account gets the same answer — a not yet verified user
/// (whose id names no row) and the same hashing work — so `signUp` does not tell which
/// addresses have accounts, as password reset and resend do not; the address's owner is
/// mailed a notice instead.
pub async fn sign_up(app: &AppState, input: SignUp) -> AppResult<user::Model> {
    let name = validate_name("input.name", &input.name)?;
    let email = input.email.into_inner();
    password::validate("input.password", &input.password, &email, &name)?;
    let now = Utc::now();
    let new = user::Model {
        id: Uuid::now_v7(),
        email,
        name,
        password_hash: String::new(),
        email_verified_at: None,
        avatar_url: None,
        locale: None,
        time_zone: None,
        preferences: None,
        created_at: now,
        updated_at: now,
        totp_secret: None,
        totp_pending_secret: None,
        totp_enabled_at: None,
        totp_last_step: None,
        deletion_scheduled_at: None,
    };
    let existing = user::Entity::find().filter(user::Column::Email.eq(&new.email)).one(&app.db).await?;
    let password_hash = app.passwords.hash(input.password).await?;
    if let Some(existing) = existing {
        notify_sign_up_attempt(app, &existing).await?;
        return Ok(new);
    }
    let txn = crate::db::begin_write(&app.db).await?;
    let inserted = user::ActiveModel {
        id: Set(new.id),
        email: Set(new.email.clone()),
        name: Set(new.name.clone()),
        password_hash: Set(password_hash),
        email_verified_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    let user = match inserted {
        Ok(user) => user,
        // Two sign-ups racing for one address: the unique index decides, and the loser is
        // answered like any other attempt on a taken address.
        Err(e) if matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) => {
            drop(txn);
            let existing =
                user::Entity::find().filter(user::Column::Email.eq(&new.email)).one(&app.db).await?;
            if let Some(existing) = existing {
                notify_sign_up_attempt(app, &existing).await?;
            }
            return Ok(new);
        }
        Err(e) => return Err(e.into()),
    };
    queue_verification_mail(app, &txn, &user).await?;
    txn.commit().await?;
    app.mail.wake();
    Ok(user)
}

/// Mails the owner of `existing` that someone tried to sign up with the address.
async fn notify_sign_up_attempt(ctx: &Ctx, existing: &user::Model) -> AppResult<()> {
    let base = &ctx.config.public_url;
    let mail = mail::templates::sign_up_attempt(
        &existing.name,
        &format!("{base}/login"),
        &format!("{base}/forgot-password"),
    );
    let txn = crate::db::begin_write(&ctx.db).await?;
    mail::enqueue(&txn, &existing.email, mail).await?;
    txn.commit().await?;
    ctx.mail.wake();
    Ok(())
}

pub(crate) async fn queue_verification_mail(
    ctx: &Ctx,
    db: &impl ConnectionTrait,
    user: &user::Model,
) -> AppResult<()> {
    let token =
        user_tokens::issue(db, user.id, EMAIL_VERIFICATION, Duration::hours(VERIFICATION_TTL_HOURS)).await?;
    let link = format!("{}/verify-email?token={token}", ctx.config.public_url);
    let mail = mail::templates::verification(&user.name, &link, &token, VERIFICATION_TTL_HOURS);
    mail::enqueue(db, &user.email, mail).await
}

/// Marks the token's user as verified. The token is single-use and expires.
pub async fn verify_email(ctx: &Ctx, token: &str) -> AppResult<user::Model> {
    let invalid = || AppError::validation("token", "invalid or expired verification token");
    let now = Utc::now();
    let txn = crate::db::begin_write(&ctx.db).await?;
    let row = user_tokens::claim(&txn, token, EMAIL_VERIFICATION).await?.ok_or_else(invalid)?;
    let user = user::Entity::find_by_id(row.user_id).one(&txn).await?.ok_or_else(invalid)?;
    let user = if user.email_verified_at.is_none() {
        let mut am: user::ActiveModel = user.into();
        am.email_verified_at = Set(Some(now));
        am.updated_at = Set(now);
        am.update(&txn).await?
    } else {
        user
    };
    txn.commit().await?;
    Ok(user)
}

/// Sends a new verification mail when `email` belongs to an unverified account. Answers
/// the same either way, so it reveals nothing about which addresses have accounts.
pub async fn resend_verification(ctx: &Ctx, email: Email) -> AppResult<()> {
    // Counted for unknown addresses too, so the answer tells nothing about accounts.
    Throttle::new(
        throttle::keys::mail_request("verification", email.as_str()),
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
    if user.email_verified_at.is_some() {
        return Ok(());
    }
    let txn = crate::db::begin_write(&ctx.db).await?;
    // Older links stop working once a new one is sent.
    user_tokens::supersede(&txn, user.id, EMAIL_VERIFICATION).await?;
    queue_verification_mail(ctx, &txn, &user).await?;
    txn.commit().await?;
    ctx.mail.wake();
    Ok(())
}

fn bad_credentials() -> AppError {
    AppError::unauthenticated("invalid e-mail or password")
}

/// What a correct password leads to.
pub enum LogInOutcome {
    /// Signed in.
    Tokens(IssuedTokens),
    /// The account has MFA: the second factor is due.
    Mfa(mfa::Challenge),
}

const ACCOUNT_UNLOCK: TokenKind = TokenKind::AccountUnlock;

/// Checks the password and opens a session, or an MFA challenge for accounts with MFA.
///
/// Failed attempts count per account and per IP address before the password is checked
/// (see [`throttle`]): past the limit the answer is RATE_LIMITED with the retry time, the
/// same for unknown e-mails, and the account's owner gets an unlock link. Unknown e-mail
/// and wrong password get the same answer and cost the same time.
pub async fn log_in(
    app: &AppState,
    rctx: &RequestCtx,
    email: Email,
    password: String,
) -> AppResult<LogInOutcome> {
    let sec = app.config.security;
    let ip_throttle = Throttle::new(
        throttle::keys::login_ip(rctx.ip.as_deref().unwrap_or("unknown")),
        sec.login_ip_max_failures,
        sec.login_window,
    );
    let account_throttle = Throttle::new(
        throttle::keys::login_account(email.as_str()),
        sec.login_max_failures,
        sec.login_window,
    )
    .with_lockout(sec.lockout);
    ip_throttle.attempt(app).await?.into_result()?;
    let user = user::Entity::find().filter(user::Column::Email.eq(email.as_str())).one(&app.db).await?;
    match account_throttle.attempt(app).await? {
        Attempt::Allowed => {}
        refused @ Attempt::Refused { until, newly_locked } => {
            ip_throttle.succeeded(app, false).await?;
            if newly_locked && let Some(user) = &user {
                account_locked(app, rctx, user, until).await?;
            }
            return Err(refused.into_result().unwrap_err());
        }
    }
    let ok = password.chars().count() <= password::MAX_LEN
        && app
            .passwords
            .verify(password, user.as_ref().and_then(|u| u.password_hash().map(str::to_string)))
            .await?;
    let user = match (ok, user) {
        (true, Some(user)) => user,
        (_, user) => {
            if let Some(user) = &user {
                // Recorded after answering: a known address must not answer slower than an
                // unknown one.
                let (app, rctx, user_id) = (app.clone(), rctx.clone(), user.id);
                tokio::spawn(async move {
                    let r = async {
                        let txn = crate::db::begin_write(&app.db).await?;
                        events::record(
                            &app,
                            &txn,
                            user_id,
                            SecurityEventKind::LoginFailed,
                            Some(&rctx),
                            None,
                            None,
                        )
                        .await?;
                        txn.commit().await?;
                        AppResult::Ok(())
                    };
                    if let Err(e) = r.await {
                        tracing::error!(error = ?e, "security event not recorded");
                    }
                });
            }
            if let Some(until) = account_throttle.failed(app).await?
                && let Some(user) = &user
            {
                account_locked(app, rctx, user, until).await?;
            }
            return Err(bad_credentials());
        }
    };
    account_throttle.succeeded(app, true).await?;
    ip_throttle.succeeded(app, false).await?;
    if user.mfa_enabled() {
        return Ok(LogInOutcome::Mfa(mfa::open_challenge(app, rctx, user.id).await?));
    }
    let txn = crate::db::begin_write(&app.db).await?;
    let tokens = open_session(app, &txn, rctx, user, "password").await?;
    txn.commit().await?;
    after_sign_in(app, rctx, &tokens).await;
    Ok(LogInOutcome::Tokens(tokens))
}

/// Records the lockout and mails the owner an unlock link.
async fn account_locked(
    ctx: &Ctx,
    rctx: &RequestCtx,
    user: &user::Model,
    until: DateTime<Utc>,
) -> AppResult<()> {
    let txn = crate::db::begin_write(&ctx.db).await?;
    let token = user_tokens::issue(&txn, user.id, ACCOUNT_UNLOCK, Duration::hours(24)).await?;
    events::record(
        ctx,
        &txn,
        user.id,
        SecurityEventKind::AccountLocked,
        Some(rctx),
        None,
        Some(serde_json::json!({ "lockedUntil": until })),
    )
    .await?;
    let link = format!("{}/unlock-account?token={token}", ctx.config.public_url);
    mail::enqueue(&txn, &user.email, mail::templates::account_unlock(&user.name, &link, &token, until))
        .await?;
    txn.commit().await?;
    crate::jobs::wake(ctx).await;
    ctx.mail.wake();
    Ok(())
}

/// Lifts a sign-in lockout with the token from the lockout mail (single-use, 24 hours).
pub async fn unlock_account(ctx: &Ctx, rctx: &RequestCtx, token: &str) -> AppResult<()> {
    let invalid = || AppError::validation("token", "invalid or expired unlock token");
    let txn = crate::db::begin_write(&ctx.db).await?;
    let row = user_tokens::claim(&txn, token, ACCOUNT_UNLOCK).await?.ok_or_else(invalid)?;
    let user = user::Entity::find_by_id(row.user_id).one(&txn).await?.ok_or_else(invalid)?;
    events::record(ctx, &txn, user.id, SecurityEventKind::AccountUnlocked, Some(rctx), None, None).await?;
    txn.commit().await?;
    Throttle::clear(ctx, &throttle::keys::login_account(&user.email)).await?;
    Throttle::clear(ctx, &throttle::keys::mfa_user(user.id)).await?;
    Ok(())
}

/// Opens a session for a user who proved who they are (`method`: `password`, `totp`,
/// `backup_code`, `oauth:{provider}`) and records the sign-in.
pub(crate) async fn open_session(
    app: &AppState,
    txn: &sea_orm::DatabaseTransaction,
    rctx: &RequestCtx,
    user: user::Model,
    method: &str,
) -> AppResult<IssuedTokens> {
    let now = Utc::now();
    let session_expires =
        now + Duration::from_std(app.config.refresh_token_ttl).map_err(anyhow::Error::from)?;
    let session = session::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user.id),
        user_agent: Set(rctx.user_agent.clone()),
        ip: Set(rctx.ip.clone()),
        created_at: Set(now),
        last_used_at: Set(now),
        expires_at: Set(session_expires),
        revoked_at: Set(None),
        revoked_reason: Set(None),
        active_tenant_id: Set(None),
    }
    .insert(txn)
    .await?;
    events::record(
        app,
        txn,
        user.id,
        SecurityEventKind::LoginSucceeded,
        Some(rctx),
        Some(session.id),
        Some(serde_json::json!({ "method": method })),
    )
    .await?;
    issue_tokens(app, txn, &session, user).await
}

/// After a sign-in committed: mails the owner when a device signs in for the first time
/// (not for an account's very first session). Failures are logged, never the caller's.
pub(crate) async fn after_sign_in(ctx: &Ctx, rctx: &RequestCtx, tokens: &IssuedTokens) {
    let result: AppResult<()> = async {
        let previous = session::Entity::find()
            .filter(session::Column::UserId.eq(tokens.user.id))
            .filter(session::Column::Id.ne(tokens.session_id))
            .all(&ctx.db)
            .await?;
        if previous.is_empty() || previous.iter().any(|s| s.user_agent == rctx.user_agent) {
            return Ok(());
        }
        let device = crate::modules::security::sessions::describe_device(rctx.user_agent.as_deref());
        let link = format!("{}/settings/security", ctx.config.public_url);
        let mail =
            mail::templates::sign_in_alert(&tokens.user.name, Utc::now(), rctx.ip.as_deref(), &device, &link);
        mail::enqueue(&ctx.db, &tokens.user.email, mail).await?;
        ctx.mail.wake();
        Ok(())
    }
    .await;
    if let Err(e) = result {
        tracing::error!(error = ?e, "sign-in alert failed");
    }
}

async fn issue_tokens(
    app: &AppState,
    db: &impl ConnectionTrait,
    session: &session::Model,
    user: user::Model,
) -> AppResult<IssuedTokens> {
    let now = Utc::now();
    let refresh = tokens::random_token();
    refresh_token::ActiveModel {
        id: Set(Uuid::now_v7()),
        session_id: Set(session.id),
        token_hash: Set(tokens::hash_token(&refresh)),
        created_at: Set(now),
        expires_at: Set(session.expires_at),
        rotated_at: Set(None),
    }
    .insert(db)
    .await?;
    let access_expires =
        now + Duration::from_std(app.config.access_token_ttl).map_err(anyhow::Error::from)?;
    let access = app.jwt.issue_access(user.id, session.id, now, access_expires)?;
    Ok(IssuedTokens {
        session_id: session.id,
        access_token: access,
        access_token_expires_at: access_expires,
        refresh_token: refresh,
        refresh_token_expires_at: session.expires_at,
        user,
    })
}

/// Ends a session after its refresh token was presented twice, and closes its WebSockets.
async fn end_reused_session(app: &AppState, session: &session::Model) -> AppResult<()> {
    sessions::revoke_one(&app.db, session.id, "refresh token reuse").await?;
    sessions::notify(
        app,
        session.user_id,
        sessions::SessionsEnded {
            sessions: Some(vec![session.id]),
            except: None,
            reason: "session ended".into(),
        },
    )
    .await;
    Ok(())
}

/// Exchanges a refresh token for a new pair. A refresh token works once: presenting an
/// already-rotated one means it was stolen or replayed, and the whole session ends.
pub async fn refresh_session(app: &AppState, refresh: &str) -> AppResult<IssuedTokens> {
    let invalid = || AppError::unauthenticated("invalid or expired refresh token");
    let now = Utc::now();
    let row = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(tokens::hash_token(refresh)))
        .one(&app.db)
        .await?
        .ok_or_else(invalid)?;
    let session = session::Entity::find_by_id(row.session_id).one(&app.db).await?.ok_or_else(invalid)?;
    if session.revoked_at.is_some() || session.expires_at <= now || row.expires_at <= now {
        return Err(invalid());
    }
    if row.rotated_at.is_some() {
        end_reused_session(app, &session).await?;
        tracing::warn!(session_id = %session.id, "rotated refresh token presented again; session revoked");
        return Err(invalid());
    }
    let txn = crate::db::begin_write(&app.db).await?;
    let claimed = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RotatedAt, Expr::value(now))
        .filter(refresh_token::Column::Id.eq(row.id))
        .filter(refresh_token::Column::RotatedAt.is_null())
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        // Lost a race against another use of the same token: that is reuse too.
        txn.rollback().await?;
        end_reused_session(app, &session).await?;
        return Err(invalid());
    }
    let user = user::Entity::find_by_id(session.user_id).one(&txn).await?.ok_or_else(invalid)?;
    session::Entity::update_many()
        .col_expr(session::Column::LastUsedAt, Expr::value(now))
        .filter(session::Column::Id.eq(session.id))
        .exec(&txn)
        .await?;
    let tokens = issue_tokens(app, &txn, &session, user).await?;
    txn.commit().await?;
    Ok(tokens)
}

/// Ends the viewer's current session; its refresh token and access tokens stop working.
pub async fn log_out(app: &AppState, viewer: &Viewer) -> AppResult<()> {
    sessions::revoke_one(&app.db, viewer.session_id, "logged out").await?;
    sessions::notify(
        app,
        viewer.user_id,
        sessions::SessionsEnded {
            sessions: Some(vec![viewer.session_id]),
            except: None,
            reason: "logged out".into(),
        },
    )
    .await;
    Ok(())
}

/// Resolves a bearer access token into a viewer: signature and claims, then the session
/// must exist, belong to the token's user, and be neither revoked nor expired.
pub async fn authenticate(app: &AppState, token: &str) -> Result<Viewer, String> {
    let (user_id, session_id, token_expires_at) =
        app.jwt.verify_access_until(token).map_err(str::to_string)?;
    let now = Utc::now();
    // The hot path: a session this instance found open moments ago (an ended one has been
    // evicted through the bus already).
    if app.sessions.is_open(session_id, user_id, now) {
        return Ok(Viewer { user_id, session_id, token_expires_at });
    }
    let read_at = std::time::Instant::now();
    let session = session::Entity::find_by_id(session_id)
        .one(&app.db)
        .await
        .map_err(|e| {
            tracing::error!(error = ?e, "session lookup failed");
            "authentication unavailable".to_string()
        })?
        .ok_or("invalid access token")?;
    if session.user_id != user_id || session.revoked_at.is_some() || session.expires_at <= now {
        return Err("session ended; sign in again".into());
    }
    app.sessions.remember(session_id, user_id, session.expires_at, read_at);
    // "Last used" for the sessions list, written at most once a minute per session.
    if session.last_used_at < now - Duration::seconds(60) {
        let touched = session::Entity::update_many()
            .col_expr(session::Column::LastUsedAt, Expr::value(now))
            .filter(session::Column::Id.eq(session_id))
            .filter(session::Column::LastUsedAt.lt(now - Duration::seconds(60)))
            .exec(&app.db)
            .await;
        if let Err(e) = touched {
            tracing::warn!(error = ?e, "session last-used update failed");
        }
    }
    Ok(Viewer { user_id, session_id, token_expires_at })
}

/// The viewer's user row.
pub async fn viewer_user(ctx: &Ctx, viewer: &Viewer) -> AppResult<user::Model> {
    user::Entity::find_by_id(viewer.user_id).one(&ctx.db).await?.ok_or(AppError::NotFound("user"))
}
