//! Snapshots: images of a server's disk made through its provider account — taken, listed,
//! restored onto a server (a rebuild, see [`super::servers::change`]) and deleted, each an
//! audited change recording a durable provider action. A snapshot outlives its server.

use entity::{
    cloud_server::{self, ServerStatus},
    cloud_snapshot::{self, SnapshotStatus},
    infrastructure_action as action,
};
use sea_orm::{ColumnTrait, QueryFilter, Set};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{
    InfraEvent, actions,
    apply::zygo_labels,
    drivers::{CloudDriver, DriverError, DriverResult},
    servers::check_labels,
    topic,
};
use crate::{
    access::{Change, TenantCtx, TenantTx},
    auth::Permission,
    ctx::Ctx,
    db::page::{Rows, Window},
    error::{AppError, AppResult},
};

/// At most this many characters of description.
const DESCRIPTION_MAX: usize = 200;

async fn snapshot_in(tx: &TenantTx<'_>, id: Uuid) -> AppResult<cloud_snapshot::Model> {
    tx.scope().find_by_id::<cloud_snapshot::Entity, _>(tx, id).await?.ok_or(AppError::NotFound("snapshot"))
}

/// Asks for a snapshot of server `server` (`infrastructure.manage`): the server must exist at
/// its provider and be running or off. No description: the server's name and the time.
pub async fn create(
    ctx: &Ctx,
    tctx: &TenantCtx,
    server: Uuid,
    description: Option<String>,
    labels: Value,
) -> AppResult<(cloud_snapshot::Model, action::Model)> {
    tctx.require(Permission::InfrastructureManage)?;
    let labels = check_labels("input.labels", &labels)?;
    if description.as_ref().is_some_and(|d| d.chars().count() > DESCRIPTION_MAX) {
        return Err(AppError::validation(
            "input.description",
            format!("at most {DESCRIPTION_MAX} characters"),
        ));
    }
    let mut tx = TenantTx::begin(ctx, tctx, Permission::InfrastructureManage).await?;
    let scope = tx.scope();
    let s = scope
        .find_by_id::<cloud_server::Entity, _>(&tx, server)
        .await?
        .ok_or_else(|| AppError::validation("input.serverId", "no such server"))?;
    if s.external_id.is_none() || !matches!(s.status, ServerStatus::Running | ServerStatus::Off) {
        return Err(AppError::conflict(
            "input.serverId",
            format!("the server must be running or off (it is {:?})", s.status),
        ));
    }
    let now = ctx.now();
    let description = match description.map(|d| d.trim().to_string()).filter(|d| !d.is_empty()) {
        Some(d) => d,
        None => format!("{} {}", s.name, now.format("%Y-%m-%d %H:%M")),
    };
    let id = Uuid::now_v7();
    let snap = scope
        .insert(
            &tx,
            cloud_snapshot::ActiveModel {
                id: Set(id),
                tenant_id: Set(scope.tenant_id()),
                provider_id: Set(s.provider_id),
                server_id: Set(Some(s.id)),
                description: Set(description.clone()),
                status: Set(SnapshotStatus::Pending),
                external_id: Set(None),
                size_gb: Set(None),
                labels: Set(labels),
                created_at: Set(now),
                updated_at: Set(now),
            },
        )
        .await?;
    let params = json!({ "server": s.id });
    let a = actions::request(&mut tx, s.provider_id, "snapshot.create", "snapshot", id, params, None).await?;
    tx.commit_with(Change {
        action: "snapshot.created",
        target_type: "Snapshot",
        target_id: Some(id),
        before: None,
        after: Some(json!({ "server": s.name, "description": description })),
    })
    .await?;
    Ok((snap, a))
}

/// Asks to delete a snapshot (`infrastructure.manage`); one still being made cannot be.
pub async fn delete(
    ctx: &Ctx,
    tctx: &TenantCtx,
    id: Uuid,
) -> AppResult<(cloud_snapshot::Model, action::Model)> {
    let mut tx = TenantTx::begin(ctx, tctx, Permission::InfrastructureManage).await?;
    let snap = snapshot_in(&tx, id).await?;
    if !matches!(snap.status, SnapshotStatus::Available | SnapshotStatus::Error) {
        return Err(AppError::conflict("id", "the snapshot has an action in progress"));
    }
    let mut am: cloud_snapshot::ActiveModel = snap.clone().into();
    am.status = Set(SnapshotStatus::Deleting);
    am.updated_at = Set(ctx.now());
    let marked = tx.scope().update(&tx, am).await?;
    let a = actions::request(&mut tx, snap.provider_id, "snapshot.delete", "snapshot", id, json!({}), None)
        .await?;
    tx.commit_with(Change {
        action: "snapshot.deleted",
        target_type: "Snapshot",
        target_id: Some(id),
        before: Some(json!({ "description": snap.description })),
        after: None,
    })
    .await?;
    Ok((marked, a))
}

/// The provider's image id of snapshot `id`, to rebuild a server of account `provider` from.
pub(super) async fn image_for(tx: &TenantTx<'_>, id: Uuid, provider: Uuid) -> AppResult<String> {
    let snap = tx
        .scope()
        .find_by_id::<cloud_snapshot::Entity, _>(tx, id)
        .await?
        .ok_or_else(|| AppError::validation("input.snapshotId", "no such snapshot"))?;
    if snap.provider_id != provider {
        return Err(AppError::validation("input.snapshotId", "the snapshot is on another provider account"));
    }
    match (snap.status, snap.external_id) {
        (SnapshotStatus::Available, Some(ext)) => Ok(ext),
        (st, _) => {
            Err(AppError::conflict("input.snapshotId", format!("the snapshot is not ready (it is {st:?})")))
        }
    }
}

/// A page of the organisation's snapshots, oldest first (`infrastructure.read`), optionally
/// those of one server.
pub async fn list(
    ctx: &Ctx,
    tctx: &TenantCtx,
    server: Option<Uuid>,
    w: Window,
) -> AppResult<Rows<cloud_snapshot::Model>> {
    tctx.require(Permission::InfrastructureRead)?;
    let db = tctx.on(&ctx.db);
    let mut q = tctx.scope().find::<cloud_snapshot::Entity>();
    if let Some(s) = server {
        q = q.filter(cloud_snapshot::Column::ServerId.eq(s));
    }
    Ok(crate::db::page::page(&db, q, cloud_snapshot::Column::Id, w).await?)
}

/// One snapshot (`infrastructure.read`).
pub async fn get(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> AppResult<cloud_snapshot::Model> {
    tctx.require(Permission::InfrastructureRead)?;
    tctx.scope()
        .find_by_id::<cloud_snapshot::Entity, _>(&tctx.on(&ctx.db), id)
        .await?
        .ok_or(AppError::NotFound("snapshot"))
}

async fn read(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> DriverResult<Option<cloud_snapshot::Model>> {
    let db = tctx.on(&ctx.db);
    let row = tctx.scope().find_by_id::<cloud_snapshot::Entity, _>(&db, id).await?;
    tctx.reads.release().await;
    Ok(row)
}

/// Writes `change` to snapshot `id` and announces it.
async fn set(
    ctx: &Ctx,
    tctx: &TenantCtx,
    id: Uuid,
    change: impl FnOnce(&mut cloud_snapshot::ActiveModel),
) -> DriverResult<()> {
    let mut tx = TenantTx::open(ctx, tctx).await?;
    let scope = tx.scope();
    if let Some(row) = scope.find_by_id::<cloud_snapshot::Entity, _>(&tx, id).await? {
        let mut am: cloud_snapshot::ActiveModel = row.into();
        am.updated_at = Set(ctx.now());
        change(&mut am);
        scope.update(&tx, am).await?;
        tx.emit(topic(scope.tenant_id()), &InfraEvent::resource("snapshot", id));
        tx.commit().await?;
    }
    Ok(())
}

/// Carries out snapshot action `a` with its account's `driver`. A create first looks for an
/// image carrying the snapshot's `zygo-id` label (made by an attempt whose answer was lost)
/// and adopts it.
pub(super) async fn apply(
    ctx: &Ctx,
    tctx: &TenantCtx,
    driver: &dyn CloudDriver,
    a: &action::Model,
) -> DriverResult<()> {
    let Some(snap) = read(ctx, tctx, a.target_id).await? else { return Ok(()) };
    if a.kind == "snapshot.delete" {
        if let Some(ext) = &snap.external_id {
            driver.delete_snapshot(ext).await?;
        }
        let mut tx = TenantTx::open(ctx, tctx).await?;
        let scope = tx.scope();
        scope
            .delete_many::<cloud_snapshot::Entity>()
            .filter(cloud_snapshot::Column::Id.eq(snap.id))
            .exec(&tx)
            .await?;
        tx.emit(
            topic(scope.tenant_id()),
            &InfraEvent {
                action: None,
                resource_type: "snapshot".into(),
                resource_id: snap.id,
                deleted: true,
                status: None,
            },
        );
        tx.commit().await?;
        return Ok(());
    }
    let (remote, pending) = match &snap.external_id {
        Some(ext) => (driver.get_snapshot(ext).await?.ok_or_else(gone)?, None),
        None => match driver.list_snapshots(&format!("zygo-id={}", snap.id)).await?.into_iter().next() {
            Some(found) => (found, None),
            None => {
                let server: Uuid = serde_json::from_value(a.params["server"].clone())
                    .map_err(|_| DriverError::provider("invalid_input", "no server to image"))?;
                let db = tctx.on(&ctx.db);
                let s = tctx.scope().find_by_id::<cloud_server::Entity, _>(&db, server).await?;
                tctx.reads.release().await;
                let ext = s.and_then(|s| s.external_id).ok_or_else(|| {
                    DriverError::provider("not_found", "the server is not (or no longer) at the provider")
                })?;
                let labels = zygo_labels(snap.tenant_id, snap.id, &snap.labels);
                driver.create_snapshot(&ext, &snap.description, &labels).await?
            }
        },
    };
    let ext = remote.id.clone();
    set(ctx, tctx, snap.id, |am| {
        am.external_id = Set(Some(ext));
        am.status = Set(SnapshotStatus::Creating);
    })
    .await?;
    actions::wait(ctx, tctx, a.id, driver, pending).await?;
    let made = settle(ctx, driver, &remote.id).await?;
    set(ctx, tctx, snap.id, |am| {
        am.status = Set(SnapshotStatus::Available);
        am.size_gb = Set(made.size_gb);
    })
    .await
}

fn gone() -> DriverError {
    DriverError::provider("not_found", "the snapshot no longer exists at the provider")
}

/// Looks at an image until it is no longer being made.
async fn settle(
    ctx: &Ctx,
    driver: &dyn CloudDriver,
    ext: &str,
) -> DriverResult<super::drivers::RemoteSnapshot> {
    let deadline = std::time::Instant::now()
        + std::time::Duration::from_secs(ctx.config.infrastructure.action_timeout_seconds);
    loop {
        let s = driver.get_snapshot(ext).await?.ok_or_else(gone)?;
        if s.status != "creating" {
            return Ok(s);
        }
        if std::time::Instant::now() > deadline {
            return Err(DriverError::transient("the snapshot is still being made"));
        }
        let pause = driver.poll_interval();
        if !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
    }
}

/// After snapshot action `a` FAILED: a snapshot that could not be made is ERROR; one that
/// could not be deleted is AVAILABLE again.
pub(super) async fn failed(ctx: &Ctx, tctx: &TenantCtx, a: &action::Model) -> DriverResult<()> {
    let status = if a.kind == "snapshot.create" { SnapshotStatus::Error } else { SnapshotStatus::Available };
    set(ctx, tctx, a.target_id, |am| am.status = Set(status)).await
}
