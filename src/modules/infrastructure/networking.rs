//! Networks, firewalls and load balancers: what members ask them to be (a spec, checked by
//! [`super::networking_spec`]) is stored, audited and carried out as a durable provider action
//! that converges the cloud to the spec — creating the resource (or adopting the one a lost
//! answer made, by its `zygo-id` label) and then asking only for what differs. The reconciler
//! compares the cloud with each spec ([`drift`]) and marks what changed outside Zygo DRIFTED
//! (or DELETED); an update, even one changing nothing, converges it again.

use std::collections::HashMap;

use entity::{
    cloud_network_resource::{self as net, NetworkResourceKind as Kind, NetworkResourceStatus as Status},
    cloud_server, infrastructure_action as action,
};
use sea_orm::{ColumnTrait, QueryFilter, Set};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{
    InfraEvent, actions,
    apply::zygo_labels,
    drivers::{
        CloudDriver, DriverError, DriverResult,
        net::{NetDriver, NetKind, NetSpec, RemoteNet, Target},
    },
    floating_ips::check_name,
    networking_spec,
    servers::{check_labels, provider_in},
    topic,
};
use crate::{
    access::{Change, TenantCtx, TenantTx},
    auth::Permission,
    ctx::Ctx,
    db::{
        lock_tenant,
        page::{Rows, Window},
    },
    error::{AppError, AppResult},
};

/// A network, firewall or load balancer to make.
pub struct NewNetworkResource {
    pub provider: Uuid,
    pub name: String,
    pub labels: Value,
    /// Servers named by Zygo's ids.
    pub spec: NetSpec,
}

fn kind_of(spec: &NetSpec) -> Kind {
    match spec {
        NetSpec::Network { .. } => Kind::Network,
        NetSpec::Firewall { .. } => Kind::Firewall,
        NetSpec::LoadBalancer { .. } => Kind::LoadBalancer,
    }
}

fn net_kind(k: Kind) -> NetKind {
    match k {
        Kind::Network => NetKind::Network,
        Kind::Firewall => NetKind::Firewall,
        Kind::LoadBalancer => NetKind::LoadBalancer,
    }
}

/// What the audit log and errors call a kind.
pub fn noun(k: Kind) -> &'static str {
    match k {
        Kind::Network => "network",
        Kind::Firewall => "firewall",
        Kind::LoadBalancer => "load balancer",
    }
}

/// The GraphQL type name of a kind (audit targets).
fn type_name(k: Kind) -> &'static str {
    match k {
        Kind::Network => "Network",
        Kind::Firewall => "Firewall",
        Kind::LoadBalancer => "LoadBalancer",
    }
}

/// The spec a row holds.
pub fn spec_of(r: &net::Model) -> AppResult<NetSpec> {
    serde_json::from_value(r.spec.clone())
        .map_err(|e| AppError::Internal(anyhow::anyhow!("unreadable spec: {e}")))
}

fn to_json(spec: &NetSpec) -> Value {
    serde_json::to_value(spec).unwrap_or(Value::Null)
}

/// The servers a spec names.
fn servers_in(spec: &NetSpec) -> Vec<String> {
    match spec {
        NetSpec::Network { servers, .. } => servers.clone(),
        NetSpec::Firewall { apply_to: t, .. } | NetSpec::LoadBalancer { targets: t, .. } => t
            .iter()
            .filter_map(|t| match t {
                Target::Server(s) => Some(s.clone()),
                Target::LabelSelector(_) => None,
            })
            .collect(),
    }
}

/// `spec` with each server id mapped by `f` (dropped where `f` gives none).
fn map_servers(spec: &NetSpec, f: impl Fn(&str) -> Option<String>) -> NetSpec {
    let mut out = spec.clone();
    match &mut out {
        NetSpec::Network { servers, .. } => *servers = servers.iter().filter_map(|s| f(s)).collect(),
        NetSpec::Firewall { apply_to: t, .. } | NetSpec::LoadBalancer { targets: t, .. } => {
            *t = t
                .iter()
                .filter_map(|t| match t {
                    Target::Server(s) => f(s).map(Target::Server),
                    other => Some(other.clone()),
                })
                .collect()
        }
    }
    out.canonical()
}

/// Checks that every server `spec` names is one of provider `provider`'s, made already.
async fn check_servers(tx: &TenantTx<'_>, provider: Uuid, spec: &NetSpec) -> AppResult<()> {
    for s in servers_in(spec) {
        let server = Uuid::parse_str(&s).ok();
        let row = match server {
            Some(id) => tx.scope().find_by_id::<cloud_server::Entity, _>(tx, id).await?,
            None => None,
        };
        let Some(row) = row else { return Err(AppError::validation("input.serverIds", "no such server")) };
        if row.provider_id != provider {
            return Err(AppError::validation("input.serverIds", "a server is on another provider account"));
        }
        if row.external_id.is_none() {
            return Err(AppError::conflict("input.serverIds", "the provider has not made a server yet"));
        }
    }
    Ok(())
}

async fn row_in(tx: &TenantTx<'_>, id: Uuid, kind: Kind) -> AppResult<net::Model> {
    tx.scope()
        .find_by_id::<net::Entity, _>(tx, id)
        .await?
        .filter(|r| r.kind == kind)
        .ok_or(AppError::NotFound(noun(kind)))
}

/// Asks for a network, firewall or load balancer (`infrastructure.manage`).
pub async fn create(
    ctx: &Ctx,
    tctx: &TenantCtx,
    req: NewNetworkResource,
) -> AppResult<(net::Model, action::Model)> {
    tctx.require(Permission::InfrastructureManage)?;
    let name = check_name("input.name", &req.name)?;
    let labels = check_labels("input.labels", &req.labels)?;
    let mut tx = TenantTx::begin(ctx, tctx, Permission::InfrastructureManage).await?;
    // Checked in the vocabulary of the account's cloud.
    let provider = provider_in(&tx, req.provider).await?;
    let spec = networking_spec::check(req.spec, &networking_spec::Cloud::of(ctx, &provider))?;
    let kind = kind_of(&spec);
    check_servers(&tx, req.provider, &spec).await?;
    let scope = tx.scope();
    let (id, now) = (Uuid::now_v7(), ctx.now());
    let row = scope
        .insert(
            &tx,
            net::ActiveModel {
                id: Set(id),
                tenant_id: Set(scope.tenant_id()),
                provider_id: Set(req.provider),
                kind: Set(kind),
                name: Set(name.clone()),
                status: Set(Status::Pending),
                external_id: Set(None),
                labels: Set(labels),
                spec: Set(to_json(&spec)),
                observed: Set(None),
                public_ip: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
            },
        )
        .await
        .map_err(|e| {
            AppError::from_db_unique(
                e,
                "input.name",
                &format!("this provider account has a {} of this name", noun(kind)),
            )
        })?;
    let k = kind.as_str();
    let a = actions::request(&mut tx, req.provider, &format!("{k}.create"), k, id, json!({}), None).await?;
    let after = json!({ "name": name, "spec": to_json(&spec) });
    let audit = format!("{k}.created");
    tx.commit_with(Change {
        action: &audit,
        target_type: type_name(kind),
        target_id: Some(id),
        before: None,
        after: Some(after),
    })
    .await?;
    Ok((row, a))
}

/// Changes what a network, firewall or load balancer should be (`infrastructure.manage`):
/// `patch` edits its spec, which is checked again and converged to. A patch changing nothing
/// converges it all the same (after drift).
pub async fn update(
    ctx: &Ctx,
    tctx: &TenantCtx,
    id: Uuid,
    kind: Kind,
    patch: impl FnOnce(&mut NetSpec),
) -> AppResult<(net::Model, action::Model)> {
    tctx.require(Permission::InfrastructureManage)?;
    let mut tx = TenantTx::begin(ctx, tctx, Permission::InfrastructureManage).await?;
    let r = row_in(&tx, id, kind).await?;
    if !matches!(r.status, Status::Ready | Status::Drifted) {
        return Err(AppError::conflict(
            "id",
            format!("the {} has an action in progress, is not made yet or is gone", noun(kind)),
        ));
    }
    let before = spec_of(&r)?;
    let mut spec = before.clone();
    patch(&mut spec);
    let provider = provider_in(&tx, r.provider_id).await?;
    let spec = networking_spec::check(spec, &networking_spec::Cloud::of(ctx, &provider))?;
    check_servers(&tx, r.provider_id, &spec).await?;
    let mut am: net::ActiveModel = r.clone().into();
    am.status = Set(Status::Updating);
    am.spec = Set(to_json(&spec));
    am.updated_at = Set(ctx.now());
    let row = tx.scope().update(&tx, am).await?;
    let k = kind.as_str();
    let params = json!({ "previous": to_json(&before), "previousStatus": r.status });
    let a = actions::request(&mut tx, r.provider_id, &format!("{k}.update"), k, id, params, None).await?;
    let audit = format!("{k}.updated");
    tx.commit_with(Change {
        action: &audit,
        target_type: type_name(kind),
        target_id: Some(id),
        before: Some(to_json(&before)),
        after: Some(to_json(&spec)),
    })
    .await?;
    Ok((row, a))
}

/// Asks to delete a network, firewall or load balancer (`infrastructure.manage`).
pub async fn delete(
    ctx: &Ctx,
    tctx: &TenantCtx,
    id: Uuid,
    kind: Kind,
) -> AppResult<(net::Model, action::Model)> {
    tctx.require(Permission::InfrastructureManage)?;
    let mut tx = TenantTx::begin(ctx, tctx, Permission::InfrastructureManage).await?;
    let r = row_in(&tx, id, kind).await?;
    if matches!(r.status, Status::Pending | Status::Updating | Status::Deleting) {
        return Err(AppError::conflict("id", format!("the {} has an action in progress", noun(kind))));
    }
    let mut am: net::ActiveModel = r.clone().into();
    am.status = Set(Status::Deleting);
    am.updated_at = Set(ctx.now());
    let row = tx.scope().update(&tx, am).await?;
    let k = kind.as_str();
    let params = json!({ "previousStatus": r.status });
    let a = actions::request(&mut tx, r.provider_id, &format!("{k}.delete"), k, id, params, None).await?;
    let audit = format!("{k}.deleted");
    let before = json!({ "name": r.name, "spec": r.spec });
    tx.commit_with(Change {
        action: &audit,
        target_type: type_name(kind),
        target_id: Some(id),
        before: Some(before),
        after: None,
    })
    .await?;
    Ok((row, a))
}

/// One network, firewall or load balancer (`infrastructure.read`).
pub async fn get(ctx: &Ctx, tctx: &TenantCtx, id: Uuid, kind: Kind) -> AppResult<net::Model> {
    tctx.require(Permission::InfrastructureRead)?;
    tctx.scope()
        .find_by_id::<net::Entity, _>(&tctx.on(&ctx.db), id)
        .await?
        .filter(|r| r.kind == kind)
        .ok_or(AppError::NotFound(noun(kind)))
}

/// A page of the organisation's resources of `kind`, oldest first (`infrastructure.read`).
pub async fn list(ctx: &Ctx, tctx: &TenantCtx, kind: Kind, w: Window) -> AppResult<Rows<net::Model>> {
    tctx.require(Permission::InfrastructureRead)?;
    let db = tctx.on(&ctx.db);
    let q = tctx.scope().find::<net::Entity>().filter(net::Column::Kind.eq(kind));
    Ok(crate::db::page::page(&db, q, net::Column::Id, w).await?)
}

/// Drops server `server` from every spec naming it (the server is gone; the provider dropped
/// it from its networks, firewalls and load balancers with it), in `tx`.
pub(super) async fn forget_server(tx: &TenantTx<'_>, server: Uuid) -> AppResult<()> {
    let scope = tx.scope();
    let id = server.to_string();
    for r in scope.find::<net::Entity>().all(tx).await? {
        let Ok(spec) = serde_json::from_value::<NetSpec>(r.spec.clone()) else { continue };
        if !servers_in(&spec).contains(&id) {
            continue;
        }
        let mut am: net::ActiveModel = r.into();
        am.spec = Set(to_json(&map_servers(&spec, |s| (s != id).then(|| s.to_string()))));
        scope.update(tx, am).await?;
    }
    Ok(())
}

/// The provider ids of the servers of the tenant's account `provider`, by Zygo id.
async fn server_exts(ctx: &Ctx, tctx: &TenantCtx, provider: Uuid) -> DriverResult<HashMap<String, String>> {
    let rows = tctx
        .scope()
        .find::<cloud_server::Entity>()
        .filter(cloud_server::Column::ProviderId.eq(provider))
        .all(&tctx.on(&ctx.db))
        .await?;
    tctx.reads.release().await;
    Ok(rows.into_iter().filter_map(|s| s.external_id.map(|e| (s.id.to_string(), e))).collect())
}

async fn read(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> DriverResult<Option<net::Model>> {
    let row = tctx.scope().find_by_id::<net::Entity, _>(&tctx.on(&ctx.db), id).await?;
    tctx.reads.release().await;
    Ok(row)
}

/// Writes `change` to row `id` and announces it (or, `gone`, deletes and announces that).
async fn set(
    ctx: &Ctx,
    tctx: &TenantCtx,
    id: Uuid,
    gone: bool,
    change: impl FnOnce(&mut net::ActiveModel),
) -> DriverResult<()> {
    let mut tx = TenantTx::open(ctx, tctx).await?;
    let scope = tx.scope();
    let Some(row) = scope.find_by_id::<net::Entity, _>(&tx, id).await? else { return Ok(()) };
    let kind = row.kind.as_str();
    if gone {
        scope.delete_many::<net::Entity>().filter(net::Column::Id.eq(id)).exec(&tx).await?;
    } else {
        let mut am: net::ActiveModel = row.into();
        am.updated_at = Set(ctx.now());
        change(&mut am);
        scope.update(&tx, am).await?;
    }
    let event =
        InfraEvent { action: None, resource_type: kind.into(), resource_id: id, deleted: gone, status: None };
    tx.emit(topic(scope.tenant_id()), &event);
    tx.commit().await?;
    Ok(())
}

fn net_of(driver: &dyn CloudDriver) -> DriverResult<&dyn NetDriver> {
    driver.net().ok_or_else(|| {
        DriverError::provider(
            "not_supported",
            "this provider has no networks, firewalls or load balancers here",
        )
    })
}

fn gone(kind: Kind) -> DriverError {
    DriverError::provider("not_found", format!("the {} no longer exists at the provider", noun(kind)))
}

async fn wait_all(
    ctx: &Ctx,
    tctx: &TenantCtx,
    a: Uuid,
    driver: &dyn CloudDriver,
    pending: Vec<String>,
) -> DriverResult<()> {
    for p in pending {
        actions::wait(ctx, tctx, a, driver, Some(p)).await?;
    }
    Ok(())
}

/// Carries out action `a` on a network, firewall or load balancer with its account's
/// `driver`: a create makes (or adopts) it, and every create or update then converges it to
/// the row's spec.
pub(super) async fn apply(
    ctx: &Ctx,
    tctx: &TenantCtx,
    driver: &dyn CloudDriver,
    a: &action::Model,
) -> DriverResult<()> {
    let Some(r) = read(ctx, tctx, a.target_id).await? else { return Ok(()) };
    let nd = net_of(driver)?;
    let kind = net_kind(r.kind);
    if a.kind.ends_with(".delete") {
        if let Some(ext) = &r.external_id {
            nd.delete_net(kind, ext).await?;
        }
        return set(ctx, tctx, r.id, true, |_| {}).await;
    }
    let exts = server_exts(ctx, tctx, r.provider_id).await?;
    let desired = map_servers(&spec_of(&r)?, |s| exts.get(s).cloned());
    let current = match &r.external_id {
        Some(ext) => nd.get_net(kind, ext).await?.ok_or_else(|| gone(r.kind))?,
        None => {
            let found = nd.list_net(kind, &format!("zygo-id={}", r.id)).await?.into_iter().next();
            let made = match found {
                // Made by an earlier attempt whose answer was lost: adopted.
                Some(found) => found,
                None => {
                    let labels = zygo_labels(r.tenant_id, r.id, &r.labels);
                    let (made, pending) = nd.create_net(&r.name, &labels, &desired).await?;
                    let (ext, ip) = (made.id.clone(), made.public_ip.clone());
                    set(ctx, tctx, r.id, false, |am| {
                        am.external_id = Set(Some(ext));
                        am.public_ip = Set(ip);
                    })
                    .await?;
                    wait_all(ctx, tctx, a.id, driver, pending).await?;
                    nd.get_net(kind, &made.id).await?.ok_or_else(|| gone(r.kind))?
                }
            };
            let (ext, ip) = (made.id.clone(), made.public_ip.clone());
            set(ctx, tctx, r.id, false, |am| {
                am.external_id = Set(Some(ext));
                am.public_ip = Set(ip);
            })
            .await?;
            made
        }
    };
    let pending = nd.converge_net(&current, &desired).await?;
    wait_all(ctx, tctx, a.id, driver, pending).await?;
    let ip = current.public_ip.clone();
    set(ctx, tctx, r.id, false, |am| {
        am.status = Set(Status::Ready);
        am.observed = Set(None);
        if ip.is_some() {
            am.public_ip = Set(ip);
        }
    })
    .await
}

/// After action `a` FAILED: a resource that could not be made is ERROR; a failed update puts
/// the spec back as it was (the reconciler reports what the provider changed meanwhile); a
/// failed delete leaves it as it was.
pub(super) async fn failed(ctx: &Ctx, tctx: &TenantCtx, a: &action::Model) -> DriverResult<()> {
    let previous: Option<Status> = serde_json::from_value(a.params["previousStatus"].clone()).ok();
    let spec = a.params.get("previous").cloned();
    let create = a.kind.ends_with(".create");
    set(ctx, tctx, a.target_id, false, |am| {
        am.status = Set(if create { Status::Error } else { previous.unwrap_or(Status::Ready) });
        if let Some(spec) = spec {
            am.spec = Set(spec);
        }
    })
    .await
}

/// Compares the networks, firewalls and load balancers of account `provider` with the
/// provider's; records each that changed (DRIFTED, with what the provider has) or was deleted
/// outside Zygo as an audit entry and an event. Returns how many drifts it recorded.
pub(super) async fn drift(
    ctx: &Ctx,
    tctx: &TenantCtx,
    provider: Uuid,
    driver: &dyn CloudDriver,
) -> DriverResult<usize> {
    let Some(nd) = driver.net() else { return Ok(0) };
    let rows = tctx
        .scope()
        .find::<net::Entity>()
        .filter(net::Column::ProviderId.eq(provider))
        .all(&tctx.on(&ctx.db))
        .await?;
    tctx.reads.release().await;
    let rows: Vec<_> = rows
        .into_iter()
        .filter(|r| r.external_id.is_some() && matches!(r.status, Status::Ready | Status::Drifted))
        .collect();
    if rows.is_empty() {
        return Ok(0);
    }
    let exts = server_exts(ctx, tctx, provider).await?;
    let back: HashMap<&String, &String> = exts.iter().map(|(id, e)| (e, id)).collect();
    let selector = format!("zygo-tenant={}", tctx.scope().tenant_id());
    let mut remote: HashMap<Kind, Vec<RemoteNet>> = HashMap::new();
    let mut drifts = 0;
    for r in rows {
        if !remote.contains_key(&r.kind) {
            remote.insert(r.kind, nd.list_net(net_kind(r.kind), &selector).await?);
        }
        let ext = r.external_id.clone().unwrap_or_default();
        let desired = map_servers(&spec_of(&r)?, |s| exts.get(s).cloned());
        let found = remote[&r.kind].iter().find(|n| n.id == ext);
        let (status, observed, what) = match found {
            None => (Status::Deleted, None, "deleted outside Zygo"),
            Some(n) if n.has(&desired) => {
                if r.status == Status::Drifted {
                    // Put back as specified outside Zygo: in step again.
                    set(ctx, tctx, r.id, false, |am| {
                        am.status = Set(Status::Ready);
                        am.observed = Set(None);
                    })
                    .await?;
                }
                continue;
            }
            Some(n) => {
                // Servers shown by Zygo's ids where Zygo knows them.
                let seen = map_servers(&n.spec, |e| {
                    Some(
                        back.get(&e.to_string())
                            .map(|s| s.to_string())
                            .unwrap_or_else(|| format!("external:{e}")),
                    )
                });
                (Status::Drifted, Some(to_json(&seen)), "changed outside Zygo")
            }
        };
        if r.status == status && r.observed == observed {
            continue;
        }
        let k = r.kind.as_str();
        let audit = format!("{k}.drift_detected");
        let mut tx = TenantTx::open(ctx, tctx).await?;
        let scope = tx.scope();
        lock_tenant(&tx, scope).await?;
        let Some(now) = scope.find_by_id::<net::Entity, _>(&tx, r.id).await? else { continue };
        if now.updated_at != r.updated_at {
            // An action got there first.
            continue;
        }
        let mut am: net::ActiveModel = now.into();
        am.status = Set(status);
        am.observed = Set(observed.clone());
        am.updated_at = Set(ctx.now());
        scope.update(&tx, am).await?;
        tx.emit(topic(scope.tenant_id()), &InfraEvent::resource(k, r.id));
        tx.commit_with(Change {
            action: &audit,
            target_type: type_name(r.kind),
            target_id: Some(r.id),
            before: Some(json!({ "status": r.status, "spec": r.spec })),
            after: Some(json!({ "status": status, "observed": observed, "drift": what })),
        })
        .await?;
        drifts += 1;
    }
    Ok(drifts)
}
