//! The local cloud's networks, firewalls and load balancers: kept as `local_cloud_objects`
//! holding their spec; a change is an action that lands the new spec when it completes (as
//! the local cloud's other actions do), and a load balancer gets an address of a
//! documentation range.

use serde_json::{Value, json};

use super::{
    DriverError, DriverResult, Labels,
    local::{Local, labels_of, matches},
    net::{NetDriver, NetKind, NetSpec, RemoteNet},
};
use entity::local_cloud_object as obj;

fn kind_str(kind: NetKind) -> &'static str {
    match kind {
        NetKind::Network => "network",
        NetKind::Firewall => "firewall",
        NetKind::LoadBalancer => "load_balancer",
    }
}

fn net_of(o: &obj::Model) -> DriverResult<RemoteNet> {
    let spec: NetSpec = serde_json::from_value(o.data["spec"].clone())
        .map_err(|e| DriverError::provider("invalid_state", format!("unreadable object: {e}")))?;
    Ok(RemoteNet {
        id: o.external_id.clone(),
        name: o.data["name"].as_str().unwrap_or_default().into(),
        labels: labels_of(&o.labels),
        spec: spec.canonical(),
        public_ip: o.data["public_ip"].as_str().map(str::to_string),
        matched: vec![],
    })
}

fn spec_json(spec: &NetSpec) -> Value {
    serde_json::to_value(spec.clone().canonical()).unwrap_or(Value::Null)
}

#[async_trait::async_trait]
impl NetDriver for Local {
    async fn list_net(&self, kind: NetKind, selector: &str) -> DriverResult<Vec<RemoteNet>> {
        let all = self.all(kind_str(kind)).await?;
        all.iter().filter(|o| matches(&o.labels, selector)).map(net_of).collect()
    }

    async fn get_net(&self, kind: NetKind, id: &str) -> DriverResult<Option<RemoteNet>> {
        self.advance_actions_on(id).await?;
        self.one(kind_str(kind), id).await?.as_ref().map(net_of).transpose()
    }

    async fn create_net(
        &self,
        name: &str,
        labels: &Labels,
        spec: &NetSpec,
    ) -> DriverResult<(RemoteNet, Vec<String>)> {
        let kind = kind_str(NetKind::of(spec));
        let existing = self.all(kind).await?;
        if existing.iter().any(|o| o.data["name"] == name) {
            return Err(DriverError::provider("uniqueness_error", format!("a {kind} named {name} exists")));
        }
        // A network's servers are attached by converging; a firewall's and a load balancer's
        // targets come with it.
        let initial = match spec {
            NetSpec::Network { ip_range, subnets, .. } => {
                NetSpec::Network { ip_range: ip_range.clone(), subnets: subnets.clone(), servers: vec![] }
            }
            other => other.clone(),
        };
        let public_ip = matches!(spec, NetSpec::LoadBalancer { .. })
            .then(|| format!("203.0.113.{}", existing.len() % 250 + 2));
        let data = json!({ "name": name, "spec": spec_json(&initial), "public_ip": public_ip });
        let row = self.insert(kind, json!(labels), data).await?;
        // Being made takes a moment, like everything the local cloud does.
        let pending = self.start_action(&format!("create_{kind}"), &row, json!({}), json!({})).await?;
        Ok((net_of(&row)?, pending.into_iter().collect()))
    }

    async fn converge_net(&self, current: &RemoteNet, desired: &NetSpec) -> DriverResult<Vec<String>> {
        if NetKind::of(&current.spec) != NetKind::of(desired) {
            return Err(DriverError::provider("invalid_input", "the desired shape is of another kind"));
        }
        if &current.spec == &desired.clone().canonical() {
            return Ok(vec![]);
        }
        let kind = kind_str(NetKind::of(desired));
        let row = self
            .one(kind, &current.id)
            .await?
            .ok_or_else(|| DriverError::provider("not_found", format!("{kind} not found")))?;
        let then = json!({ "spec": spec_json(desired) });
        Ok(self.start_action(&format!("update_{kind}"), &row, json!({}), then).await?.into_iter().collect())
    }

    async fn delete_net(&self, kind: NetKind, id: &str) -> DriverResult<()> {
        match self.one(kind_str(kind), id).await? {
            Some(row) => self.remove(&row).await,
            None => Ok(()),
        }
    }
}
