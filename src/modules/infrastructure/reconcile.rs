//! The drift reconciler: every `ZYGO_INFRASTRUCTURE_RECONCILE_INTERVAL` it asks each provider
//! account for the servers, volumes, floating IPs, networks, firewalls and load balancers
//! (the last three in [`super::networking::drift`]) carrying the organisation's `zygo-tenant` label and
//! compares them with what Zygo holds. A resource deleted, powered, resized, grown or
//! re-attached outside Zygo is brought up to date and recorded as drift — an audit entry
//! (`server.drift_detected`, `volume.drift_detected`, also a webhook event) and a
//! `cloudResourceChanged` event; a labelled resource Zygo does not know is logged. A resource
//! with an action in progress is left to it, and a row that changed while the provider was
//! being asked is not overwritten.

use std::collections::HashMap;

use entity::{
    cloud_provider,
    cloud_server::{self, ServerStatus},
    cloud_volume::{self, VolumeStatus},
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;
use uuid::Uuid;

use super::{
    InfraEvent,
    apply::server_status,
    drivers::{self, CloudDriver, DriverResult},
    topic,
};
use crate::{
    access::{Change, TenantCtx, TenantTx},
    ctx::Ctx,
    db::lock_tenant,
    jobs::{Handler, JobResult},
};

pub const RECONCILE: &str = "infrastructure.reconcile";

/// Applies `$change` to row `$id` of `$entity` under the tenant's lock unless it was written
/// since `$seen` (an action got there first), records `$audit` and announces the resource.
/// Evaluates to whether it was written.
macro_rules! write_if_unchanged {
    ($ctx:expr, $tctx:expr, $entity:ty, $am:ty, $kind:expr, $id:expr, $seen:expr, $change:expr, $audit:expr) => {{
        let mut tx = TenantTx::open($ctx, $tctx).await?;
        let scope = tx.scope();
        lock_tenant(&tx, scope).await?;
        match scope.find_by_id::<$entity, _>(&tx, $id).await? {
            Some(row) if row.updated_at == $seen => {
                let mut am: $am = row.into();
                ($change)(&mut am);
                am.updated_at = Set($ctx.now());
                let row = scope.update(&tx, am).await?;
                tx.emit(topic(scope.tenant_id()), &InfraEvent::resource_in($kind, $id, row.status));
                tx.commit_with($audit).await?;
                true
            }
            _ => false,
        }
    }};
}

/// Statuses a server rests in: anything else has an action on the way.
fn settled_server(s: ServerStatus) -> bool {
    matches!(s, ServerStatus::Running | ServerStatus::Off)
}

/// Looks at every provider account; returns how many drifts were recorded.
pub async fn reconcile(ctx: &Ctx) -> usize {
    // Across tenants: the platform's periodic look at every organisation's accounts; each
    // account is then compared inside its organisation's own transactions.
    let accounts = match cloud_provider::Entity::find().all(&crate::db::across_tenants(&ctx.db)).await {
        Ok(a) => a,
        Err(e) => {
            tracing::error!(error = %e, "reconciler: accounts not read");
            return 0;
        }
    };
    let mut drifts = 0;
    for p in accounts {
        let driver = match drivers::for_provider(ctx, &p) {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(provider = %p.id, error = %e, "reconciler: account skipped");
                continue;
            }
        };
        match account(ctx, &p, driver.as_ref()).await {
            Ok(n) => drifts += n,
            // A provider that cannot be asked now says nothing about drift: next time.
            Err(e) => tracing::warn!(provider = %p.id, error = %e, "reconciler: account not compared"),
        }
    }
    drifts
}

async fn account(ctx: &Ctx, p: &cloud_provider::Model, driver: &dyn CloudDriver) -> DriverResult<usize> {
    let tctx = TenantCtx::system(p.tenant_id);
    let selector = format!("zygo-tenant={}", p.tenant_id);
    let remote_servers = driver.list_servers(&selector).await?;
    let remote_volumes = driver.list_volumes(&selector).await?;
    let (servers, volumes) = {
        let db = tctx.on(&ctx.db);
        let scope = tctx.scope();
        let s = scope
            .find::<cloud_server::Entity>()
            .filter(cloud_server::Column::ProviderId.eq(p.id))
            .all(&db)
            .await?;
        let v = scope
            .find::<cloud_volume::Entity>()
            .filter(cloud_volume::Column::ProviderId.eq(p.id))
            .all(&db)
            .await?;
        tctx.reads.release().await;
        (s, v)
    };
    let mut drifts = 0;
    let by_ext: HashMap<&str, Uuid> =
        servers.iter().filter_map(|s| s.external_id.as_deref().map(|e| (e, s.id))).collect();

    for row in servers.iter().filter(|s| s.external_id.is_some() && settled_server(s.status)) {
        let ext = row.external_id.as_deref().unwrap_or_default();
        let remote = remote_servers.iter().find(|r| r.id == ext);
        let (status, ipv4, server_type, what) = match remote {
            None => {
                (ServerStatus::Deleted, row.ipv4.clone(), row.server_type.clone(), "deleted outside Zygo")
            }
            Some(r) => {
                let st = server_status(&r.status);
                let ty =
                    if r.server_type.is_empty() { row.server_type.clone() } else { r.server_type.clone() };
                // A provider in the middle of something: look again next time.
                if !settled_server(st) || (st == row.status && ty == row.server_type && r.ipv4 == row.ipv4) {
                    continue;
                }
                (st, r.ipv4.clone(), ty, "changed outside Zygo")
            }
        };
        let before = json!({ "status": row.status, "serverType": row.server_type, "ipv4": row.ipv4 });
        let after = json!({ "status": status, "serverType": server_type, "ipv4": ipv4, "drift": what });
        let audit = Change {
            action: "server.drift_detected",
            target_type: "Server",
            target_id: Some(row.id),
            before: Some(before),
            after: Some(after),
        };
        let written = write_if_unchanged!(
            ctx,
            &tctx,
            cloud_server::Entity,
            cloud_server::ActiveModel,
            "server",
            row.id,
            row.updated_at,
            |am: &mut cloud_server::ActiveModel| {
                am.status = Set(status);
                am.ipv4 = Set(ipv4);
                am.server_type = Set(server_type);
            },
            audit
        );
        drifts += usize::from(written);
    }

    for row in volumes.iter().filter(|v| v.external_id.is_some() && v.status == VolumeStatus::Available) {
        let ext = row.external_id.as_deref().unwrap_or_default();
        let remote = remote_volumes.iter().find(|r| r.id == ext);
        let (status, size, server, what) = match remote {
            None => (VolumeStatus::Deleted, row.size_gb, None, "deleted outside Zygo"),
            Some(r) => {
                let server = r.server.as_deref().and_then(|e| by_ext.get(e).copied());
                if r.status != "available" || (r.size_gb == row.size_gb && server == row.server_id) {
                    continue;
                }
                (VolumeStatus::Available, r.size_gb, server, "changed outside Zygo")
            }
        };
        let before = json!({ "status": row.status, "sizeGb": row.size_gb, "serverId": row.server_id });
        let after = json!({ "status": status, "sizeGb": size, "serverId": server, "drift": what });
        let audit = Change {
            action: "volume.drift_detected",
            target_type: "Volume",
            target_id: Some(row.id),
            before: Some(before),
            after: Some(after),
        };
        let written = write_if_unchanged!(
            ctx,
            &tctx,
            cloud_volume::Entity,
            cloud_volume::ActiveModel,
            "volume",
            row.id,
            row.updated_at,
            |am: &mut cloud_volume::ActiveModel| {
                am.status = Set(status);
                am.size_gb = Set(size);
                am.server_id = Set(server);
            },
            audit
        );
        drifts += usize::from(written);
    }

    drifts += floating_ips(ctx, &tctx, p, driver, &by_ext).await?;
    drifts += super::networking::drift(ctx, &tctx, p.id, driver).await?;

    // Labelled as this organisation's but unknown (made by a create whose row is gone, or
    // copied by hand): left alone, and logged rather than audited on every look.
    let known: Vec<String> =
        servers.iter().map(|s| s.id.to_string()).chain(volumes.iter().map(|v| v.id.to_string())).collect();
    let strays = remote_servers
        .iter()
        .map(|r| ("server", &r.id, r.labels.get("zygo-id")))
        .chain(remote_volumes.iter().map(|r| ("volume", &r.id, r.labels.get("zygo-id"))))
        .filter(|(_, _, id)| id.is_some_and(|id| !known.contains(id)));
    for (kind, ext, _) in strays {
        tracing::warn!(provider = %p.id, kind, external_id = %ext, "reconciler: a labelled resource Zygo does not know");
    }
    Ok(drifts)
}

/// Floating IPs moved, renamed (reverse DNS) or released outside Zygo.
async fn floating_ips(
    ctx: &Ctx,
    tctx: &TenantCtx,
    p: &cloud_provider::Model,
    driver: &dyn CloudDriver,
    by_ext: &HashMap<&str, Uuid>,
) -> DriverResult<usize> {
    use entity::cloud_floating_ip::{self as fip, FloatingIpStatus};
    let rows = {
        let rows = tctx
            .scope()
            .find::<fip::Entity>()
            .filter(fip::Column::ProviderId.eq(p.id))
            .all(&tctx.on(&ctx.db))
            .await?;
        tctx.reads.release().await;
        rows
    };
    let rows: Vec<_> =
        rows.into_iter().filter(|f| f.external_id.is_some() && f.status == FloatingIpStatus::Ready).collect();
    if rows.is_empty() {
        return Ok(0);
    }
    let remote = driver.list_floating_ips(&format!("zygo-tenant={}", p.tenant_id)).await?;
    let mut drifts = 0;
    for row in rows {
        let ext = row.external_id.as_deref().unwrap_or_default();
        let (status, server, ptr, what) = match remote.iter().find(|r| r.id == ext) {
            None => (FloatingIpStatus::Error, None, row.dns_ptr.clone(), "released outside Zygo"),
            Some(r) => {
                let server = r.server.as_deref().and_then(|e| by_ext.get(e).copied());
                if server == row.server_id && r.dns_ptr == row.dns_ptr {
                    continue;
                }
                (FloatingIpStatus::Ready, server, r.dns_ptr.clone(), "changed outside Zygo")
            }
        };
        let before = json!({ "status": row.status, "serverId": row.server_id, "dnsPtr": row.dns_ptr });
        let after = json!({ "status": status, "serverId": server, "dnsPtr": ptr, "drift": what });
        let audit = Change {
            action: "floating_ip.drift_detected",
            target_type: "FloatingIp",
            target_id: Some(row.id),
            before: Some(before),
            after: Some(after),
        };
        let written = write_if_unchanged!(
            ctx,
            tctx,
            fip::Entity,
            fip::ActiveModel,
            "floating_ip",
            row.id,
            row.updated_at,
            |am: &mut fip::ActiveModel| {
                am.status = Set(status);
                am.server_id = Set(server);
                am.dns_ptr = Set(ptr);
            },
            audit
        );
        drifts += usize::from(written);
    }
    Ok(drifts)
}

/// The [`RECONCILE`] schedule's handler.
pub struct Reconcile;

#[async_trait::async_trait]
impl Handler for Reconcile {
    fn kind(&self) -> &'static str {
        RECONCILE
    }

    async fn run(&self, ctx: &Ctx, _job: &entity::job::Model) -> JobResult {
        let drifts = reconcile(ctx).await;
        if drifts > 0 {
            tracing::info!(drifts, "infrastructure drift recorded");
        }
        Ok(())
    }
}
