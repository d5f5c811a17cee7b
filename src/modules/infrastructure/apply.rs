//! What each kind of infrastructure action does with the provider and then with our rows
//! (the executor of [`super::actions::Execute`]). Every create looks first for a resource
//! carrying its `zygo-id` label (or, for DNS, the same name and value) and adopts it, so an
//! attempt repeated after a lost answer never makes a second one. Transitional states
//! (initializing, starting, stopping, creating) are waited out by looking again.

use entity::{
    cloud_provider, cloud_server, cloud_server::ServerStatus, cloud_volume, cloud_volume::VolumeStatus,
    dns_record, dns_zone, dns_zone::DnsStatus, infrastructure_action as action,
};
use sea_orm::{ColumnTrait, QueryFilter, Set};
use serde_json::Value;
use uuid::Uuid;

use super::{
    InfraEvent, actions,
    drivers::{
        self, CloudDriver, DriverError, DriverResult, Labels, RemoteRecord, RemoteServer, RootAccessOp,
        ServerOp, ServerSpec, VolumeSpec,
    },
    topic,
};
use crate::{
    access::{TenantCtx, TenantTx},
    ctx::Ctx,
};

/// The labels every provider resource of ours carries besides its own.
pub fn zygo_labels(tenant: Uuid, id: Uuid, own: &Value) -> Labels {
    let mut l: Labels = own
        .as_object()
        .map(|o| o.iter().filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string()))).collect())
        .unwrap_or_default();
    l.insert("zygo-tenant".into(), tenant.to_string());
    l.insert("zygo-id".into(), id.to_string());
    l
}

/// Our state of a server from the provider's.
pub fn server_status(s: &str) -> ServerStatus {
    match s {
        "initializing" => ServerStatus::Initializing,
        "starting" => ServerStatus::Starting,
        "running" => ServerStatus::Running,
        "stopping" => ServerStatus::Stopping,
        "off" => ServerStatus::Off,
        "deleting" => ServerStatus::Deleting,
        "rebuilding" => ServerStatus::Rebuilding,
        "migrating" => ServerStatus::Resizing,
        _ => ServerStatus::Error,
    }
}

fn gone(what: &str) -> DriverError {
    DriverError::provider("not_found", format!("the {what} no longer exists at the provider"))
}

async fn provider(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> DriverResult<cloud_provider::Model> {
    let db = tctx.on(&ctx.db);
    let p = tctx.scope().find_by_id::<cloud_provider::Entity, _>(&db, id).await?;
    tctx.reads.release().await;
    p.ok_or_else(|| DriverError::provider("not_found", "the provider account was removed"))
}

macro_rules! read_row {
    ($ctx:expr, $tctx:expr, $entity:ty, $id:expr) => {{
        let db = $tctx.on(&$ctx.db);
        let r = $tctx.scope().find_by_id::<$entity, _>(&db, $id).await?;
        $tctx.reads.release().await;
        r
    }};
}

/// Writes `change` to row `id` of `$entity` and announces the resource (with the status the
/// change gave it, for rows that have one).
macro_rules! write_row {
    ($ctx:expr, $tctx:expr, $entity:ty, $am:ty, $kind:expr, $id:expr, $change:expr) => {
        write_row!($ctx, $tctx, $entity, $am, $kind, $id, $change, |_| InfraEvent::resource($kind, $id))
    };
    ($ctx:expr, $tctx:expr, $entity:ty, $am:ty, $kind:expr, $id:expr, $change:expr, $event:expr) => {{
        let mut tx = TenantTx::open($ctx, $tctx).await?;
        let scope = tx.scope();
        if let Some(row) = scope.find_by_id::<$entity, _>(&tx, $id).await? {
            let mut am: $am = row.into();
            am.updated_at = Set($ctx.now());
            ($change)(&mut am);
            let row = scope.update(&tx, am).await?;
            tx.emit(topic(scope.tenant_id()), &($event)(&row));
            tx.commit().await?;
        }
    }};
}

async fn set_server(
    ctx: &Ctx,
    tctx: &TenantCtx,
    id: Uuid,
    change: impl FnOnce(&mut cloud_server::ActiveModel),
) -> DriverResult<()> {
    write_row!(
        ctx,
        tctx,
        cloud_server::Entity,
        cloud_server::ActiveModel,
        "server",
        id,
        change,
        |r: &cloud_server::Model| { InfraEvent::resource_in("server", id, r.status) }
    );
    Ok(())
}

async fn set_volume(
    ctx: &Ctx,
    tctx: &TenantCtx,
    id: Uuid,
    change: impl FnOnce(&mut cloud_volume::ActiveModel),
) -> DriverResult<()> {
    write_row!(
        ctx,
        tctx,
        cloud_volume::Entity,
        cloud_volume::ActiveModel,
        "volume",
        id,
        change,
        |r: &cloud_volume::Model| { InfraEvent::resource_in("volume", id, r.status) }
    );
    Ok(())
}

async fn set_zone(
    ctx: &Ctx,
    tctx: &TenantCtx,
    id: Uuid,
    change: impl FnOnce(&mut dns_zone::ActiveModel),
) -> DriverResult<()> {
    write_row!(ctx, tctx, dns_zone::Entity, dns_zone::ActiveModel, "dns_zone", id, change);
    Ok(())
}

async fn set_record(
    ctx: &Ctx,
    tctx: &TenantCtx,
    id: Uuid,
    change: impl FnOnce(&mut dns_record::ActiveModel),
) -> DriverResult<()> {
    write_row!(ctx, tctx, dns_record::Entity, dns_record::ActiveModel, "dns_record", id, change);
    Ok(())
}

/// Deletes row `id` (a server also frees its volumes and floating IPs) and announces it gone.
async fn remove(ctx: &Ctx, tctx: &TenantCtx, kind: &str, id: Uuid) -> DriverResult<()> {
    let mut tx = TenantTx::open(ctx, tctx).await?;
    let scope = tx.scope();
    match kind {
        "server" => {
            scope
                .update_many::<cloud_volume::Entity>()
                .col_expr(
                    cloud_volume::Column::ServerId,
                    sea_orm::sea_query::Expr::value(Option::<Uuid>::None),
                )
                .filter(cloud_volume::Column::ServerId.eq(id))
                .exec(&tx)
                .await?;
            // Its floating IPs are unassigned with it (as the provider does).
            scope
                .update_many::<entity::cloud_floating_ip::Entity>()
                .col_expr(
                    entity::cloud_floating_ip::Column::ServerId,
                    sea_orm::sea_query::Expr::value(Option::<Uuid>::None),
                )
                .filter(entity::cloud_floating_ip::Column::ServerId.eq(id))
                .exec(&tx)
                .await?;
            // The provider took it out of its networks, firewalls and load balancers.
            super::networking::forget_server(&tx, id).await?;
            // Its snapshots stay, no longer tied to it.
            scope
                .update_many::<entity::cloud_snapshot::Entity>()
                .col_expr(
                    entity::cloud_snapshot::Column::ServerId,
                    sea_orm::sea_query::Expr::value(Option::<Uuid>::None),
                )
                .filter(entity::cloud_snapshot::Column::ServerId.eq(id))
                .exec(&tx)
                .await?;
            scope
                .delete_many::<cloud_server::Entity>()
                .filter(cloud_server::Column::Id.eq(id))
                .exec(&tx)
                .await?;
        }
        "volume" => {
            scope
                .delete_many::<cloud_volume::Entity>()
                .filter(cloud_volume::Column::Id.eq(id))
                .exec(&tx)
                .await?;
        }
        _ => {
            scope.delete_many::<dns_record::Entity>().filter(dns_record::Column::Id.eq(id)).exec(&tx).await?;
        }
    }
    tx.emit(
        topic(scope.tenant_id()),
        &InfraEvent {
            action: None,
            resource_type: kind.into(),
            resource_id: id,
            deleted: true,
            status: None,
        },
    );
    tx.commit().await?;
    Ok(())
}

/// Looks at a server until it leaves its transitional state.
async fn settle_server(ctx: &Ctx, driver: &dyn CloudDriver, ext: &str) -> DriverResult<RemoteServer> {
    let deadline = std::time::Instant::now()
        + std::time::Duration::from_secs(ctx.config.infrastructure.action_timeout_seconds);
    loop {
        let s = driver.get_server(ext).await?.ok_or_else(|| gone("server"))?;
        if !matches!(s.status.as_str(), "initializing" | "starting" | "stopping" | "rebuilding") {
            return Ok(s);
        }
        if std::time::Instant::now() > deadline {
            return Err(DriverError::transient(format!("the server is still {}", s.status)));
        }
        let pause = driver.poll_interval();
        if !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
    }
}

/// Looks at a server after a shutdown until it is off or the shutdown timeout has passed.
async fn off_or_timeout(ctx: &Ctx, driver: &dyn CloudDriver, ext: &str) -> DriverResult<RemoteServer> {
    let deadline = std::time::Instant::now()
        + std::time::Duration::from_secs(ctx.config.infrastructure.shutdown_timeout_seconds);
    loop {
        let s = driver.get_server(ext).await?.ok_or_else(|| gone("server"))?;
        if s.status == "off" || std::time::Instant::now() > deadline {
            return Ok(s);
        }
        let pause = driver.poll_interval().max(std::time::Duration::from_millis(200));
        tokio::time::sleep(pause).await;
    }
}

async fn settle_volume(
    ctx: &Ctx,
    driver: &dyn CloudDriver,
    ext: &str,
) -> DriverResult<drivers::RemoteVolume> {
    let deadline = std::time::Instant::now()
        + std::time::Duration::from_secs(ctx.config.infrastructure.action_timeout_seconds);
    loop {
        let v = driver.get_volume(ext).await?.ok_or_else(|| gone("volume"))?;
        if v.status != "creating" {
            return Ok(v);
        }
        if std::time::Instant::now() > deadline {
            return Err(DriverError::transient("the volume is still being created"));
        }
        let pause = driver.poll_interval();
        if !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
    }
}

fn param<'a>(a: &'a action::Model, key: &str) -> &'a Value {
    &a.params[key]
}

/// Carries out action `a`.
pub(super) async fn run(ctx: &Ctx, tctx: &TenantCtx, a: &action::Model) -> DriverResult<()> {
    let p = provider(ctx, tctx, a.provider_id).await?;
    let driver = drivers::for_provider(ctx, &p)?;
    let driver = driver.as_ref();
    match a.target_type.as_str() {
        "server" => server(ctx, tctx, driver, a).await,
        "volume" => volume(ctx, tctx, driver, a).await,
        "dns_zone" => zone(ctx, tctx, driver, a).await,
        "dns_record" => record(ctx, tctx, driver, a).await,
        "snapshot" => super::snapshots::apply(ctx, tctx, driver, a).await,
        "floating_ip" => super::floating_ips::apply(ctx, tctx, driver, a).await,
        "network" | "firewall" | "load_balancer" => super::networking::apply(ctx, tctx, driver, a).await,
        other => Err(DriverError::provider("invalid_input", format!("unknown target {other}"))),
    }
}

async fn server(
    ctx: &Ctx,
    tctx: &TenantCtx,
    driver: &dyn CloudDriver,
    a: &action::Model,
) -> DriverResult<()> {
    let Some(s) = read_row!(ctx, tctx, cloud_server::Entity, a.target_id) else {
        // Deleted meanwhile: nothing left to do.
        return Ok(());
    };
    if a.kind == "server.create" {
        let (remote, pending) = match &s.external_id {
            Some(ext) => (driver.get_server(ext).await?.ok_or_else(|| gone("server"))?, None),
            None => match driver.list_servers(&format!("zygo-id={}", s.id)).await?.into_iter().next() {
                // Made by an earlier attempt whose answer was lost: adopted.
                Some(found) => (found, None),
                None => {
                    let spec = ServerSpec {
                        name: s.name.clone(),
                        server_type: s.server_type.clone(),
                        image: s.image.clone(),
                        location: s.location.clone(),
                        labels: zygo_labels(s.tenant_id, s.id, &s.labels),
                    };
                    driver.create_server(&spec).await?
                }
            },
        };
        let (ext, ip, st) = (remote.id.clone(), remote.ipv4.clone(), server_status(&remote.status));
        set_server(ctx, tctx, s.id, |am| {
            am.external_id = Set(Some(ext));
            am.ipv4 = Set(ip);
            am.status = Set(st);
        })
        .await?;
        actions::wait(ctx, tctx, a.id, driver, pending).await?;
        let r = settle_server(ctx, driver, &remote.id).await?;
        return set_server(ctx, tctx, s.id, |am| {
            am.status = Set(server_status(&r.status));
            am.ipv4 = Set(r.ipv4);
        })
        .await;
    }
    let Some(ext) = s.external_id.clone() else {
        return Err(DriverError::provider("not_created", "the server was never created at the provider"));
    };
    if a.kind == "server.delete" {
        let pending = driver.delete_server(&ext).await?;
        actions::wait(ctx, tctx, a.id, driver, pending).await?;
        return remove(ctx, tctx, "server", s.id).await;
    }
    let access = match a.kind.as_str() {
        "server.enable_rescue" => Some(RootAccessOp::EnableRescue),
        "server.disable_rescue" => Some(RootAccessOp::DisableRescue),
        "server.reset_password" => Some(RootAccessOp::ResetPassword),
        _ => None,
    };
    if let Some(op) = access {
        let (pending, password) = driver.root_access(&ext, op).await?;
        if let Some(pw) = password {
            // Sealed at once: a retry after a crash asks again and replaces it.
            let sealed = ctx.keys.encrypt(s.tenant_id, &super::insight::secret_aad(a.id), &pw);
            actions::update(ctx, tctx, a.id, |am| am.sealed_secret = Set(Some(sealed))).await?;
        }
        actions::wait(ctx, tctx, a.id, driver, pending).await?;
        return set_server(ctx, tctx, s.id, |am| match op {
            RootAccessOp::EnableRescue => am.rescue_enabled = Set(true),
            RootAccessOp::DisableRescue => am.rescue_enabled = Set(false),
            RootAccessOp::ResetPassword => {}
        })
        .await;
    }
    let op = match a.kind.as_str() {
        "server.start" => ServerOp::Start,
        "server.stop" => ServerOp::Stop,
        "server.reboot" => ServerOp::Reboot,
        "server.reset" => ServerOp::Reset,
        "server.resize" => {
            ServerOp::Resize { server_type: param(a, "serverType").as_str().unwrap_or_default().to_string() }
        }
        "server.rebuild" => {
            ServerOp::Rebuild { image: param(a, "image").as_str().unwrap_or_default().to_string() }
        }
        other => return Err(DriverError::provider("invalid_input", format!("unknown action {other}"))),
    };
    let pending = driver.server_action(&ext, &op).await?;
    actions::wait(ctx, tctx, a.id, driver, pending).await?;
    let mut r = settle_server(ctx, driver, &ext).await?;
    if matches!(op, ServerOp::Stop) && r.status != "off" {
        // A graceful shutdown the system did not heed in time: the power is cut.
        r = off_or_timeout(ctx, driver, &ext).await?;
        if r.status != "off" {
            tracing::info!(server = %s.id, "shutdown not heeded in time: powering off");
            let pending = driver.server_action(&ext, &ServerOp::PowerOff).await?;
            actions::wait(ctx, tctx, a.id, driver, pending).await?;
            r = settle_server(ctx, driver, &ext).await?;
        }
    }
    set_server(ctx, tctx, s.id, |am| {
        am.status = Set(server_status(&r.status));
        am.ipv4 = Set(r.ipv4);
        if !r.server_type.is_empty() {
            am.server_type = Set(r.server_type);
        }
        // A rebuilt server runs what it was rebuilt from.
        if let ServerOp::Rebuild { image } = &op {
            am.image = Set(image.clone());
        }
    })
    .await
}

/// The provider's id of server `id`.
pub(super) async fn server_ext(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> DriverResult<String> {
    read_row!(ctx, tctx, cloud_server::Entity, id)
        .and_then(|s| s.external_id)
        .ok_or_else(|| DriverError::provider("not_found", "the server is not (or no longer) at the provider"))
}

async fn volume(
    ctx: &Ctx,
    tctx: &TenantCtx,
    driver: &dyn CloudDriver,
    a: &action::Model,
) -> DriverResult<()> {
    let Some(v) = read_row!(ctx, tctx, cloud_volume::Entity, a.target_id) else { return Ok(()) };
    if a.kind == "volume.create" {
        let (remote, pending) = match &v.external_id {
            Some(ext) => (driver.get_volume(ext).await?.ok_or_else(|| gone("volume"))?, None),
            None => match driver.list_volumes(&format!("zygo-id={}", v.id)).await?.into_iter().next() {
                Some(found) => (found, None),
                None => {
                    let spec = VolumeSpec {
                        name: v.name.clone(),
                        size_gb: v.size_gb,
                        location: v.location.clone(),
                        labels: zygo_labels(v.tenant_id, v.id, &v.labels),
                    };
                    driver.create_volume(&spec).await?
                }
            },
        };
        let ext = remote.id.clone();
        set_volume(ctx, tctx, v.id, |am| {
            am.external_id = Set(Some(ext));
            am.status = Set(VolumeStatus::Creating);
        })
        .await?;
        actions::wait(ctx, tctx, a.id, driver, pending).await?;
        settle_volume(ctx, driver, &remote.id).await?;
        return set_volume(ctx, tctx, v.id, |am| am.status = Set(VolumeStatus::Available)).await;
    }
    let Some(ext) = v.external_id.clone() else {
        return Err(DriverError::provider("not_created", "the volume was never created at the provider"));
    };
    match a.kind.as_str() {
        "volume.attach" => {
            let server: Uuid = serde_json::from_value(param(a, "server").clone())
                .map_err(|_| DriverError::provider("invalid_input", "no server to attach to"))?;
            let sext = server_ext(ctx, tctx, server).await?;
            let current = driver.get_volume(&ext).await?.ok_or_else(|| gone("volume"))?;
            // Attached by an earlier attempt already: nothing more to ask.
            if current.server.as_deref() != Some(sext.as_str()) {
                let pending = driver.attach_volume(&ext, &sext).await?;
                actions::wait(ctx, tctx, a.id, driver, pending).await?;
            }
            set_volume(ctx, tctx, v.id, |am| {
                am.server_id = Set(Some(server));
                am.status = Set(VolumeStatus::Available);
            })
            .await
        }
        "volume.detach" => {
            let current = driver.get_volume(&ext).await?.ok_or_else(|| gone("volume"))?;
            if current.server.is_some() {
                let pending = driver.detach_volume(&ext).await?;
                actions::wait(ctx, tctx, a.id, driver, pending).await?;
            }
            set_volume(ctx, tctx, v.id, |am| {
                am.server_id = Set(None);
                am.status = Set(VolumeStatus::Available);
            })
            .await
        }
        "volume.resize" => {
            let size = param(a, "sizeGb").as_i64().unwrap_or_default() as i32;
            let current = driver.get_volume(&ext).await?.ok_or_else(|| gone("volume"))?;
            if current.size_gb < size {
                let pending = driver.resize_volume(&ext, size).await?;
                actions::wait(ctx, tctx, a.id, driver, pending).await?;
            }
            set_volume(ctx, tctx, v.id, |am| {
                am.size_gb = Set(size);
                am.status = Set(VolumeStatus::Available);
            })
            .await
        }
        "volume.delete" => {
            driver.delete_volume(&ext).await?;
            remove(ctx, tctx, "volume", v.id).await
        }
        other => Err(DriverError::provider("invalid_input", format!("unknown action {other}"))),
    }
}

async fn zone(ctx: &Ctx, tctx: &TenantCtx, driver: &dyn CloudDriver, a: &action::Model) -> DriverResult<()> {
    let Some(z) = read_row!(ctx, tctx, dns_zone::Entity, a.target_id) else { return Ok(()) };
    let remote = match driver.find_zone(&z.name).await? {
        Some(found) => found,
        None => driver.create_zone(&z.name, z.ttl).await?,
    };
    set_zone(ctx, tctx, z.id, |am| {
        am.external_id = Set(Some(remote.id));
        am.status = Set(DnsStatus::Active);
    })
    .await
}

async fn record(
    ctx: &Ctx,
    tctx: &TenantCtx,
    driver: &dyn CloudDriver,
    a: &action::Model,
) -> DriverResult<()> {
    let Some(r) = read_row!(ctx, tctx, dns_record::Entity, a.target_id) else { return Ok(()) };
    let Some(zone_ext) = read_row!(ctx, tctx, dns_zone::Entity, r.zone_id).and_then(|z| z.external_id) else {
        // The zone's own action has not run yet: try again after it.
        return Err(DriverError::transient("the zone is not at the provider yet"));
    };
    if a.kind == "dns_record.delete" {
        if let Some(ext) = &r.external_id {
            driver.delete_record(ext).await?;
        }
        return remove(ctx, tctx, "dns_record", r.id).await;
    }
    let mut want = RemoteRecord {
        id: r.external_id.clone(),
        record_type: r.record_type.clone(),
        name: r.name.clone(),
        value: r.value.clone(),
        ttl: r.ttl,
    };
    if want.id.is_none() {
        // A record an earlier attempt wrote is taken over rather than written twice.
        let existing = driver.list_records(&zone_ext).await?;
        want.id = existing
            .into_iter()
            .find(|e| e.record_type == want.record_type && e.name == want.name && e.value == want.value)
            .and_then(|e| e.id);
    }
    let saved = driver.put_record(&zone_ext, &want).await?;
    set_record(ctx, tctx, r.id, |am| {
        am.external_id = Set(saved.id);
        am.status = Set(DnsStatus::Active);
    })
    .await
}

/// After action `a` FAILED: its resource shows it (a create that failed is ERROR; a server
/// whose power change failed goes back to the state it was in).
pub(super) async fn failed(ctx: &Ctx, tctx: &TenantCtx, a: &action::Model) -> DriverResult<()> {
    match (a.target_type.as_str(), a.kind.as_str()) {
        ("server", "server.create") => {
            set_server(ctx, tctx, a.target_id, |am| am.status = Set(ServerStatus::Error)).await
        }
        ("server", _) => {
            let before: Option<ServerStatus> =
                serde_json::from_value(param(a, "previousStatus").clone()).ok();
            match before {
                Some(st) => set_server(ctx, tctx, a.target_id, |am| am.status = Set(st)).await,
                None => Ok(()),
            }
        }
        ("volume", "volume.create") => {
            set_volume(ctx, tctx, a.target_id, |am| am.status = Set(VolumeStatus::Error)).await
        }
        ("volume", _) => {
            set_volume(ctx, tctx, a.target_id, |am| am.status = Set(VolumeStatus::Available)).await
        }
        ("snapshot", _) => super::snapshots::failed(ctx, tctx, a).await,
        ("floating_ip", _) => super::floating_ips::failed(ctx, tctx, a).await,
        ("network" | "firewall" | "load_balancer", _) => super::networking::failed(ctx, tctx, a).await,
        ("dns_zone", _) => set_zone(ctx, tctx, a.target_id, |am| am.status = Set(DnsStatus::Error)).await,
        ("dns_record", _) => set_record(ctx, tctx, a.target_id, |am| am.status = Set(DnsStatus::Error)).await,
        _ => Ok(()),
    }
}
