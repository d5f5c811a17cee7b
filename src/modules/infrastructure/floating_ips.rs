//! Floating IPs: addresses reserved through a provider account, assigned to one of its
//! servers (or to none) and given a reverse DNS name — each change audited and carried out as
//! a durable provider action ([`apply`]) — and reading them.

use entity::{
    cloud_floating_ip::{self as fip, FloatingIpStatus},
    cloud_server, infrastructure_action as action,
};
use sea_orm::{ColumnTrait, QueryFilter, Set};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{
    InfraEvent, actions,
    apply::{server_ext, zygo_labels},
    dns::is_hostname,
    drivers::{CloudDriver, DriverError, DriverResult, FloatingIpSpec},
    servers::{check_labels, provider_in},
    topic,
};
use crate::{
    access::{Change, TenantCtx, TenantTx},
    auth::Permission,
    ctx::Ctx,
    db::page::{Rows, Window},
    error::{AppError, AppResult},
};

/// A floating IP to reserve.
pub struct NewFloatingIp {
    pub provider: Uuid,
    pub name: String,
    /// `ipv4` or `ipv6`.
    pub ip_type: String,
    pub home_location: String,
    pub description: Option<String>,
    pub labels: Value,
}

pub(super) fn check_name(field: &str, name: &str) -> AppResult<String> {
    let n = name.trim();
    if n.is_empty()
        || n.len() > 64
        || !n.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(AppError::validation(field, "must be 1 to 64 letters, digits, -, _ or ."));
    }
    Ok(n.to_string())
}

async fn row_in(tx: &TenantTx<'_>, id: Uuid) -> AppResult<fip::Model> {
    tx.scope().find_by_id::<fip::Entity, _>(tx, id).await?.ok_or(AppError::NotFound("floating IP"))
}

/// Marks `f` busy (or deleting) for an action; CONFLICT while another is in progress.
async fn mark(tx: &TenantTx<'_>, f: &fip::Model, status: FloatingIpStatus) -> AppResult<fip::Model> {
    if f.status != FloatingIpStatus::Ready {
        return Err(AppError::conflict(
            "id",
            "the floating IP has an action in progress or is not reserved yet",
        ));
    }
    let mut am: fip::ActiveModel = f.clone().into();
    am.status = Set(status);
    am.updated_at = Set(tx.ctx().now());
    Ok(tx.scope().update(tx, am).await?)
}

async fn commit(
    tx: TenantTx<'_>,
    audit: &'static str,
    id: Uuid,
    before: Option<Value>,
    after: Option<Value>,
) -> AppResult<()> {
    tx.commit_with(Change { action: audit, target_type: "FloatingIp", target_id: Some(id), before, after })
        .await
}

/// Asks for a floating IP (`infrastructure.manage`).
pub async fn create(
    ctx: &Ctx,
    tctx: &TenantCtx,
    req: NewFloatingIp,
) -> AppResult<(fip::Model, action::Model)> {
    tctx.require(Permission::InfrastructureManage)?;
    let name = check_name("input.name", &req.name)?;
    let ip_type = match req.ip_type.as_str() {
        "ipv4" | "ipv6" => req.ip_type.clone(),
        _ => return Err(AppError::validation("input.type", "must be IPV4 or IPV6")),
    };
    let location = req.home_location.trim().to_string();
    if location.is_empty() || location.len() > 64 {
        return Err(AppError::validation("input.homeLocation", "must be 1 to 64 characters"));
    }
    let description = req.description.unwrap_or_default().trim().to_string();
    if description.chars().count() > 200 {
        return Err(AppError::validation("input.description", "at most 200 characters"));
    }
    let labels = check_labels("input.labels", &req.labels)?;
    let mut tx = TenantTx::begin(ctx, tctx, Permission::InfrastructureManage).await?;
    provider_in(&tx, req.provider).await?;
    let scope = tx.scope();
    let id = Uuid::now_v7();
    let now = ctx.now();
    let f = scope
        .insert(
            &tx,
            fip::ActiveModel {
                id: Set(id),
                tenant_id: Set(scope.tenant_id()),
                provider_id: Set(req.provider),
                server_id: Set(None),
                name: Set(name.clone()),
                ip_type: Set(ip_type.clone()),
                home_location: Set(location),
                description: Set(description),
                ip: Set(None),
                dns_ptr: Set(None),
                status: Set(FloatingIpStatus::Pending),
                external_id: Set(None),
                labels: Set(labels),
                created_at: Set(now),
                updated_at: Set(now),
            },
        )
        .await
        .map_err(|e| {
            AppError::from_db_unique(e, "input.name", "this provider account has a floating IP of this name")
        })?;
    let a = actions::request(&mut tx, req.provider, "floating_ip.create", "floating_ip", id, json!({}), None)
        .await?;
    commit(tx, "floating_ip.created", id, None, Some(json!({ "name": name, "type": ip_type }))).await?;
    Ok((f, a))
}

/// Asks to assign a floating IP to a server of the same account, moving it from the one it
/// is on (`infrastructure.manage`).
pub async fn assign(
    ctx: &Ctx,
    tctx: &TenantCtx,
    id: Uuid,
    server: Uuid,
) -> AppResult<(fip::Model, action::Model)> {
    let mut tx = TenantTx::begin(ctx, tctx, Permission::InfrastructureManage).await?;
    let f = row_in(&tx, id).await?;
    let s = tx
        .scope()
        .find_by_id::<cloud_server::Entity, _>(&tx, server)
        .await?
        .ok_or_else(|| AppError::validation("input.serverId", "no such server"))?;
    if s.provider_id != f.provider_id {
        return Err(AppError::validation("input.serverId", "the server is on another provider account"));
    }
    if s.external_id.is_none() {
        return Err(AppError::conflict("input.serverId", "the provider has not made this server yet"));
    }
    if f.server_id == Some(server) {
        return Err(AppError::conflict(
            "input.serverId",
            "the floating IP is assigned to this server already",
        ));
    }
    let marked = mark(&tx, &f, FloatingIpStatus::Busy).await?;
    let params = json!({ "server": server });
    let a = actions::request(&mut tx, f.provider_id, "floating_ip.assign", "floating_ip", id, params, None)
        .await?;
    commit(
        tx,
        "floating_ip.assigned",
        id,
        Some(json!({ "server": f.server_id })),
        Some(json!({ "server": s.name })),
    )
    .await?;
    Ok((marked, a))
}

/// Asks to unassign a floating IP (`infrastructure.manage`).
pub async fn unassign(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> AppResult<(fip::Model, action::Model)> {
    let mut tx = TenantTx::begin(ctx, tctx, Permission::InfrastructureManage).await?;
    let f = row_in(&tx, id).await?;
    if f.server_id.is_none() {
        return Err(AppError::conflict("floatingIpId", "the floating IP is not assigned"));
    }
    let marked = mark(&tx, &f, FloatingIpStatus::Busy).await?;
    let a =
        actions::request(&mut tx, f.provider_id, "floating_ip.unassign", "floating_ip", id, json!({}), None)
            .await?;
    commit(tx, "floating_ip.unassigned", id, Some(json!({ "server": f.server_id })), None).await?;
    Ok((marked, a))
}

/// Asks to set (or with `None`, reset) the reverse DNS name of a floating IP
/// (`infrastructure.manage`).
pub async fn set_reverse_dns(
    ctx: &Ctx,
    tctx: &TenantCtx,
    id: Uuid,
    dns_ptr: Option<String>,
) -> AppResult<(fip::Model, action::Model)> {
    tctx.require(Permission::InfrastructureManage)?;
    let ptr = dns_ptr.map(|p| p.trim().trim_end_matches('.').to_ascii_lowercase()).filter(|p| !p.is_empty());
    if let Some(p) = &ptr
        && (!is_hostname(p) || !p.contains('.'))
    {
        return Err(AppError::validation("input.dnsPtr", "must be a host name such as mail.example.com"));
    }
    let mut tx = TenantTx::begin(ctx, tctx, Permission::InfrastructureManage).await?;
    let f = row_in(&tx, id).await?;
    let marked = mark(&tx, &f, FloatingIpStatus::Busy).await?;
    let params = json!({ "dnsPtr": ptr });
    let a = actions::request(&mut tx, f.provider_id, "floating_ip.dns_ptr", "floating_ip", id, params, None)
        .await?;
    commit(
        tx,
        "floating_ip.dns_ptr_changed",
        id,
        Some(json!({ "dnsPtr": f.dns_ptr })),
        Some(json!({ "dnsPtr": ptr })),
    )
    .await?;
    Ok((marked, a))
}

/// Asks to release a floating IP (`infrastructure.manage`); an assigned one is unassigned by
/// the provider as it goes.
pub async fn delete(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> AppResult<(fip::Model, action::Model)> {
    let mut tx = TenantTx::begin(ctx, tctx, Permission::InfrastructureManage).await?;
    let f = row_in(&tx, id).await?;
    let marked = if f.status == FloatingIpStatus::Error {
        let mut am: fip::ActiveModel = f.clone().into();
        am.status = Set(FloatingIpStatus::Deleting);
        am.updated_at = Set(tx.ctx().now());
        tx.scope().update(&tx, am).await?
    } else {
        mark(&tx, &f, FloatingIpStatus::Deleting).await?
    };
    let a =
        actions::request(&mut tx, f.provider_id, "floating_ip.delete", "floating_ip", id, json!({}), None)
            .await?;
    commit(tx, "floating_ip.deleted", id, Some(json!({ "name": f.name, "ip": f.ip })), None).await?;
    Ok((marked, a))
}

/// One floating IP (`infrastructure.read`).
pub async fn get(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> AppResult<fip::Model> {
    tctx.require(Permission::InfrastructureRead)?;
    tctx.scope()
        .find_by_id::<fip::Entity, _>(&tctx.on(&ctx.db), id)
        .await?
        .ok_or(AppError::NotFound("floating IP"))
}

/// A page of the organisation's floating IPs, oldest first (`infrastructure.read`).
pub async fn list(ctx: &Ctx, tctx: &TenantCtx, w: Window) -> AppResult<Rows<fip::Model>> {
    tctx.require(Permission::InfrastructureRead)?;
    let db = tctx.on(&ctx.db);
    Ok(crate::db::page::page(&db, tctx.scope().find::<fip::Entity>(), fip::Column::Id, w).await?)
}

async fn read(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> DriverResult<Option<fip::Model>> {
    let row = tctx.scope().find_by_id::<fip::Entity, _>(&tctx.on(&ctx.db), id).await?;
    tctx.reads.release().await;
    Ok(row)
}

/// Writes `change` to floating IP `id` and announces it (or, `gone`, deletes and announces
/// that).
async fn set(
    ctx: &Ctx,
    tctx: &TenantCtx,
    id: Uuid,
    gone: bool,
    change: impl FnOnce(&mut fip::ActiveModel),
) -> DriverResult<()> {
    let mut tx = TenantTx::open(ctx, tctx).await?;
    let scope = tx.scope();
    let mut event = InfraEvent::resource("floating_ip", id);
    if gone {
        scope.delete_many::<fip::Entity>().filter(fip::Column::Id.eq(id)).exec(&tx).await?;
        event.deleted = true;
    } else if let Some(row) = scope.find_by_id::<fip::Entity, _>(&tx, id).await? {
        let mut am: fip::ActiveModel = row.into();
        am.updated_at = Set(ctx.now());
        change(&mut am);
        let row = scope.update(&tx, am).await?;
        event = InfraEvent::resource_in("floating_ip", id, row.status);
    }
    tx.emit(topic(scope.tenant_id()), &event);
    tx.commit().await?;
    Ok(())
}

fn gone() -> DriverError {
    DriverError::provider("not_found", "the floating IP no longer exists at the provider")
}

/// Carries out floating IP action `a` with its account's `driver`. A create first looks for an
/// address carrying the floating IP's `zygo-id` label and adopts it; an assignment or reverse
/// DNS change already in place at the provider is not asked for again.
pub(super) async fn apply(
    ctx: &Ctx,
    tctx: &TenantCtx,
    driver: &dyn CloudDriver,
    a: &action::Model,
) -> DriverResult<()> {
    let Some(f) = read(ctx, tctx, a.target_id).await? else { return Ok(()) };
    if a.kind == "floating_ip.create" {
        let (remote, pending) = match &f.external_id {
            Some(ext) => (driver.get_floating_ip(ext).await?.ok_or_else(gone)?, None),
            None => match driver.list_floating_ips(&format!("zygo-id={}", f.id)).await?.into_iter().next() {
                Some(found) => (found, None),
                None => {
                    let spec = FloatingIpSpec {
                        name: f.name.clone(),
                        ip_type: f.ip_type.clone(),
                        home_location: f.home_location.clone(),
                        description: f.description.clone(),
                        labels: zygo_labels(f.tenant_id, f.id, &f.labels),
                    };
                    driver.create_floating_ip(&spec).await?
                }
            },
        };
        let (ext, ip, ptr) = (remote.id.clone(), remote.ip.clone(), remote.dns_ptr.clone());
        set(ctx, tctx, f.id, false, |am| {
            am.external_id = Set(Some(ext));
            am.ip = Set(Some(ip));
            // The provider's own reverse DNS (Hetzner's `static.….your-server.de`): recorded,
            // or the reconciler would take it for a change made outside Zygo.
            am.dns_ptr = Set(ptr);
        })
        .await?;
        actions::wait(ctx, tctx, a.id, driver, pending).await?;
        return set(ctx, tctx, f.id, false, |am| am.status = Set(FloatingIpStatus::Ready)).await;
    }
    let Some(ext) = f.external_id.clone() else {
        if a.kind == "floating_ip.delete" {
            // Never reserved (its create failed): nothing to release at the provider.
            return set(ctx, tctx, f.id, true, |_| {}).await;
        }
        return Err(DriverError::provider(
            "not_created",
            "the floating IP was never reserved at the provider",
        ));
    };
    if a.kind == "floating_ip.delete" {
        driver.delete_floating_ip(&ext).await?;
        return set(ctx, tctx, f.id, true, |_| {}).await;
    }
    let current = driver.get_floating_ip(&ext).await?.ok_or_else(gone)?;
    match a.kind.as_str() {
        "floating_ip.assign" => {
            let server: Uuid = serde_json::from_value(a.params["server"].clone())
                .map_err(|_| DriverError::provider("invalid_input", "no server to assign to"))?;
            let sext = server_ext(ctx, tctx, server).await?;
            if current.server.as_deref() != Some(sext.as_str()) {
                let pending = driver.assign_floating_ip(&ext, &sext).await?;
                actions::wait(ctx, tctx, a.id, driver, pending).await?;
            }
            set(ctx, tctx, f.id, false, |am| {
                am.server_id = Set(Some(server));
                am.status = Set(FloatingIpStatus::Ready);
            })
            .await
        }
        "floating_ip.unassign" => {
            if current.server.is_some() {
                let pending = driver.unassign_floating_ip(&ext).await?;
                actions::wait(ctx, tctx, a.id, driver, pending).await?;
            }
            set(ctx, tctx, f.id, false, |am| {
                am.server_id = Set(None);
                am.status = Set(FloatingIpStatus::Ready);
            })
            .await
        }
        "floating_ip.dns_ptr" => {
            let ptr = a.params["dnsPtr"].as_str().map(str::to_string);
            if current.dns_ptr != ptr {
                let ip = current.ip.split('/').next().unwrap_or_default().to_string();
                let pending = driver.set_floating_ip_dns_ptr(&ext, &ip, ptr.as_deref()).await?;
                actions::wait(ctx, tctx, a.id, driver, pending).await?;
            }
            // A reset puts the provider's default name back: the row records that name.
            let ptr = match ptr {
                Some(p) => Some(p),
                None => driver.get_floating_ip(&ext).await?.and_then(|r| r.dns_ptr),
            };
            set(ctx, tctx, f.id, false, |am| {
                am.dns_ptr = Set(ptr);
                am.status = Set(FloatingIpStatus::Ready);
            })
            .await
        }
        other => Err(DriverError::provider("invalid_input", format!("unknown action {other}"))),
    }
}

/// After floating IP action `a` FAILED: one that could not be reserved is ERROR; otherwise it
/// is READY again as it was.
pub(super) async fn failed(ctx: &Ctx, tctx: &TenantCtx, a: &action::Model) -> DriverResult<()> {
    let status =
        if a.kind == "floating_ip.create" { FloatingIpStatus::Error } else { FloatingIpStatus::Ready };
    set(ctx, tctx, a.target_id, false, |am| am.status = Set(status)).await
}
