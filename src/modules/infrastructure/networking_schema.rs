//! GraphQL of networks, firewalls and load balancers: the `Network`, `Firewall` and
//! `LoadBalancer` nodes, `Tenant.networks` / `firewalls` / `loadBalancers` (declared on
//! `TenantInfrastructure`, resolved here) and the mutations that create, update and delete
//! them. An update names only what changes; one that changes nothing converges the resource
//! to its spec again (after drift).

use async_graphql::{Context, Enum, ID, Json, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::cloud_network_resource::{self as net, NetworkResourceKind as Kind};
use uuid::Uuid;

use super::{
    drivers::net::{FirewallRule as Rule, LbService, NetSpec, Target},
    networking,
    networking_inputs::*,
    types::InfrastructureAction,
};
use crate::{
    access::TenantCtx,
    db::page::PageArgs,
    graphql::{app, loaders::loaders, owned_row, relay, relay::kind},
};

/// Where a network, firewall or load balancer stands.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::cloud_network_resource::NetworkResourceStatus")]
pub enum NetworkResourceStatus {
    /// Asked for; the provider does not have it yet.
    Pending,
    /// The provider has it as specified.
    Ready,
    /// A change is being carried out.
    Updating,
    /// Changed outside Zygo (see `observed`); an update converges it again.
    Drifted,
    /// Deleted outside Zygo.
    Deleted,
    Deleting,
    Error,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum FirewallDirection {
    In,
    Out,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum FirewallProtocol {
    Tcp,
    Udp,
    Icmp,
    Esp,
    Gre,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum LoadBalancerAlgorithm {
    RoundRobin,
    LeastConnections,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum LoadBalancerProtocol {
    Tcp,
    Http,
}

pub(super) fn lower<T: async_graphql::EnumType + PartialEq>(v: T) -> String {
    T::items().iter().find(|i| i.value == v).map(|i| i.name.to_ascii_lowercase()).unwrap_or_default()
}

fn parse<T: async_graphql::EnumType>(s: &str) -> T {
    T::items().iter().find(|i| i.name.eq_ignore_ascii_case(s)).map(|i| i.value).unwrap_or(T::items()[0].value)
}

/// A subnet of a network.
#[derive(SimpleObject)]
pub struct Subnet {
    /// `eu-central`, `us-east`, `us-west` or `ap-southeast`.
    pub network_zone: String,
    pub ip_range: String,
}

/// A firewall rule.
#[derive(SimpleObject)]
pub struct FirewallRule {
    pub direction: FirewallDirection,
    pub protocol: FirewallProtocol,
    /// A port or range (`80`, `1000-2000`), for TCP and UDP.
    pub port: Option<String>,
    pub source_ips: Vec<String>,
    pub destination_ips: Vec<String>,
    pub description: Option<String>,
}

/// How a load balancer checks its targets.
#[derive(SimpleObject)]
pub struct HealthCheck {
    pub protocol: LoadBalancerProtocol,
    pub port: i32,
    /// Seconds between checks.
    pub interval: i32,
    pub timeout: i32,
    pub retries: i32,
    pub path: Option<String>,
}

/// What a load balancer listens on and where it forwards.
#[derive(SimpleObject)]
pub struct LoadBalancerService {
    pub protocol: LoadBalancerProtocol,
    pub listen_port: i32,
    pub destination_port: i32,
    pub health_check: HealthCheck,
}

fn rule_out(r: &Rule) -> FirewallRule {
    FirewallRule {
        direction: parse(&r.direction),
        protocol: parse(&r.protocol),
        port: r.port.clone(),
        source_ips: r.source_ips.clone(),
        destination_ips: r.destination_ips.clone(),
        description: r.description.clone(),
    }
}

fn service_out(s: &LbService) -> LoadBalancerService {
    let h = &s.health_check;
    LoadBalancerService {
        protocol: parse(&s.protocol),
        listen_port: s.listen_port,
        destination_port: s.destination_port,
        health_check: HealthCheck {
            protocol: parse(&h.protocol),
            port: h.port,
            interval: h.interval,
            timeout: h.timeout,
            retries: h.retries,
            path: h.path.clone(),
        },
    }
}

fn server_ids(targets: &[Target]) -> Vec<ID> {
    targets
        .iter()
        .filter_map(|t| match t {
            Target::Server(s) => Uuid::parse_str(s).ok().map(|u| relay::to_global_id(kind::SERVER, u)),
            Target::LabelSelector(_) => None,
        })
        .collect()
}

fn selectors(targets: &[Target]) -> Vec<String> {
    targets
        .iter()
        .filter_map(|t| match t {
            Target::LabelSelector(s) => Some(s.clone()),
            Target::Server(_) => None,
        })
        .collect()
}

/// Fields every network resource has.
macro_rules! net_object {
    ($ty:ident, $kind:expr, { $($extra:tt)* }) => {
        pub struct $ty(pub net::Model, pub NetSpec);

        impl $ty {
            pub fn of(m: net::Model) -> Self {
                let spec = networking::spec_of(&m).unwrap_or_else(|_| empty(m.kind));
                Self(m, spec)
            }
        }

        #[Object]
        impl $ty {
            /// Global ID.
            pub async fn id(&self) -> ID {
                relay::to_global_id($kind, self.0.id)
            }
            async fn provider_id(&self) -> ID {
                relay::to_global_id(kind::CLOUD_PROVIDER, self.0.provider_id)
            }
            async fn name(&self) -> &str {
                &self.0.name
            }
            async fn status(&self) -> NetworkResourceStatus {
                self.0.status.into()
            }
            /// The provider's id, once it has it.
            async fn external_id(&self) -> Option<&str> {
                self.0.external_id.as_deref()
            }
            async fn labels(&self) -> Json<serde_json::Value> {
                Json(self.0.labels.clone())
            }
            /// While DRIFTED: what the provider has instead (in this type's shape; servers Zygo
            /// does not know as `external:<provider id>`).
            async fn observed(&self) -> Option<Json<serde_json::Value>> {
                self.0.observed.clone().map(Json)
            }
            async fn created_at(&self) -> DateTime<Utc> {
                self.0.created_at
            }
            async fn updated_at(&self) -> DateTime<Utc> {
                self.0.updated_at
            }
            $($extra)*
        }
    };
}

fn empty(k: Kind) -> NetSpec {
    match k {
        Kind::Network => NetSpec::Network { ip_range: String::new(), subnets: vec![], servers: vec![] },
        Kind::Firewall => NetSpec::Firewall { rules: vec![], apply_to: vec![] },
        Kind::LoadBalancer => NetSpec::LoadBalancer {
            load_balancer_type: String::new(),
            location: String::new(),
            algorithm: "round_robin".into(),
            services: vec![],
            targets: vec![],
        },
    }
}

net_object!(Network, kind::NETWORK, {
    /// The network's whole private range.
    async fn ip_range(&self) -> &str {
        match &self.1 {
            NetSpec::Network { ip_range, .. } => ip_range,
            _ => "",
        }
    }
    async fn subnets(&self) -> Vec<Subnet> {
        match &self.1 {
            NetSpec::Network { subnets, .. } => subnets
                .iter()
                .map(|s| Subnet { network_zone: s.network_zone.clone(), ip_range: s.ip_range.clone() })
                .collect(),
            _ => vec![],
        }
    }
    /// The servers attached to it.
    async fn server_ids(&self) -> Vec<ID> {
        match &self.1 {
            NetSpec::Network { servers, .. } => servers
                .iter()
                .filter_map(|s| Uuid::parse_str(s).ok().map(|u| relay::to_global_id(kind::SERVER, u)))
                .collect(),
            _ => vec![],
        }
    }
});

net_object!(Firewall, kind::FIREWALL, {
    /// Its rules; traffic no IN rule allows is dropped.
    async fn rules(&self) -> Vec<FirewallRule> {
        match &self.1 {
            NetSpec::Firewall { rules, .. } => rules.iter().map(rule_out).collect(),
            _ => vec![],
        }
    }
    /// The servers it applies to.
    async fn server_ids(&self) -> Vec<ID> {
        match &self.1 {
            NetSpec::Firewall { apply_to, .. } => server_ids(apply_to),
            _ => vec![],
        }
    }
    /// Label selectors: it applies to every server matching one.
    async fn label_selectors(&self) -> Vec<String> {
        match &self.1 {
            NetSpec::Firewall { apply_to, .. } => selectors(apply_to),
            _ => vec![],
        }
    }
});

net_object!(LoadBalancer, kind::LOAD_BALANCER, {
    /// The provider's load balancer type (`lb11`).
    #[graphql(name = "type")]
    async fn load_balancer_type(&self) -> &str {
        match &self.1 {
            NetSpec::LoadBalancer { load_balancer_type, .. } => load_balancer_type,
            _ => "",
        }
    }
    async fn location(&self) -> &str {
        match &self.1 {
            NetSpec::LoadBalancer { location, .. } => location,
            _ => "",
        }
    }
    async fn algorithm(&self) -> LoadBalancerAlgorithm {
        match &self.1 {
            NetSpec::LoadBalancer { algorithm, .. } => parse(algorithm),
            _ => LoadBalancerAlgorithm::RoundRobin,
        }
    }
    async fn services(&self) -> Vec<LoadBalancerService> {
        match &self.1 {
            NetSpec::LoadBalancer { services, .. } => services.iter().map(service_out).collect(),
            _ => vec![],
        }
    }
    /// The servers it forwards to.
    async fn server_ids(&self) -> Vec<ID> {
        match &self.1 {
            NetSpec::LoadBalancer { targets, .. } => server_ids(targets),
            _ => vec![],
        }
    }
    /// Label selectors: it forwards to every server matching one.
    async fn label_selectors(&self) -> Vec<String> {
        match &self.1 {
            NetSpec::LoadBalancer { targets, .. } => selectors(targets),
            _ => vec![],
        }
    }
    /// Its public IPv4 address once made (on AWS, which gives load balancers no fixed address,
    /// its DNS name).
    async fn public_ip(&self) -> Option<&str> {
        self.0.public_ip.as_deref()
    }
});

pub(super) async fn list<T: async_graphql::ContainerType>(
    ctx: &Context<'_>,
    tenant: Uuid,
    k: Kind,
    page: (Option<String>, Option<i32>, Option<i32>),
    to: fn(net::Model) -> T,
) -> Result<relay::Conn<T>> {
    let tctx = loaders(ctx).tenant_access(tenant).await?;
    let w = PageArgs::new(page.0, None, page.1, page.2).window(app(ctx).config.max_page_size)?;
    Ok(relay::to_connection(networking::list(app(ctx), &tctx, k, w).await?, |r| r.id, to))
}

#[derive(SimpleObject)]
pub struct NetworkPayload {
    pub network: Network,
    pub action: InfrastructureAction,
}

#[derive(SimpleObject)]
pub struct FirewallPayload {
    pub firewall: Firewall,
    pub action: InfrastructureAction,
}

#[derive(SimpleObject)]
pub struct LoadBalancerPayload {
    pub load_balancer: LoadBalancer,
    pub action: InfrastructureAction,
}

async fn provider_of(ctx: &Context<'_>, id: &ID) -> Result<(Uuid, std::sync::Arc<TenantCtx>)> {
    owned_row::<entity::cloud_provider::Entity>(
        ctx,
        "input.providerId",
        id,
        kind::CLOUD_PROVIDER,
        "cloud provider",
        entity::cloud_provider::Column::Id,
    )
    .await
}

async fn access(
    ctx: &Context<'_>,
    field: &str,
    id: &ID,
    k: Kind,
) -> Result<(Uuid, std::sync::Arc<TenantCtx>)> {
    let (type_name, what) = match k {
        Kind::Network => (kind::NETWORK, "network"),
        Kind::Firewall => (kind::FIREWALL, "firewall"),
        Kind::LoadBalancer => (kind::LOAD_BALANCER, "load balancer"),
    };
    owned_row::<net::Entity>(ctx, field, id, type_name, what, net::Column::Id).await
}

async fn create(
    ctx: &Context<'_>,
    provider: &ID,
    name: String,
    labels: Option<Json<serde_json::Value>>,
    spec: NetSpec,
) -> Result<(net::Model, InfrastructureAction)> {
    let (provider, tctx) = provider_of(ctx, provider).await?;
    let req = networking::NewNetworkResource {
        provider,
        name,
        labels: labels.map(|j| j.0).unwrap_or(serde_json::Value::Null),
        spec,
    };
    let (r, a) = networking::create(app(ctx), &tctx, req).await?;
    Ok((r, InfrastructureAction(a)))
}

#[derive(Default)]
pub struct NetworkingMutation;

#[Object]
impl NetworkingMutation {
    /// Creates a private network on an account (`INFRASTRUCTURE_MANAGE`) and attaches the
    /// servers named.
    async fn create_network(&self, ctx: &Context<'_>, input: CreateNetworkInput) -> Result<NetworkPayload> {
        let spec = NetSpec::Network {
            ip_range: input.ip_range.trim().into(),
            subnets: subnets_in(input.subnets.unwrap_or_default()),
            servers: server_list(input.server_ids)?.unwrap_or_default(),
        };
        let (r, action) = create(ctx, &input.provider_id, input.name, input.labels, spec).await?;
        Ok(NetworkPayload { network: Network::of(r), action })
    }

    /// Changes a network's subnets or attached servers (`INFRASTRUCTURE_MANAGE`).
    async fn update_network(&self, ctx: &Context<'_>, input: UpdateNetworkInput) -> Result<NetworkPayload> {
        let (id, tctx) = access(ctx, "input.networkId", &input.network_id, Kind::Network).await?;
        let subnets = input.subnets.map(subnets_in);
        let servers = server_list(input.server_ids)?;
        let (r, a) = networking::update(app(ctx), &tctx, id, Kind::Network, |spec| {
            if let NetSpec::Network { subnets: s, servers: v, .. } = spec {
                if let Some(n) = subnets {
                    *s = n;
                }
                if let Some(n) = servers {
                    *v = n;
                }
            }
        })
        .await?;
        Ok(NetworkPayload { network: Network::of(r), action: InfrastructureAction(a) })
    }

    /// Deletes a network (`INFRASTRUCTURE_MANAGE`); its servers are detached with it.
    async fn delete_network(&self, ctx: &Context<'_>, id: ID) -> Result<NetworkPayload> {
        let (id, tctx) = access(ctx, "id", &id, Kind::Network).await?;
        let (r, a) = networking::delete(app(ctx), &tctx, id, Kind::Network).await?;
        Ok(NetworkPayload { network: Network::of(r), action: InfrastructureAction(a) })
    }

    /// Creates a firewall on an account (`INFRASTRUCTURE_MANAGE`), applied to the servers and
    /// label selectors named.
    async fn create_firewall(
        &self,
        ctx: &Context<'_>,
        input: CreateFirewallInput,
    ) -> Result<FirewallPayload> {
        let mut apply_to = vec![];
        retarget(&mut apply_to, server_list(input.server_ids)?, input.label_selectors);
        let spec = NetSpec::Firewall { rules: rules_in(input.rules), apply_to };
        let (r, action) = create(ctx, &input.provider_id, input.name, input.labels, spec).await?;
        Ok(FirewallPayload { firewall: Firewall::of(r), action })
    }

    /// Changes a firewall's rules or what it applies to (`INFRASTRUCTURE_MANAGE`).
    async fn update_firewall(
        &self,
        ctx: &Context<'_>,
        input: UpdateFirewallInput,
    ) -> Result<FirewallPayload> {
        let (id, tctx) = access(ctx, "input.firewallId", &input.firewall_id, Kind::Firewall).await?;
        let rules = input.rules.map(rules_in);
        let servers = server_list(input.server_ids)?;
        let (r, a) = networking::update(app(ctx), &tctx, id, Kind::Firewall, |spec| {
            if let NetSpec::Firewall { rules: r, apply_to } = spec {
                if let Some(n) = rules {
                    *r = n;
                }
                retarget(apply_to, servers, input.label_selectors);
            }
        })
        .await?;
        Ok(FirewallPayload { firewall: Firewall::of(r), action: InfrastructureAction(a) })
    }

    /// Deletes a firewall (`INFRASTRUCTURE_MANAGE`); it stops applying at once.
    async fn delete_firewall(&self, ctx: &Context<'_>, id: ID) -> Result<FirewallPayload> {
        let (id, tctx) = access(ctx, "id", &id, Kind::Firewall).await?;
        let (r, a) = networking::delete(app(ctx), &tctx, id, Kind::Firewall).await?;
        Ok(FirewallPayload { firewall: Firewall::of(r), action: InfrastructureAction(a) })
    }

    /// Creates a load balancer on an account (`INFRASTRUCTURE_MANAGE`).
    async fn create_load_balancer(
        &self,
        ctx: &Context<'_>,
        input: CreateLoadBalancerInput,
    ) -> Result<LoadBalancerPayload> {
        let mut targets = vec![];
        retarget(&mut targets, server_list(input.server_ids)?, input.label_selectors);
        let spec = NetSpec::LoadBalancer {
            load_balancer_type: input.load_balancer_type.trim().to_ascii_lowercase(),
            location: input.location.trim().into(),
            algorithm: lower(input.algorithm.unwrap_or(LoadBalancerAlgorithm::RoundRobin)),
            services: services_in(input.services),
            targets,
        };
        let (r, action) = create(ctx, &input.provider_id, input.name, input.labels, spec).await?;
        Ok(LoadBalancerPayload { load_balancer: LoadBalancer::of(r), action })
    }

    /// Changes a load balancer's algorithm, services or targets (`INFRASTRUCTURE_MANAGE`).
    async fn update_load_balancer(
        &self,
        ctx: &Context<'_>,
        input: UpdateLoadBalancerInput,
    ) -> Result<LoadBalancerPayload> {
        let (id, tctx) =
            access(ctx, "input.loadBalancerId", &input.load_balancer_id, Kind::LoadBalancer).await?;
        let services = input.services.map(services_in);
        let servers = server_list(input.server_ids)?;
        let (r, a) = networking::update(app(ctx), &tctx, id, Kind::LoadBalancer, |spec| {
            if let NetSpec::LoadBalancer { algorithm, services: s, targets, .. } = spec {
                if let Some(alg) = input.algorithm {
                    *algorithm = lower(alg);
                }
                if let Some(n) = services {
                    *s = n;
                }
                retarget(targets, servers, input.label_selectors);
            }
        })
        .await?;
        Ok(LoadBalancerPayload { load_balancer: LoadBalancer::of(r), action: InfrastructureAction(a) })
    }

    /// Deletes a load balancer (`INFRASTRUCTURE_MANAGE`).
    async fn delete_load_balancer(&self, ctx: &Context<'_>, id: ID) -> Result<LoadBalancerPayload> {
        let (id, tctx) = access(ctx, "id", &id, Kind::LoadBalancer).await?;
        let (r, a) = networking::delete(app(ctx), &tctx, id, Kind::LoadBalancer).await?;
        Ok(LoadBalancerPayload { load_balancer: LoadBalancer::of(r), action: InfrastructureAction(a) })
    }
}
