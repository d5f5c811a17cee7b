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
