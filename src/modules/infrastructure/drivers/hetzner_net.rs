//! Hetzner networks (`/networks`, `add_subnet`/`delete_subnet`, servers'
//! `attach_to_network`/`detach_from_network`), firewalls (`/firewalls`, `set_rules`,
//! `apply_to_resources`/`remove_from_resources`) and load balancers (`/load_balancers`,
//! `change_algorithm`, `add_service`/`delete_service`, `add_target`/`remove_target`).

use reqwest::Method;
use serde_json::{Value, json};

use super::{
    DriverError, DriverResult, Labels,
    hetzner::{Hetzner, action_id, id_of, labels_of},
    net::{FirewallRule, HealthCheck, LbService, NetDriver, NetKind, NetSpec, RemoteNet, Subnet, Target},
};

fn path(kind: NetKind) -> (&'static str, &'static str, &'static str) {
    match kind {
        NetKind::Network => ("/networks", "networks", "network"),
        NetKind::Firewall => ("/firewalls", "firewalls", "firewall"),
        NetKind::LoadBalancer => ("/load_balancers", "load_balancers", "load_balancer"),
    }
}

/// A numeric id as the API wants it (tests' fakes may use strings).
fn num(id: &str) -> Value {
    id.parse::<u64>().map(Value::from).unwrap_or_else(|_| json!(id))
}

fn target_json(t: &Target) -> Value {
    match t {
        Target::Server(id) => json!({ "type": "server", "server": { "id": num(id) } }),
        Target::LabelSelector(s) => json!({ "type": "label_selector", "label_selector": { "selector": s } }),
    }
}

fn target_of(v: &Value) -> Option<Target> {
    match v["type"].as_str()? {
        "server" => Some(Target::Server(id_of(&v["server"]["id"]))),
        "label_selector" => v["label_selector"]["selector"].as_str().map(|s| Target::LabelSelector(s.into())),
        _ => None,
    }
}

fn targets_of(v: &Value) -> Vec<Target> {
    v.as_array().map(|l| l.iter().filter_map(target_of).collect()).unwrap_or_default()
}

fn service_json(s: &LbService) -> Value {
    let h = &s.health_check;
    let mut check = json!({
        "protocol": h.protocol, "port": h.port, "interval": h.interval, "timeout": h.timeout, "retries": h.retries,
    });
    if let Some(p) = &h.path {
        check["http"] = json!({ "path": p });
    }
    json!({
        "protocol": s.protocol, "listen_port": s.listen_port, "destination_port": s.destination_port,
        "proxyprotocol": false, "health_check": check,
    })
}

fn service_of(v: &Value) -> LbService {
    let h = &v["health_check"];
    let int = |v: &Value| v.as_i64().unwrap_or_default() as i32;
    LbService {
        protocol: v["protocol"].as_str().unwrap_or("tcp").into(),
        listen_port: int(&v["listen_port"]),
        destination_port: int(&v["destination_port"]),
        health_check: HealthCheck {
            protocol: h["protocol"].as_str().unwrap_or("tcp").into(),
            port: int(&h["port"]),
            interval: int(&h["interval"]),
            timeout: int(&h["timeout"]),
            retries: int(&h["retries"]),
            path: h["http"]["path"].as_str().map(str::to_string),
        },
    }
}

fn rule_of(v: &Value) -> FirewallRule {
    let ips = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|l| l.iter().filter_map(|i| i.as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    };
    FirewallRule {
        direction: v["direction"].as_str().unwrap_or("in").into(),
        protocol: v["protocol"].as_str().unwrap_or("tcp").into(),
        port: v["port"].as_str().map(str::to_string),
        source_ips: ips(&v["source_ips"]),
        destination_ips: ips(&v["destination_ips"]),
        description: v["description"].as_str().map(str::to_string),
    }
}

fn net_of(kind: NetKind, v: &Value) -> RemoteNet {
    let spec = match kind {
        NetKind::Network => NetSpec::Network {
            ip_range: v["ip_range"].as_str().unwrap_or_default().into(),
            subnets: v["subnets"]
                .as_array()
                .map(|l| {
                    l.iter()
                        .map(|s| Subnet {
                            network_zone: s["network_zone"].as_str().unwrap_or_default().into(),
                            ip_range: s["ip_range"].as_str().unwrap_or_default().into(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            servers: v["servers"].as_array().map(|l| l.iter().map(id_of).collect()).unwrap_or_default(),
        },
        NetKind::Firewall => NetSpec::Firewall {
            rules: v["rules"].as_array().map(|l| l.iter().map(rule_of).collect()).unwrap_or_default(),
            apply_to: targets_of(&v["applied_to"]),
        },
        NetKind::LoadBalancer => NetSpec::LoadBalancer {
            load_balancer_type: v["load_balancer_type"]["name"].as_str().unwrap_or_default().into(),
            location: v["location"]["name"].as_str().unwrap_or_default().into(),
            algorithm: v["algorithm"]["type"].as_str().unwrap_or("round_robin").into(),
            services: v["services"]
                .as_array()
                .map(|l| l.iter().map(service_of).collect())
                .unwrap_or_default(),
            targets: targets_of(&v["targets"]),
        },
    };
    RemoteNet {
        id: id_of(&v["id"]),
        name: v["name"].as_str().unwrap_or_default().into(),
        labels: labels_of(&v["labels"]),
        spec: spec.canonical(),
        public_ip: v["public_net"]["ipv4"]["ip"].as_str().map(str::to_string),
        // Hetzner lists explicit servers and label selectors apart.
        matched: vec![],
    }
}

/// The ids of an answer's `action` or `actions`.
fn action_ids(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = action_id(v).into_iter().collect();
    if let Some(l) = v["actions"].as_array() {
        out.extend(l.iter().map(|a| id_of(&a["id"])));
    }
    out
}

fn mismatch() -> DriverError {
    DriverError::provider("invalid_input", "the desired shape is of another kind of resource")
}

impl Hetzner {
    async fn post(&self, path: &str, body: Value) -> DriverResult<Vec<String>> {
        Ok(action_ids(&self.send(self.cloud(Method::POST, path).json(&body)).await?))
    }
}

#[async_trait::async_trait]
impl NetDriver for Hetzner {
    async fn list_net(&self, kind: NetKind, selector: &str) -> DriverResult<Vec<RemoteNet>> {
        let (p, key, _) = path(kind);
        Ok(self
            .list_all(p, key, &[("label_selector", selector)])
            .await?
            .iter()
            .map(|v| net_of(kind, v))
            .collect())
    }

    async fn get_net(&self, kind: NetKind, id: &str) -> DriverResult<Option<RemoteNet>> {
        let (p, _, one) = path(kind);
        match self.send(self.cloud(Method::GET, &format!("{p}/{id}"))).await {
            Ok(v) => Ok(Some(net_of(kind, &v[one]))),
            Err(DriverError::Provider { code, .. }) if code == "not_found" => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn create_net(
        &self,
        name: &str,
        labels: &Labels,
        spec: &NetSpec,
    ) -> DriverResult<(RemoteNet, Vec<String>)> {
        let kind = NetKind::of(spec);
        let body = match spec {
            NetSpec::Network { ip_range, subnets, .. } => json!({
                "name": name, "labels": labels, "ip_range": ip_range,
                "subnets": subnets.iter().map(|s| json!({
                    "type": "cloud", "ip_range": s.ip_range, "network_zone": s.network_zone,
                })).collect::<Vec<_>>(),
            }),
            NetSpec::Firewall { rules, apply_to } => json!({
                "name": name, "labels": labels, "rules": rules,
                "apply_to": apply_to.iter().map(target_json).collect::<Vec<_>>(),
            }),
            NetSpec::LoadBalancer { load_balancer_type, location, algorithm, services, targets } => json!({
                "name": name, "labels": labels, "load_balancer_type": load_balancer_type,
                "location": location, "algorithm": { "type": algorithm }, "public_interface": true,
                "services": services.iter().map(service_json).collect::<Vec<_>>(),
                "targets": targets.iter().map(target_json).collect::<Vec<_>>(),
            }),
        };
        let (p, _, one) = path(kind);
        let v = self.send(self.cloud(Method::POST, p).json(&body)).await?;
        Ok((net_of(kind, &v[one]), action_ids(&v)))
    }

    async fn converge_net(&self, current: &RemoteNet, desired: &NetSpec) -> DriverResult<Vec<String>> {
        let id = &current.id;
        let mut out = Vec::new();
        match (&current.spec, desired) {
            (
                NetSpec::Network { subnets: have, servers: on, .. },
                NetSpec::Network { subnets: want, servers: wanted, .. },
            ) => {
                for s in have.iter().filter(|s| !want.contains(s)) {
                    let body = json!({ "ip_range": s.ip_range });
                    out.extend(self.post(&format!("/networks/{id}/actions/delete_subnet"), body).await?);
                }
                for s in want.iter().filter(|s| !have.contains(s)) {
                    let body =
                        json!({ "type": "cloud", "ip_range": s.ip_range, "network_zone": s.network_zone });
                    out.extend(self.post(&format!("/networks/{id}/actions/add_subnet"), body).await?);
                }
                for s in on.iter().filter(|s| !wanted.contains(s)) {
                    let body = json!({ "network": num(id) });
                    out.extend(self.post(&format!("/servers/{s}/actions/detach_from_network"), body).await?);
                }
                for s in wanted.iter().filter(|s| !on.contains(s)) {
                    let body = json!({ "network": num(id) });
                    out.extend(self.post(&format!("/servers/{s}/actions/attach_to_network"), body).await?);
                }
            }
            (
                NetSpec::Firewall { rules: have, apply_to: on },
                NetSpec::Firewall { rules: want, apply_to: wanted },
            ) => {
                if have != want {
                    let body = json!({ "rules": want });
                    out.extend(self.post(&format!("/firewalls/{id}/actions/set_rules"), body).await?);
                }
                let gone: Vec<Value> = on.iter().filter(|t| !wanted.contains(t)).map(target_json).collect();
                if !gone.is_empty() {
                    let body = json!({ "remove_from": gone });
                    out.extend(
                        self.post(&format!("/firewalls/{id}/actions/remove_from_resources"), body).await?,
                    );
                }
                let new: Vec<Value> = wanted.iter().filter(|t| !on.contains(t)).map(target_json).collect();
                if !new.is_empty() {
                    let body = json!({ "apply_to": new });
                    out.extend(
                        self.post(&format!("/firewalls/{id}/actions/apply_to_resources"), body).await?,
                    );
                }
            }
            (
                NetSpec::LoadBalancer { algorithm: alg, services: have, targets: on, .. },
                NetSpec::LoadBalancer { algorithm: want_alg, services: want, targets: wanted, .. },
            ) => {
                let lb = format!("/load_balancers/{id}/actions");
                if alg != want_alg {
                    out.extend(
                        self.post(&format!("{lb}/change_algorithm"), json!({ "type": want_alg })).await?,
                    );
                }
                for s in have.iter().filter(|s| !want.contains(s)) {
                    let body = json!({ "listen_port": s.listen_port });
                    out.extend(self.post(&format!("{lb}/delete_service"), body).await?);
                }
                for s in want.iter().filter(|s| !have.contains(s)) {
                    out.extend(self.post(&format!("{lb}/add_service"), service_json(s)).await?);
                }
                for t in on.iter().filter(|t| !wanted.contains(t)) {
                    out.extend(self.post(&format!("{lb}/remove_target"), target_json(t)).await?);
                }
                for t in wanted.iter().filter(|t| !on.contains(t)) {
                    out.extend(self.post(&format!("{lb}/add_target"), target_json(t)).await?);
                }
            }
            _ => return Err(mismatch()),
        }
        Ok(out)
    }

    async fn delete_net(&self, kind: NetKind, id: &str) -> DriverResult<()> {
        let (p, _, _) = path(kind);
        match self.send(self.cloud(Method::DELETE, &format!("{p}/{id}"))).await {
            Ok(_) => Ok(()),
            Err(DriverError::Provider { code, .. }) if code == "not_found" => Ok(()),
            Err(e) => Err(e),
        }
    }
}
