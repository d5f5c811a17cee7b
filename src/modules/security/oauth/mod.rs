//! Sign-in with OAuth 2 / OpenID Connect providers (authorization code + PKCE).
//!
//! `GET /auth/oauth/{provider}` creates a single-use `state` (stored hashed, with the PKCE
//! verifier and the OpenID nonce) and redirects to the provider. The provider redirects
//! back to `/auth/oauth/{provider}/callback`, where the state is claimed, the code is
//! exchanged (with the verifier), and for OpenID Connect the ID token's signature (against
//! the provider's published keys), issuer, audience, expiry and nonce are checked; GitHub
//! users and their verified e-mails come from its REST API. The browser then goes back to
//! the frontend with a one-time code that `exchangeOAuthCode` trades for tokens, so tokens
//! never travel in a URL.

use entity::user_token::TokenKind;
use std::{
    collections::HashMap,
    sync::{Mutex, OnceLock},
    time::{Duration as StdDuration, Instant},
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{Duration, Utc};
use entity::{oauth_identity, oauth_state, user};
use jsonwebtoken::{DecodingKey, Validation, jwk::JwkSet};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
    sea_query::Expr,
};
use secrecy::ExposeSecret;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::events::{self, SecurityEventKind};
use crate::ctx::Ctx;
use crate::{
    auth::{RequestCtx, Viewer, tokens},
    config::{OAuthKind, OAuthProvider},
    error::{AppError, AppResult},
    modules::identity::{
        service::{self as identity, LogInOutcome},
        user_tokens,
    },
    startup::AppState,
};

mod providers;
use providers::*;

const STATE_TTL_MINUTES: i64 = 10;
const SIGN_IN_CODE: TokenKind = TokenKind::OauthSignIn;
const SIGN_IN_CODE_TTL_SECS: i64 = 120;
const METADATA_TTL: StdDuration = StdDuration::from_secs(3600);

/// The configured provider called `name`, or NOT_FOUND.
pub fn provider<'a>(ctx: &'a Ctx, name: &str) -> AppResult<&'a OAuthProvider> {
    ctx.config.oauth.iter().find(|p| p.name == name).ok_or(AppError::NotFound("OAuthProvider"))
}

fn callback_url(ctx: &Ctx, p: &OAuthProvider) -> String {
    format!("{}/auth/oauth/{}/callback", ctx.config.public_url, p.name)
}

/// Creates the state of a new authorization request and returns the provider's URL to send
/// the browser to. With `link_user`, the callback links the provider account to that user.
///
/// `browser` is the value of the cookie the sign-in route sets (its hash is kept with the
/// state); links, which the linking user completes from their own session, have none.
pub async fn authorization_url(
    ctx: &Ctx,
    name: &str,
    link_user: Option<Uuid>,
    browser: Option<&str>,
) -> AppResult<String> {
    let p = provider(ctx, name)?;
    let (state, nonce, verifier) = (tokens::random_token(), tokens::random_token(), tokens::random_token());
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let endpoint = match p.kind {
        OAuthKind::Oidc => discovery(p.issuer.as_deref().unwrap_or_default()).await?.authorization_endpoint,
        OAuthKind::Github => p.authorize_url.clone().unwrap_or_default(),
    };
    let now = Utc::now();
    oauth_state::ActiveModel {
        id: Set(Uuid::now_v7()),
        state_hash: Set(tokens::hash_token(&state)),
        provider: Set(p.name.clone()),
        code_verifier: Set(verifier),
        nonce: Set(nonce.clone()),
        link_user_id: Set(link_user),
        browser_hash: Set(browser.map(tokens::hash_token)),
        link_code_hash: Set(None),
        linked_subject: Set(None),
        linked_email: Set(None),
        link_completed_at: Set(None),
        created_at: Set(now),
        expires_at: Set(now + Duration::minutes(STATE_TTL_MINUTES)),
        used_at: Set(None),
    }
    .insert(&ctx.db)
    .await?;
    let mut url =
        reqwest::Url::parse(&endpoint).map_err(|e| provider_error(format!("authorization URL: {e}")))?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &p.client_id)
        .append_pair("redirect_uri", &callback_url(ctx, p))
        .append_pair("scope", &p.scopes)
        .append_pair("state", &state)
        .append_pair("nonce", &nonce)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    if p.name == "apple" {
        // Apple sends name and e-mail only to a form POST (the callback accepts both).
        url.query_pairs_mut().append_pair("response_mode", "form_post");
    }
    Ok(url.into())
}

/// Where the callback sends the browser.
pub enum CallbackResult {
    /// Sign-in: the frontend trades the code with `exchangeOAuthCode`.
    SignedIn { code: String },
    /// A provider account answered a link request: the linking user's session confirms it
    /// with `completeOAuthLink(code)`.
    LinkPending { code: String },
}

/// Handles the provider's redirect back: claims the state, checks the answer, and signs in,
/// creates or links the account.
pub async fn callback(
    ctx: &Ctx,
    rctx: &RequestCtx,
    name: &str,
    code: &str,
    state: &str,
    browser: Option<&str>,
) -> AppResult<CallbackResult> {
    let p = provider(ctx, name)?;
    let now = Utc::now();
    let invalid =
        || AppError::rejected("OAUTH_STATE_INVALID", "state", "unknown, expired or already used state");
    let row = oauth_state::Entity::find()
        .filter(oauth_state::Column::StateHash.eq(tokens::hash_token(state)))
        .one(&ctx.db)
        .await?
        .ok_or_else(invalid)?;
    if row.provider != p.name || row.used_at.is_some() || row.expires_at <= now {
        return Err(invalid());
    }
    // A sign-in must come back to the browser that started it.
    if row.link_user_id.is_none() && row.browser_hash != browser.map(tokens::hash_token) {
        return Err(AppError::rejected(
            "OAUTH_STATE_INVALID",
            "state",
            "this sign-in was started in another browser; start it again here",
        ));
    }
    let claimed = oauth_state::Entity::update_many()
        .col_expr(oauth_state::Column::UsedAt, Expr::value(now))
        .filter(oauth_state::Column::Id.eq(row.id))
        .filter(oauth_state::Column::UsedAt.is_null())
        .exec(&ctx.db)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(invalid());
    }
    let ext = match p.kind {
        OAuthKind::Oidc => oidc_user(ctx, p, code, &row).await?,
        OAuthKind::Github => github_user(ctx, p, code, &row).await?,
    };
    let email = ext.email.as_deref().map(|e| e.trim().to_lowercase()).filter(|e| !e.is_empty());
    if row.link_user_id.is_some() {
        // Not linked yet: the user who asked must confirm from their own session, so a
        // link URL sent to someone else cannot attach *their* provider account.
        let link_code = tokens::random_token();
        oauth_state::Entity::update_many()
            .col_expr(oauth_state::Column::LinkCodeHash, Expr::value(tokens::hash_token(&link_code)))
            .col_expr(oauth_state::Column::LinkedSubject, Expr::value(ext.subject.clone()))
            .col_expr(oauth_state::Column::LinkedEmail, Expr::value(email.clone()))
            .filter(oauth_state::Column::Id.eq(row.id))
            .exec(&ctx.db)
            .await?;
        return Ok(CallbackResult::LinkPending { code: link_code });
    }
    let txn = crate::db::begin_write(&ctx.db).await?;
    let existing = oauth_identity::Entity::find()
        .filter(oauth_identity::Column::Provider.eq(&p.name))
        .filter(oauth_identity::Column::Subject.eq(&ext.subject))
        .one(&txn)
        .await?;
    let user_id = match existing {
        Some(i) => {
            oauth_identity::Entity::update_many()
                .col_expr(oauth_identity::Column::LastUsedAt, Expr::value(now))
                .filter(oauth_identity::Column::Id.eq(i.id))
                .exec(&txn)
                .await?;
            i.user_id
        }
        None => {
            let Some(email) = email else {
                return Err(AppError::rejected(
                    "OAUTH_EMAIL_REQUIRED",
                    "provider",
                    "the provider shared no e-mail address; allow it, or sign up with a password",
                ));
            };
            // An address the provider has not verified could belong to anyone: it neither
            // joins an existing account nor claims the address for a new one.
            if !ext.email_verified {
                return Err(AppError::rejected(
                    "OAUTH_EMAIL_NOT_VERIFIED",
                    "provider",
                    "the provider has not verified this e-mail address; verify it there, or sign up \
                     with a password and link the provider from your settings",
                ));
            }
            let by_email = user::Entity::find().filter(user::Column::Email.eq(&email)).one(&txn).await?;
            let user_id = match by_email {
                // An unverified local account may have been registered by someone else (who
                // knows its password): joining it would let them into the new owner's account.
                Some(u) if u.email_verified_at.is_none() => {
                    return Err(AppError::rejected(
                        "OAUTH_ACCOUNT_UNVERIFIED",
                        "provider",
                        "an unverified account holds this e-mail address; confirm it with the link \
                         in its verification mail (or reset its password), then sign in",
                    ));
                }
                Some(u) => u.id,
                None => {
                    let name = ext
                        .name
                        .clone()
                        .filter(|n| !n.trim().is_empty())
                        .unwrap_or_else(|| email.split('@').next().unwrap_or("user").to_string());
                    let name: String = name.trim().chars().take(100).collect();
                    let u = user::ActiveModel {
                        id: Set(Uuid::now_v7()),
                        email: Set(email.clone()),
                        name: Set(name),
                        password_hash: Set(String::new()),
                        email_verified_at: Set(ext.email_verified.then_some(now)),
                        created_at: Set(now),
                        updated_at: Set(now),
                        ..Default::default()
                    }
                    .insert(&txn)
                    .await?;
                    u.id
                }
            };
            insert_identity(&txn, user_id, p, &ext.subject, Some(&email)).await?;
            events::record(
                ctx,
                &txn,
                user_id,
                SecurityEventKind::OauthAccountLinked,
                Some(rctx),
                None,
                Some(serde_json::json!({ "provider": p.name })),
            )
            .await?;
            user_id
        }
    };
    let code =
        user_tokens::issue(&txn, user_id, SIGN_IN_CODE, Duration::seconds(SIGN_IN_CODE_TTL_SECS)).await?;
    txn.commit().await?;
    crate::jobs::wake(ctx).await;
    Ok(CallbackResult::SignedIn { code })
}

async fn insert_identity(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    p: &OAuthProvider,
    subject: &str,
    email: Option<&str>,
) -> AppResult<()> {
    let now = Utc::now();
    oauth_identity::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        provider: Set(p.name.clone()),
        subject: Set(subject.to_string()),
        email: Set(email.map(str::to_string)),
        created_at: Set(now),
        last_used_at: Set(Some(now)),
    }
    .insert(db)
    .await
    .map_err(|e| AppError::from_db_unique(e, "provider", "this provider account is already linked"))?;
    Ok(())
}

/// Links the provider account a link request came back with, from the session of the user
/// who asked for it.
pub async fn complete_link(ctx: &Ctx, rctx: &RequestCtx, viewer: &Viewer, code: &str) -> AppResult<String> {
    let invalid = || AppError::validation("code", "invalid, expired or already used link code");
    let now = Utc::now();
    let txn = crate::db::begin_write(&ctx.db).await?;
    let row = oauth_state::Entity::find()
        .filter(oauth_state::Column::LinkCodeHash.eq(tokens::hash_token(code)))
        .one(&txn)
        .await?
        .ok_or_else(invalid)?;
    if row.link_user_id != Some(viewer.user_id) || row.link_completed_at.is_some() || row.expires_at <= now {
        return Err(invalid());
    }
    let claimed = oauth_state::Entity::update_many()
        .col_expr(oauth_state::Column::LinkCompletedAt, Expr::value(now))
        .filter(oauth_state::Column::Id.eq(row.id))
        .filter(oauth_state::Column::LinkCompletedAt.is_null())
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(invalid());
    }
    let p = provider(ctx, &row.provider)?;
    let subject = row.linked_subject.clone().ok_or_else(invalid)?;
    let existing = oauth_identity::Entity::find()
        .filter(oauth_identity::Column::Provider.eq(&p.name))
        .filter(oauth_identity::Column::Subject.eq(&subject))
        .one(&txn)
        .await?;
    match existing {
        Some(i) if i.user_id == viewer.user_id => {}
        Some(_) => {
            return Err(AppError::rejected(
                "OAUTH_ACCOUNT_IN_USE",
                "code",
                "this provider account already signs in to another Zygo account",
            ));
        }
        None => {
            insert_identity(&txn, viewer.user_id, p, &subject, row.linked_email.as_deref()).await?;
            events::record(
                ctx,
                &txn,
                viewer.user_id,
                SecurityEventKind::OauthAccountLinked,
                Some(rctx),
                Some(viewer.session_id),
                Some(serde_json::json!({ "provider": p.name })),
            )
            .await?;
        }
    }
    txn.commit().await?;
    crate::jobs::wake(ctx).await;
    Ok(p.name.clone())
}

/// Trades the one-time code from the callback for tokens (or an MFA challenge).
pub async fn exchange_sign_in_code(app: &AppState, rctx: &RequestCtx, code: &str) -> AppResult<LogInOutcome> {
    let invalid = || AppError::unauthenticated("invalid, expired or already used sign-in code");
    let txn = crate::db::begin_write(&app.db).await?;
    let row = user_tokens::claim(&txn, code, SIGN_IN_CODE).await?.ok_or_else(invalid)?;
    let user = user::Entity::find_by_id(row.user_id).one(&txn).await?.ok_or_else(invalid)?;
    if user.mfa_enabled() {
        txn.commit().await?;
        return Ok(LogInOutcome::Mfa(super::mfa::open_challenge(app, rctx, user.id).await?));
    }
    let tokens = identity::open_session(app, &txn, rctx, user, "oauth").await?;
    txn.commit().await?;
    identity::after_sign_in(app, rctx, &tokens).await;
    Ok(LogInOutcome::Tokens(tokens))
}

/// The viewer's linked provider accounts.
pub async fn connected_accounts(ctx: &Ctx, viewer: &Viewer) -> AppResult<Vec<oauth_identity::Model>> {
    Ok(oauth_identity::Entity::find()
        .filter(oauth_identity::Column::UserId.eq(viewer.user_id))
        .all(&ctx.db)
        .await?)
}

/// Unlinks a provider account; refused when it is the account's last way to sign in.
pub async fn unlink(ctx: &Ctx, rctx: &RequestCtx, viewer: &Viewer, id: Uuid) -> AppResult<()> {
    let txn = crate::db::begin_write(&ctx.db).await?;
    let identity = oauth_identity::Entity::find_by_id(id)
        .filter(oauth_identity::Column::UserId.eq(viewer.user_id))
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("ConnectedAccount"))?;
    let user = user::Entity::find_by_id(viewer.user_id).one(&txn).await?.ok_or(AppError::NotFound("user"))?;
    let others = oauth_identity::Entity::find()
        .filter(oauth_identity::Column::UserId.eq(viewer.user_id))
        .filter(oauth_identity::Column::Id.ne(id))
        .count(&txn)
        .await?;
    if user.password_hash().is_none() && others == 0 {
        return Err(AppError::rejected(
            "LAST_SIGN_IN_METHOD",
            "id",
            "this is your only way to sign in; set a password or link another provider first",
        ));
    }
    oauth_identity::Entity::delete_by_id(identity.id).exec(&txn).await?;
    events::record(
        ctx,
        &txn,
        viewer.user_id,
        SecurityEventKind::OauthAccountUnlinked,
        Some(rctx),
        Some(viewer.session_id),
        Some(serde_json::json!({ "provider": identity.provider })),
    )
    .await?;
    txn.commit().await?;
    crate::jobs::wake(ctx).await;
    Ok(())
}
