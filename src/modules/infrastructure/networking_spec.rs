//! Checks of the shapes members ask networks, firewalls and load balancers to have, naming
//! the input field at fault (`input.subnets.1.ipRange`). What passes is in canonical order.

use std::net::Ipv4Addr;

use ipnet::{IpNet, Ipv4Net};

use super::drivers::net::{FirewallRule, LbService, NetSpec, Target};
use crate::error::{AppError, AppResult};

/// Hetzner's network zones.
pub const NETWORK_ZONES: &[&str] = &["eu-central", "us-east", "us-west", "ap-southeast"];
/// Hetzner's load balancer types.
pub const LOAD_BALANCER_TYPES: &[&str] = &["lb11", "lb21", "lb31"];

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

fn check_network(ip_range: &str, subnets: &[super::drivers::net::Subnet]) -> AppResult<()> {
    let range = cidr4("input.ipRange", ip_range)?;
    if !private(&range) || range.prefix_len() > 24 {
        return Err(AppError::validation(
            "input.ipRange",
            "must be a private range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16) of at least /24",
        ));
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
        if !NETWORK_ZONES.contains(&s.network_zone.as_str()) {
            return Err(AppError::validation(
                format!("input.subnets.{i}.networkZone"),
                format!("must be one of {}", NETWORK_ZONES.join(", ")),
            ));
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

/// Checks `spec`; the canonical spec when it is sound.
pub fn check(spec: NetSpec) -> AppResult<NetSpec> {
    match &spec {
        NetSpec::Network { ip_range, subnets, servers } => {
            check_network(ip_range, subnets)?;
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
            check_targets(apply_to)?;
        }
        NetSpec::LoadBalancer { load_balancer_type, location, algorithm, services, targets } => {
            if !LOAD_BALANCER_TYPES.contains(&load_balancer_type.as_str()) {
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
            check_targets(targets)?;
        }
    }
    Ok(spec.canonical())
}
