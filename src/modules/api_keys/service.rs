//! Creating, listing, revoking and authenticating API keys.

use chrono::{DateTime, Duration, Utc};
use entity::api_key;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set, sea_query::Expr};
use serde_json::json;
use uuid::Uuid;

use crate::{
    access::{Change, TenantCtx, TenantTx},
    auth::{Permission, Permissions, context::ApiKeyPrincipal, tokens},
    ctx::Ctx,
    db::page::PageArgs,
    db::page::Window,
    error::{AppError, AppResult},
};

/// Every key starts with this, so the server can tell a key from an access token.
pub const KEY_PREFIX: &str = "zyk_";
/// How often `last_used_at` is written at most, to spare a write per request.
const LAST_USED_RESOLUTION_SECS: i64 = 60;

fn summary(k: &api_key::Model) -> serde_json::Value {
    json!({ "name": k.name, "prefix": k.prefix, "permissions": k.permissions, "expiresAt": k.expires_at, "revoked": k.revoked_at.is_some() })
}

/// The permissions a stored key holds.
pub fn key_permissions(k: &api_key::Model) -> Permissions {
    let keys: Vec<String> = serde_json::from_value(k.permissions.clone()).unwrap_or_default();
    Permissions::from_keys(keys)
}

/// Creates a key (`api_keys.manage`) holding `permissions`, all of which the creator must
/// hold. Returns the stored key and the secret, which is never shown again.
pub async fn create_api_key(
    ctx: &Ctx,
    tctx: &TenantCtx,
    name: &str,
    permissions: Permissions,
    expires_at: Option<DateTime<Utc>>,
) -> AppResult<(api_key::Model, String)> {
    tctx.require(Permission::ApiKeysManage)?;
    if tctx.actor.kind == "api_key" {
        return Err(AppError::ForbiddenWith("an API key cannot create API keys".into()));
    }
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::validation("input.name", "must be 1 to 100 characters"));
    }
    if permissions.is_empty() {
        return Err(AppError::validation("input.permissions", "give the key at least one permission"));
    }
    let missing = permissions.without(tctx.permissions);
    if !missing.is_empty() {
        return Err(AppError::ForbiddenWith(format!(
            "input.permissions: a key cannot hold permissions you do not hold: {}",
            missing.keys().join(", ")
        )));
    }
    let now = ctx.now();
    if let Some(at) = expires_at
        && at <= now + Duration::minutes(1)
    {
        return Err(AppError::validation("input.expiresAt", "must be in the future"));
    }
    let secret = format!("{KEY_PREFIX}{}", tokens::random_token());
    let perms = permissions.keys();
    let tx = TenantTx::begin(ctx, tctx, Permission::ApiKeysManage).await?;
    let scope = tx.scope();
    // API access is a feature of the paid plans (PLAN_REQUIRED names the cheapest).
    crate::modules::billing::usage::require_feature(&tx, ctx, scope, "apiKeys").await?;
    let key = scope
        .insert(
            &tx,
            api_key::ActiveModel {
                id: Set(Uuid::now_v7()),
                tenant_id: Set(scope.tenant_id()),
                name: Set(name.to_string()),
                prefix: Set(secret.chars().take(KEY_PREFIX.len() + 6).collect()),
                key_hash: Set(tokens::hash_token(&secret)),
                permissions: Set(json!(perms)),
                created_by: Set(tctx.user_id),
                created_at: Set(now),
                expires_at: Set(expires_at),
                last_used_at: Set(None),
                revoked_at: Set(None),
            },
        )
        .await?;
    tx.commit_with(Change {
        action: "api_key.created",
        target_type: "ApiKey",
        target_id: Some(key.id),
        before: None,
        after: Some(summary(&key)),
    })
    .await?;
    Ok((key, secret))
}

/// Revokes a key at once (`api_keys.manage`).
pub async fn revoke_api_key(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> AppResult<api_key::Model> {
    let tx = TenantTx::begin(ctx, tctx, Permission::ApiKeysManage).await?;
    let scope = tx.scope();
    let key = scope.find_by_id::<api_key::Entity, _>(&tx, id).await?.ok_or(AppError::NotFound("API key"))?;
    if key.revoked_at.is_some() {
        return Ok(key);
    }
    let before = summary(&key);
    let mut am: api_key::ActiveModel = key.into();
    am.revoked_at = Set(Some(ctx.now()));
    let key = scope.update(&tx, am).await?;
    tx.commit_with(Change {
        action: "api_key.revoked",
        target_type: "ApiKey",
        target_id: Some(id),
        before: Some(before),
        after: Some(summary(&key)),
    })
    .await?;
    Ok(key)
}

/// Validates a page request of the tenant's keys (`api_keys.manage`).
pub fn keys_window(ctx: &Ctx, tctx: &TenantCtx, args: &PageArgs) -> AppResult<Window> {
    tctx.require(Permission::ApiKeysManage)?;
    args.window(ctx.config.max_page_size)
}

/// Resolves a presented key. Unknown, revoked and expired keys are refused alike.
pub async fn authenticate(ctx: &Ctx, secret: &str) -> Result<ApiKeyPrincipal, String> {
    let invalid = || "invalid, revoked or expired API key".to_string();
    // The secret names its tenant: this lookup is the tenant decision.
    let key = api_key::Entity::find()
        .filter(api_key::Column::KeyHash.eq(tokens::hash_token(secret)))
        .one(&crate::db::across_tenants(&ctx.db))
        .await
        .map_err(|e| {
            tracing::error!(error = ?e, "API key lookup failed");
            "authentication unavailable".to_string()
        })?
        .ok_or_else(invalid)?;
    let now = Utc::now();
    if key.revoked_at.is_some() || key.expires_at.is_some_and(|at| at <= now) {
        return Err(invalid());
    }
    if key.last_used_at.is_none_or(|at| now - at > Duration::seconds(LAST_USED_RESOLUTION_SECS)) {
        let touched = api_key::Entity::update_many()
            .col_expr(api_key::Column::LastUsedAt, Expr::value(now))
            .filter(api_key::Column::Id.eq(key.id))
            .exec(&crate::db::TenantScope::new(key.tenant_id).on(&ctx.db))
            .await;
        if let Err(e) = touched {
            tracing::warn!(error = %e, "could not record API key use");
        }
    }
    Ok(ApiKeyPrincipal {
        id: key.id,
        tenant_id: key.tenant_id,
        created_by: key.created_by,
        permissions: key_permissions(&key),
    })
}
