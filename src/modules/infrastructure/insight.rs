//! What members read from the provider about one server, live rather than stored: its metrics
//! over a window, its monthly cost from the provider's price list, and a console session
//! (`infrastructure.console`, audited with the reason given before the provider is asked).

use chrono::{DateTime, Duration, Utc};
use entity::{cloud_provider, cloud_server};
use serde_json::json;
use uuid::Uuid;

use super::{
    drivers::{self, CloudDriver, MetricFamily, MetricSeries, MetricWindow, MonthlyPrice, RemoteConsole},
    servers,
};
use crate::{
    access::{Change, TenantCtx, TenantTx},
    auth::Permission,
    ctx::Ctx,
    error::{AppError, AppResult},
};

/// The longest window metrics are read for (providers keep 30 days).
const MAX_WINDOW_DAYS: i64 = 30;

/// Server `id` (`infrastructure.read`) and its account's driver; the request's read
/// transaction is ended before the caller talks to the provider.
async fn with_driver(
    ctx: &Ctx,
    tctx: &TenantCtx,
    id: Uuid,
) -> AppResult<(cloud_server::Model, Box<dyn CloudDriver>)> {
    let server = servers::get(ctx, tctx, id).await?;
    let provider = tctx
        .scope()
        .find_by_id::<cloud_provider::Entity, _>(&tctx.on(&ctx.db), server.provider_id)
        .await?
        .ok_or(AppError::NotFound("cloud provider"))?;
    tctx.reads.release().await;
    Ok((server, drivers::for_provider(ctx, &provider)?))
}

/// As [`with_driver`], with the provider's id of the server (CONFLICT until it has one).
async fn at_provider(
    ctx: &Ctx,
    tctx: &TenantCtx,
    id: Uuid,
) -> AppResult<(cloud_server::Model, Box<dyn CloudDriver>, String)> {
    let (server, driver) = with_driver(ctx, tctx, id).await?;
    let external = server.external_id.clone().ok_or_else(|| {
        AppError::conflict("serverId", "the provider has not made this server yet: wait for its action")
    })?;
    Ok((server, driver, external))
}

/// The window to read: `start`/`end` default to the last hour, at most 30 days back and not
/// after now; `step` seconds default to about 60 points.
pub fn window(
    now: DateTime<Utc>,
    family: MetricFamily,
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
    step: Option<i32>,
) -> AppResult<MetricWindow> {
    let end = end.unwrap_or(now).min(now);
    let start = start.unwrap_or(end - Duration::hours(1));
    if start >= end {
        return Err(AppError::validation("start", "must be before end (and before now)"));
    }
    if start < now - Duration::days(MAX_WINDOW_DAYS) {
        return Err(AppError::validation("start", "metrics are kept for 30 days"));
    }
    let step = match step {
        Some(s) if !(1..=86_400).contains(&s) => {
            return Err(AppError::validation("step", "must be 1 to 86400 seconds"));
        }
        Some(s) => s as i64,
        None => ((end - start).num_seconds() / 60).max(1),
    };
    Ok(MetricWindow { family, start, end, step })
}

/// The series of `w.family` of server `id` (`infrastructure.read`).
pub async fn metrics(
    ctx: &Ctx,
    tctx: &TenantCtx,
    id: Uuid,
    w: &MetricWindow,
) -> AppResult<Vec<MetricSeries>> {
    let (_, driver, external) = at_provider(ctx, tctx, id).await?;
    Ok(driver.server_metrics(&external, w).await?)
}

/// What server `id` costs a month at its type and location (`infrastructure.read`); `None`
/// when the provider's price list does not have them.
pub async fn monthly_cost(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> AppResult<Option<MonthlyPrice>> {
    let (server, driver) = with_driver(ctx, tctx, id).await?;
    Ok(driver.server_price(&server.server_type, &server.location).await?)
}

/// Opens a console session to server `id` (`infrastructure.console`). The reason (5 to 500
/// characters) is written to the audit log first, so no console is ever opened unrecorded.
pub async fn open_console(ctx: &Ctx, tctx: &TenantCtx, id: Uuid, reason: &str) -> AppResult<RemoteConsole> {
    tctx.require(Permission::InfrastructureConsole)?;
    let reason = reason.trim();
    if !(5..=500).contains(&reason.chars().count()) {
        return Err(AppError::validation("input.reason", "say why, in 5 to 500 characters"));
    }
    let (server, driver, external) = at_provider(ctx, tctx, id).await?;
    let tx = TenantTx::begin(ctx, tctx, Permission::InfrastructureConsole).await?;
    tx.commit_with(Change {
        action: "server.console_opened",
        target_type: "Server",
        target_id: Some(id),
        before: None,
        after: Some(json!({ "name": server.name, "reason": reason })),
    })
    .await?;
    Ok(driver.request_console(&external).await?)
}

/// What the root password sealed on action `id` is bound to.
pub fn secret_aad(action: Uuid) -> String {
    format!("infrastructure_action:{action}")
}

/// The root password a rescue or reset action got from the provider, revealed once to the
/// member who asked for the action (`infrastructure.manage`), then erased; audited as
/// `server.root_password_revealed` (without the password). NOT_FOUND for anyone else and once
/// revealed.
pub async fn reveal_root_password(
    ctx: &Ctx,
    tctx: &TenantCtx,
    action_id: Uuid,
) -> AppResult<(String, entity::infrastructure_action::Model)> {
    use entity::infrastructure_action as action;
    use sea_orm::Set;
    tctx.require(Permission::InfrastructureManage)?;
    let tx = TenantTx::begin(ctx, tctx, Permission::InfrastructureManage).await?;
    let scope = tx.scope();
    let row = scope
        .find_by_id::<action::Entity, _>(&tx, action_id)
        .await?
        .filter(|a| a.requested_by.is_some() && a.requested_by == tctx.acting_user())
        .ok_or(AppError::NotFound("root password"))?;
    let Some(sealed) = row.sealed_secret.clone() else { return Err(AppError::NotFound("root password")) };
    let password = ctx
        .keys
        .decrypt(row.tenant_id, &secret_aad(row.id), &sealed)
        .map_err(|_| AppError::Internal(anyhow::anyhow!("the sealed root password cannot be read")))?;
    let mut am: action::ActiveModel = row.clone().into();
    am.sealed_secret = Set(None);
    am.updated_at = Set(ctx.now());
    let updated = scope.update(&tx, am).await?;
    tx.commit_with(Change {
        action: "server.root_password_revealed",
        target_type: "Server",
        target_id: Some(row.target_id),
        before: None,
        after: Some(json!({ "action": row.id, "kind": row.kind })),
    })
    .await?;
    Ok((password, updated))
}
