//! Checks of the shapes members ask networks, firewalls and load balancers to have, naming
//! the input field at fault (`input.subnets.1.ipRange`), in the vocabulary of the account's
//! cloud ([`Cloud`]: Hetzner's, which the local cloud shares, or AWS's). What passes is in
//! canonical order (on AWS, firewall rules as a security group holds them).

use std::{collections::HashSet, net::Ipv4Addr};

use entity::cloud_provider::{self, CloudProviderKind};
use ipnet::{IpNet, Ipv4Net};

use super::drivers::{
    aws_sg, credentials_of,
    net::{FirewallRule, LbService, NetSpec, Target},
};
use crate::{
    ctx::Ctx,
    error::{AppError, AppResult},
};

/// Hetzner's network zones.
pub const NETWORK_ZONES: &[&str] = &["eu-central", "us-east", "us-west", "ap-southeast"];
/// Hetzner's load balancer types.
pub const LOAD_BALANCER_TYPES: &[&str] = &["lb11", "lb21", "lb31"];
/// AWS's load balancer types (ELBv2): HTTP and TCP.
pub const AWS_LOAD_BALANCER_TYPES: &[&str] = &["application", "network"];

/// Whose vocabulary a spec is checked in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cloud {
    /// Hetzner's (network zones, `lb11` …), also the local cloud's.
    Hetzner,
    /// AWS's, in the account's region when its credentials say.
    Aws { region: Option<String> },
}

impl Cloud {
    /// The vocabulary of provider account `p` (its region read from the sealed credentials).
    pub fn of(ctx: &Ctx, p: &cloud_provider::Model) -> Self {
        match p.kind {
            CloudProviderKind::Aws => {
                Self::Aws { region: credentials_of(ctx, p).ok().and_then(|c| c.region) }
            }
            CloudProviderKind::Hetzner | CloudProviderKind::Local => Self::Hetzner,
        }
    }
}

/// Whether `zone` is an availability zone name (`us-east-1a`) of `region`, or of any region.
fn aws_zone(zone: &str, region: Option<&str>) -> bool {
    let Some(letter) = zone.chars().last().filter(char::is_ascii_lowercase) else { return false };
    let region_part = &zone[..zone.len() - letter.len_utf8()];
    match region {
        Some(r) => region_part == r,
        None => {
            let parts: Vec<&str> = region_part.split('-').collect();
            parts.len() >= 3
                && parts[..parts.len() - 1]
                    .iter()
                    .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
                && parts[parts.len() - 1].parse::<u8>().is_ok()
        }
    }
}

fn private(n: &Ipv4Net) -> bool {
    let blocks = [
        (Ipv4Addr::new(10, 0, 0, 0), 8),
        (Ipv4Addr::new(172, 16, 0, 0), 12),
        (Ipv4Addr::new(192, 168, 0, 0), 16),
    ];
    blocks.iter().any(|(a, p)| Ipv4Net::new(*a, *p).is_ok_and(|b| b.contains(n)))
}

fn cidr4(field: &str, v: &str) -> AppResult<Ipv4Net> {
    let n: Ipv4Net = v
        .trim()
        .parse()
        .map_err(|_| AppError::validation(field, "must be an IPv4 range such as 10.0.0.0/16"))?;
    if n.trunc() != n {
        return Err(AppError::validation(
            field,
            format!("must start at its range's first address ({})", n.trunc()),
        ));
    }
    Ok(n)
}

fn check_network(ip_range: &str, subnets: &[super::drivers::net::Subnet], cloud: &Cloud) -> AppResult<()> {
    let range = cidr4("input.ipRange", ip_range)?;
    if !private(&range) || range.prefix_len() > 24 {
        return Err(AppError::validation(
            "input.ipRange",
            "must be a private range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16) of at least /24",
        ));
    }
    if matches!(cloud, Cloud::Aws { .. }) && range.prefix_len() < 16 {
        return Err(AppError::validation("input.ipRange", "an AWS VPC is /16 to /24 here"));
    }
    if subnets.len() > 50 {
        return Err(AppError::validation("input.subnets", "at most 50 subnets"));
    }
    let mut seen: Vec<Ipv4Net> = Vec::new();
    for (i, s) in subnets.iter().enumerate() {
        let f = format!("input.subnets.{i}.ipRange");
        let n = cidr4(&f, &s.ip_range)?;
        if !range.contains(&n) || n.prefix_len() > 30 {
            return Err(AppError::validation(f, format!("must be a range of at least /30 inside {range}")));
        }
        if seen.iter().any(|o| o.contains(&n) || n.contains(o)) {
            return Err(AppError::validation(f, "overlaps another subnet"));
        }
        let zone = format!("input.subnets.{i}.networkZone");
        match cloud {
            Cloud::Hetzner if !NETWORK_ZONES.contains(&s.network_zone.as_str()) => {
                return Err(AppError::validation(
                    zone,
                    format!("must be one of {}", NETWORK_ZONES.join(", ")),
                ));
            }
            Cloud::Aws { .. } if n.prefix_len() > 28 => {
                return Err(AppError::validation(f, "an AWS subnet is /16 to /28"));
            }
            Cloud::Aws { region } if !aws_zone(&s.network_zone, region.as_deref()) => {
                let r = region.as_deref().unwrap_or("the account's region");
                let example =
                    region.as_deref().map(|r| format!("{r}a")).unwrap_or_else(|| "eu-central-1a".into());
                return Err(AppError::validation(
                    zone,
                    format!("must be an availability zone of {r} (such as {example})"),
                ));
            }
            _ => {}
        }
        seen.push(n);
    }
    Ok(())
}

fn check_port(field: &str, p: &str) -> AppResult<()> {
    let one = |s: &str| s.parse::<u32>().ok().filter(|n| (1..=65535).contains(n));
    let ok = match p.split_once('-') {
        Some((a, b)) => matches!((one(a), one(b)), (Some(a), Some(b)) if a < b),
        None => one(p).is_some(),
    };
    if ok {
        Ok(())
    } else {
        Err(AppError::validation(field, "must be a port (1 to 65535) or a range such as 1000-2000"))
    }
}

fn check_rule(i: usize, r: &FirewallRule) -> AppResult<()> {
    let f = |name: &str| format!("input.rules.{i}.{name}");
    if !matches!(r.direction.as_str(), "in" | "out") {
        return Err(AppError::validation(f("direction"), "must be IN or OUT"));
    }
    match (r.protocol.as_str(), &r.port) {
        ("tcp" | "udp", Some(p)) => check_port(&f("port"), p)?,
        ("tcp" | "udp", None) => return Err(AppError::validation(f("port"), "is required for TCP and UDP")),
        ("icmp" | "esp" | "gre", None) => {}
        ("icmp" | "esp" | "gre", Some(_)) => {
            return Err(AppError::validation(f("port"), "only TCP and UDP rules have ports"));
        }
        _ => return Err(AppError::validation(f("protocol"), "must be TCP, UDP, ICMP, ESP or GRE")),
    }
    let (ips, name, other) = if r.direction == "in" {
        (&r.source_ips, "sourceIps", &r.destination_ips)
    } else {
        (&r.destination_ips, "destinationIps", &r.source_ips)
    };
    if ips.is_empty() || ips.len() > 100 {
        return Err(AppError::validation(f(name), "1 to 100 ranges (0.0.0.0/0 and ::/0 for anywhere)"));
    }
    if !other.is_empty() {
        let other_name = if r.direction == "in" { "destinationIps" } else { "sourceIps" };
        return Err(AppError::validation(
            f(other_name),
            "an IN rule has sources only, an OUT rule destinations only",
        ));
    }
    for (j, ip) in ips.iter().enumerate() {
        let n: IpNet = ip.parse().map_err(|_| {
            AppError::validation(format!("{}.{j}", f(name)), "must be a range such as 203.0.113.0/24")
        })?;
        if n.trunc() != n {
            return Err(AppError::validation(
                format!("{}.{j}", f(name)),
                format!("must start at its range's first address ({})", n.trunc()),
            ));
        }
    }
    if r.description.as_deref().is_some_and(|d| d.chars().count() > 255) {
        return Err(AppError::validation(f("description"), "at most 255 characters"));
    }
    Ok(())
}

fn check_service(i: usize, s: &LbService, others: &[LbService]) -> AppResult<()> {
    let f = |name: &str| format!("input.services.{i}.{name}");
    if !matches!(s.protocol.as_str(), "tcp" | "http") {
        return Err(AppError::validation(f("protocol"), "must be TCP or HTTP"));
    }
    for (name, p) in [
        ("listenPort", s.listen_port),
        ("destinationPort", s.destination_port),
        ("healthCheck.port", s.health_check.port),
    ] {
        if !(1..=65535).contains(&p) {
            return Err(AppError::validation(f(name), "must be 1 to 65535"));
        }
    }
    if others[..i].iter().any(|o| o.listen_port == s.listen_port) {
        return Err(AppError::validation(f("listenPort"), "another service listens on this port"));
    }
    let h = &s.health_check;
    if !matches!(h.protocol.as_str(), "tcp" | "http") {
        return Err(AppError::validation(f("healthCheck.protocol"), "must be TCP or HTTP"));
    }
    if !(3..=60).contains(&h.interval) {
        return Err(AppError::validation(f("healthCheck.interval"), "must be 3 to 60 seconds"));
    }
    if h.timeout < 1 || h.timeout > h.interval {
        return Err(AppError::validation(f("healthCheck.timeout"), "must be 1 second up to the interval"));
    }
    if !(0..=5).contains(&h.retries) {
        return Err(AppError::validation(f("healthCheck.retries"), "must be 0 to 5"));
    }
    match (&h.protocol[..], &h.path) {
        ("http", Some(p)) if p.starts_with('/') && p.len() <= 200 => Ok(()),
        ("http", _) => {
            Err(AppError::validation(f("healthCheck.path"), "an HTTP check needs a path starting with /"))
        }
        (_, Some(_)) => Err(AppError::validation(f("healthCheck.path"), "only HTTP checks have a path")),
        _ => Ok(()),
    }
}

fn check_targets(targets: &[Target]) -> AppResult<()> {
    if targets.len() > 50 {
        return Err(AppError::validation("input.serverIds", "at most 50 servers and label selectors"));
    }
    let selectors = targets.iter().filter_map(|t| match t {
        Target::LabelSelector(s) => Some(s),
        Target::Server(_) => None,
    });
    for (i, s) in selectors.enumerate() {
        let ok = !s.trim().is_empty()
            && s.len() <= 200
            && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '=' | '!' | ','));
        if !ok {
            return Err(AppError::validation(
                format!("input.labelSelectors.{i}"),
                "must be a label selector such as role=web or env!=test",
            ));
        }
    }
    Ok(())
}

/// On AWS: each range once per direction, protocol and port (a security group holds one
/// permission for each).
fn check_aws_rules(rules: &[FirewallRule]) -> AppResult<()> {
    let mut seen = HashSet::new();
    for (i, r) in rules.iter().enumerate() {
        let (ips, name) = if r.direction == "in" {
            (&r.source_ips, "sourceIps")
        } else {
            (&r.destination_ips, "destinationIps")
        };
        for (j, ip) in ips.iter().enumerate() {
            let n = ip.parse::<IpNet>().map(|n| n.to_string()).unwrap_or_else(|_| ip.clone());
            if !seen.insert((&r.direction, &r.protocol, &r.port, n)) {
                return Err(AppError::validation(
                    format!("input.rules.{i}.{name}.{j}"),
                    "is named by another rule of the same direction, protocol and port (AWS keeps one)",
                ));
            }
        }
    }
    Ok(())
}

/// On AWS: an application load balancer forwards and checks HTTP, a network one TCP
/// (balanced round robin); both need a service (a target group holds their targets), live in
/// the account's region and check with AWS's bounds.
fn check_aws_lb(
    kind: &str,
    location: &str,
    algorithm: &str,
    services: &[LbService],
    region: Option<&str>,
) -> AppResult<()> {
    if !AWS_LOAD_BALANCER_TYPES.contains(&kind) {
        return Err(AppError::validation(
            "input.type",
            "must be application (HTTP) or network (TCP), AWS's load balancer types",
        ));
    }
    if let Some(r) = region.filter(|r| *r != location.trim()) {
        return Err(AppError::validation("input.location", format!("must be the account's region, {r}")));
    }
    let application = kind == "application";
    if !application && algorithm != "round_robin" {
        return Err(AppError::validation(
            "input.algorithm",
            "a network load balancer balances ROUND_ROBIN only",
        ));
    }
    if services.is_empty() {
        return Err(AppError::validation(
            "input.services",
            "an AWS load balancer needs a service (its targets are held by the services' target groups)",
        ));
    }
    for (i, s) in services.iter().enumerate() {
        let f = |name: &str| format!("input.services.{i}.{name}");
        let h = &s.health_check;
        match (application, s.protocol.as_str()) {
            (true, "http") | (false, "tcp") => {}
            (true, _) => {
                return Err(AppError::validation(
                    f("protocol"),
                    "an application load balancer forwards HTTP only (a network load balancer forwards TCP)",
                ));
            }
            (false, _) => {
                return Err(AppError::validation(
                    f("protocol"),
                    "a network load balancer forwards TCP only (an application load balancer forwards HTTP)",
                ));
            }
        }
        if application && h.protocol != "http" {
            return Err(AppError::validation(
                f("healthCheck.protocol"),
                "an application load balancer checks over HTTP",
            ));
        }
        if h.interval < 5 {
            return Err(AppError::validation(f("healthCheck.interval"), "must be 5 to 60 seconds on AWS"));
        }
        if h.timeout < 2 || (h.protocol == "http" && h.timeout >= h.interval) {
            return Err(AppError::validation(
                f("healthCheck.timeout"),
                "must be 2 seconds or more on AWS, and less than the interval for HTTP checks",
            ));
        }
        if h.retries < 2 {
            return Err(AppError::validation(
                f("healthCheck.retries"),
                "must be 2 to 5 on AWS (its healthy threshold)",
            ));
        }
    }
    Ok(())
}

/// Checks `spec` in `cloud`'s vocabulary; the canonical spec when it is sound.
pub fn check(spec: NetSpec, cloud: &Cloud) -> AppResult<NetSpec> {
    let region = match cloud {
        Cloud::Aws { region } => Some(region.as_deref()),
        Cloud::Hetzner => None,
    };
    match &spec {
        NetSpec::Network { ip_range, subnets, servers } => {
            check_network(ip_range, subnets, cloud)?;
            if servers.len() > 50 {
                return Err(AppError::validation("input.serverIds", "at most 50 servers"));
            }
        }
        NetSpec::Firewall { rules, apply_to } => {
            if rules.len() > 50 {
                return Err(AppError::validation("input.rules", "at most 50 rules"));
            }
            for (i, r) in rules.iter().enumerate() {
                check_rule(i, r)?;
            }
            if region.is_some() {
                check_aws_rules(rules)?;
            }
            check_targets(apply_to)?;
        }
        NetSpec::LoadBalancer { load_balancer_type, location, algorithm, services, targets } => {
            if region.is_none() && !LOAD_BALANCER_TYPES.contains(&load_balancer_type.as_str()) {
                return Err(AppError::validation(
                    "input.type",
                    format!("must be one of {}", LOAD_BALANCER_TYPES.join(", ")),
                ));
            }
            let l = location.trim();
            if l.is_empty() || l.len() > 64 {
                return Err(AppError::validation("input.location", "must be 1 to 64 characters"));
            }
            if !matches!(algorithm.as_str(), "round_robin" | "least_connections") {
                return Err(AppError::validation(
                    "input.algorithm",
                    "must be ROUND_ROBIN or LEAST_CONNECTIONS",
                ));
            }
            if services.len() > 15 {
                return Err(AppError::validation("input.services", "at most 15 services"));
            }
            for (i, s) in services.iter().enumerate() {
                check_service(i, s, services)?;
            }
            if let Some(region) = region {
                check_aws_lb(load_balancer_type, location, algorithm, services, region)?;
            }
            check_targets(targets)?;
        }
    }
    let mut spec = spec.canonical();
    if let (Some(_), NetSpec::Firewall { rules, .. }) = (region, &mut spec) {
        // As the security group will hold them and the driver reads them back, so that the
        // reconciler compares like with like.
        *rules = aws_sg::canonical_rules(rules);
    }
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_zones_are_of_the_region_or_of_the_aws_form() {
        assert!(aws_zone("us-east-1a", Some("us-east-1")));
        assert!(!aws_zone("us-west-2a", Some("us-east-1")));
        assert!(!aws_zone("us-east-1", Some("us-east-1")));
        assert!(aws_zone("ap-southeast-2c", None));
        assert!(!aws_zone("eu-central", None));
        assert!(!aws_zone("", None));
    }
}
