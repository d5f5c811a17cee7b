//! The local provider: a simulated cloud kept in `local_cloud_objects`, so the embedded
//! default can demonstrate every infrastructure operation without an account. It behaves like
//! a real one where it matters: creates and power changes return an action that moves the
//! resource through its states (a new server is `initializing`, then `running`; a shutdown
//! `stopping`, then `off`), advanced each time the action job looks at it — never by a timer;
//! labels and label selectors work as Hetzner's do.

use std::time::Duration;

use chrono::Utc;
use entity::local_cloud_object as obj;
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, Set};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{
    ActionState, CloudDriver, DriverError, DriverResult, FloatingIpSpec, Labels, MetricSeries, MetricWindow,
    MonthlyPrice, Pending, RemoteConsole, RemoteFloatingIp, RemoteRecord, RemoteServer, RemoteSnapshot,
    RemoteVolume, RemoteZone, ServerOp, ServerSpec, VolumeSpec, local_sim,
};
use crate::{access::TenantCtx, ctx::Ctx, db::begin_tenant_txn};

/// How far one look moves a simulated action.
const STEP: i64 = 50;

/// The simulated cloud of provider account `provider`.
pub struct Local {
    ctx: Ctx,
    tenant: Uuid,
    provider: Uuid,
}

pub(super) fn matches(labels: &Value, selector: &str) -> bool {
    selector.split(',').map(str::trim).filter(|s| !s.is_empty()).all(|term| match term.split_once('=') {
        Some((k, v)) => labels.get(k).and_then(Value::as_str) == Some(v),
        None => labels.get(term).is_some(),
    })
}

pub(super) fn labels_of(v: &Value) -> Labels {
    v.as_object()
        .map(|o| o.iter().filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string()))).collect())
        .unwrap_or_default()
}

fn not_found(what: &str) -> DriverError {
    DriverError::provider("not_found", format!("{what} not found"))
}

fn server_of(o: &obj::Model) -> RemoteServer {
    let d = &o.data;
    RemoteServer {
        id: o.external_id.clone(),
        name: d["name"].as_str().unwrap_or_default().into(),
        status: d["status"].as_str().unwrap_or("unknown").into(),
        server_type: d["server_type"].as_str().unwrap_or_default().into(),
        ipv4: d["ipv4"].as_str().map(str::to_string),
        labels: labels_of(&o.labels),
    }
}

fn volume_of(o: &obj::Model) -> RemoteVolume {
    let d = &o.data;
    RemoteVolume {
        id: o.external_id.clone(),
        name: d["name"].as_str().unwrap_or_default().into(),
        size_gb: d["size"].as_i64().unwrap_or_default() as i32,
        server: d["server"].as_str().map(str::to_string),
        status: d["status"].as_str().unwrap_or("available").into(),
        labels: labels_of(&o.labels),
    }
}

fn snapshot_of(o: &obj::Model) -> RemoteSnapshot {
    let d = &o.data;
    RemoteSnapshot {
        id: o.external_id.clone(),
        description: d["description"].as_str().unwrap_or_default().into(),
        status: d["status"].as_str().unwrap_or("available").into(),
        size_gb: d["size"].as_f64(),
        labels: labels_of(&o.labels),
    }
}

fn floating_ip_of(o: &obj::Model) -> RemoteFloatingIp {
    let d = &o.data;
    RemoteFloatingIp {
        id: o.external_id.clone(),
        ip: d["ip"].as_str().unwrap_or_default().into(),
        server: d["server"].as_str().map(str::to_string),
        dns_ptr: d["dns_ptr"].as_str().map(str::to_string),
        labels: labels_of(&o.labels),
    }
}

fn record_of(o: &obj::Model) -> RemoteRecord {
    let d = &o.data;
    RemoteRecord {
        id: Some(o.external_id.clone()),
        record_type: d["type"].as_str().unwrap_or_default().into(),
        name: d["name"].as_str().unwrap_or_default().into(),
        value: d["value"].as_str().unwrap_or_default().into(),
        ttl: d["ttl"].as_i64().unwrap_or(3600) as i32,
    }
}

fn merge(data: &mut Value, patch: &Value) {
    if let (Some(d), Some(p)) = (data.as_object_mut(), patch.as_object()) {
        for (k, v) in p {
            d.insert(k.clone(), v.clone());
        }
    }
}

impl Local {
    pub fn new(ctx: Ctx, tenant: Uuid, provider: Uuid) -> Self {
        Self { ctx, tenant, provider }
    }

    fn tctx(&self) -> TenantCtx {
        TenantCtx::system(self.tenant)
    }

    pub(super) async fn all(&self, kind: &str) -> DriverResult<Vec<obj::Model>> {
        let tctx = self.tctx();
        let txn = begin_tenant_txn(&self.ctx.db, tctx.scope()).await?;
        let rows = tctx
            .scope()
            .find::<obj::Entity>()
            .filter(obj::Column::ProviderId.eq(self.provider))
            .filter(obj::Column::Kind.eq(kind))
            .order_by_asc(obj::Column::Id)
            .all(&txn)
            .await?;
        txn.commit().await?;
        Ok(rows)
    }

    pub(super) async fn one(&self, kind: &str, id: &str) -> DriverResult<Option<obj::Model>> {
        Ok(self.all(kind).await?.into_iter().find(|o| o.external_id == id))
    }

    pub(super) async fn insert(&self, kind: &str, labels: Value, data: Value) -> DriverResult<obj::Model> {
        let tctx = self.tctx();
        let txn = begin_tenant_txn(&self.ctx.db, tctx.scope()).await?;
        let row = tctx
            .scope()
            .insert(
                &txn,
                obj::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    tenant_id: Set(self.tenant),
                    provider_id: Set(self.provider),
                    kind: Set(kind.into()),
                    external_id: Set(Uuid::now_v7().simple().to_string()),
                    labels: Set(labels),
                    data: Set(data),
                    created_at: Set(Utc::now()),
                },
            )
            .await?;
        txn.commit().await?;
        Ok(row)
    }

    async fn save(&self, row: obj::Model, data: Value) -> DriverResult<()> {
        let tctx = self.tctx();
        let txn = begin_tenant_txn(&self.ctx.db, tctx.scope()).await?;
        let mut am: obj::ActiveModel = row.into();
        am.data = Set(data);
        tctx.scope().update(&txn, am).await?;
        txn.commit().await?;
        Ok(())
    }

    pub(super) async fn remove(&self, row: &obj::Model) -> DriverResult<()> {
        let tctx = self.tctx();
        let txn = begin_tenant_txn(&self.ctx.db, tctx.scope()).await?;
        tctx.scope().delete_many::<obj::Entity>().filter(obj::Column::Id.eq(row.id)).exec(&txn).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Puts `target` in state `now` and records an action that, once done, applies `then`.
    pub(super) async fn start_action(
        &self,
        kind: &str,
        target: &obj::Model,
        now: Value,
        then: Value,
    ) -> DriverResult<Pending> {
        let mut data = target.data.clone();
        merge(&mut data, &now);
        self.save(target.clone(), data).await?;
        let a = self
            .insert(
                "action",
                json!({}),
                json!({ "status": "running", "progress": 0, "kind": kind, "target": target.external_id, "then": then }),
            )
            .await?;
        Ok(Some(a.external_id))
    }

    /// A look at a resource moves its running actions on too (as a look at the action does):
    /// a resource adopted after a lost answer settles the same way.
    pub(super) async fn advance_actions_on(&self, target: &str) -> DriverResult<()> {
        for a in self.all("action").await? {
            if a.data["target"] == target && a.data["status"] == "running" {
                self.action(&a.external_id).await?;
            }
        }
        Ok(())
    }

    async fn server(&self, id: &str) -> DriverResult<obj::Model> {
        self.one("server", id).await?.ok_or_else(|| not_found("server"))
    }

    async fn volume(&self, id: &str) -> DriverResult<obj::Model> {
        self.one("volume", id).await?.ok_or_else(|| not_found("volume"))
    }
}

#[async_trait::async_trait]
impl CloudDriver for Local {
    async fn validate(&self) -> DriverResult<()> {
        Ok(())
    }

    async fn list_servers(&self, selector: &str) -> DriverResult<Vec<RemoteServer>> {
        Ok(self.all("server").await?.iter().filter(|o| matches(&o.labels, selector)).map(server_of).collect())
    }

    async fn create_server(&self, spec: &ServerSpec) -> DriverResult<(RemoteServer, Pending)> {
        if self.all("server").await?.iter().any(|o| o.data["name"] == spec.name.as_str()) {
            return Err(DriverError::provider("uniqueness_error", "server name is already used"));
        }
        let n = self.all("server").await?.len() as u32 + 2;
        let row = self
            .insert(
                "server",
                json!(spec.labels),
                json!({
                    "name": spec.name, "status": "initializing", "server_type": spec.server_type,
                    "image": spec.image, "location": spec.location,
                    "ipv4": format!("10.0.{}.{}", n / 250, n % 250 + 2),
                }),
            )
            .await?;
        let action =
            self.start_action("create_server", &row, json!({}), json!({ "status": "running" })).await?;
        let row = self.server(&row.external_id).await?;
        Ok((server_of(&row), action))
    }

    async fn get_server(&self, id: &str) -> DriverResult<Option<RemoteServer>> {
        self.advance_actions_on(id).await?;
        Ok(self.one("server", id).await?.as_ref().map(server_of))
    }

    async fn delete_server(&self, id: &str) -> DriverResult<Pending> {
        let row = self.server(id).await?;
        let mut held = self.all("volume").await?;
        held.extend(self.all("floating_ip").await?);
        for v in held {
            if v.data["server"] == id {
                let mut d = v.data.clone();
                d["server"] = Value::Null;
                self.save(v, d).await?;
            }
        }
        self.remove(&row).await?;
        Ok(None)
    }

    async fn server_action(&self, id: &str, op: &ServerOp) -> DriverResult<Pending> {
        let row = self.server(id).await?;
        let status = row.data["status"].as_str().unwrap_or_default().to_string();
        let (kind, now, then) = match op {
            ServerOp::Start => {
                ("start_server", json!({ "status": "starting" }), json!({ "status": "running" }))
            }
            ServerOp::Stop => {
                ("shutdown_server", json!({ "status": "stopping" }), json!({ "status": "off" }))
            }
            ServerOp::Reboot => ("reboot_server", json!({}), json!({ "status": "running" })),
            ServerOp::Reset => ("reset_server", json!({}), json!({ "status": "running" })),
            ServerOp::PowerOff => ("poweroff_server", json!({}), json!({ "status": "off" })),
            ServerOp::Resize { server_type } => {
                if status != "off" {
                    return Err(DriverError::provider(
                        "server_not_stopped",
                        "the server must be off to change its type",
                    ));
                }
                ("change_server_type", json!({}), json!({ "server_type": server_type }))
            }
            ServerOp::Rebuild { image } => {
                // A snapshot of this account, or an image name.
                if image.chars().all(|c| c.is_ascii_hexdigit())
                    && self.one("snapshot", image).await?.is_none()
                {
                    return Err(not_found("image"));
                }
                (
                    "rebuild_server",
                    json!({ "status": "rebuilding" }),
                    json!({ "status": "running", "image": image }),
                )
            }
        };
        self.start_action(kind, &row, now, then).await
    }

    async fn create_snapshot(
        &self,
        server: &str,
        description: &str,
        labels: &Labels,
    ) -> DriverResult<(RemoteSnapshot, Pending)> {
        let s = self.server(server).await?;
        // The image is as large as the disk's used part; the simulation says 1.5 GB.
        let row = self
            .insert(
                "snapshot",
                json!(labels),
                json!({ "description": description, "status": "creating", "server": s.external_id, "size": null }),
            )
            .await?;
        let action = self
            .start_action("create_image", &row, json!({}), json!({ "status": "available", "size": 1.5 }))
            .await?;
        Ok((
            snapshot_of(&self.one("snapshot", &row.external_id).await?.ok_or_else(|| not_found("image"))?),
            action,
        ))
    }

    async fn list_snapshots(&self, selector: &str) -> DriverResult<Vec<RemoteSnapshot>> {
        Ok(self
            .all("snapshot")
            .await?
            .iter()
            .filter(|o| matches(&o.labels, selector))
            .map(snapshot_of)
            .collect())
    }

    async fn get_snapshot(&self, id: &str) -> DriverResult<Option<RemoteSnapshot>> {
        self.advance_actions_on(id).await?;
        Ok(self.one("snapshot", id).await?.as_ref().map(snapshot_of))
    }

    async fn delete_snapshot(&self, id: &str) -> DriverResult<()> {
        if let Some(row) = self.one("snapshot", id).await? {
            self.remove(&row).await?;
        }
        Ok(())
    }

    async fn list_volumes(&self, selector: &str) -> DriverResult<Vec<RemoteVolume>> {
        Ok(self.all("volume").await?.iter().filter(|o| matches(&o.labels, selector)).map(volume_of).collect())
    }

    async fn create_volume(&self, spec: &VolumeSpec) -> DriverResult<(RemoteVolume, Pending)> {
        let row = self
            .insert(
                "volume",
                json!(spec.labels),
                json!({ "name": spec.name, "size": spec.size_gb, "server": null, "status": "creating", "location": spec.location }),
            )
            .await?;
        let action =
            self.start_action("create_volume", &row, json!({}), json!({ "status": "available" })).await?;
        Ok((volume_of(&self.volume(&row.external_id).await?), action))
    }

    async fn get_volume(&self, id: &str) -> DriverResult<Option<RemoteVolume>> {
        self.advance_actions_on(id).await?;
        Ok(self.one("volume", id).await?.as_ref().map(volume_of))
    }

    async fn attach_volume(&self, id: &str, server: &str) -> DriverResult<Pending> {
        self.server(server).await?;
        let row = self.volume(id).await?;
        if !row.data["server"].is_null() {
            return Err(DriverError::provider("volume_already_attached", "the volume is attached already"));
        }
        self.start_action("attach_volume", &row, json!({}), json!({ "server": server })).await
    }

    async fn detach_volume(&self, id: &str) -> DriverResult<Pending> {
        let row = self.volume(id).await?;
        self.start_action("detach_volume", &row, json!({}), json!({ "server": null })).await
    }

    async fn resize_volume(&self, id: &str, size_gb: i32) -> DriverResult<Pending> {
        let row = self.volume(id).await?;
        if row.data["size"].as_i64().unwrap_or_default() > i64::from(size_gb) {
            return Err(DriverError::provider("invalid_input", "volumes can only grow"));
        }
        self.start_action("resize_volume", &row, json!({}), json!({ "size": size_gb })).await
    }

    async fn delete_volume(&self, id: &str) -> DriverResult<()> {
        let row = self.volume(id).await?;
        if !row.data["server"].is_null() {
            return Err(DriverError::provider("volume_attached", "detach the volume first"));
        }
        self.remove(&row).await
    }

    async fn list_floating_ips(&self, selector: &str) -> DriverResult<Vec<RemoteFloatingIp>> {
        let all = self.all("floating_ip").await?;
        Ok(all.iter().filter(|o| matches(&o.labels, selector)).map(floating_ip_of).collect())
    }

    async fn create_floating_ip(&self, spec: &FloatingIpSpec) -> DriverResult<(RemoteFloatingIp, Pending)> {
        // Addresses of the documentation ranges, one more for each reserved.
        let n = self.all("floating_ip").await?.len() + 10;
        let ip = match spec.ip_type.as_str() {
            "ipv6" => format!("2001:db8:{n:x}::/64"),
            _ => format!("198.51.100.{}", n % 250 + 2),
        };
        let data =
            json!({ "name": spec.name, "ip": ip, "type": spec.ip_type, "server": null, "dns_ptr": null });
        let row = self.insert("floating_ip", json!(spec.labels), data).await?;
        Ok((floating_ip_of(&row), None))
    }

    async fn get_floating_ip(&self, id: &str) -> DriverResult<Option<RemoteFloatingIp>> {
        self.advance_actions_on(id).await?;
        Ok(self.one("floating_ip", id).await?.as_ref().map(floating_ip_of))
    }

    async fn assign_floating_ip(&self, id: &str, server: &str) -> DriverResult<Pending> {
        self.server(server).await?;
        let row = self.one("floating_ip", id).await?.ok_or_else(|| not_found("floating IP"))?;
        self.start_action("assign_floating_ip", &row, json!({}), json!({ "server": server })).await
    }

    async fn unassign_floating_ip(&self, id: &str) -> DriverResult<Pending> {
        let row = self.one("floating_ip", id).await?.ok_or_else(|| not_found("floating IP"))?;
        self.start_action("unassign_floating_ip", &row, json!({}), json!({ "server": null })).await
    }

    async fn set_floating_ip_dns_ptr(&self, id: &str, _ip: &str, ptr: Option<&str>) -> DriverResult<Pending> {
        let row = self.one("floating_ip", id).await?.ok_or_else(|| not_found("floating IP"))?;
        self.start_action("change_dns_ptr", &row, json!({}), json!({ "dns_ptr": ptr })).await
    }

    async fn delete_floating_ip(&self, id: &str) -> DriverResult<()> {
        match self.one("floating_ip", id).await? {
            Some(row) => self.remove(&row).await,
            None => Ok(()),
        }
    }

    async fn find_zone(&self, name: &str) -> DriverResult<Option<RemoteZone>> {
        Ok(self.all("zone").await?.into_iter().find(|o| o.data["name"] == name).map(|o| RemoteZone {
            id: o.external_id,
            name: name.to_string(),
            ttl: o.data["ttl"].as_i64().unwrap_or(3600) as i32,
            // The simulated cloud serves no DNS: the zone's own NS records name its servers.
            name_servers: vec![],
        }))
    }

    async fn create_zone(&self, name: &str, ttl: i32) -> DriverResult<RemoteZone> {
        if self.find_zone(name).await?.is_some() {
            return Err(DriverError::provider("zone_exists", "the zone exists already"));
        }
        let row = self.insert("zone", json!({}), json!({ "name": name, "ttl": ttl })).await?;
        Ok(RemoteZone { id: row.external_id, name: name.to_string(), ttl, name_servers: vec![] })
    }

    async fn list_records(&self, zone: &str) -> DriverResult<Vec<RemoteRecord>> {
        Ok(self.all("record").await?.iter().filter(|o| o.data["zone"] == zone).map(record_of).collect())
    }

    async fn put_record(&self, zone: &str, record: &RemoteRecord) -> DriverResult<RemoteRecord> {
        if !self.all("zone").await?.iter().any(|o| o.external_id == zone) {
            return Err(not_found("zone"));
        }
        let data = json!({
            "zone": zone, "type": record.record_type, "name": record.name, "value": record.value, "ttl": record.ttl,
        });
        match &record.id {
            Some(id) => {
                let row = self.one("record", id).await?.ok_or_else(|| not_found("record"))?;
                self.save(row.clone(), data).await?;
                Ok(record_of(&self.one("record", id).await?.ok_or_else(|| not_found("record"))?))
            }
            None => Ok(record_of(&self.insert("record", json!({}), data).await?)),
        }
    }

    async fn delete_record(&self, id: &str) -> DriverResult<()> {
        let row = self.one("record", id).await?.ok_or_else(|| not_found("record"))?;
        self.remove(&row).await
    }

    async fn server_metrics(&self, id: &str, window: &MetricWindow) -> DriverResult<Vec<MetricSeries>> {
        let row = self.server(id).await?;
        Ok(local_sim::metrics(id, row.data["status"] == "running", window))
    }

    async fn request_console(&self, _id: &str) -> DriverResult<RemoteConsole> {
        // A simulated server has no screen to show: saying so beats a URL that leads nowhere.
        Err(DriverError::provider("not_supported", "servers of the local cloud have no console"))
    }

    async fn server_price(&self, server_type: &str, _location: &str) -> DriverResult<Option<MonthlyPrice>> {
        Ok(local_sim::price(server_type))
    }

    async fn action(&self, id: &str) -> DriverResult<ActionState> {
        let row = self.one("action", id).await?.ok_or_else(|| not_found("action"))?;
        let mut data = row.data.clone();
        if data["status"] == "success" {
            return Ok(ActionState::Succeeded);
        }
        // Each look moves the simulated action on; at 100 % its effect lands on the target.
        let progress = (data["progress"].as_i64().unwrap_or_default() + STEP).min(100);
        data["progress"] = json!(progress);
        if progress >= 100 {
            data["status"] = json!("success");
            let target = data["target"].as_str().unwrap_or_default().to_string();
            for kind in
                ["server", "volume", "snapshot", "floating_ip", "network", "firewall", "load_balancer"]
            {
                if let Some(t) = self.one(kind, &target).await? {
                    let mut td = t.data.clone();
                    merge(&mut td, &data["then"]);
                    self.save(t, td).await?;
                }
            }
            self.save(row, data).await?;
            return Ok(ActionState::Succeeded);
        }
        self.save(row, data).await?;
        Ok(ActionState::Running { progress: progress as i32 })
    }

    fn poll_interval(&self) -> Duration {
        Duration::ZERO
    }

    async fn root_access(
        &self,
        id: &str,
        op: super::RootAccessOp,
    ) -> DriverResult<(Pending, Option<String>)> {
        use rand::distr::{Alphanumeric, SampleString};
        let row = self.server(id).await?;
        let password = (op != super::RootAccessOp::DisableRescue)
            .then(|| Alphanumeric.sample_string(&mut rand::rng(), 20));
        let (kind, then) = match op {
            super::RootAccessOp::EnableRescue => ("enable_rescue", json!({ "rescue_enabled": true })),
            super::RootAccessOp::DisableRescue => ("disable_rescue", json!({ "rescue_enabled": false })),
            super::RootAccessOp::ResetPassword => ("reset_password", json!({})),
        };
        Ok((self.start_action(kind, &row, json!({}), then).await?, password))
    }

    fn net(&self) -> Option<&dyn super::net::NetDriver> {
        Some(self)
    }
}
