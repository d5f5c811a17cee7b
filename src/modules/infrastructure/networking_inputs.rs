//! The inputs of the network, firewall and load balancer mutations, and how they become specs
//! (names lower-cased as providers take them, defaults filled in, server IDs decoded).

use async_graphql::{ID, InputObject, Json, Result};

use super::{
    drivers::net::{FirewallRule as Rule, HealthCheck as Check, LbService, Subnet as SubnetSpec, Target},
    networking_schema::{
        FirewallDirection, FirewallProtocol, LoadBalancerAlgorithm, LoadBalancerProtocol, lower,
    },
};
use crate::graphql::{relay, relay::kind};

#[derive(InputObject)]
pub struct SubnetInput {
    /// `eu-central`, `us-east`, `us-west` or `ap-southeast`.
    pub network_zone: String,
    /// A range inside the network's, of at least /30.
    pub ip_range: String,
}

#[derive(InputObject)]
pub struct FirewallRuleInput {
    pub direction: FirewallDirection,
    pub protocol: FirewallProtocol,
    /// A port or range (`80`, `1000-2000`): required for TCP and UDP, absent otherwise.
    pub port: Option<String>,
    /// Ranges an IN rule admits (`0.0.0.0/0`, `::/0` for anywhere).
    pub source_ips: Option<Vec<String>>,
    /// Ranges an OUT rule lets through.
    pub destination_ips: Option<Vec<String>>,
    /// At most 255 characters.
    pub description: Option<String>,
}

#[derive(InputObject)]
pub struct HealthCheckInput {
    pub protocol: LoadBalancerProtocol,
    pub port: i32,
    /// 3 to 60 seconds; 15 when absent.
    pub interval: Option<i32>,
    /// Up to the interval; 10 when absent.
    pub timeout: Option<i32>,
    /// 0 to 5; 3 when absent.
    pub retries: Option<i32>,
    /// The path an HTTP check asks for.
    pub path: Option<String>,
}

#[derive(InputObject)]
pub struct LoadBalancerServiceInput {
    pub protocol: LoadBalancerProtocol,
    pub listen_port: i32,
    pub destination_port: i32,
    /// A TCP check of the destination port when absent.
    pub health_check: Option<HealthCheckInput>,
}

#[derive(InputObject)]
pub struct CreateNetworkInput {
    pub provider_id: ID,
    /// 1 to 64 letters, digits, `-`, `_` or `.`; unique among the account's networks.
    pub name: String,
    /// A private IPv4 range of at least /24 (`10.0.0.0/16`).
    pub ip_range: String,
    pub subnets: Option<Vec<SubnetInput>>,
    /// Servers of the same account to attach.
    pub server_ids: Option<Vec<ID>>,
    pub labels: Option<Json<serde_json::Value>>,
}

#[derive(InputObject)]
pub struct UpdateNetworkInput {
    pub network_id: ID,
    /// The subnets it should have (all of them).
    pub subnets: Option<Vec<SubnetInput>>,
    /// The servers that should be attached (all of them).
    pub server_ids: Option<Vec<ID>>,
}

#[derive(InputObject)]
pub struct CreateFirewallInput {
    pub provider_id: ID,
    pub name: String,
    pub rules: Vec<FirewallRuleInput>,
    /// Servers of the same account it applies to.
    pub server_ids: Option<Vec<ID>>,
    /// Label selectors (`role=web`): it applies to every server matching one.
    pub label_selectors: Option<Vec<String>>,
    pub labels: Option<Json<serde_json::Value>>,
}

#[derive(InputObject)]
pub struct UpdateFirewallInput {
    pub firewall_id: ID,
    /// The rules it should have (all of them).
    pub rules: Option<Vec<FirewallRuleInput>>,
    pub server_ids: Option<Vec<ID>>,
    pub label_selectors: Option<Vec<String>>,
}

#[derive(InputObject)]
pub struct CreateLoadBalancerInput {
    pub provider_id: ID,
    pub name: String,
    /// `lb11`, `lb21` or `lb31`.
    #[graphql(name = "type")]
    pub load_balancer_type: String,
    /// The provider's location (`fsn1`).
    pub location: String,
    /// ROUND_ROBIN when absent.
    pub algorithm: Option<LoadBalancerAlgorithm>,
    pub services: Vec<LoadBalancerServiceInput>,
    pub server_ids: Option<Vec<ID>>,
    pub label_selectors: Option<Vec<String>>,
    pub labels: Option<Json<serde_json::Value>>,
}

#[derive(InputObject)]
pub struct UpdateLoadBalancerInput {
    pub load_balancer_id: ID,
    pub algorithm: Option<LoadBalancerAlgorithm>,
    /// The services it should have (all of them).
    pub services: Option<Vec<LoadBalancerServiceInput>>,
    pub server_ids: Option<Vec<ID>>,
    pub label_selectors: Option<Vec<String>>,
}

pub(super) fn subnets_in(l: Vec<SubnetInput>) -> Vec<SubnetSpec> {
    l.into_iter()
        .map(|s| SubnetSpec {
            network_zone: s.network_zone.trim().into(),
            ip_range: s.ip_range.trim().into(),
        })
        .collect()
}

pub(super) fn rules_in(l: Vec<FirewallRuleInput>) -> Vec<Rule> {
    let trim =
        |v: Option<Vec<String>>| v.unwrap_or_default().into_iter().map(|s| s.trim().to_string()).collect();
    l.into_iter()
        .map(|r| Rule {
            direction: lower(r.direction),
            protocol: lower(r.protocol),
            port: r.port.map(|p| p.trim().to_string()).filter(|p| !p.is_empty()),
            source_ips: trim(r.source_ips),
            destination_ips: trim(r.destination_ips),
            description: r.description.map(|d| d.trim().to_string()).filter(|d| !d.is_empty()),
        })
        .collect()
}

pub(super) fn services_in(l: Vec<LoadBalancerServiceInput>) -> Vec<LbService> {
    l.into_iter()
        .map(|s| {
            let h = s.health_check.unwrap_or(HealthCheckInput {
                protocol: LoadBalancerProtocol::Tcp,
                port: s.destination_port,
                interval: None,
                timeout: None,
                retries: None,
                path: None,
            });
            LbService {
                protocol: lower(s.protocol),
                listen_port: s.listen_port,
                destination_port: s.destination_port,
                health_check: Check {
                    protocol: lower(h.protocol),
                    port: h.port,
                    interval: h.interval.unwrap_or(15),
                    timeout: h.timeout.unwrap_or(10),
                    retries: h.retries.unwrap_or(3),
                    path: h.path,
                },
            }
        })
        .collect()
}

pub(super) fn server_list(ids: Option<Vec<ID>>) -> Result<Option<Vec<String>>> {
    Ok(match ids {
        None => None,
        Some(l) => Some(
            l.iter()
                .enumerate()
                .map(|(i, id)| {
                    relay::decode_id(&format!("input.serverIds.{i}"), id, kind::SERVER).map(|u| u.to_string())
                })
                .collect::<Result<_, _>>()?,
        ),
    })
}

/// `targets` with its servers and/or selectors replaced where given.
pub(super) fn retarget(targets: &mut Vec<Target>, servers: Option<Vec<String>>, sels: Option<Vec<String>>) {
    let keep_servers = servers.is_none();
    let keep_sels = sels.is_none();
    targets.retain(|t| match t {
        Target::Server(_) => keep_servers,
        Target::LabelSelector(_) => keep_sels,
    });
    targets.extend(servers.unwrap_or_default().into_iter().map(Target::Server));
    targets.extend(sels.unwrap_or_default().into_iter().map(|s| Target::LabelSelector(s.trim().into())));
}
