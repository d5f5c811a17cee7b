//! The Hetzner driver: the Hetzner Cloud API (`/servers`, `/servers/{id}/actions/*`,
//! `/actions/{id}`, `/volumes`, `/volumes/{id}/actions/*`; bearer token; label selectors;
//! `meta.pagination` paging; errors as `{"error":{"code","message"}}`; `RateLimit-*` headers)
//! and the Hetzner DNS API (`/zones`, `/records`; `Auth-API-Token`). Base URLs are
//! configuration (`ZYGO_HETZNER_API_URL`, `ZYGO_HETZNER_DNS_API_URL`), set by the operator,
//! so the client is a plain one without redirects, like BrightData's.

use std::time::Duration;

use reqwest::{Method, RequestBuilder, Response};
use serde_json::{Value, json};

use super::{
    ActionState, CloudDriver, DriverError, DriverResult, FloatingIpSpec, Labels, MetricSeries, MetricWindow,
    MonthlyPrice, Pending, RemoteConsole, RemoteFloatingIp, RemoteRecord, RemoteServer, RemoteSnapshot,
    RemoteVolume, RemoteZone, ServerOp, ServerSpec, VolumeSpec,
};
use crate::config::InfrastructureSettings;

/// Hetzner Cloud and DNS for one account.
pub struct Hetzner {
    api: String,
    dns: String,
    token: String,
    dns_token: String,
    poll: Duration,
    http: reqwest::Client,
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default()
}

fn unreachable(e: reqwest::Error) -> DriverError {
    DriverError::transient(format!("Hetzner unreachable: {}", e.without_url()))
}

/// The error of a refused call: the provider's code and message; 429 and 5xx are transient
/// (after `RateLimit-Reset` / `Retry-After` when given).
async fn error_of(res: Response) -> DriverError {
    let status = res.status();
    let header =
        |n: &str| res.headers().get(n).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    let retry_after = header("retry-after").or_else(|| {
        header("ratelimit-reset")
            .map(|reset| reset.saturating_sub(chrono::Utc::now().timestamp().max(0) as u64))
    });
    let body = res.text().await.unwrap_or_default();
    let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let err = &v["error"];
    let code = match &err["code"] {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => status.as_u16().to_string(),
    };
    let message = err["message"]
        .as_str()
        .or_else(|| v["message"].as_str())
        .map(str::to_string)
        .unwrap_or_else(|| body.chars().take(200).collect());
    if status.as_u16() == 429 || status.is_server_error() {
        DriverError::Transient {
            message: format!("Hetzner answered {}: {code}: {message}", status.as_u16()),
            retry_after,
        }
    } else if status.as_u16() == 401 {
        DriverError::provider("unauthorized", message)
    } else {
        DriverError::provider(code, message)
    }
}

async fn body(res: Response) -> DriverResult<Value> {
    if !res.status().is_success() {
        return Err(error_of(res).await);
    }
    if res.status().as_u16() == 204 {
        return Ok(Value::Null);
    }
    let text = res.text().await.map_err(unreachable)?;
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(&text).map_err(|e| DriverError::transient(format!("unreadable answer: {e}")))
}

pub(super) fn labels_of(v: &Value) -> Labels {
    v.as_object()
        .map(|o| o.iter().filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string()))).collect())
        .unwrap_or_default()
}

pub(super) fn id_of(v: &Value) -> String {
    match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => String::new(),
    }
}

fn server_of(v: &Value) -> RemoteServer {
    RemoteServer {
        id: id_of(&v["id"]),
        name: v["name"].as_str().unwrap_or_default().into(),
        status: v["status"].as_str().unwrap_or("unknown").into(),
        server_type: v["server_type"]["name"].as_str().unwrap_or_default().into(),
        ipv4: v["public_net"]["ipv4"]["ip"].as_str().map(str::to_string),
        labels: labels_of(&v["labels"]),
    }
}

fn volume_of(v: &Value) -> RemoteVolume {
    RemoteVolume {
        id: id_of(&v["id"]),
        name: v["name"].as_str().unwrap_or_default().into(),
        size_gb: v["size"].as_i64().unwrap_or_default() as i32,
        server: (!v["server"].is_null()).then(|| id_of(&v["server"])),
        status: v["status"].as_str().unwrap_or("available").into(),
        labels: labels_of(&v["labels"]),
    }
}

/// A Hetzner image of type `snapshot` (`image_size` in GB, null while it is being made).
fn floating_ip_of(v: &Value) -> RemoteFloatingIp {
    let ip = v["ip"].as_str().unwrap_or_default().to_string();
    // `dns_ptr` is a list of {ip, dns_ptr}: the name of the address itself (for IPv6, of its
    // first address) is the one shown.
    let dns_ptr = v["dns_ptr"]
        .as_array()
        .and_then(|l| l.iter().find(|p| p["ip"].as_str() == Some(ip.as_str())).or_else(|| l.first()))
        .and_then(|p| p["dns_ptr"].as_str())
        .map(str::to_string);
    RemoteFloatingIp {
        id: id_of(&v["id"]),
        ip,
        server: (!v["server"].is_null()).then(|| id_of(&v["server"])),
        dns_ptr,
        labels: labels_of(&v["labels"]),
    }
}

fn snapshot_of(v: &Value) -> RemoteSnapshot {
    RemoteSnapshot {
        id: id_of(&v["id"]),
        description: v["description"].as_str().unwrap_or_default().into(),
        status: v["status"].as_str().unwrap_or("creating").into(),
        size_gb: v["image_size"].as_f64(),
        labels: labels_of(&v["labels"]),
    }
}

fn record_of(v: &Value) -> RemoteRecord {
    RemoteRecord {
        id: Some(id_of(&v["id"])),
        record_type: v["type"].as_str().unwrap_or_default().into(),
        name: v["name"].as_str().unwrap_or_default().into(),
        value: v["value"].as_str().unwrap_or_default().into(),
        ttl: v["ttl"].as_i64().unwrap_or(3600) as i32,
    }
}

pub(super) fn action_id(v: &Value) -> Pending {
    (!v["action"].is_null()).then(|| id_of(&v["action"]["id"]))
}

impl Hetzner {
    pub fn new(cfg: &InfrastructureSettings, token: String, dns_token: String) -> Self {
        Self {
            api: cfg.hetzner_api_url.clone(),
            dns: cfg.hetzner_dns_api_url.clone(),
            token,
            dns_token,
            poll: Duration::from_millis(cfg.poll_ms),
            http: client(),
        }
    }

    pub(super) fn cloud(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, format!("{}{path}", self.api)).bearer_auth(&self.token)
    }

    fn dns_req(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, format!("{}{path}", self.dns)).header("Auth-API-Token", &self.dns_token)
    }

    pub(super) async fn send(&self, req: RequestBuilder) -> DriverResult<Value> {
        body(req.send().await.map_err(unreachable)?).await
    }

    /// Every item of a paged Cloud API list (`meta.pagination.next_page`).
    pub(super) async fn list_all(
        &self,
        path: &str,
        key: &str,
        query: &[(&str, &str)],
    ) -> DriverResult<Vec<Value>> {
        let mut out = Vec::new();
        let mut page = 1u32;
        loop {
            let p = page.to_string();
            let v = self
                .send(
                    self.cloud(Method::GET, path)
                        .query(query)
                        .query(&[("page", p.as_str()), ("per_page", "50")]),
                )
                .await?;
            out.extend(v[key].as_array().cloned().unwrap_or_default());
            match v["meta"]["pagination"]["next_page"].as_u64() {
                Some(n) if n as u32 > page && page < 1000 => page = n as u32,
                _ => return Ok(out),
            }
        }
    }

    pub(super) async fn action_post(&self, path: &str, body: Value) -> DriverResult<Pending> {
        Ok(action_id(&self.send(self.cloud(Method::POST, path).json(&body)).await?))
    }
}

#[async_trait::async_trait]
impl CloudDriver for Hetzner {
    async fn validate(&self) -> DriverResult<()> {
        self.send(self.cloud(Method::GET, "/servers").query(&[("per_page", "1")])).await.map(|_| ())
    }

    async fn list_servers(&self, selector: &str) -> DriverResult<Vec<RemoteServer>> {
        Ok(self
            .list_all("/servers", "servers", &[("label_selector", selector)])
            .await?
            .iter()
            .map(server_of)
            .collect())
    }

    async fn create_server(&self, spec: &ServerSpec) -> DriverResult<(RemoteServer, Pending)> {
        let v = self
            .send(self.cloud(Method::POST, "/servers").json(&json!({
                "name": spec.name,
                "server_type": spec.server_type,
                "image": spec.image,
                "location": spec.location,
                "labels": spec.labels,
                "start_after_create": true,
            })))
            .await?;
        Ok((server_of(&v["server"]), action_id(&v)))
    }

    async fn get_server(&self, id: &str) -> DriverResult<Option<RemoteServer>> {
        match self.send(self.cloud(Method::GET, &format!("/servers/{id}"))).await {
            Ok(v) => Ok(Some(server_of(&v["server"]))),
            Err(DriverError::Provider { code, .. }) if code == "not_found" => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn delete_server(&self, id: &str) -> DriverResult<Pending> {
        match self.send(self.cloud(Method::DELETE, &format!("/servers/{id}"))).await {
            Ok(v) => Ok(action_id(&v)),
            // Gone already (an earlier attempt deleted it): what was asked is true.
            Err(DriverError::Provider { code, .. }) if code == "not_found" => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn server_action(&self, id: &str, op: &ServerOp) -> DriverResult<Pending> {
        let (name, body) = match op {
            ServerOp::Start => ("poweron", json!({})),
            ServerOp::Stop => ("shutdown", json!({})),
            ServerOp::Reboot => ("reboot", json!({})),
            ServerOp::Reset => ("reset", json!({})),
            ServerOp::PowerOff => ("poweroff", json!({})),
            ServerOp::Resize { server_type } => {
                ("change_type", json!({ "server_type": server_type, "upgrade_disk": false }))
            }
            ServerOp::Rebuild { image } => ("rebuild", json!({ "image": image })),
        };
        self.action_post(&format!("/servers/{id}/actions/{name}"), body).await
    }

    async fn list_volumes(&self, selector: &str) -> DriverResult<Vec<RemoteVolume>> {
        Ok(self
            .list_all("/volumes", "volumes", &[("label_selector", selector)])
            .await?
            .iter()
            .map(volume_of)
            .collect())
    }

    async fn create_volume(&self, spec: &VolumeSpec) -> DriverResult<(RemoteVolume, Pending)> {
        let v = self
            .send(self.cloud(Method::POST, "/volumes").json(&json!({
                "name": spec.name,
                "size": spec.size_gb,
                "location": spec.location,
                "labels": spec.labels,
                "format": "ext4",
            })))
            .await?;
        Ok((volume_of(&v["volume"]), action_id(&v)))
    }

    async fn get_volume(&self, id: &str) -> DriverResult<Option<RemoteVolume>> {
        match self.send(self.cloud(Method::GET, &format!("/volumes/{id}"))).await {
            Ok(v) => Ok(Some(volume_of(&v["volume"]))),
            Err(DriverError::Provider { code, .. }) if code == "not_found" => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn attach_volume(&self, id: &str, server: &str) -> DriverResult<Pending> {
        let server: Value = server.parse::<u64>().map(Value::from).unwrap_or_else(|_| json!(server));
        self.action_post(
            &format!("/volumes/{id}/actions/attach"),
            json!({ "server": server, "automount": false }),
        )
        .await
    }

    async fn detach_volume(&self, id: &str) -> DriverResult<Pending> {
        self.action_post(&format!("/volumes/{id}/actions/detach"), json!({})).await
    }

    async fn resize_volume(&self, id: &str, size_gb: i32) -> DriverResult<Pending> {
        self.action_post(&format!("/volumes/{id}/actions/resize"), json!({ "size": size_gb })).await
    }

    async fn delete_volume(&self, id: &str) -> DriverResult<()> {
        match self.send(self.cloud(Method::DELETE, &format!("/volumes/{id}"))).await {
            Ok(_) => Ok(()),
            Err(DriverError::Provider { code, .. }) if code == "not_found" => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn create_snapshot(
        &self,
        server: &str,
        description: &str,
        labels: &Labels,
    ) -> DriverResult<(RemoteSnapshot, Pending)> {
        let v = self
            .send(self.cloud(Method::POST, &format!("/servers/{server}/actions/create_image")).json(&json!({
                "description": description,
                "type": "snapshot",
                "labels": labels,
            })))
            .await?;
        Ok((snapshot_of(&v["image"]), action_id(&v)))
    }

    async fn list_snapshots(&self, selector: &str) -> DriverResult<Vec<RemoteSnapshot>> {
        Ok(self
            .list_all("/images", "images", &[("type", "snapshot"), ("label_selector", selector)])
            .await?
            .iter()
            .map(snapshot_of)
            .collect())
    }

    async fn get_snapshot(&self, id: &str) -> DriverResult<Option<RemoteSnapshot>> {
        match self.send(self.cloud(Method::GET, &format!("/images/{id}"))).await {
            Ok(v) => Ok(Some(snapshot_of(&v["image"]))),
            Err(DriverError::Provider { code, .. }) if code == "not_found" => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn delete_snapshot(&self, id: &str) -> DriverResult<()> {
        match self.send(self.cloud(Method::DELETE, &format!("/images/{id}"))).await {
            Ok(_) => Ok(()),
            Err(DriverError::Provider { code, .. }) if code == "not_found" => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn list_floating_ips(&self, selector: &str) -> DriverResult<Vec<RemoteFloatingIp>> {
        Ok(self
            .list_all("/floating_ips", "floating_ips", &[("label_selector", selector)])
            .await?
            .iter()
            .map(floating_ip_of)
            .collect())
    }

    async fn create_floating_ip(&self, spec: &FloatingIpSpec) -> DriverResult<(RemoteFloatingIp, Pending)> {
        let v = self
            .send(self.cloud(Method::POST, "/floating_ips").json(&json!({
                "type": spec.ip_type, "home_location": spec.home_location, "name": spec.name,
                "description": spec.description, "labels": spec.labels,
            })))
            .await?;
        Ok((floating_ip_of(&v["floating_ip"]), action_id(&v)))
    }

    async fn get_floating_ip(&self, id: &str) -> DriverResult<Option<RemoteFloatingIp>> {
        match self.send(self.cloud(Method::GET, &format!("/floating_ips/{id}"))).await {
            Ok(v) => Ok(Some(floating_ip_of(&v["floating_ip"]))),
            Err(DriverError::Provider { code, .. }) if code == "not_found" => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn assign_floating_ip(&self, id: &str, server: &str) -> DriverResult<Pending> {
        let server: Value = server.parse::<u64>().map(Value::from).unwrap_or_else(|_| Value::from(server));
        self.action_post(&format!("/floating_ips/{id}/actions/assign"), json!({ "server": server })).await
    }

    async fn unassign_floating_ip(&self, id: &str) -> DriverResult<Pending> {
        self.action_post(&format!("/floating_ips/{id}/actions/unassign"), json!({})).await
    }

    async fn set_floating_ip_dns_ptr(&self, id: &str, ip: &str, ptr: Option<&str>) -> DriverResult<Pending> {
        self.action_post(
            &format!("/floating_ips/{id}/actions/change_dns_ptr"),
            json!({ "ip": ip, "dns_ptr": ptr }),
        )
        .await
    }

    async fn delete_floating_ip(&self, id: &str) -> DriverResult<()> {
        match self.send(self.cloud(Method::DELETE, &format!("/floating_ips/{id}"))).await {
            Ok(_) => Ok(()),
            Err(DriverError::Provider { code, .. }) if code == "not_found" => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn find_zone(&self, name: &str) -> DriverResult<Option<RemoteZone>> {
        let v = self.send(self.dns_req(Method::GET, "/zones").query(&[("name", name)])).await?;
        Ok(v["zones"].as_array().and_then(|zs| zs.iter().find(|z| z["name"] == name)).map(|z| RemoteZone {
            id: id_of(&z["id"]),
            name: name.to_string(),
            ttl: z["ttl"].as_i64().unwrap_or(86400) as i32,
            name_servers: z["ns"]
                .as_array()
                .map(|ns| ns.iter().filter_map(|n| n.as_str().map(str::to_string)).collect())
                .unwrap_or_default(),
        }))
    }

    async fn create_zone(&self, name: &str, ttl: i32) -> DriverResult<RemoteZone> {
        let v = self
            .send(self.dns_req(Method::POST, "/zones").json(&json!({ "name": name, "ttl": ttl })))
            .await?;
        Ok(RemoteZone { id: id_of(&v["zone"]["id"]), name: name.to_string(), ttl, name_servers: vec![] })
    }

    async fn list_records(&self, zone: &str) -> DriverResult<Vec<RemoteRecord>> {
        let v = self.send(self.dns_req(Method::GET, "/records").query(&[("zone_id", zone)])).await?;
        Ok(v["records"].as_array().map(|rs| rs.iter().map(record_of).collect()).unwrap_or_default())
    }

    async fn put_record(&self, zone: &str, record: &RemoteRecord) -> DriverResult<RemoteRecord> {
        let body = json!({
            "zone_id": zone, "type": record.record_type, "name": record.name, "value": record.value, "ttl": record.ttl,
        });
        let req = match &record.id {
            Some(id) => self.dns_req(Method::PUT, &format!("/records/{id}")),
            None => self.dns_req(Method::POST, "/records"),
        };
        Ok(record_of(&self.send(req.json(&body)).await?["record"]))
    }

    async fn delete_record(&self, id: &str) -> DriverResult<()> {
        match self.send(self.dns_req(Method::DELETE, &format!("/records/{id}"))).await {
            Ok(_) => Ok(()),
            Err(DriverError::Provider { code, .. }) if code == "not_found" || code == "404" => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn server_metrics(&self, id: &str, w: &MetricWindow) -> DriverResult<Vec<MetricSeries>> {
        let (start, end, step) = (w.start.to_rfc3339(), w.end.to_rfc3339(), w.step.to_string());
        let v = self
            .send(self.cloud(Method::GET, &format!("/servers/{id}/metrics")).query(&[
                ("type", w.family.as_str()),
                ("start", start.as_str()),
                ("end", end.as_str()),
                ("step", step.as_str()),
            ]))
            .await?;
        // `{"metrics": {"time_series": {"cpu": {"values": [[1435781470.622, "42"], …]}}}}`:
        // values are strings.
        let series = v["metrics"]["time_series"].as_object().cloned().unwrap_or_default();
        Ok(series
            .into_iter()
            .map(|(name, s)| {
                let points = s["values"]
                    .as_array()
                    .map(|vals| {
                        vals.iter()
                            .filter_map(|p| {
                                let t = p[0].as_f64()?;
                                let y = match &p[1] {
                                    Value::String(s) => s.parse().ok()?,
                                    other => other.as_f64()?,
                                };
                                Some((t, y))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                MetricSeries { name, points }
            })
            .collect())
    }

    async fn request_console(&self, id: &str) -> DriverResult<RemoteConsole> {
        let v = self
            .send(
                self.cloud(Method::POST, &format!("/servers/{id}/actions/request_console")).json(&json!({})),
            )
            .await?;
        match (v["wss_url"].as_str(), v["password"].as_str()) {
            (Some(url), Some(password)) => {
                Ok(RemoteConsole { url: url.into(), password: password.into(), private_key: None })
            }
            _ => Err(DriverError::transient("Hetzner's console answer has no wss_url or password")),
        }
    }

    async fn server_price(&self, server_type: &str, location: &str) -> DriverResult<Option<MonthlyPrice>> {
        // `{"pricing": {"currency": "EUR", "server_types": [{"name": "cx22", "prices":
        // [{"location": "fsn1", "price_monthly": {"net": "3.7900", "gross": "4.5101"}}]}]}}`
        let v = self.send(self.cloud(Method::GET, "/pricing")).await?;
        let pricing = &v["pricing"];
        let num = |v: &Value| v.as_str().and_then(|s| s.parse::<f64>().ok()).or_else(|| v.as_f64());
        let price = pricing["server_types"]
            .as_array()
            .and_then(|types| types.iter().find(|t| t["name"].as_str() == Some(server_type)))
            .and_then(|t| t["prices"].as_array())
            .and_then(|ps| ps.iter().find(|p| p["location"].as_str() == Some(location)))
            .and_then(|p| {
                Some(MonthlyPrice {
                    net: num(&p["price_monthly"]["net"])?,
                    gross: num(&p["price_monthly"]["gross"])?,
                    currency: pricing["currency"].as_str().unwrap_or("EUR").to_string(),
                })
            });
        Ok(price)
    }

    async fn action(&self, id: &str) -> DriverResult<ActionState> {
        let v = self.send(self.cloud(Method::GET, &format!("/actions/{id}"))).await?;
        let a = &v["action"];
        Ok(match a["status"].as_str() {
            Some("success") => ActionState::Succeeded,
            Some("error") => ActionState::Failed {
                code: a["error"]["code"].as_str().unwrap_or("action_failed").into(),
                message: a["error"]["message"].as_str().unwrap_or("the action failed").into(),
            },
            _ => ActionState::Running { progress: a["progress"].as_i64().unwrap_or_default() as i32 },
        })
    }

    fn poll_interval(&self) -> Duration {
        self.poll
    }

    async fn root_access(
        &self,
        id: &str,
        op: super::RootAccessOp,
    ) -> DriverResult<(Pending, Option<String>)> {
        let (name, body) = match op {
            super::RootAccessOp::EnableRescue => ("enable_rescue", json!({ "type": "linux64" })),
            super::RootAccessOp::DisableRescue => ("disable_rescue", json!({})),
            super::RootAccessOp::ResetPassword => ("reset_password", json!({})),
        };
        let v =
            self.send(self.cloud(Method::POST, &format!("/servers/{id}/actions/{name}")).json(&body)).await?;
        Ok((action_id(&v), v["root_password"].as_str().map(str::to_string)))
    }

    fn net(&self) -> Option<&dyn super::net::NetDriver> {
        Some(self)
    }
}
