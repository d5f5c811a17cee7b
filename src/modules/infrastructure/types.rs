//! GraphQL types of infrastructure: provider accounts, servers, volumes, DNS zones and
//! records, actions, the live-update event, mutation payloads, and the infrastructure part
//! of `Tenant`.

use async_graphql::{Context, Enum, ID, Json, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{cloud_provider, cloud_server, cloud_volume, dns_record, dns_zone};
use uuid::Uuid;

use super::{
    actions, dns,
    insight_schema::{DnsPropagation, MonthlyCost, ServerMetricFamily, ServerMetrics},
    providers, servers, snapshots, volumes,
};
pub use super::{
    actions_schema::{InfrastructureAction, InfrastructureActionStatus},
    snapshots_schema::{Snapshot, SnapshotPayload, SnapshotStatus},
};
use crate::{
    db::page::PageArgs,
    graphql::{
        app,
        loaders::loaders,
        relay::{self, kind},
    },
};

/// Which cloud an account is on.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::cloud_provider::CloudProviderKind")]
pub enum CloudProviderKind {
    /// Hetzner Cloud (servers, volumes) and Hetzner DNS.
    Hetzner,
    /// Amazon Web Services (EC2, EBS, Elastic IPs, Route 53).
    Aws,
    /// A cloud simulated inside Zygo: no account needed.
    Local,
}

/// A server's state.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::cloud_server::ServerStatus")]
pub enum ServerStatus {
    /// Asked for; the provider does not have it yet.
    Pending,
    Initializing,
    Starting,
    Running,
    Stopping,
    Off,
    Rebooting,
    Resizing,
    /// Its disk is being reinstalled from an image or snapshot.
    Rebuilding,
    Deleting,
    Deleted,
    /// Its creation failed (see its action's error).
    Error,
}

/// A volume's state.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::cloud_volume::VolumeStatus")]
pub enum VolumeStatus {
    Pending,
    Creating,
    Available,
    /// Being attached, detached or resized.
    Busy,
    Deleting,
    Deleted,
    Error,
}

/// Where a DNS zone or record stands with its provider.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::dns_zone::DnsStatus")]
pub enum DnsStatus {
    Pending,
    Active,
    Deleting,
    Error,
}

/// A power or size change of a server.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum ServerActionKind {
    Start,
    /// Graceful shutdown; the power is cut when the system has not shut down within
    /// `ZYGO_INFRASTRUCTURE_SHUTDOWN_TIMEOUT_SECONDS`.
    Stop,
    Reboot,
    /// A hard reset: the power cycled without a shutdown.
    Reset,
    /// Another server type (the server must be off).
    Resize,
    /// Reinstall the disk from a snapshot (`snapshotId`) of the same account.
    Rebuild,
    /// Boot into the provider's rescue system next (running or off); the action gets a root
    /// password for it (`revealRootPassword`).
    EnableRescue,
    DisableRescue,
    /// A new root password for the running system (`revealRootPassword`).
    ResetRootPassword,
}

/// A cloud account of the organisation. Its credentials are never returned.
pub struct CloudProvider(pub cloud_provider::Model);

#[Object]
impl CloudProvider {
    pub async fn id(&self) -> ID {
        relay::to_global_id(kind::CLOUD_PROVIDER, self.0.id)
    }
    async fn kind(&self) -> CloudProviderKind {
        self.0.kind.into()
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// When the provider last accepted its credentials.
    async fn validated_at(&self) -> Option<DateTime<Utc>> {
        self.0.validated_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A server made through a provider account.
pub struct Server(pub cloud_server::Model);

#[Object]
impl Server {
    pub async fn id(&self) -> ID {
        relay::to_global_id(kind::SERVER, self.0.id)
    }
    async fn provider_id(&self) -> ID {
        relay::to_global_id(kind::CLOUD_PROVIDER, self.0.provider_id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn status(&self) -> ServerStatus {
        self.0.status.into()
    }
    async fn server_type(&self) -> &str {
        &self.0.server_type
    }
    async fn image(&self) -> &str {
        &self.0.image
    }
    async fn location(&self) -> &str {
        &self.0.location
    }
    /// Rescue mode is enabled: the server boots into the provider's rescue system next.
    async fn rescue_enabled(&self) -> bool {
        self.0.rescue_enabled
    }
    async fn ipv4(&self) -> Option<&str> {
        self.0.ipv4.as_deref()
    }
    /// The provider's id, once it has the server.
    async fn external_id(&self) -> Option<&str> {
        self.0.external_id.as_deref()
    }
    /// The member's labels (the provider's copy also has `zygo-tenant` and `zygo-id`).
    async fn labels(&self) -> Json<serde_json::Value> {
        Json(self.0.labels.clone())
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// CPU, disk or network time series read from the provider, over `start`–`end` (default:
    /// the last hour; at most 30 days back) every `step` seconds (default: about 60 samples).
    #[graphql(complexity = 20)]
    async fn metrics(
        &self,
        ctx: &Context<'_>,
        family: ServerMetricFamily,
        start: Option<DateTime<Utc>>,
        end: Option<DateTime<Utc>>,
        step: Option<i32>,
    ) -> Result<ServerMetrics> {
        super::insight_schema::metrics(ctx, &self.0, family, start, end, step).await
    }
    /// What the server costs a month at its type and location, from the provider's price
    /// list; null when the list does not have them.
    #[graphql(complexity = 20)]
    async fn monthly_cost(&self, ctx: &Context<'_>) -> Result<Option<MonthlyCost>> {
        super::insight_schema::monthly_cost(ctx, &self.0).await
    }
}

/// A block-storage volume.
pub struct Volume(pub cloud_volume::Model);

#[Object]
impl Volume {
    pub async fn id(&self) -> ID {
        relay::to_global_id(kind::VOLUME, self.0.id)
    }
    async fn provider_id(&self) -> ID {
        relay::to_global_id(kind::CLOUD_PROVIDER, self.0.provider_id)
    }
    /// The server it is attached to.
    async fn server_id(&self) -> Option<ID> {
        self.0.server_id.map(|s| relay::to_global_id(kind::SERVER, s))
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn size_gb(&self) -> i32 {
        self.0.size_gb
    }
    async fn location(&self) -> &str {
        &self.0.location
    }
    async fn status(&self) -> VolumeStatus {
        self.0.status.into()
    }
    async fn external_id(&self) -> Option<&str> {
        self.0.external_id.as_deref()
    }
    async fn labels(&self) -> Json<serde_json::Value> {
        Json(self.0.labels.clone())
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A DNS zone with its records.
pub struct DnsZone(pub dns_zone::Model, pub Vec<dns_record::Model>);

#[Object]
impl DnsZone {
    pub async fn id(&self) -> ID {
        relay::to_global_id(kind::DNS_ZONE, self.0.id)
    }
    async fn provider_id(&self) -> ID {
        relay::to_global_id(kind::CLOUD_PROVIDER, self.0.provider_id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The default TTL of its records, in seconds.
    async fn ttl(&self) -> i32 {
        self.0.ttl
    }
    async fn status(&self) -> DnsStatus {
        self.0.status.into()
    }
    async fn records(&self) -> Vec<DnsRecord> {
        self.1.iter().cloned().map(DnsRecord).collect()
    }
}

/// A record of a DNS zone.
pub struct DnsRecord(pub dns_record::Model);

#[Object]
impl DnsRecord {
    /// Global ID.
    pub async fn id(&self) -> ID {
        relay::to_global_id(kind::DNS_RECORD, self.0.id)
    }
    async fn zone_id(&self) -> ID {
        relay::to_global_id(kind::DNS_ZONE, self.0.zone_id)
    }
    /// A, AAAA, CNAME, MX, TXT, NS, SRV or CAA.
    #[graphql(name = "type")]
    async fn record_type(&self) -> &str {
        &self.0.record_type
    }
    /// Relative to the zone; `@` is its apex.
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn value(&self) -> &str {
        &self.0.value
    }
    async fn ttl(&self) -> i32 {
        self.0.ttl
    }
    async fn status(&self) -> DnsStatus {
        self.0.status.into()
    }
    /// Asks every authoritative name server of the zone for this record now and reports what
    /// each answers (the provider's name servers and those of the zone's apex NS records).
    #[graphql(complexity = 50)]
    async fn propagation(&self, ctx: &Context<'_>) -> Result<DnsPropagation> {
        super::insight_schema::propagation(ctx, &self.0).await
    }
}

/// A resource of the organisation changed (`cloudResourceChanged`).
#[derive(SimpleObject)]
pub struct CloudResourceEvent {
    /// `server`, `volume`, `dns_zone`, `dns_record` or `cloud_provider`.
    pub resource_type: String,
    pub resource_id: ID,
    /// It is gone.
    pub deleted: bool,
    /// The status this change gave it (servers, volumes and floating IPs); `server`, `volume`
    /// and `snapshot` show the resource as it is when the event is delivered, which may be
    /// later.
    pub status: Option<String>,
    /// The server as it is now (for server events).
    pub server: Option<Server>,
    /// The volume as it is now (for volume events).
    pub volume: Option<Volume>,
    /// The snapshot as it is now (for snapshot events).
    pub snapshot: Option<Snapshot>,
}

impl CloudResourceEvent {
    pub fn new(resource_type: &str, id: Uuid, deleted: bool, status: Option<String>) -> Self {
        Self {
            resource_type: resource_type.into(),
            resource_id: super::actions_schema::target_id(resource_type, id),
            deleted,
            status,
            server: None,
            volume: None,
            snapshot: None,
        }
    }
}

#[derive(SimpleObject)]
pub struct CloudProviderPayload {
    pub provider: CloudProvider,
}

#[derive(SimpleObject)]
pub struct RemoveCloudProviderPayload {
    pub removed_provider_id: ID,
}

#[derive(SimpleObject)]
pub struct ServerPayload {
    pub server: Server,
    /// The action that carries the change out.
    pub action: InfrastructureAction,
}

#[derive(SimpleObject)]
pub struct VolumePayload {
    pub volume: Volume,
    pub action: InfrastructureAction,
}

#[derive(SimpleObject)]
pub struct DnsZonePayload {
    pub zone: DnsZone,
    pub action: InfrastructureAction,
}

#[derive(SimpleObject)]
pub struct DnsRecordPayload {
    pub record: DnsRecord,
    pub action: InfrastructureAction,
}

fn window(
    ctx: &Context<'_>,
    after: Option<String>,
    first: Option<i32>,
    last: Option<i32>,
) -> Result<crate::db::page::Window> {
    Ok(PageArgs::new(after, None, first, last).window(app(ctx).config.max_page_size)?)
}

/// The infrastructure part of `Tenant` (all need `INFRASTRUCTURE_READ`).
#[derive(Clone)]
pub struct TenantInfrastructure(pub crate::graphql::tenant::TenantRow);

#[Object]
impl TenantInfrastructure {
    /// The organisation's cloud accounts.
    async fn cloud_providers(&self, ctx: &Context<'_>) -> Result<Vec<CloudProvider>> {
        let tctx = loaders(ctx).tenant_access(self.0.id).await?;
        Ok(providers::list(app(ctx), &tctx).await?.into_iter().map(CloudProvider).collect())
    }

    /// Servers, oldest first; narrowed by account, status or label (`key` or `key=value`).
    #[graphql(complexity = "crate::graphql::relay::cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn servers(
        &self,
        ctx: &Context<'_>,
        provider_id: Option<ID>,
        status: Option<ServerStatus>,
        label: Option<String>,
        after: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<relay::Conn<Server>> {
        let tctx = loaders(ctx).tenant_access(self.0.id).await?;
        let w = window(ctx, after, first, last)?;
        let provider =
            provider_id.map(|p| relay::decode_id("providerId", &p, kind::CLOUD_PROVIDER)).transpose()?;
        let f = servers::ServerFilter { provider, status: status.map(Into::into), label };
        Ok(relay::to_connection(servers::list(app(ctx), &tctx, f, w).await?, |s| s.id, Server))
    }

    /// Volumes, oldest first; narrowed by account.
    #[graphql(complexity = "crate::graphql::relay::cost(first, last, child_complexity)")]
    async fn volumes(
        &self,
        ctx: &Context<'_>,
        provider_id: Option<ID>,
        after: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<relay::Conn<Volume>> {
        let tctx = loaders(ctx).tenant_access(self.0.id).await?;
        let w = window(ctx, after, first, last)?;
        let provider =
            provider_id.map(|p| relay::decode_id("providerId", &p, kind::CLOUD_PROVIDER)).transpose()?;
        Ok(relay::to_connection(volumes::list(app(ctx), &tctx, provider, w).await?, |v| v.id, Volume))
    }

    /// Snapshots, oldest first; `serverId` narrows to one server's.
    #[graphql(complexity = "crate::graphql::relay::cost(first, last, child_complexity)")]
    async fn snapshots(
        &self,
        ctx: &Context<'_>,
        server_id: Option<ID>,
        after: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<relay::Conn<Snapshot>> {
        let tctx = loaders(ctx).tenant_access(self.0.id).await?;
        let w = window(ctx, after, first, last)?;
        let server = server_id.map(|s| relay::decode_id("serverId", &s, kind::SERVER)).transpose()?;
        Ok(relay::to_connection(snapshots::list(app(ctx), &tctx, server, w).await?, |s| s.id, Snapshot))
    }

    /// Floating IPs, oldest first.
    #[graphql(complexity = "crate::graphql::relay::cost(first, last, child_complexity)")]
    async fn floating_ips(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<relay::Conn<super::floating_ips_schema::FloatingIp>> {
        super::floating_ips_schema::list(ctx, self.0.id, after, first, last).await
    }

    /// Private networks, oldest first.
    #[graphql(complexity = "crate::graphql::relay::cost(first, last, child_complexity)")]
    async fn networks(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<relay::Conn<super::networking_schema::Network>> {
        use super::networking_schema::{Network, list};
        list(
            ctx,
            self.0.id,
            entity::cloud_network_resource::NetworkResourceKind::Network,
            (after, first, last),
            Network::of,
        )
        .await
    }

    /// Firewalls, oldest first.
    #[graphql(complexity = "crate::graphql::relay::cost(first, last, child_complexity)")]
    async fn firewalls(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<relay::Conn<super::networking_schema::Firewall>> {
        use super::networking_schema::{Firewall, list};
        list(
            ctx,
            self.0.id,
            entity::cloud_network_resource::NetworkResourceKind::Firewall,
            (after, first, last),
            Firewall::of,
        )
        .await
    }

    /// Load balancers, oldest first.
    #[graphql(complexity = "crate::graphql::relay::cost(first, last, child_complexity)")]
    async fn load_balancers(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<relay::Conn<super::networking_schema::LoadBalancer>> {
        use super::networking_schema::{LoadBalancer, list};
        list(
            ctx,
            self.0.id,
            entity::cloud_network_resource::NetworkResourceKind::LoadBalancer,
            (after, first, last),
            LoadBalancer::of,
        )
        .await
    }

    /// DNS zones with their records.
    async fn dns_zones(&self, ctx: &Context<'_>) -> Result<Vec<DnsZone>> {
        let tctx = loaders(ctx).tenant_access(self.0.id).await?;
        Ok(dns::zones(app(ctx), &tctx).await?.into_iter().map(|(z, r)| DnsZone(z, r)).collect())
    }

    /// Infrastructure actions, oldest first; `targetId` narrows to one resource's.
    #[graphql(complexity = "crate::graphql::relay::cost(first, last, child_complexity)")]
    async fn infrastructure_actions(
        &self,
        ctx: &Context<'_>,
        target_id: Option<ID>,
        after: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<relay::Conn<InfrastructureAction>> {
        let tctx = loaders(ctx).tenant_access(self.0.id).await?;
        let w = window(ctx, after, first, last)?;
        let target = target_id
            .map(|t| {
                relay::from_global_id(&t)
                    .map(|(_, id)| id)
                    .ok_or_else(|| crate::error::AppError::validation("targetId", "not an ID"))
            })
            .transpose()?;
        Ok(relay::to_connection(
            actions::list(app(ctx), &tctx, target, w).await?,
            |a| a.id,
            InfrastructureAction,
        ))
    }
}
