//! AWS load balancers for the AWS driver (`aws.rs`, through `aws_net.rs`'s [`NetDriver`]):
//! Elastic Load Balancing v2 over its Query API (`Version=2015-12-01`, service
//! `elasticloadbalancing`). A load balancer is an application (HTTP) or network (TCP) load
//! balancer in every default subnet of the region's default VPC; each service is a target
//! group (`zygo-<the balancer's id>-<listen port>`, instance targets, the health check) and a
//! listener forwarding to it; the algorithm is the target groups' `load_balancing.algorithm.type`
//! (application load balancers only); targets are registered in every target group, label
//! selectors resolved to instances when converged and remembered in `zygo-selector-…` tags.
//! Its DNS name stands in for a public IP: AWS gives these balancers no fixed address.
//!
//! [`NetDriver`]: super::net::NetDriver

use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest, Sha256};

use super::{
    DriverError, DriverResult, Labels,
    aws::Aws,
    aws_ec2::Params,
    aws_net::{labels_and_name, matches, selector_tag_changes, settling},
    aws_xml::Node,
    net::{HealthCheck, LbService, NetSpec, RemoteNet, Target},
};

const VERSION: &str = "2015-12-01";
/// The target group attribute holding the algorithm, and AWS's names of Zygo's algorithms.
const ALGORITHM: &str = "load_balancing.algorithm.type";

/// The `<member>`s of the list at `path`.
fn members<'a>(n: &'a Node, path: &str) -> Vec<&'a Node> {
    n.get(path).map(|l| l.all("member").collect()).unwrap_or_default()
}

/// `Ok(None)` for a balancer, listener or target group that is gone.
fn absent<T>(r: DriverResult<T>) -> DriverResult<Option<T>> {
    match r {
        Err(DriverError::Provider { code, .. })
            if matches!(
                code.as_str(),
                "LoadBalancerNotFound" | "TargetGroupNotFound" | "ListenerNotFound"
            ) =>
        {
            Ok(None)
        }
        r => r.map(Some),
    }
}

/// An ELBv2 name (32 letters, digits and hyphens, no hyphen at either end) of Zygo's `name`.
fn lb_name(name: &str) -> String {
    let s: String = name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    let s: String = s.trim_matches('-').chars().take(32).collect();
    let s = s.trim_end_matches('-');
    match s {
        "" => "zygo".into(),
        s if s.starts_with("internal-") => format!("z{}", &s[..s.len().min(31)]),
        s => s.into(),
    }
}

/// The prefix of the target groups of balancer `arn`: `zygo-` and its id (16 hex digits).
fn tg_prefix(arn: &str) -> String {
    let id = arn.rsplit('/').next().unwrap_or_default();
    if id.len() == 16 && id.chars().all(|c| c.is_ascii_hexdigit()) {
        return format!("zygo-{id}");
    }
    let h: String = Sha256::digest(arn.as_bytes())[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("zygo-{h}")
}

fn elb_tags(tags: &[&Node]) -> Labels {
    tags.iter()
        .filter_map(|t| Some((t.text("Key")?.to_string(), t.text("Value").unwrap_or_default().to_string())))
        .collect()
}

/// The service a listener and its target group make.
fn service_of(l: &Node, tg: &Node) -> LbService {
    let int = |n: &Node, k: &str| n.text(k).and_then(|v| v.parse::<i32>().ok()).unwrap_or_default();
    let port = int(tg, "Port");
    let check = tg.text("HealthCheckProtocol").unwrap_or("TCP").to_ascii_lowercase();
    LbService {
        protocol: l.text("Protocol").unwrap_or("TCP").to_ascii_lowercase(),
        listen_port: int(l, "Port"),
        destination_port: port,
        health_check: HealthCheck {
            port: tg.text("HealthCheckPort").and_then(|p| p.parse().ok()).unwrap_or(port),
            interval: int(tg, "HealthCheckIntervalSeconds"),
            timeout: int(tg, "HealthCheckTimeoutSeconds"),
            retries: int(tg, "HealthyThresholdCount"),
            path: tg.text("HealthCheckPath").filter(|_| check == "http").map(str::to_string),
            protocol: check,
        },
    }
}

fn health_params(p: &mut Params, h: &HealthCheck) {
    p.push("HealthCheckProtocol", h.protocol.to_ascii_uppercase());
    p.push("HealthCheckPort", h.port.to_string());
    if let Some(path) = &h.path {
        p.push("HealthCheckPath", path);
    }
    p.push("HealthCheckIntervalSeconds", h.interval.to_string());
    p.push("HealthCheckTimeoutSeconds", h.timeout.to_string());
    p.push("HealthyThresholdCount", h.retries.to_string());
}

fn aws_algorithm(a: &str) -> &'static str {
    if a == "least_connections" { "least_outstanding_requests" } else { "round_robin" }
}

impl Aws {
    async fn elb(&self, action: &str, params: Params) -> DriverResult<Node> {
        self.query("elasticloadbalancing", VERSION, action, params).await
    }

    /// Every item of a paged ELBv2 list (`Marker`/`NextMarker`) at `<action>Result/<list>`.
    async fn elb_all(&self, action: &str, params: Params, list: &str) -> DriverResult<Vec<Node>> {
        let (mut out, mut marker) = (Vec::new(), None::<String>);
        for _ in 0..1000 {
            let mut p = params.clone();
            if let Some(m) = &marker {
                p.push("Marker", m);
            }
            let v = self.elb(action, p).await?;
            out.extend(members(&v, &format!("{action}Result/{list}")).into_iter().cloned());
            marker = v.text(&format!("{action}Result/NextMarker")).map(str::to_string);
            if marker.is_none() {
                break;
            }
        }
        Ok(out)
    }

    /// The tags of each of `arns`.
    async fn elb_tags(&self, arns: &[String]) -> DriverResult<BTreeMap<String, Labels>> {
        let mut out = BTreeMap::new();
        for chunk in arns.chunks(20) {
            let mut p = Params::default();
            for (i, a) in chunk.iter().enumerate() {
                p.push(format!("ResourceArns.member.{}", i + 1), a);
            }
            let v = self.elb("DescribeTags", p).await?;
            for d in members(&v, "DescribeTagsResult/TagDescriptions") {
                let arn = d.text("ResourceArn").unwrap_or_default().to_string();
                out.insert(arn, elb_tags(&members(d, "Tags")));
            }
        }
        Ok(out)
    }

    /// Makes a balancer of `kind` in the default VPC's subnets (one a zone); its ARN.
    pub(super) async fn create_lb(&self, name: &str, labels: &Labels, kind: &str) -> DriverResult<String> {
        let vpc = self.default_vpc().await?;
        let mut p = Params::one("Name", &lb_name(name));
        p.push("Type", kind);
        p.push("Scheme", "internet-facing");
        let mut zones = BTreeSet::new();
        let subnets = self.subnets(&vpc).await?;
        let one_a_zone: Vec<&String> =
            subnets.iter().filter(|(_, s)| zones.insert(s.network_zone.clone())).map(|(id, _)| id).collect();
        for (i, id) in one_a_zone.into_iter().enumerate() {
            p.push(format!("Subnets.member.{}", i + 1), id);
        }
        let named = (!labels.contains_key("Name")).then(|| ("Name".to_string(), name.to_string()));
        for (i, (k, v)) in labels.clone().into_iter().chain(named).enumerate() {
            p.push(format!("Tags.member.{}.Key", i + 1), k);
            p.push(format!("Tags.member.{}.Value", i + 1), v);
        }
        let v = self.elb("CreateLoadBalancer", p).await?;
        v.text("CreateLoadBalancerResult/LoadBalancers/member/LoadBalancerArn")
            .map(str::to_string)
            .ok_or_else(|| DriverError::transient("CreateLoadBalancer answered without a load balancer"))
    }

    async fn describe_lb(&self, arn: &str) -> DriverResult<Option<Node>> {
        let v =
            absent(self.elb("DescribeLoadBalancers", Params::one("LoadBalancerArns.member.1", arn)).await)?;
        Ok(v.and_then(|v| {
            members(&v, "DescribeLoadBalancersResult/LoadBalancers").first().map(|n| (*n).clone())
        }))
    }

    async fn listeners(&self, arn: &str) -> DriverResult<Vec<Node>> {
        self.elb_all("DescribeListeners", Params::one("LoadBalancerArn", arn), "Listeners").await
    }

    async fn target_groups(&self, arn: &str) -> DriverResult<Vec<Node>> {
        let p = Params::one("LoadBalancerArn", arn);
        Ok(absent(self.elb_all("DescribeTargetGroups", p, "TargetGroups").await)?.unwrap_or_default())
    }

    /// The instances registered in target group `tg`.
    async fn registered(&self, tg: &str) -> DriverResult<BTreeSet<String>> {
        let v = self.elb("DescribeTargetHealth", Params::one("TargetGroupArn", tg)).await?;
        Ok(members(&v, "DescribeTargetHealthResult/TargetHealthDescriptions")
            .into_iter()
            .filter_map(|d| d.text("Target/Id").map(str::to_string))
            .collect())
    }

    /// AWS's algorithm of target group `tg`.
    async fn algorithm_of(&self, tg: &str) -> DriverResult<String> {
        let v = self.elb("DescribeTargetGroupAttributes", Params::one("TargetGroupArn", tg)).await?;
        let attrs = elb_tags(&members(&v, "DescribeTargetGroupAttributesResult/Attributes"));
        Ok(attrs.get(ALGORITHM).cloned().unwrap_or_else(|| "round_robin".into()))
    }

    /// Each listener with its target group (listeners forwarding elsewhere left out).
    async fn services(&self, arn: &str) -> DriverResult<Vec<(Node, Node)>> {
        let tgs = self.target_groups(arn).await?;
        Ok(self
            .listeners(arn)
            .await?
            .into_iter()
            .filter_map(|l| {
                let to = l.text("DefaultActions/member/TargetGroupArn")?.to_string();
                let tg = tgs.iter().find(|t| t.text("TargetGroupArn") == Some(to.as_str()))?.clone();
                Some((l, tg))
            })
            .collect())
    }

    async fn lb_remote(&self, lb: &Node, tags: &Labels) -> DriverResult<RemoteNet> {
        let arn = lb.text("LoadBalancerArn").unwrap_or_default().to_string();
        let kind = lb.text("Type").unwrap_or_default().to_string();
        let pairs = self.services(&arn).await?;
        let (mut holders, mut algorithm) = (BTreeSet::new(), None);
        for (_, tg) in &pairs {
            let tg = tg.text("TargetGroupArn").unwrap_or_default();
            holders.extend(self.registered(tg).await?);
            if algorithm.is_none() && kind == "application" {
                algorithm = Some(self.algorithm_of(tg).await?);
            }
        }
        let (labels, _) = labels_and_name(tags, &arn);
        let (targets, matched) = self.targets_of(tags, &holders).await?;
        let spec = NetSpec::LoadBalancer {
            load_balancer_type: kind,
            // Regional: the balancer is in the region's zones.
            location: self.region().to_string(),
            algorithm: match algorithm.as_deref() {
                Some("least_outstanding_requests") => "least_connections",
                _ => "round_robin",
            }
            .into(),
            services: pairs.iter().map(|(l, tg)| service_of(l, tg)).collect(),
            targets,
        };
        Ok(RemoteNet {
            name: lb.text("LoadBalancerName").unwrap_or_default().into(),
            labels,
            spec: spec.canonical(),
            public_ip: lb.text("DNSName").map(str::to_string),
            id: arn,
            matched,
        })
    }

    pub(super) async fn lb_net(&self, arn: &str) -> DriverResult<Option<RemoteNet>> {
        let Some(lb) = self.describe_lb(arn).await? else { return Ok(None) };
        let tags = self.elb_tags(&[arn.to_string()]).await?.remove(arn).unwrap_or_default();
        Ok(Some(self.lb_remote(&lb, &tags).await?))
    }

    /// The balancers whose tags match `selector` (ELBv2 has no tag filter: read and matched).
    pub(super) async fn list_lbs(&self, selector: &str) -> DriverResult<Vec<RemoteNet>> {
        let lbs = self.elb_all("DescribeLoadBalancers", Params::default(), "LoadBalancers").await?;
        let arns: Vec<String> =
            lbs.iter().filter_map(|l| l.text("LoadBalancerArn").map(str::to_string)).collect();
        let tags = self.elb_tags(&arns).await?;
        let mut out = Vec::new();
        for lb in &lbs {
            let t = lb.text("LoadBalancerArn").and_then(|a| tags.get(a)).cloned().unwrap_or_default();
            if matches(selector, &t) {
                out.push(self.lb_remote(lb, &t).await?);
            }
        }
        Ok(out)
    }

    /// A target group for `s` named `name` in `vpc` (one an earlier attempt left is replaced).
    async fn make_tg(&self, name: &str, vpc: &str, s: &LbService) -> DriverResult<String> {
        let left = absent(self.elb("DescribeTargetGroups", Params::one("Names.member.1", name)).await)?;
        if let Some(tg) =
            left.as_ref().and_then(|v| members(v, "DescribeTargetGroupsResult/TargetGroups").first().copied())
        {
            let tg = tg.text("TargetGroupArn").unwrap_or_default();
            absent(self.elb("DeleteTargetGroup", Params::one("TargetGroupArn", tg)).await)
                .map_err(settling)?;
        }
        let mut p = Params::one("Name", name);
        p.push("Protocol", s.protocol.to_ascii_uppercase());
        p.push("Port", s.destination_port.to_string());
        p.push("VpcId", vpc);
        p.push("TargetType", "instance");
        health_params(&mut p, &s.health_check);
        let v = self.elb("CreateTargetGroup", p).await?;
        v.text("CreateTargetGroupResult/TargetGroups/member/TargetGroupArn")
            .map(str::to_string)
            .ok_or_else(|| DriverError::transient("CreateTargetGroup answered without a target group"))
    }

    async fn drop_service(&self, listener: &str, tg: &str) -> DriverResult<()> {
        absent(self.elb("DeleteListener", Params::one("ListenerArn", listener)).await)?;
        absent(self.elb("DeleteTargetGroup", Params::one("TargetGroupArn", tg)).await).map_err(settling)?;
        Ok(())
    }

    pub(super) async fn converge_lb(&self, arn: &str, desired: &NetSpec) -> DriverResult<()> {
        let NetSpec::LoadBalancer { algorithm, services, targets, .. } = desired else {
            return Err(DriverError::provider("invalid_input", "not a load balancer's shape"));
        };
        let lb = self
            .describe_lb(arn)
            .await?
            .ok_or_else(|| DriverError::provider("not_found", "the load balancer is gone"))?;
        let vpc = lb.text("VpcId").unwrap_or_default().to_string();
        let mut kept: Vec<(i32, String)> = Vec::new();
        for (l, tg) in self.services(arn).await? {
            let have = service_of(&l, &tg);
            let (listener, tg) =
                (l.text("ListenerArn").unwrap_or_default(), tg.text("TargetGroupArn").unwrap_or_default());
            match services.iter().find(|s| s.listen_port == have.listen_port) {
                Some(w) if w.protocol == have.protocol && w.destination_port == have.destination_port => {
                    if w.health_check != have.health_check {
                        let mut p = Params::one("TargetGroupArn", tg);
                        health_params(&mut p, &w.health_check);
                        self.elb("ModifyTargetGroup", p).await?;
                    }
                    kept.push((w.listen_port, tg.to_string()));
                }
                // Gone, or its protocol or port changed (fixed in a target group): made anew.
                _ => self.drop_service(listener, tg).await?,
            }
        }
        let prefix = tg_prefix(arn);
        let missing: Vec<&LbService> =
            services.iter().filter(|s| !kept.iter().any(|(p, _)| *p == s.listen_port)).collect();
        for s in missing {
            let tg = self.make_tg(&format!("{prefix}-{}", s.listen_port), &vpc, s).await?;
            let mut p = Params::one("LoadBalancerArn", arn);
            p.push("Protocol", s.protocol.to_ascii_uppercase());
            p.push("Port", s.listen_port.to_string());
            p.push("DefaultActions.member.1.Type", "forward");
            p.push("DefaultActions.member.1.TargetGroupArn", &tg);
            self.elb("CreateListener", p).await?;
            kept.push((s.listen_port, tg));
        }
        let wanted = self.resolve(targets).await?;
        let application = lb.text("Type") == Some("application");
        for (_, tg) in &kept {
            if application && self.algorithm_of(tg).await? != aws_algorithm(algorithm) {
                let mut p = Params::one("TargetGroupArn", tg);
                p.push("Attributes.member.1.Key", ALGORITHM);
                p.push("Attributes.member.1.Value", aws_algorithm(algorithm));
                self.elb("ModifyTargetGroupAttributes", p).await?;
            }
            let have = self.registered(tg).await?;
            for (action, ids) in [
                ("DeregisterTargets", have.difference(&wanted).collect::<Vec<_>>()),
                ("RegisterTargets", wanted.difference(&have).collect::<Vec<_>>()),
            ] {
                if ids.is_empty() {
                    continue;
                }
                let mut p = Params::one("TargetGroupArn", tg);
                for (i, id) in ids.iter().enumerate() {
                    p.push(format!("Targets.member.{}.Id", i + 1), *id);
                }
                self.elb(action, p).await?;
            }
        }
        self.elb_selector_tags(arn, targets).await
    }

    /// Adds or removes the `zygo-selector-…` tags of balancer `arn` so they name `targets`'.
    async fn elb_selector_tags(&self, arn: &str, targets: &[Target]) -> DriverResult<()> {
        let have = self.elb_tags(&[arn.to_string()]).await?.remove(arn).unwrap_or_default();
        let (gone, new) = selector_tag_changes(&have, targets);
        if !gone.is_empty() {
            let mut p = Params::one("ResourceArns.member.1", arn);
            for (i, k) in gone.iter().enumerate() {
                p.push(format!("TagKeys.member.{}", i + 1), k);
            }
            self.elb("RemoveTags", p).await?;
        }
        if !new.is_empty() {
            let mut p = Params::one("ResourceArns.member.1", arn);
            for (i, (k, v)) in new.iter().enumerate() {
                p.push(format!("Tags.member.{}.Key", i + 1), k);
                p.push(format!("Tags.member.{}.Value", i + 1), v);
            }
            self.elb("AddTags", p).await?;
        }
        Ok(())
    }

    /// Deletes balancer `arn`: its listeners, itself, then its target groups (also those an
    /// interrupted attempt left without a listener).
    pub(super) async fn delete_lb(&self, arn: &str) -> DriverResult<()> {
        if self.describe_lb(arn).await?.is_some() {
            for l in absent(self.listeners(arn).await)?.unwrap_or_default() {
                let id = l.text("ListenerArn").unwrap_or_default();
                absent(self.elb("DeleteListener", Params::one("ListenerArn", id)).await)?;
            }
            absent(self.elb("DeleteLoadBalancer", Params::one("LoadBalancerArn", arn)).await)?;
        }
        let prefix = format!("{}-", tg_prefix(arn));
        for tg in self.elb_all("DescribeTargetGroups", Params::default(), "TargetGroups").await? {
            if tg.text("TargetGroupName").is_some_and(|n| n.starts_with(&prefix)) {
                let id = tg.text("TargetGroupArn").unwrap_or_default();
                absent(self.elb("DeleteTargetGroup", Params::one("TargetGroupArn", id)).await)
                    .map_err(settling)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fit_elbv2() {
        assert_eq!(lb_name("front_end.web"), "front-end-web");
        assert_eq!(lb_name("-x-"), "x");
        assert_eq!(lb_name("___"), "zygo");
        assert_eq!(lb_name(&"a".repeat(40)).len(), 32);
        let arn = "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/front/b2933323f1a11f05";
        assert_eq!(tg_prefix(arn), "zygo-b2933323f1a11f05");
        assert!(tg_prefix("odd").len() <= 21);
    }
}
