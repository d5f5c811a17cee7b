//! What drivers know of networks, firewalls and load balancers: their specs (in the shape the
//! Hetzner Cloud API uses, which the others map to) and [`NetDriver`], the part of a cloud
//! that makes them and converges them to a spec. A driver without it answers `not_supported`.

use serde::{Deserialize, Serialize};

use super::{DriverResult, Labels, Pending};

/// A subnet of a network.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Subnet {
    /// `eu-central`, `us-east`, `us-west`, `ap-southeast`.
    pub network_zone: String,
    pub ip_range: String,
}

/// A firewall rule.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct FirewallRule {
    /// `in` or `out`.
    pub direction: String,
    /// `tcp`, `udp`, `icmp`, `esp` or `gre`.
    pub protocol: String,
    /// A port or a range (`80`, `1000-2000`); only for tcp and udp.
    #[serde(default)]
    pub port: Option<String>,
    #[serde(default)]
    pub source_ips: Vec<String>,
    #[serde(default)]
    pub destination_ips: Vec<String>,
    #[serde(default)]
    pub description: Option<String>,
}

/// How a load balancer checks a target.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct HealthCheck {
    /// `tcp` or `http`.
    pub protocol: String,
    pub port: i32,
    /// Seconds.
    pub interval: i32,
    pub timeout: i32,
    pub retries: i32,
    /// The path asked for by an `http` check.
    #[serde(default)]
    pub path: Option<String>,
}

/// A load balancer service: what it listens on and where it forwards.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct LbService {
    /// `tcp` or `http`.
    pub protocol: String,
    pub listen_port: i32,
    pub destination_port: i32,
    pub health_check: HealthCheck,
}

/// What a firewall applies to or a load balancer forwards to: a server (the provider's id to
/// drivers, Zygo's id in stored specs) or every server matching a label selector.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    Server(String),
    LabelSelector(String),
}

/// The desired shape of one network resource.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NetSpec {
    Network {
        ip_range: String,
        subnets: Vec<Subnet>,
        /// Servers attached to it.
        servers: Vec<String>,
    },
    Firewall {
        rules: Vec<FirewallRule>,
        apply_to: Vec<Target>,
    },
    LoadBalancer {
        load_balancer_type: String,
        location: String,
        /// `round_robin` or `least_connections`.
        algorithm: String,
        services: Vec<LbService>,
        targets: Vec<Target>,
    },
}

impl NetSpec {
    /// `network`, `firewall` or `load_balancer`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Network { .. } => "network",
            Self::Firewall { .. } => "firewall",
            Self::LoadBalancer { .. } => "load_balancer",
        }
    }

    /// The same spec with its lists in a canonical order, so two specs compare equal when
    /// they differ only in order.
    pub fn canonical(mut self) -> Self {
        match &mut self {
            Self::Network { subnets, servers, .. } => {
                subnets.sort_by(|a, b| a.ip_range.cmp(&b.ip_range));
                servers.sort();
                servers.dedup();
            }
            Self::Firewall { apply_to, .. } => {
                apply_to.sort();
                apply_to.dedup();
            }
            Self::LoadBalancer { services, targets, .. } => {
                services.sort_by_key(|s| s.listen_port);
                targets.sort();
                targets.dedup();
            }
        }
        self
    }
}

/// A network resource as the provider has it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RemoteNet {
    pub id: String,
    pub name: String,
    pub labels: Labels,
    pub spec: NetSpec,
    /// A load balancer's public IPv4 address.
    pub public_ip: Option<String>,
    /// The servers it applies to through one of its label selectors, where the provider
    /// cannot tell them from servers named explicitly (AWS: both are just holders of the
    /// group or targets of the balancer). A server the spec names is then present when it is
    /// among these, though `spec` shows only the selector.
    #[serde(default)]
    pub matched: Vec<String>,
}

impl RemoteNet {
    /// Whether the provider has `desired` (in provider ids).
    pub fn has(&self, desired: &NetSpec) -> bool {
        if self.spec == *desired {
            return true;
        }
        let mut named_and_matched = desired.clone();
        if let NetSpec::Firewall { apply_to: t, .. } | NetSpec::LoadBalancer { targets: t, .. } =
            &mut named_and_matched
        {
            t.retain(|t| !matches!(t, Target::Server(s) if self.matched.contains(s)));
        }
        self.spec == named_and_matched.canonical()
    }
}

/// The kinds of network resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetKind {
    Network,
    Firewall,
    LoadBalancer,
}

impl NetKind {
    pub fn of(spec: &NetSpec) -> Self {
        match spec {
            NetSpec::Network { .. } => Self::Network,
            NetSpec::Firewall { .. } => Self::Firewall,
            NetSpec::LoadBalancer { .. } => Self::LoadBalancer,
        }
    }
}

/// Networks, firewalls and load balancers of one cloud.
#[async_trait::async_trait]
pub trait NetDriver: Send + Sync {
    /// Those of `kind` matching a label selector.
    async fn list_net(&self, kind: NetKind, selector: &str) -> DriverResult<Vec<RemoteNet>>;
    async fn get_net(&self, kind: NetKind, id: &str) -> DriverResult<Option<RemoteNet>>;
    /// Makes one as `spec` says (a network's servers are attached by [`Self::converge_net`]);
    /// returns it and the provider actions to wait for.
    async fn create_net(
        &self,
        name: &str,
        labels: &Labels,
        spec: &NetSpec,
    ) -> DriverResult<(RemoteNet, Vec<String>)>;
    /// Changes `current` until it is as `desired` says; returns the provider actions to wait
    /// for. Asks for nothing that is so already.
    async fn converge_net(&self, current: &RemoteNet, desired: &NetSpec) -> DriverResult<Vec<String>>;
    /// Deletes one (gone already counts as done).
    async fn delete_net(&self, kind: NetKind, id: &str) -> DriverResult<()>;
}

/// The provider actions of `pending` that are real ones.
pub fn actions(pending: impl IntoIterator<Item = Pending>) -> Vec<String> {
    pending.into_iter().flatten().collect()
}
