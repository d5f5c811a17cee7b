//! Single-use tokens mailed or handed to a user (e-mail verification, password reset,
//! account unlock, OAuth sign-in codes): only their SHA-256 hash is stored, each has a kind
//! and an expiry, and using one is a conditional update, so of two concurrent uses only one
//! wins.

use chrono::{Duration, Utc};
use entity::user_token;
use entity::user_token::TokenKind;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, sea_query::Expr,
};
use uuid::Uuid;

use crate::{auth::tokens, error::AppResult};

/// Stores a new token of `kind` for `user_id`, valid for `ttl`; returns it in clear.
pub async fn issue(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    kind: TokenKind,
    ttl: Duration,
) -> AppResult<String> {
    let token = tokens::random_token();
    let now = Utc::now();
    user_token::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        kind: Set(kind),
        token_hash: Set(tokens::hash_token(&token)),
        created_at: Set(now),
        expires_at: Set(now + ttl),
        used_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(token)
}

/// Makes the user's unused tokens of `kind` unusable (only the newest link works).
pub async fn supersede(db: &impl ConnectionTrait, user_id: Uuid, kind: TokenKind) -> AppResult<()> {
    user_token::Entity::update_many()
        .col_expr(user_token::Column::UsedAt, Expr::value(Utc::now()))
        .filter(user_token::Column::UserId.eq(user_id))
        .filter(user_token::Column::Kind.eq(kind))
        .filter(user_token::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// The token's row when it is of `kind`, unused and unexpired.
pub async fn find_valid(
    db: &impl ConnectionTrait,
    token: &str,
    kind: TokenKind,
) -> AppResult<Option<user_token::Model>> {
    let row = user_token::Entity::find()
        .filter(user_token::Column::TokenHash.eq(tokens::hash_token(token)))
        .filter(user_token::Column::Kind.eq(kind))
        .one(db)
        .await?;
    Ok(row.filter(|r| r.used_at.is_none() && r.expires_at > Utc::now()))
}

/// Uses the token up: its row when this call won it, `None` when it was not valid or another
/// use got there first.
pub async fn claim(
    db: &impl ConnectionTrait,
    token: &str,
    kind: TokenKind,
) -> AppResult<Option<user_token::Model>> {
    let Some(row) = find_valid(db, token, kind).await? else { return Ok(None) };
    let claimed = user_token::Entity::update_many()
        .col_expr(user_token::Column::UsedAt, Expr::value(Utc::now()))
        .filter(user_token::Column::Id.eq(row.id))
        .filter(user_token::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Ok((claimed.rows_affected == 1).then_some(row))
}
