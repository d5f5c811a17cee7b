//! Business logic of secrets and environment variables.

use std::collections::{BTreeSet, HashMap};

use chrono::Utc;
use entity::{environment_variable as env_var, secret, secret_access};
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder, Set};
use serde_json::json;
use uuid::Uuid;

use crate::{
    access::{Change, TenantCtx, TenantTx},
    auth::Permission,
    ctx::Ctx,
    db::{TenantScope, begin_tenant_txn},
    error::{AppError, AppResult},
};

/// Longest secret value or environment variable value, in bytes.
pub const MAX_VALUE_BYTES: usize = 16 * 1024;

/// Names are how expressions refer to them (`{{ secrets.API_KEY }}`, `{{ env.REGION }}`):
/// a letter or `_`, then letters, digits or `_`, at most 64.
pub fn validate_name(field: &str, name: &str) -> AppResult<String> {
    let name = name.trim();
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ok {
        return Err(AppError::validation(
            field,
            "must be 1 to 64 letters, digits or _ and not start with a digit",
        ));
    }
    Ok(name.to_string())
}

fn validate_value(field: &str, value: &str) -> AppResult<()> {
    if value.is_empty() || value.len() > MAX_VALUE_BYTES {
        return Err(AppError::validation(field, format!("must be 1 to {MAX_VALUE_BYTES} bytes")));
    }
    Ok(())
}

fn aad(id: Uuid) -> String {
    format!("secret:{id}")
}

pub async fn get_secret(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> AppResult<secret::Model> {
    tctx.scope()
        .find_by_id::<secret::Entity, _>(&tctx.on(&ctx.db), id)
        .await?
        .ok_or(AppError::NotFound("secret"))
}

/// Creates a secret (`secret.manage`). The value is encrypted before it is written.
pub async fn create_secret(
    ctx: &Ctx,
    tctx: &TenantCtx,
    name: &str,
    value: &str,
    description: &str,
) -> AppResult<secret::Model> {
    tctx.require(Permission::SecretManage)?;
    let name = validate_name("input.name", name)?;
    validate_value("input.value", value)?;
    if description.chars().count() > 500 {
        return Err(AppError::validation("input.description", "must be at most 500 characters"));
    }
    let scope = tctx.scope();
    let tx = TenantTx::begin(ctx, tctx, Permission::SecretManage).await?;
    if scope.find::<secret::Entity>().filter(secret::Column::Name.eq(&name)).one(&tx).await?.is_some() {
        return Err(AppError::conflict("input.name", "a secret with this name exists"));
    }
    let id = Uuid::now_v7();
    let now = ctx.now();
    let row = scope
        .insert(
            &tx,
            secret::ActiveModel {
                id: Set(id),
                tenant_id: Set(scope.tenant_id()),
                name: Set(name.clone()),
                description: Set(description.trim().to_string()),
                ciphertext: Set(ctx.keys.encrypt(scope.tenant_id(), &aad(id), value)),
                created_by: Set(tctx.acting_user()),
                created_at: Set(now),
                updated_at: Set(now),
                last_accessed_at: Set(None),
            },
        )
        .await
        .map_err(|e| AppError::from_db_unique(e, "input.name", "a secret with this name exists"))?;
    tx.commit_with(Change {
        action: "secret.created",
        target_type: "secret",
        target_id: Some(id),
        before: None,
        after: Some(json!({ "name": name })),
    })
    .await?;
    Ok(row)
}

/// Replaces a secret's value and/or description (`secret.manage`).
pub async fn update_secret(
    ctx: &Ctx,
    tctx: &TenantCtx,
    id: Uuid,
    value: Option<&str>,
    description: Option<&str>,
) -> AppResult<secret::Model> {
    tctx.require(Permission::SecretManage)?;
    if let Some(v) = value {
        validate_value("input.value", v)?;
    }
    if description.is_some_and(|d| d.chars().count() > 500) {
        return Err(AppError::validation("input.description", "must be at most 500 characters"));
    }
    let scope = tctx.scope();
    let tx = TenantTx::begin(ctx, tctx, Permission::SecretManage).await?;
    let row = scope.find_by_id::<secret::Entity, _>(&tx, id).await?.ok_or(AppError::NotFound("secret"))?;
    let mut m: secret::ActiveModel = row.clone().into();
    if let Some(v) = value {
        m.ciphertext = Set(ctx.keys.encrypt(scope.tenant_id(), &aad(id), v));
    }
    if let Some(d) = description {
        m.description = Set(d.trim().to_string());
    }
    m.updated_at = Set(ctx.now());
    let updated = scope.update(&tx, m).await?;
    tx.commit_with(Change {
        action: "secret.updated",
        target_type: "secret",
        target_id: Some(id),
        before: Some(json!({ "name": row.name, "description": row.description })),
        after: Some(json!({
            "name": updated.name,
            "description": updated.description,
            "valueChanged": value.is_some(),
        })),
    })
    .await?;
    Ok(updated)
}

/// Deletes a secret (`secret.manage`); workflows that use it then fail validation.
pub async fn delete_secret(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> AppResult<()> {
    tctx.require(Permission::SecretManage)?;
    let scope = tctx.scope();
    let mut tx = TenantTx::begin(ctx, tctx, Permission::SecretManage).await?;
    let row = scope.find_by_id::<secret::Entity, _>(&tx, id).await?.ok_or(AppError::NotFound("secret"))?;
    scope.delete_many::<secret::Entity>().filter(secret::Column::Id.eq(id)).exec(&tx).await?;
    tx.audit(Change {
        action: "secret.deleted",
        target_type: "secret",
        target_id: Some(id),
        before: Some(json!({ "name": row.name })),
        after: None,
    })
    .await?;
    tx.commit().await
}

/// The names of the tenant's secrets, for validation.
pub async fn secret_names(db: &impl ConnectionTrait, scope: TenantScope) -> AppResult<BTreeSet<String>> {
    use sea_orm::QuerySelect;
    let names: Vec<String> = scope
        .find::<secret::Entity>()
        .select_only()
        .column(secret::Column::Name)
        .into_tuple()
        .all(db)
        .await?;
    Ok(names.into_iter().collect())
}

/// Decrypts the secrets `names` for a workflow run and logs each read (one access row per
/// secret, with the execution and node). Unknown names are left out.
pub async fn resolve_for_run(
    ctx: &Ctx,
    scope: TenantScope,
    names: &BTreeSet<String>,
    execution_id: Uuid,
    node_id: &str,
) -> AppResult<HashMap<String, String>> {
    if names.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = scope
        .find::<secret::Entity>()
        .filter(secret::Column::Name.is_in(names.iter().cloned()))
        .all(&scope.on(&ctx.db))
        .await?;
    let now = Utc::now();
    let txn = begin_tenant_txn(&ctx.db, scope).await?;
    let mut out = HashMap::new();
    for row in rows {
        let value = ctx
            .keys
            .decrypt(scope.tenant_id(), &aad(row.id), &row.ciphertext)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("secret {}: {e}", row.name)))?;
        scope
            .insert(
                &txn,
                secret_access::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    tenant_id: Set(scope.tenant_id()),
                    secret_id: Set(row.id),
                    execution_id: Set(Some(execution_id)),
                    node_id: Set(Some(node_id.to_string())),
                    accessed_at: Set(now),
                },
            )
            .await?;
        scope
            .update_many::<secret::Entity>()
            .col_expr(secret::Column::LastAccessedAt, sea_orm::sea_query::Expr::value(now))
            .filter(secret::Column::Id.eq(row.id))
            .exec(&txn)
            .await?;
        out.insert(row.name, value);
    }
    txn.commit().await?;
    Ok(out)
}

/// Sets (creates or replaces) an environment variable (`secret.manage`).
pub async fn set_env_var(ctx: &Ctx, tctx: &TenantCtx, name: &str, value: &str) -> AppResult<env_var::Model> {
    tctx.require(Permission::SecretManage)?;
    let name = validate_name("input.name", name)?;
    if value.len() > MAX_VALUE_BYTES {
        return Err(AppError::validation("input.value", format!("must be at most {MAX_VALUE_BYTES} bytes")));
    }
    let scope = tctx.scope();
    let mut tx = TenantTx::begin(ctx, tctx, Permission::SecretManage).await?;
    let now = ctx.now();
    let existing = scope.find::<env_var::Entity>().filter(env_var::Column::Name.eq(&name)).one(&tx).await?;
    let before = existing.as_ref().map(|e| json!({ "name": e.name, "value": e.value }));
    let row = match existing {
        Some(e) => {
            let mut m: env_var::ActiveModel = e.into();
            m.value = Set(value.to_string());
            m.updated_at = Set(now);
            scope.update(&tx, m).await?
        }
        None => {
            scope
                .insert(
                    &tx,
                    env_var::ActiveModel {
                        id: Set(Uuid::now_v7()),
                        tenant_id: Set(scope.tenant_id()),
                        name: Set(name.clone()),
                        value: Set(value.to_string()),
                        created_at: Set(now),
                        updated_at: Set(now),
                    },
                )
                .await?
        }
    };
    tx.audit(Change {
        action: "environment_variable.set",
        target_type: "environment_variable",
        target_id: Some(row.id),
        before,
        after: Some(json!({ "name": row.name, "value": row.value })),
    })
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// Deletes an environment variable (`secret.manage`).
pub async fn delete_env_var(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> AppResult<()> {
    tctx.require(Permission::SecretManage)?;
    let scope = tctx.scope();
    let mut tx = TenantTx::begin(ctx, tctx, Permission::SecretManage).await?;
    let row = scope
        .find_by_id::<env_var::Entity, _>(&tx, id)
        .await?
        .ok_or(AppError::NotFound("environment variable"))?;
    scope.delete_many::<env_var::Entity>().filter(env_var::Column::Id.eq(id)).exec(&tx).await?;
    tx.audit(Change {
        action: "environment_variable.deleted",
        target_type: "environment_variable",
        target_id: Some(id),
        before: Some(json!({ "name": row.name, "value": row.value })),
        after: None,
    })
    .await?;
    tx.commit().await
}

/// The environment variables of each of `tenants` by name, in one statement: for the
/// workflow engine's claim, which reads across tenants for the runs it claimed.
pub async fn env_maps(
    db: &impl ConnectionTrait,
    tenants: &[Uuid],
) -> Result<HashMap<Uuid, HashMap<String, String>>, sea_orm::DbErr> {
    Ok(crate::db::load_for_tenants::<env_var::Entity, _>(db, tenants)
        .await?
        .into_iter()
        .map(|(tenant, vars)| (tenant, vars.into_iter().map(|v| (v.name, v.value)).collect()))
        .collect())
}

/// The tenant's environment variables by name.
pub async fn env_map(db: &impl ConnectionTrait, scope: TenantScope) -> AppResult<HashMap<String, String>> {
    Ok(scope
        .find::<env_var::Entity>()
        .order_by_asc(env_var::Column::Name)
        .all(db)
        .await?
        .into_iter()
        .map(|e| (e.name, e.value))
        .collect())
}
