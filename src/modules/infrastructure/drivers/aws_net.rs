//! The AWS driver's [`NetDriver`] and its networks (firewalls are `aws_sg.rs`'s, load
//! balancers `aws_elb.rs`'s), with what the three share (tags, label selectors resolved to
//! instances, the default VPC and its subnets). A network is a VPC (its `ip_range` the VPC's
//! CIDR block) with one subnet per spec subnet in an availability zone of the region; a
//! server joins it through an ENI of Zygo's (tagged `zygo-network`/`zygo-server`) made in the
//! VPC's subnet of the instance's zone and attached as a secondary interface. Only the
//! resource itself is made by `create_net`; `converge_net` does the rest. Pendings:
//! `vpc:<id>`, `eni-attach:<eni>`, `eni-detach:<eni>`, `eni-delete:<eni>`.

use std::collections::BTreeSet;

use sha2::{Digest, Sha256};

use super::{
    ActionState, DriverError, DriverResult, Labels,
    aws::{Aws, absent, not_found},
    aws_ec2::{Params, filters},
    aws_xml::Node,
    net::{NetDriver, NetKind, NetSpec, RemoteNet, Subnet, Target},
};

/// The prefix of the tags remembering a firewall's or load balancer's label selectors.
pub(super) const SELECTOR_TAG: &str = "zygo-selector-";

/// Every tag of an EC2 `tagSet`.
pub(super) fn tags_of(item: &Node) -> Labels {
    item.items("tagSet")
        .into_iter()
        .filter_map(|t| Some((t.text("key")?.to_string(), t.text("value").unwrap_or_default().to_string())))
        .collect()
}

/// The labels among `tags` (not the display name, not Zygo's own bookkeeping) and the name.
pub(super) fn labels_and_name(tags: &Labels, id: &str) -> (Labels, String) {
    let labels = tags
        .iter()
        .filter(|(k, _)| *k != "Name" && !k.starts_with(SELECTOR_TAG))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    (labels, tags.get("Name").cloned().unwrap_or_else(|| id.to_string()))
}

/// The tag remembering label selector `s` (tag values allow neither `,` nor `!` everywhere).
pub(super) fn selector_tag(s: &str) -> (String, String) {
    let hash: String = Sha256::digest(s.as_bytes())[..6].iter().map(|b| format!("{b:02x}")).collect();
    (format!("{SELECTOR_TAG}{hash}"), s.replace(',', " ").replace('!', "@"))
}

/// The selector tags to remove from a resource tagged `have` and those to add, so its tags
/// remember exactly the label selectors among `targets`.
pub(super) fn selector_tag_changes(
    have: &Labels,
    targets: &[Target],
) -> (Vec<String>, Vec<(String, String)>) {
    let want: Labels = targets
        .iter()
        .filter_map(|t| match t {
            Target::LabelSelector(s) => Some(selector_tag(s)),
            Target::Server(_) => None,
        })
        .collect();
    let gone =
        have.keys().filter(|k| k.starts_with(SELECTOR_TAG) && !want.contains_key(*k)).cloned().collect();
    let new = want.into_iter().filter(|(k, _)| !have.contains_key(k)).collect();
    (gone, new)
}

/// The label selectors remembered in `tags`.
pub(super) fn selectors_of(tags: &Labels) -> Vec<String> {
    let mut out: Vec<String> = tags
        .iter()
        .filter(|(k, _)| k.starts_with(SELECTOR_TAG))
        .map(|(_, v)| v.replace(' ', ",").replace('@', "!"))
        .collect();
    out.sort();
    out
}

/// Whether `labels` match every term of `selector` (`k=v`, `k!=v`, `k`, `!k`).
pub(super) fn matches(selector: &str, labels: &Labels) -> bool {
    selector.split(',').map(str::trim).filter(|t| !t.is_empty()).all(|t| {
        if let Some((k, v)) = t.split_once("!=") {
            labels.get(k.trim()).map(String::as_str) != Some(v.trim())
        } else if let Some((k, v)) = t.split_once('=') {
            labels.get(k.trim()).map(String::as_str) == Some(v.trim())
        } else if let Some(k) = t.strip_prefix('!') {
            !labels.contains_key(k.trim())
        } else {
            labels.contains_key(t)
        }
    })
}

/// A refusal that goes away once AWS has finished something (an interface detaching, a load
/// balancer being deleted): worth trying again.
pub(super) fn settling(e: DriverError) -> DriverError {
    match e {
        DriverError::Provider { code, message }
            if matches!(
                code.as_str(),
                "DependencyViolation" | "InvalidNetworkInterface.InUse" | "ResourceInUse" | "IncorrectState"
            ) =>
        {
            DriverError::Transient { message: format!("{code}: {message}"), retry_after: None }
        }
        e => e,
    }
}

/// An elastic network interface as this driver needs it.
struct Eni {
    id: String,
    subnet: String,
    status: String,
    instance: Option<String>,
    attachment: Option<String>,
    device: i64,
    /// Made by Zygo (tagged `zygo-network`) for this server (`zygo-server`).
    zygo: bool,
    server_tag: Option<String>,
}

impl Eni {
    fn of(n: &Node) -> Self {
        let tags = tags_of(n);
        Self {
            id: n.text("networkInterfaceId").unwrap_or_default().into(),
            subnet: n.text("subnetId").unwrap_or_default().into(),
            status: n.text("status").unwrap_or_default().into(),
            instance: n.text("attachment/instanceId").map(str::to_string),
            attachment: n.text("attachment/attachmentId").map(str::to_string),
            device: n.text("attachment/deviceIndex").and_then(|d| d.parse().ok()).unwrap_or(0),
            zygo: tags.contains_key("zygo-network"),
            server_tag: tags.get("zygo-server").cloned(),
        }
    }

    /// The instance it is attached to as a secondary interface.
    fn joined(&self) -> Option<&str> {
        self.instance.as_deref().filter(|_| self.device != 0)
    }
}

fn state_of(n: Option<Node>, path: &str, done: &str) -> ActionState {
    match n.as_ref().and_then(|n| n.text(path)) {
        Some(s) if s == done => ActionState::Succeeded,
        _ => ActionState::Running { progress: 50 },
    }
}

impl Aws {
    /// The region's default VPC.
    pub(super) async fn default_vpc(&self) -> DriverResult<String> {
        let mut p = Params::one("Filter.1.Name", "isDefault");
        p.push("Filter.1.Value.1", "true");
        let v = self.ec2("DescribeVpcs", p).await?;
        v.items("vpcSet").first().and_then(|i| i.text("vpcId")).map(str::to_string).ok_or_else(|| {
            DriverError::provider(
                "no_default_vpc",
                "the region has no default VPC for firewalls and load balancers",
            )
        })
    }

    /// The subnets of `vpc`: (id, zone and range).
    pub(super) async fn subnets(&self, vpc: &str) -> DriverResult<Vec<(String, Subnet)>> {
        let mut p = Params::one("Filter.1.Name", "vpc-id");
        p.push("Filter.1.Value.1", vpc);
        let items = self.ec2_all("DescribeSubnets", p, "subnetSet", None).await?;
        Ok(items
            .iter()
            .map(|s| {
                let subnet = Subnet {
                    network_zone: s.text("availabilityZone").unwrap_or_default().into(),
                    ip_range: s.text("cidrBlock").unwrap_or_default().into(),
                };
                (s.text("subnetId").unwrap_or_default().to_string(), subnet)
            })
            .collect())
    }

    async fn enis(&self, vpc: &str) -> DriverResult<Vec<Eni>> {
        let mut p = Params::one("Filter.1.Name", "vpc-id");
        p.push("Filter.1.Value.1", vpc);
        let items = self.ec2_all("DescribeNetworkInterfaces", p, "networkInterfaceSet", None).await?;
        Ok(items.iter().map(Eni::of).collect())
    }

    async fn eni(&self, id: &str) -> DriverResult<Option<Node>> {
        let v = absent(self.ec2("DescribeNetworkInterfaces", Params::one("NetworkInterfaceId.1", id)).await)?;
        Ok(v.and_then(|v| v.items("networkInterfaceSet").first().map(|n| (*n).clone())))
    }

    /// The EC2 description of instance `id`.
    pub(super) async fn instance_node(&self, id: &str) -> DriverResult<Node> {
        let v = self.ec2("DescribeInstances", Params::one("InstanceId.1", id)).await?;
        v.items("reservationSet")
            .into_iter()
            .flat_map(|r| r.items("instancesSet"))
            .next()
            .cloned()
            .ok_or_else(|| {
                DriverError::provider("invalid_input", format!("the instance {id} does not exist"))
            })
    }

    /// The live instances matching label selector `selector` (`!=` and `!k` read here).
    pub(super) async fn matching(&self, selector: &str) -> DriverResult<Vec<String>> {
        let positive: Vec<&str> =
            selector.split(',').map(str::trim).filter(|t| !t.is_empty() && !t.contains('!')).collect();
        let found = self.instances(&positive.join(",")).await?;
        Ok(found.into_iter().filter(|s| matches(selector, &s.labels)).map(|s| s.id).collect())
    }

    /// The instances `targets` name, selectors resolved now.
    pub(super) async fn resolve(&self, targets: &[Target]) -> DriverResult<BTreeSet<String>> {
        let mut out = BTreeSet::new();
        for t in targets {
            match t {
                Target::Server(s) => {
                    out.insert(s.clone());
                }
                Target::LabelSelector(s) => out.extend(self.matching(s).await?),
            }
        }
        Ok(out)
    }

    /// What a resource applies to, as read back: the selectors remembered in `tags` and the
    /// instances in `holders` that no selector explains; and the holders a selector explains
    /// (see [`RemoteNet::matched`]).
    pub(super) async fn targets_of(
        &self,
        tags: &Labels,
        holders: &BTreeSet<String>,
    ) -> DriverResult<(Vec<Target>, Vec<String>)> {
        let selectors = selectors_of(tags);
        let explained =
            self.resolve(&selectors.iter().cloned().map(Target::LabelSelector).collect::<Vec<_>>()).await?;
        let mut out: Vec<Target> = selectors.into_iter().map(Target::LabelSelector).collect();
        out.extend(holders.iter().filter(|h| !explained.contains(*h)).cloned().map(Target::Server));
        Ok((out, holders.intersection(&explained).cloned().collect()))
    }

    async fn vpc_net(&self, v: &Node) -> DriverResult<RemoteNet> {
        let id = v.text("vpcId").unwrap_or_default().to_string();
        let (labels, name) = labels_and_name(&tags_of(v), &id);
        let subnets = self.subnets(&id).await?.into_iter().map(|(_, s)| s).collect();
        let servers: BTreeSet<String> =
            self.enis(&id).await?.iter().filter_map(|e| e.joined().map(str::to_string)).collect();
        let spec = NetSpec::Network {
            ip_range: v.text("cidrBlock").unwrap_or_default().into(),
            subnets,
            servers: servers.into_iter().collect(),
        };
        Ok(RemoteNet { id, name, labels, spec: spec.canonical(), public_ip: None, matched: vec![] })
    }

    async fn converge_network(
        &self,
        vpc: &str,
        want: &[Subnet],
        wanted: &[String],
    ) -> DriverResult<Vec<String>> {
        let mut out = Vec::new();
        let enis = self.enis(vpc).await?;
        for e in &enis {
            match (e.joined(), &e.attachment) {
                (Some(i), Some(att)) if !wanted.iter().any(|w| w == i) => {
                    absent(self.ec2("DetachNetworkInterface", Params::one("AttachmentId", att)).await)?;
                    out.push(format!("{}:{}", if e.zygo { "eni-delete" } else { "eni-detach" }, e.id));
                }
                // Zygo's, detached (by an earlier attempt) and not about to be used again.
                (None, _) if e.zygo && e.status == "available" => {
                    let reuse = e.server_tag.as_ref().is_some_and(|s| {
                        wanted.contains(s) && !enis.iter().any(|o| o.joined() == Some(s.as_str()))
                    });
                    if !reuse {
                        absent(
                            self.ec2("DeleteNetworkInterface", Params::one("NetworkInterfaceId", &e.id))
                                .await,
                        )
                        .map_err(settling)?;
                    }
                }
                _ => {}
            }
        }
        let mut subnets = self.subnets(vpc).await?;
        for (id, _) in subnets.iter().filter(|(_, s)| !want.contains(s)) {
            absent(self.ec2("DeleteSubnet", Params::one("SubnetId", id)).await).map_err(settling)?;
        }
        subnets.retain(|(_, s)| want.contains(s));
        let missing: Vec<&Subnet> = want.iter().filter(|s| !subnets.iter().any(|(_, h)| h == *s)).collect();
        for s in missing {
            let mut p = Params::one("VpcId", vpc);
            p.push("CidrBlock", &s.ip_range);
            p.push("AvailabilityZone", &s.network_zone);
            let tags = Labels::from([("zygo-network".to_string(), vpc.to_string())]);
            p.tags(1, "subnet", &tags, None);
            let v = self.ec2("CreateSubnet", p).await?;
            subnets.push((v.text("subnet/subnetId").unwrap_or_default().to_string(), s.clone()));
        }
        for server in wanted.iter().filter(|w| !enis.iter().any(|e| e.joined() == Some(w.as_str()))) {
            out.push(self.join(vpc, server, &subnets, &enis).await?);
        }
        Ok(out)
    }

    /// Attaches an interface in `vpc` to instance `server`; the pending to wait for.
    async fn join(
        &self,
        vpc: &str,
        server: &str,
        subnets: &[(String, Subnet)],
        enis: &[Eni],
    ) -> DriverResult<String> {
        let i = self.instance_node(server).await?;
        let zone = i.text("placement/availabilityZone").unwrap_or_default();
        let Some((subnet, _)) = subnets.iter().find(|(_, s)| s.network_zone == zone) else {
            return Err(DriverError::provider(
                "invalid_input",
                format!(
                    "the network has no subnet in {zone}, the availability zone of server {server}: add one there"
                ),
            ));
        };
        let device = i
            .items("networkInterfaceSet")
            .into_iter()
            .filter_map(|n| n.text("attachment/deviceIndex").and_then(|d| d.parse::<i64>().ok()))
            .max()
            .map_or(1, |d| d + 1);
        let left = enis.iter().find(|e| {
            e.zygo
                && e.status == "available"
                && e.server_tag.as_deref() == Some(server)
                && &e.subnet == subnet
        });
        let eni = match left {
            Some(e) => e.id.clone(),
            None => {
                let mut p = Params::one("SubnetId", subnet);
                p.push("Description", format!("Zygo: {server} in {vpc}"));
                let tags = Labels::from([
                    ("zygo-network".to_string(), vpc.to_string()),
                    ("zygo-server".to_string(), server.to_string()),
                ]);
                p.tags(1, "network-interface", &tags, None);
                let v = self.ec2("CreateNetworkInterface", p).await?;
                v.text("networkInterface/networkInterfaceId").unwrap_or_default().to_string()
            }
        };
        let mut p = Params::one("NetworkInterfaceId", &eni);
        p.push("InstanceId", server);
        p.push("DeviceIndex", device.to_string());
        self.ec2("AttachNetworkInterface", p).await?;
        Ok(format!("eni-attach:{eni}"))
    }

    async fn delete_network(&self, vpc: &str) -> DriverResult<()> {
        for e in self.enis(vpc).await? {
            if !e.zygo {
                continue;
            }
            if let (Some(_), Some(att)) = (e.joined(), &e.attachment) {
                absent(self.ec2("DetachNetworkInterface", Params::one("AttachmentId", att)).await)?;
            }
            absent(self.ec2("DeleteNetworkInterface", Params::one("NetworkInterfaceId", &e.id)).await)
                .map_err(settling)?;
        }
        for (id, _) in self.subnets(vpc).await? {
            absent(self.ec2("DeleteSubnet", Params::one("SubnetId", &id)).await).map_err(settling)?;
        }
        absent(self.ec2("DeleteVpc", Params::one("VpcId", vpc)).await).map_err(settling).map(|_| ())
    }

    /// Where a pending of a network stands; `None` when it is not one.
    pub(super) async fn net_pending(&self, pending: &str) -> DriverResult<Option<ActionState>> {
        let Some((kind, id)) = pending.split_once(':') else { return Ok(None) };
        let gone = |what: &str| ActionState::Failed {
            code: "not_found".into(),
            message: format!("the {what} {id} is gone"),
        };
        Ok(Some(match kind {
            "vpc" => {
                let v = absent(self.ec2("DescribeVpcs", Params::one("VpcId.1", id)).await)?;
                match v.and_then(|v| v.items("vpcSet").first().map(|n| (*n).clone())) {
                    None => gone("VPC"),
                    found => state_of(found, "state", "available"),
                }
            }
            "eni-attach" => match self.eni(id).await? {
                None => gone("network interface"),
                found => state_of(found, "attachment/status", "attached"),
            },
            "eni-detach" => match self.eni(id).await? {
                None => ActionState::Succeeded,
                found => state_of(found, "status", "available"),
            },
            "eni-delete" => match self.eni(id).await? {
                None => ActionState::Succeeded,
                Some(n) if n.text("status") == Some("available") => {
                    absent(self.ec2("DeleteNetworkInterface", Params::one("NetworkInterfaceId", id)).await)?;
                    ActionState::Succeeded
                }
                Some(_) => ActionState::Running { progress: 50 },
            },
            _ => return Ok(None),
        }))
    }
}

fn mismatch() -> DriverError {
    DriverError::provider("invalid_input", "the desired shape is of another kind of resource")
}

#[async_trait::async_trait]
impl NetDriver for Aws {
    async fn list_net(&self, kind: NetKind, selector: &str) -> DriverResult<Vec<RemoteNet>> {
        let mut out = Vec::new();
        match kind {
            NetKind::Network => {
                for v in self.ec2_all("DescribeVpcs", filters(selector), "vpcSet", None).await? {
                    out.push(self.vpc_net(&v).await?);
                }
            }
            NetKind::Firewall => {
                let v = self.ec2("DescribeSecurityGroups", filters(selector)).await?;
                for g in v.items("securityGroupInfo") {
                    out.push(self.group_net(g).await?);
                }
            }
            NetKind::LoadBalancer => return self.list_lbs(selector).await,
        }
        Ok(out)
    }

    async fn get_net(&self, kind: NetKind, id: &str) -> DriverResult<Option<RemoteNet>> {
        match kind {
            NetKind::Network => {
                let v = absent(self.ec2("DescribeVpcs", Params::one("VpcId.1", id)).await)?;
                match v.and_then(|v| v.items("vpcSet").first().map(|n| (*n).clone())) {
                    Some(v) => Ok(Some(self.vpc_net(&v).await?)),
                    None => Ok(None),
                }
            }
            NetKind::Firewall => match self.describe_group(id).await? {
                Some(g) => Ok(Some(self.group_net(&g).await?)),
                None => Ok(None),
            },
            NetKind::LoadBalancer => self.lb_net(id).await,
        }
    }

    async fn create_net(
        &self,
        name: &str,
        labels: &Labels,
        spec: &NetSpec,
    ) -> DriverResult<(RemoteNet, Vec<String>)> {
        // Only the resource itself: its subnets, servers, rules, services and targets are
        // converged to next (so a create that is adopted later ends the same way).
        let (kind, id, pending) = match spec {
            NetSpec::Network { ip_range, .. } => {
                let mut p = Params::one("CidrBlock", ip_range);
                p.tags(1, "vpc", labels, Some(name));
                let v = self.ec2("CreateVpc", p).await?;
                let id = v.text("vpc/vpcId").unwrap_or_default().to_string();
                (NetKind::Network, id.clone(), vec![format!("vpc:{id}")])
            }
            NetSpec::Firewall { .. } => {
                let mut p = Params::one("GroupName", name);
                p.push("GroupDescription", format!("Zygo firewall {name}"));
                p.push("VpcId", self.default_vpc().await?);
                p.tags(1, "security-group", labels, Some(name));
                let v = self.ec2("CreateSecurityGroup", p).await?;
                (NetKind::Firewall, v.text("groupId").unwrap_or_default().to_string(), vec![])
            }
            NetSpec::LoadBalancer { load_balancer_type, .. } => {
                (NetKind::LoadBalancer, self.create_lb(name, labels, load_balancer_type).await?, vec![])
            }
        };
        let made = self
            .get_net(kind, &id)
            .await?
            .ok_or_else(|| DriverError::transient(format!("{id} not readable yet")))?;
        Ok((made, pending))
    }

    async fn converge_net(&self, current: &RemoteNet, desired: &NetSpec) -> DriverResult<Vec<String>> {
        let id = &current.id;
        match (&current.spec, desired) {
            (NetSpec::Network { .. }, NetSpec::Network { subnets, servers, .. }) => {
                self.converge_network(id, subnets, servers).await
            }
            (NetSpec::Firewall { .. }, NetSpec::Firewall { rules, apply_to }) => {
                self.converge_firewall(id, rules, apply_to).await.map(|_| vec![])
            }
            (NetSpec::LoadBalancer { .. }, NetSpec::LoadBalancer { .. }) => {
                self.converge_lb(id, desired).await.map(|_| vec![])
            }
            _ => Err(mismatch()),
        }
    }

    async fn delete_net(&self, kind: NetKind, id: &str) -> DriverResult<()> {
        let r = match kind {
            NetKind::Network => self.delete_network(id).await,
            NetKind::Firewall => self.delete_firewall(id).await,
            NetKind::LoadBalancer => self.delete_lb(id).await,
        };
        match r {
            Err(e) if not_found(&e) => Ok(()),
            r => r,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_match_labels_and_survive_a_tag() {
        let labels =
            Labels::from([("role".to_string(), "web".to_string()), ("env".to_string(), "prod".into())]);
        assert!(matches("role=web,env!=test", &labels));
        assert!(matches("role,!gpu", &labels));
        assert!(!matches("role=web,env!=prod", &labels));
        assert!(!matches("gpu", &labels));
        let (k, v) = selector_tag("role=web,env!=test");
        assert!(k.starts_with(SELECTOR_TAG) && !v.contains(',') && !v.contains('!'), "{k} {v}");
        assert_eq!(selectors_of(&Labels::from([(k, v)])), ["role=web,env!=test"]);
        assert_eq!(labels_and_name(&Labels::from([("Name".into(), "n".into())]), "id").1, "n");
    }
}
