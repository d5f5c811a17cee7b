//! Volumes: create, attach to a server of the same provider account, detach, resize (grow
//! only), delete — each an audited change recording a durable provider action — and reading
//! them.

use entity::{cloud_server, cloud_volume, cloud_volume::VolumeStatus, infrastructure_action as action};
use sea_orm::{ColumnTrait, QueryFilter, Set};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{
    actions,
    servers::{check_labels, provider_in},
};
use crate::{
    access::{Change, TenantCtx, TenantTx},
    auth::Permission,
    ctx::Ctx,
    db::page::{Rows, Window},
    error::{AppError, AppResult},
};

/// Smallest and largest volume, in GB (Hetzner's bounds).
pub const MIN_GB: i32 = 10;
pub const MAX_GB: i32 = 10240;

/// A volume to create.
pub struct NewVolume {
    pub provider: Uuid,
    pub name: String,
    pub size_gb: i32,
    pub location: String,
    pub labels: Value,
}

fn check_size(field: &str, size: i32) -> AppResult<()> {
    if !(MIN_GB..=MAX_GB).contains(&size) {
        return Err(AppError::validation(field, format!("must be {MIN_GB} to {MAX_GB} GB")));
    }
    Ok(())
}

fn check_volume_name(field: &str, name: &str) -> AppResult<String> {
    let n = name.trim();
    if n.is_empty()
        || n.len() > 64
        || !n.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(AppError::validation(field, "must be 1 to 64 letters, digits, -, _ or ."));
    }
    Ok(n.to_string())
}

async fn volume_in(tx: &TenantTx<'_>, id: Uuid) -> AppResult<cloud_volume::Model> {
    tx.scope().find_by_id::<cloud_volume::Entity, _>(tx, id).await?.ok_or(AppError::NotFound("volume"))
}

async fn mark(
    tx: &TenantTx<'_>,
    v: &cloud_volume::Model,
    status: VolumeStatus,
) -> AppResult<cloud_volume::Model> {
    if matches!(
        v.status,
        VolumeStatus::Busy | VolumeStatus::Deleting | VolumeStatus::Pending | VolumeStatus::Creating
    ) {
        return Err(AppError::conflict("id", "the volume has an action in progress"));
    }
    let mut am: cloud_volume::ActiveModel = v.clone().into();
    am.status = Set(status);
    am.updated_at = Set(tx.ctx().now());
    Ok(tx.scope().update(tx, am).await?)
}

async fn audit_and_commit(
    tx: TenantTx<'_>,
    action_name: &'static str,
    id: Uuid,
    before: Option<Value>,
    after: Option<Value>,
) -> AppResult<()> {
    tx.commit_with(Change { action: action_name, target_type: "Volume", target_id: Some(id), before, after })
        .await
}

/// Asks for a volume (`infrastructure.manage`).
pub async fn create(
    ctx: &Ctx,
    tctx: &TenantCtx,
    req: NewVolume,
) -> AppResult<(cloud_volume::Model, action::Model)> {
    tctx.require(Permission::InfrastructureManage)?;
    let name = check_volume_name("input.name", &req.name)?;
    check_size("input.sizeGb", req.size_gb)?;
    let location = req.location.trim().to_string();
    if location.is_empty() || location.len() > 64 {
        return Err(AppError::validation("input.location", "must be 1 to 64 characters"));
    }
    let labels = check_labels("input.labels", &req.labels)?;
    let mut tx = TenantTx::begin(ctx, tctx, Permission::InfrastructureManage).await?;
    provider_in(&tx, req.provider).await?;
    let scope = tx.scope();
    let id = Uuid::now_v7();
    let now = ctx.now();
    let v = scope
        .insert(
            &tx,
            cloud_volume::ActiveModel {
                id: Set(id),
                tenant_id: Set(scope.tenant_id()),
                provider_id: Set(req.provider),
                server_id: Set(None),
                name: Set(name.clone()),
                size_gb: Set(req.size_gb),
                location: Set(location),
                status: Set(VolumeStatus::Pending),
                external_id: Set(None),
                labels: Set(labels),
                created_at: Set(now),
                updated_at: Set(now),
            },
        )
        .await
        .map_err(|e| {
            AppError::from_db_unique(e, "input.name", "this provider account has a volume of this name")
        })?;
    let a = actions::request(&mut tx, req.provider, "volume.create", "volume", id, json!({}), None).await?;
    audit_and_commit(tx, "volume.created", id, None, Some(json!({ "name": name, "sizeGb": req.size_gb })))
        .await?;
    Ok((v, a))
}

/// Asks to attach a volume to a server of the same account (`infrastructure.manage`).
pub async fn attach(
    ctx: &Ctx,
    tctx: &TenantCtx,
    id: Uuid,
    server: Uuid,
) -> AppResult<(cloud_volume::Model, action::Model)> {
    let mut tx = TenantTx::begin(ctx, tctx, Permission::InfrastructureManage).await?;
    let v = volume_in(&tx, id).await?;
    let s = tx
        .scope()
        .find_by_id::<cloud_server::Entity, _>(&tx, server)
        .await?
        .ok_or_else(|| AppError::validation("input.serverId", "no such server"))?;
    if s.provider_id != v.provider_id {
        return Err(AppError::validation("input.serverId", "the server is on another provider account"));
    }
    if v.server_id.is_some() {
        return Err(AppError::conflict("input.volumeId", "the volume is attached already; detach it first"));
    }
    let v2 = mark(&tx, &v, VolumeStatus::Busy).await?;
    let a = actions::request(
        &mut tx,
        v.provider_id,
        "volume.attach",
        "volume",
        id,
        json!({ "server": server }),
        None,
    )
    .await?;
    audit_and_commit(tx, "volume.attached", id, None, Some(json!({ "server": s.name }))).await?;
    Ok((v2, a))
}

/// Asks to detach a volume (`infrastructure.manage`).
pub async fn detach(
    ctx: &Ctx,
    tctx: &TenantCtx,
    id: Uuid,
) -> AppResult<(cloud_volume::Model, action::Model)> {
    let mut tx = TenantTx::begin(ctx, tctx, Permission::InfrastructureManage).await?;
    let v = volume_in(&tx, id).await?;
    if v.server_id.is_none() {
        return Err(AppError::conflict("input.volumeId", "the volume is not attached"));
    }
    let v2 = mark(&tx, &v, VolumeStatus::Busy).await?;
    let a = actions::request(&mut tx, v.provider_id, "volume.detach", "volume", id, json!({}), None).await?;
    audit_and_commit(tx, "volume.detached", id, None, None).await?;
    Ok((v2, a))
}

/// Asks to grow a volume (`infrastructure.manage`); a size not above the current one is a
/// validation error.
pub async fn resize(
    ctx: &Ctx,
    tctx: &TenantCtx,
    id: Uuid,
    size_gb: i32,
) -> AppResult<(cloud_volume::Model, action::Model)> {
    tctx.require(Permission::InfrastructureManage)?;
    check_size("input.sizeGb", size_gb)?;
    let mut tx = TenantTx::begin(ctx, tctx, Permission::InfrastructureManage).await?;
    let v = volume_in(&tx, id).await?;
    if size_gb <= v.size_gb {
        return Err(AppError::validation(
            "input.sizeGb",
            format!("volumes only grow: must be more than {} GB", v.size_gb),
        ));
    }
    let v2 = mark(&tx, &v, VolumeStatus::Busy).await?;
    let a = actions::request(
        &mut tx,
        v.provider_id,
        "volume.resize",
        "volume",
        id,
        json!({ "sizeGb": size_gb }),
        None,
    )
    .await?;
    audit_and_commit(
        tx,
        "volume.resized",
        id,
        Some(json!({ "sizeGb": v.size_gb })),
        Some(json!({ "sizeGb": size_gb })),
    )
    .await?;
    Ok((v2, a))
}

/// Asks to delete a detached volume (`infrastructure.manage`).
pub async fn delete(
    ctx: &Ctx,
    tctx: &TenantCtx,
    id: Uuid,
) -> AppResult<(cloud_volume::Model, action::Model)> {
    let mut tx = TenantTx::begin(ctx, tctx, Permission::InfrastructureManage).await?;
    let v = volume_in(&tx, id).await?;
    if v.server_id.is_some() {
        return Err(AppError::conflict("id", "the volume is attached; detach it first"));
    }
    let v2 = mark(&tx, &v, VolumeStatus::Deleting).await?;
    let a = actions::request(&mut tx, v.provider_id, "volume.delete", "volume", id, json!({}), None).await?;
    audit_and_commit(tx, "volume.deleted", id, Some(json!({ "name": v.name })), None).await?;
    Ok((v2, a))
}

/// One volume (`infrastructure.read`).
pub async fn get(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> AppResult<cloud_volume::Model> {
    tctx.require(Permission::InfrastructureRead)?;
    tctx.scope()
        .find_by_id::<cloud_volume::Entity, _>(&tctx.on(&ctx.db), id)
        .await?
        .ok_or(AppError::NotFound("volume"))
}

/// A page of the organisation's volumes (`infrastructure.read`), optionally one account's.
pub async fn list(
    ctx: &Ctx,
    tctx: &TenantCtx,
    provider: Option<Uuid>,
    w: Window,
) -> AppResult<Rows<cloud_volume::Model>> {
    tctx.require(Permission::InfrastructureRead)?;
    let db = tctx.on(&ctx.db);
    let mut q = tctx.scope().find::<cloud_volume::Entity>();
    if let Some(p) = provider {
        q = q.filter(cloud_volume::Column::ProviderId.eq(p));
    }
    Ok(crate::db::page::page(&db, q, cloud_volume::Column::Id, w).await?)
}
