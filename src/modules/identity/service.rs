//! Business logic of sign-up, verification, log-in, refresh and log-out.

use chrono::{DateTime, Duration, Utc};
use entity::{refresh_token, session, user, user_token};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, sea_query::Expr,
};
use uuid::Uuid;

use crate::{
    auth::{RequestCtx, Viewer, password, tokens},
    error::{AppError, AppResult},
    graphql::scalars::Email,
    mail,
    startup::AppState,
};

const EMAIL_VERIFICATION: &str = "email_verification";
const VERIFICATION_TTL_HOURS: i64 = 24;

/// Input of [`sign_up`].
pub struct SignUp {
    pub email: Email,
    pub password: String,
    pub name: String,
}

/// Tokens handed out by [`log_in`] and [`refresh_session`].
pub struct IssuedTokens {
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
pub async fn sign_up(app: &AppState, input: SignUp) -> AppResult<user::Model> {
    let name = validate_name("input.name", &input.name)?;
    password::validate("input.password", &input.password)?;
    let email = input.email.into_inner();
    if user::Entity::find().filter(user::Column::Email.eq(&email)).one(&app.db).await?.is_some() {
        return Err(AppError::conflict("input.email", "an account with this e-mail address already exists"));
    }
    let password_hash = password::hash(input.password).await?;
    let now = Utc::now();
    let txn = crate::db::begin_write(&app.db).await?;
    let user = user::ActiveModel {
        id: Set(Uuid::now_v7()),
        email: Set(email),
        name: Set(name),
        password_hash: Set(password_hash),
        email_verified_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    // Two sign-ups racing for one address: the unique index decides.
    .map_err(|e| {
        AppError::from_db_unique(e, "input.email", "an account with this e-mail address already exists")
    })?;
    queue_verification_mail(app, &txn, &user).await?;
    txn.commit().await?;
    app.mail.wake();
    Ok(user)
}

pub(crate) async fn queue_verification_mail(
    app: &AppState,
    db: &impl ConnectionTrait,
    user: &user::Model,
) -> AppResult<()> {
    let token = tokens::random_token();
    let now = Utc::now();
    user_token::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user.id),
        kind: Set(EMAIL_VERIFICATION.into()),
        token_hash: Set(tokens::hash_token(&token)),
        created_at: Set(now),
        expires_at: Set(now + Duration::hours(VERIFICATION_TTL_HOURS)),
        used_at: Set(None),
    }
    .insert(db)
    .await?;
    let link = format!("{}/verify-email?token={token}", app.config.public_url);
    let body = format!(
        "Hello {name},\n\nplease confirm your e-mail address for Zygo by opening this link:\n\n{link}\n\n\
         Or run this mutation, for example in GraphiQL:\n\n  mutation {{\n    verifyEmail(token: \"{token}\") {{ user {{ email emailVerified }} }}\n  }}\n\n\
         The link is valid for {VERIFICATION_TTL_HOURS} hours. If you did not sign up, ignore this mail.\n",
        name = user.name,
    );
    mail::enqueue(db, &user.email, "Confirm your e-mail address for Zygo", &body).await
}

/// Marks the token's user as verified. The token is single-use and expires.
pub async fn verify_email(app: &AppState, token: &str) -> AppResult<user::Model> {
    let invalid = || AppError::validation("token", "invalid or expired verification token");
    let now = Utc::now();
    let txn = crate::db::begin_write(&app.db).await?;
    let row = user_token::Entity::find()
        .filter(user_token::Column::TokenHash.eq(tokens::hash_token(token)))
        .filter(user_token::Column::Kind.eq(EMAIL_VERIFICATION))
        .one(&txn)
        .await?
        .ok_or_else(invalid)?;
    if row.used_at.is_some() || row.expires_at <= now {
        return Err(invalid());
    }
    // Conditional update: of two concurrent uses of one token, only one wins.
    let claimed = user_token::Entity::update_many()
        .col_expr(user_token::Column::UsedAt, Expr::value(now))
        .filter(user_token::Column::Id.eq(row.id))
        .filter(user_token::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(invalid());
    }
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
pub async fn resend_verification(app: &AppState, email: Email) -> AppResult<()> {
    let Some(user) = user::Entity::find().filter(user::Column::Email.eq(email.as_str())).one(&app.db).await?
    else {
        return Ok(());
    };
    if user.email_verified_at.is_some() {
        return Ok(());
    }
    let txn = crate::db::begin_write(&app.db).await?;
    // Older links stop working once a new one is sent.
    user_token::Entity::update_many()
        .col_expr(user_token::Column::UsedAt, Expr::value(Utc::now()))
        .filter(user_token::Column::UserId.eq(user.id))
        .filter(user_token::Column::Kind.eq(EMAIL_VERIFICATION))
        .filter(user_token::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    queue_verification_mail(app, &txn, &user).await?;
    txn.commit().await?;
    app.mail.wake();
    Ok(())
}

fn bad_credentials() -> AppError {
    AppError::unauthenticated("invalid e-mail or password")
}

/// Checks the password and opens a session. Unknown e-mail and wrong password get the same
/// answer and cost the same time.
pub async fn log_in(
    app: &AppState,
    rctx: &RequestCtx,
    email: Email,
    password: String,
) -> AppResult<IssuedTokens> {
    if password.chars().count() > password::MAX_LEN {
        return Err(bad_credentials());
    }
    let user = user::Entity::find().filter(user::Column::Email.eq(email.as_str())).one(&app.db).await?;
    let ok = password::verify(password, user.as_ref().map(|u| u.password_hash.clone())).await?;
    let user = match (ok, user) {
        (true, Some(user)) => user,
        _ => return Err(bad_credentials()),
    };
    let now = Utc::now();
    let session_expires =
        now + Duration::from_std(app.config.refresh_token_ttl).map_err(anyhow::Error::from)?;
    let txn = crate::db::begin_write(&app.db).await?;
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
    .insert(&txn)
    .await?;
    let tokens = issue_tokens(app, &txn, &session, user).await?;
    txn.commit().await?;
    Ok(tokens)
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
        access_token: access,
        access_token_expires_at: access_expires,
        refresh_token: refresh,
        refresh_token_expires_at: session.expires_at,
        user,
    })
}

pub(crate) async fn revoke_session(
    db: &impl ConnectionTrait,
    session_id: Uuid,
    reason: &str,
) -> AppResult<()> {
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(Utc::now()))
        .col_expr(session::Column::RevokedReason, Expr::value(reason))
        .filter(session::Column::Id.eq(session_id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
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
        revoke_session(&app.db, session.id, "refresh token reuse").await?;
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
        revoke_session(&app.db, session.id, "refresh token reuse").await?;
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
    revoke_session(&app.db, viewer.session_id, "logged out").await
}

/// Resolves a bearer access token into a viewer: signature and claims, then the session
/// must exist, belong to the token's user, and be neither revoked nor expired.
pub async fn authenticate(app: &AppState, token: &str) -> Result<Viewer, String> {
    let (user_id, session_id) = app.jwt.verify_access(token).map_err(str::to_string)?;
    let session = session::Entity::find_by_id(session_id)
        .one(&app.db)
        .await
        .map_err(|e| {
            tracing::error!(error = ?e, "session lookup failed");
            "authentication unavailable".to_string()
        })?
        .ok_or("invalid access token")?;
    if session.user_id != user_id || session.revoked_at.is_some() || session.expires_at <= Utc::now() {
        return Err("session ended; sign in again".into());
    }
    Ok(Viewer { user_id, session_id })
}

/// The viewer's user row.
pub async fn viewer_user(app: &AppState, viewer: &Viewer) -> AppResult<user::Model> {
    user::Entity::find_by_id(viewer.user_id).one(&app.db).await?.ok_or(AppError::NotFound("user"))
}
