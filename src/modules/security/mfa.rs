//! TOTP multi-factor authentication (RFC 6238: SHA-1, 6 digits, 30 s steps, as authenticator
//! apps expect), single-use backup codes, and the MFA challenge between password and tokens.

use base64::{Engine, engine::general_purpose::STANDARD};
use chrono::{DateTime, Duration, Utc};
use entity::{backup_code, mfa_challenge, user};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set,
    sea_query::{Expr, ExprTrait},
};
use totp_rs::{Algorithm, Secret, TOTP};
use uuid::Uuid;

use super::{
    events::{self, SecurityEventKind},
    throttle::{Attempt, Throttle, keys},
};
use crate::ctx::Ctx;
use crate::{
    auth::{RequestCtx, Viewer, tokens},
    error::{AppError, AppResult},
    modules::identity::service::{self as identity, IssuedTokens, viewer_user},
    startup::AppState,
};

const ISSUER: &str = "Zygo";
const STEP_SECS: u64 = 30;
pub const BACKUP_CODES: usize = 10;
/// How long the second factor may take after the password was right.
const CHALLENGE_TTL_MINUTES: i64 = 5;
/// Wrong codes one challenge accepts before it is used up.
const CHALLENGE_MAX_ATTEMPTS: i32 = 5;
/// Wrong codes per user within the login window before MFA locks.
const MFA_MAX_FAILURES: u32 = 10;

fn totp(secret_b32: &str, account: &str) -> AppResult<TOTP> {
    let bytes = Secret::Encoded(secret_b32.to_string())
        .to_bytes()
        .map_err(|e| anyhow::anyhow!("stored TOTP secret unreadable: {e:?}"))?;
    TOTP::new(Algorithm::SHA1, 6, 1, STEP_SECS, bytes, Some(ISSUER.into()), account.to_string())
        .map_err(|e| AppError::Internal(anyhow::anyhow!("TOTP set-up failed: {e}")))
}

/// The time step `code` belongs to, if it is valid now (one step of clock drift allowed).
fn matching_step(t: &TOTP, code: &str) -> Option<i64> {
    let code = code.trim().replace(' ', "");
    if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let now = Utc::now().timestamp() as u64;
    let current = now / STEP_SECS;
    [current.saturating_sub(1), current, current + 1]
        .into_iter()
        .find(|step| {
            crate::auth::tokens::constant_time_eq(t.generate(step * STEP_SECS).as_bytes(), code.as_bytes())
        })
        .map(|s| s as i64)
}

/// A TOTP seed as stored: encrypted under the user's key, bound to the user, so the table alone
/// (a backup, a read replica, an SQL injection) does not give anyone's second factor.
fn seal_seed(ctx: &Ctx, user_id: Uuid, secret: &str) -> String {
    ctx.keys.encrypt_for_user(user_id, &format!("totp:{user_id}"), secret)
}

/// The seed back from [`seal_seed`]'s form. A seed stored in clear by an earlier version is
/// plain base32 (which has no `:`), read as it is until [`seal_stored_seeds`] seals it.
fn unseal_seed(ctx: &Ctx, user_id: Uuid, stored: &str) -> AppResult<String> {
    if !stored.starts_with("v1:") {
        return Ok(stored.to_string());
    }
    ctx.keys.decrypt_for_user(user_id, &format!("totp:{user_id}"), stored).map_err(|e| {
        AppError::Internal(e.context("TOTP seed does not decrypt (was ZYGO_MASTER_KEY changed?)"))
    })
}

/// Seals the TOTP seeds an earlier version stored in clear (run at startup, before serving;
/// a no-op once done). Each row is changed only if it still holds the value read.
pub async fn seal_stored_seeds(ctx: &Ctx) -> anyhow::Result<u64> {
    use sea_orm::Condition;
    let clear = |c: user::Column| c.is_not_null().and(c.not_like("v1:%"));
    let rows = user::Entity::find()
        .filter(
            Condition::any().add(clear(user::Column::TotpSecret)).add(clear(user::Column::TotpPendingSecret)),
        )
        .all(&ctx.db)
        .await?;
    let mut sealed = 0;
    for u in rows {
        for (col, value) in [
            (user::Column::TotpSecret, &u.totp_secret),
            (user::Column::TotpPendingSecret, &u.totp_pending_secret),
        ] {
            let Some(value) = value.as_deref().filter(|v| !v.starts_with("v1:")) else { continue };
            sealed += user::Entity::update_many()
                .col_expr(col, Expr::value(seal_seed(ctx, u.id, value)))
                .filter(user::Column::Id.eq(u.id))
                .filter(col.eq(value))
                .exec(&ctx.db)
                .await?
                .rows_affected;
        }
    }
    if sealed > 0 {
        tracing::info!(sealed, "sealed TOTP seeds stored in clear by an earlier version");
    }
    Ok(sealed)
}

/// Checks a TOTP code of an enrolled user and uses it up: the same code (or an older one)
/// never passes twice, even from two requests at once.
async fn consume_totp(
    ctx: &Ctx,
    db: &impl ConnectionTrait,
    user: &user::Model,
    code: &str,
) -> AppResult<bool> {
    let Some(stored) = &user.totp_secret else { return Ok(false) };
    let secret = match unseal_seed(ctx, user.id, stored) {
        Ok(secret) => secret,
        Err(e) => {
            // No code can match a seed that does not decrypt; a backup code still may.
            tracing::error!(user = %user.id, error = %e, "TOTP seed unreadable");
            return Ok(false);
        }
    };
    let Some(step) = matching_step(&totp(&secret, &user.email)?, code) else { return Ok(false) };
    let claimed = user::Entity::update_many()
        .col_expr(user::Column::TotpLastStep, Expr::value(step))
        .filter(user::Column::Id.eq(user.id))
        .filter(user::Column::TotpLastStep.is_null().or(user::Column::TotpLastStep.lt(step)))
        .exec(db)
        .await?;
    Ok(claimed.rows_affected == 1)
}

fn normalise_backup_code(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_lowercase()
}

/// Uses up one of the user's backup codes.
async fn consume_backup_code(db: &impl ConnectionTrait, user_id: Uuid, code: &str) -> AppResult<bool> {
    let hash = tokens::hash_token(&normalise_backup_code(code));
    let claimed = backup_code::Entity::update_many()
        .col_expr(backup_code::Column::UsedAt, Expr::value(Utc::now()))
        .filter(backup_code::Column::UserId.eq(user_id))
        .filter(backup_code::Column::CodeHash.eq(hash))
        .filter(backup_code::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Ok(claimed.rows_affected == 1)
}

/// Replaces the user's backup codes with ten new ones, returned in clear once.
async fn new_backup_codes(db: &impl ConnectionTrait, user_id: Uuid) -> AppResult<Vec<String>> {
    backup_code::Entity::delete_many().filter(backup_code::Column::UserId.eq(user_id)).exec(db).await?;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let now = Utc::now();
    let mut codes = Vec::with_capacity(BACKUP_CODES);
    for _ in 0..BACKUP_CODES {
        let raw: String = (0..10).map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char).collect();
        backup_code::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(user_id),
            code_hash: Set(tokens::hash_token(&raw)),
            created_at: Set(now),
            used_at: Set(None),
        }
        .insert(db)
        .await?;
        codes.push(format!("{}-{}", &raw[..5], &raw[5..]));
    }
    Ok(codes)
}

/// Backup codes not used yet.
pub async fn remaining_backup_codes(ctx: &Ctx, user_id: Uuid) -> AppResult<u64> {
    use sea_orm::PaginatorTrait;
    Ok(backup_code::Entity::find()
        .filter(backup_code::Column::UserId.eq(user_id))
        .filter(backup_code::Column::UsedAt.is_null())
        .count(&ctx.db)
        .await?)
}

/// A started enrollment: what the authenticator app needs.
pub struct Enrollment {
    pub secret: String,
    pub otpauth_uri: String,
    pub qr_code_svg_data_url: String,
}

/// Starts (or restarts) TOTP enrollment with a new secret; MFA is on only after
/// [`confirm_enrollment`].
pub async fn start_enrollment(ctx: &Ctx, viewer: &Viewer) -> AppResult<Enrollment> {
    let user = viewer_user(ctx, viewer).await?;
    if user.mfa_enabled() {
        return Err(AppError::conflict("", "two-factor authentication is already on; disable it first"));
    }
    // Someone holding only a stolen access token must not lock the owner out with their
    // own authenticator.
    super::sessions::require_recent_sign_in(ctx, viewer, "").await?;
    let Secret::Encoded(secret) = Secret::generate_secret().to_encoded() else {
        return Err(anyhow::anyhow!("secret encoding failed").into());
    };
    let t = totp(&secret, &user.email)?;
    let uri = t.get_url();
    let svg = qrcode::QrCode::new(uri.as_bytes())
        .map_err(|e| anyhow::anyhow!("QR code: {e}"))?
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .build();
    let sealed = seal_seed(ctx, user.id, &secret);
    let mut am: user::ActiveModel = user.into();
    am.totp_pending_secret = Set(Some(sealed));
    am.updated_at = Set(Utc::now());
    am.update(&ctx.db).await?;
    Ok(Enrollment {
        secret,
        otpauth_uri: uri,
        qr_code_svg_data_url: format!("data:image/svg+xml;base64,{}", STANDARD.encode(svg)),
    })
}

/// Turns MFA on with a code from the app; returns the ten backup codes (shown once).
pub async fn confirm_enrollment(
    ctx: &Ctx,
    rctx: &RequestCtx,
    viewer: &Viewer,
    code: &str,
) -> AppResult<Vec<String>> {
    let user = viewer_user(ctx, viewer).await?;
    if user.mfa_enabled() {
        return Err(AppError::conflict("code", "two-factor authentication is already on"));
    }
    let Some(pending) = user.totp_pending_secret.clone() else {
        return Err(AppError::validation(
            "code",
            "no enrollment in progress; call startTotpEnrollment first",
        ));
    };
    throttled(ctx, rctx, user.id).await?;
    let Some(step) = matching_step(&totp(&unseal_seed(ctx, user.id, &pending)?, &user.email)?, code) else {
        mfa_failed(ctx, rctx, user.id).await?;
        return Err(AppError::validation("code", "the code is wrong or expired"));
    };
    let txn = crate::db::begin_write(&ctx.db).await?;
    let now = Utc::now();
    let claimed = user::Entity::update_many()
        .col_expr(user::Column::TotpSecret, Expr::value(pending.clone()))
        .col_expr(user::Column::TotpPendingSecret, Expr::value(Option::<String>::None))
        .col_expr(user::Column::TotpEnabledAt, Expr::value(now))
        .col_expr(user::Column::TotpLastStep, Expr::value(step))
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(user.id))
        .filter(user::Column::TotpPendingSecret.eq(pending))
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(AppError::conflict("code", "the enrollment changed meanwhile; start again"));
    }
    let codes = new_backup_codes(&txn, user.id).await?;
    events::record(
        ctx,
        &txn,
        user.id,
        SecurityEventKind::MfaEnabled,
        Some(rctx),
        Some(viewer.session_id),
        None,
    )
    .await?;
    txn.commit().await?;
    crate::jobs::wake(ctx).await;
    // An organisation's MFA rule reads this setting.
    ctx.access_changed(crate::access::AccessChanged::User(user.id)).await;
    Ok(codes)
}

/// Turns MFA off after a current code, a backup code or the password.
pub async fn disable(
    app: &AppState,
    rctx: &RequestCtx,
    viewer: &Viewer,
    code: Option<String>,
    password_input: Option<String>,
) -> AppResult<()> {
    let user = viewer_user(app, viewer).await?;
    if !user.mfa_enabled() {
        return Err(AppError::conflict("", "two-factor authentication is not on"));
    }
    throttled(app, rctx, user.id).await?;
    let txn = crate::db::begin_write(&app.db).await?;
    let ok = match (&code, password_input) {
        (Some(code), _) => {
            consume_totp(app, &txn, &user, code).await? || consume_backup_code(&txn, user.id, code).await?
        }
        (None, Some(pw)) => app.passwords.verify(pw, user.password_hash().map(str::to_string)).await?,
        (None, None) => {
            return Err(AppError::validation("code", "give a code from your app or your password"));
        }
    };
    if !ok {
        txn.rollback().await?;
        mfa_failed(app, rctx, user.id).await?;
        let field = if code.is_some() { "code" } else { "password" };
        return Err(AppError::validation(field, "is wrong"));
    }
    let now = Utc::now();
    user::Entity::update_many()
        .col_expr(user::Column::TotpSecret, Expr::value(Option::<String>::None))
        .col_expr(user::Column::TotpPendingSecret, Expr::value(Option::<String>::None))
        .col_expr(user::Column::TotpEnabledAt, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(user.id))
        .exec(&txn)
        .await?;
    backup_code::Entity::delete_many().filter(backup_code::Column::UserId.eq(user.id)).exec(&txn).await?;
    events::record(
        app,
        &txn,
        user.id,
        SecurityEventKind::MfaDisabled,
        Some(rctx),
        Some(viewer.session_id),
        None,
    )
    .await?;
    txn.commit().await?;
    crate::jobs::wake(app).await;
    // An organisation's MFA rule reads this setting.
    app.access_changed(crate::access::AccessChanged::User(user.id)).await;
    Ok(())
}

/// New backup codes (the old ones stop working); needs a current TOTP code.
pub async fn regenerate_backup_codes(
    ctx: &Ctx,
    rctx: &RequestCtx,
    viewer: &Viewer,
    code: &str,
) -> AppResult<Vec<String>> {
    let user = viewer_user(ctx, viewer).await?;
    if !user.mfa_enabled() {
        return Err(AppError::conflict("", "two-factor authentication is not on"));
    }
    throttled(ctx, rctx, user.id).await?;
    let txn = crate::db::begin_write(&ctx.db).await?;
    if !consume_totp(ctx, &txn, &user, code).await? {
        txn.rollback().await?;
        mfa_failed(ctx, rctx, user.id).await?;
        return Err(AppError::validation("code", "the code is wrong or expired"));
    }
    let codes = new_backup_codes(&txn, user.id).await?;
    events::record(
        ctx,
        &txn,
        user.id,
        SecurityEventKind::BackupCodesRegenerated,
        Some(rctx),
        Some(viewer.session_id),
        None,
    )
    .await?;
    txn.commit().await?;
    crate::jobs::wake(ctx).await;
    Ok(codes)
}

fn mfa_throttle(ctx: &Ctx, user_id: Uuid) -> Throttle {
    Throttle::new(keys::mfa_user(user_id), MFA_MAX_FAILURES, ctx.config.security.login_window)
        .with_lockout(ctx.config.security.lockout)
}

/// Refuses while the user's MFA codes are locked; counts this attempt.
async fn throttled(ctx: &Ctx, rctx: &RequestCtx, user_id: Uuid) -> AppResult<()> {
    match mfa_throttle(ctx, user_id).attempt(ctx).await? {
        Attempt::Allowed => Ok(()),
        refused @ Attempt::Refused { newly_locked, .. } => {
            if newly_locked {
                locked(ctx, rctx, user_id).await?;
            }
            refused.into_result()
        }
    }
}

/// Records a lockout by failed second-factor codes (and tells the person).
async fn locked(ctx: &Ctx, rctx: &RequestCtx, user_id: Uuid) -> AppResult<()> {
    let txn = crate::db::begin_write(&ctx.db).await?;
    let details = serde_json::json!({ "by": "mfa" });
    events::record(ctx, &txn, user_id, SecurityEventKind::AccountLocked, Some(rctx), None, Some(details))
        .await?;
    txn.commit().await?;
    crate::jobs::wake(ctx).await;
    Ok(())
}

async fn mfa_failed(ctx: &Ctx, rctx: &RequestCtx, user_id: Uuid) -> AppResult<()> {
    let txn = crate::db::begin_write(&ctx.db).await?;
    events::record(ctx, &txn, user_id, SecurityEventKind::MfaChallengeFailed, Some(rctx), None, None).await?;
    txn.commit().await?;
    if mfa_throttle(ctx, user_id).failed(ctx).await?.is_some() {
        locked(ctx, rctx, user_id).await?;
    }
    Ok(())
}

/// A pending second factor handed to the client instead of tokens.
pub struct Challenge {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// Opens an MFA challenge for a user whose password was right.
pub async fn open_challenge(ctx: &Ctx, rctx: &RequestCtx, user_id: Uuid) -> AppResult<Challenge> {
    let token = tokens::random_token();
    let now = Utc::now();
    let expires_at = now + Duration::minutes(CHALLENGE_TTL_MINUTES);
    mfa_challenge::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        token_hash: Set(tokens::hash_token(&token)),
        ip: Set(rctx.ip.clone()),
        user_agent: Set(rctx.user_agent.clone()),
        attempts: Set(0),
        created_at: Set(now),
        expires_at: Set(expires_at),
        used_at: Set(None),
    }
    .insert(&ctx.db)
    .await?;
    Ok(Challenge { token, expires_at })
}

/// Completes a challenge with a TOTP code or a backup code: opens the session.
pub async fn complete_challenge(
    app: &AppState,
    rctx: &RequestCtx,
    token: &str,
    code: Option<String>,
    backup_code: Option<String>,
) -> AppResult<IssuedTokens> {
    let invalid = || AppError::unauthenticated("invalid or expired MFA challenge; sign in again");
    let now = Utc::now();
    let challenge = mfa_challenge::Entity::find()
        .filter(mfa_challenge::Column::TokenHash.eq(tokens::hash_token(token)))
        .one(&app.db)
        .await?
        .ok_or_else(invalid)?;
    if challenge.used_at.is_some() || challenge.expires_at <= now {
        return Err(invalid());
    }
    let (field, given) = match (code, backup_code) {
        (Some(c), None) => ("code", c),
        (None, Some(b)) => ("backupCode", b),
        _ => return Err(AppError::validation("code", "give exactly one of `code` and `backupCode`")),
    };
    // The attempt is counted before the code is checked, in one conditional update: parallel
    // requests cannot all read a count under the cap and then each check a code.
    let reserved = mfa_challenge::Entity::update_many()
        .col_expr(mfa_challenge::Column::Attempts, Expr::col(mfa_challenge::Column::Attempts).add(1))
        .filter(mfa_challenge::Column::Id.eq(challenge.id))
        .filter(mfa_challenge::Column::Attempts.lt(CHALLENGE_MAX_ATTEMPTS))
        .filter(mfa_challenge::Column::UsedAt.is_null())
        .exec(&app.db)
        .await?;
    if reserved.rows_affected != 1 {
        return Err(invalid());
    }
    throttled(app, rctx, challenge.user_id).await?;
    let user = user::Entity::find_by_id(challenge.user_id).one(&app.db).await?.ok_or_else(invalid)?;
    let txn = crate::db::begin_write(&app.db).await?;
    let ok = match field {
        "code" => consume_totp(app, &txn, &user, &given).await?,
        _ => consume_backup_code(&txn, user.id, &given).await?,
    };
    if !ok {
        txn.rollback().await?;
        mfa_failed(app, rctx, user.id).await?;
        return Err(AppError::validation(field, "the code is wrong, expired or already used"));
    }
    let claimed = mfa_challenge::Entity::update_many()
        .col_expr(mfa_challenge::Column::UsedAt, Expr::value(now))
        .filter(mfa_challenge::Column::Id.eq(challenge.id))
        .filter(mfa_challenge::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(invalid());
    }
    if field == "backupCode" {
        events::record(app, &txn, user.id, SecurityEventKind::BackupCodeUsed, Some(rctx), None, None).await?;
    }
    let method = if field == "code" { "totp" } else { "backup_code" };
    let tokens = identity::open_session(app, &txn, rctx, user, method).await?;
    txn.commit().await?;
    crate::jobs::wake(app).await;
    mfa_throttle(app, challenge.user_id).succeeded(app, true).await?;
    identity::after_sign_in(app, rctx, &tokens).await;
    Ok(tokens)
}
