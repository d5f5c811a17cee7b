//! Infrastructure's mutations (accounts, servers, volumes, DNS) and its subscriptions
//! (`infrastructureActionUpdated`, `cloudResourceChanged`). Resolvers decode IDs and call one
//! service function; the services check permissions.

use async_graphql::{Context, ID, InputObject, Json, Object, Result, Subscription};
use entity::{cloud_provider, cloud_server, cloud_snapshot, cloud_volume, dns_record, dns_zone};
use futures::{Stream, StreamExt};
use uuid::Uuid;

use super::{
    InfraEvent, actions, dns, drivers::Credentials, providers, servers, snapshots, topic, types::*, volumes,
};
use crate::{
    access::TenantCtx,
    auth::Permission,
    graphql::{app, loaders::loaders, owned_row, rctx, relay, relay::kind},
};

async fn provider_access(
    ctx: &Context<'_>,
    field: &str,
    id: &ID,
) -> Result<(Uuid, std::sync::Arc<TenantCtx>)> {
    owned_row::<cloud_provider::Entity>(
        ctx,
        field,
        id,
        kind::CLOUD_PROVIDER,
        "cloud provider",
        cloud_provider::Column::Id,
    )
    .await
}

async fn server_access(ctx: &Context<'_>, field: &str, id: &ID) -> Result<(Uuid, std::sync::Arc<TenantCtx>)> {
    owned_row::<cloud_server::Entity>(ctx, field, id, kind::SERVER, "server", cloud_server::Column::Id).await
}

async fn snapshot_access(
    ctx: &Context<'_>,
    field: &str,
    id: &ID,
) -> Result<(Uuid, std::sync::Arc<TenantCtx>)> {
    owned_row::<cloud_snapshot::Entity>(
        ctx,
        field,
        id,
        kind::SNAPSHOT,
        "snapshot",
        cloud_snapshot::Column::Id,
    )
    .await
}

async fn volume_access(ctx: &Context<'_>, field: &str, id: &ID) -> Result<(Uuid, std::sync::Arc<TenantCtx>)> {
    owned_row::<cloud_volume::Entity>(ctx, field, id, kind::VOLUME, "volume", cloud_volume::Column::Id).await
}

/// The credentials of an account (sealed when saved, never returned).
#[derive(InputObject, Default)]
pub struct CloudCredentialsInput {
    /// Hetzner Cloud API token (read & write).
    pub api_token: Option<String>,
    /// Hetzner DNS API token, when DNS is used and it differs from the Cloud token.
    pub dns_api_token: Option<String>,
    /// AWS access key id (of an IAM user allowed EC2, Route 53 and CloudWatch reads).
    pub access_key_id: Option<String>,
    /// AWS secret access key.
    pub secret_access_key: Option<String>,
    /// AWS region (`eu-central-1`); locations are its availability zones (`eu-central-1a`).
    pub region: Option<String>,
}

#[derive(InputObject)]
pub struct ConnectCloudProviderInput {
    pub tenant_id: ID,
    pub kind: CloudProviderKind,
    /// 1 to 64 characters, unique in the organisation.
    pub name: String,
    /// Not needed for LOCAL.
    #[graphql(default)]
    pub credentials: CloudCredentialsInput,
}

#[derive(InputObject)]
pub struct CreateServerInput {
    pub provider_id: ID,
    /// A host name, unique on the account.
    pub name: String,
    /// The provider's server type (`cx22`).
    pub server_type: String,
    /// The provider's image (`ubuntu-24.04`).
    pub image: String,
    /// The provider's location (`fsn1`).
    pub location: String,
    /// Labels: an object of strings.
    pub labels: Option<Json<serde_json::Value>>,
    /// Asking again with the same key returns what the first request made.
    pub idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct ServerActionInput {
    pub server_id: ID,
    pub action: ServerActionKind,
    /// For RESIZE: the new server type.
    pub server_type: Option<String>,
    /// For REBUILD: the snapshot to reinstall from (or `image`).
    pub snapshot_id: Option<ID>,
    /// For REBUILD: the provider's image to reinstall from, by name or id (`ubuntu-24.04`,
    /// `ami-…`; or `snapshotId`).
    pub image: Option<String>,
}

#[derive(InputObject)]
pub struct CreateSnapshotInput {
    pub server_id: ID,
    /// At most 200 characters; the server's name and the time when absent.
    pub description: Option<String>,
    /// Labels: an object of strings.
    pub labels: Option<Json<serde_json::Value>>,
}

#[derive(InputObject)]
pub struct CreateVolumeInput {
    pub provider_id: ID,
    pub name: String,
    /// 10 to 10240.
    pub size_gb: i32,
    pub location: String,
    pub labels: Option<Json<serde_json::Value>>,
}

#[derive(InputObject)]
pub struct AttachVolumeInput {
    pub volume_id: ID,
    /// A server of the same account.
    pub server_id: ID,
}

#[derive(InputObject)]
pub struct ResizeVolumeInput {
    pub volume_id: ID,
    /// Larger than the current size: volumes only grow.
    pub size_gb: i32,
}

#[derive(InputObject)]
pub struct CreateDnsZoneInput {
    pub provider_id: ID,
    /// The domain (`example.com`).
    pub name: String,
    /// The default TTL of its records (60 to 86400; default 3600).
    #[graphql(default = 3600)]
    pub ttl: i32,
}

#[derive(InputObject)]
pub struct UpsertDnsRecordInput {
    pub zone_id: ID,
    /// The record to change; none adds one.
    pub record_id: Option<ID>,
    /// A, AAAA, CNAME, MX, TXT, NS, SRV or CAA.
    #[graphql(name = "type")]
    pub record_type: String,
    /// Relative to the zone; `@` for its apex.
    pub name: String,
    pub value: String,
    /// Seconds (60 to 86400); the zone's when absent.
    pub ttl: Option<i32>,
}

#[derive(Default)]
pub struct InfrastructureCoreMutation;

#[Object]
impl InfrastructureCoreMutation {
    /// Connects a cloud account once the provider accepted its credentials
    /// (`INFRASTRUCTURE_MANAGE`; `PROVIDER_ERROR` with `providerCode` when refused).
    async fn connect_cloud_provider(
        &self,
        ctx: &Context<'_>,
        input: ConnectCloudProviderInput,
    ) -> Result<CloudProviderPayload> {
        rctx(ctx).require_principal()?;
        let tenant = relay::decode_id("input.tenantId", &input.tenant_id, kind::TENANT)?;
        let tctx = loaders(ctx).tenant_access(tenant).await?;
        let req = providers::Connect {
            kind: input.kind.into(),
            name: input.name,
            credentials: Credentials {
                api_token: input.credentials.api_token,
                dns_api_token: input.credentials.dns_api_token,
                access_key_id: input.credentials.access_key_id,
                secret_access_key: input.credentials.secret_access_key,
                region: input.credentials.region,
            },
        };
        Ok(CloudProviderPayload { provider: CloudProvider(providers::connect(app(ctx), &tctx, req).await?) })
    }

    /// Checks an account's credentials with the provider again (`INFRASTRUCTURE_MANAGE`).
    async fn validate_cloud_provider(&self, ctx: &Context<'_>, id: ID) -> Result<CloudProviderPayload> {
        let (id, tctx) = provider_access(ctx, "id", &id).await?;
        Ok(CloudProviderPayload { provider: CloudProvider(providers::validate(app(ctx), &tctx, id).await?) })
    }

    /// Removes an account; CONFLICT while servers, volumes or zones use it
    /// (`INFRASTRUCTURE_MANAGE`).
    async fn remove_cloud_provider(&self, ctx: &Context<'_>, id: ID) -> Result<RemoveCloudProviderPayload> {
        let (uuid, tctx) = provider_access(ctx, "id", &id).await?;
        providers::remove(app(ctx), &tctx, uuid).await?;
        Ok(RemoveCloudProviderPayload { removed_provider_id: id })
    }

    /// Asks for a server (`INFRASTRUCTURE_MANAGE`); its action creates it.
    async fn create_server(&self, ctx: &Context<'_>, input: CreateServerInput) -> Result<ServerPayload> {
        let (provider, tctx) = provider_access(ctx, "input.providerId", &input.provider_id).await?;
        let req = servers::NewServer {
            provider,
            name: input.name,
            server_type: input.server_type,
            image: input.image,
            location: input.location,
            labels: input.labels.map(|j| j.0).unwrap_or(serde_json::Value::Null),
            idempotency_key: input.idempotency_key,
        };
        let (s, a) = servers::create(app(ctx), &tctx, req).await?;
        Ok(ServerPayload { server: Server(s), action: InfrastructureAction(a) })
    }

    /// Asks for a server's deletion (`INFRASTRUCTURE_MANAGE`).
    async fn delete_server(&self, ctx: &Context<'_>, id: ID) -> Result<ServerPayload> {
        let (id, tctx) = server_access(ctx, "id", &id).await?;
        let (s, a) = servers::delete(app(ctx), &tctx, id).await?;
        Ok(ServerPayload { server: Server(s), action: InfrastructureAction(a) })
    }

    /// Starts, stops, reboots, resets, resizes or rebuilds a server, enables or disables its
    /// rescue mode or resets its root password (`INFRASTRUCTURE_MANAGE`).
    async fn server_action(&self, ctx: &Context<'_>, input: ServerActionInput) -> Result<ServerPayload> {
        let (id, tctx) = server_access(ctx, "input.serverId", &input.server_id).await?;
        let what = match input.action {
            ServerActionKind::Start => servers::ServerChange::Start,
            ServerActionKind::Stop => servers::ServerChange::Stop,
            ServerActionKind::Reboot => servers::ServerChange::Reboot,
            ServerActionKind::Reset => servers::ServerChange::Reset,
            // A missing type is the service's validation error (after its permission check).
            ServerActionKind::Resize => servers::ServerChange::Resize(input.server_type.unwrap_or_default()),
            ServerActionKind::Rebuild => match (input.snapshot_id, input.image) {
                (Some(snapshot), None) => {
                    let (snapshot, _) = snapshot_access(ctx, "input.snapshotId", &snapshot).await?;
                    servers::ServerChange::Rebuild(servers::RebuildFrom::Snapshot(snapshot))
                }
                (None, Some(image)) => servers::ServerChange::Rebuild(servers::RebuildFrom::Image(image)),
                (Some(_), Some(_)) => {
                    return Err(crate::error::AppError::validation(
                        "input.image",
                        "a snapshot or an image to rebuild from, not both",
                    )
                    .into());
                }
                (None, None) => {
                    return Err(crate::error::AppError::validation(
                        "input.snapshotId",
                        "a snapshot or an image to rebuild from",
                    )
                    .into());
                }
            },
            ServerActionKind::EnableRescue => servers::ServerChange::EnableRescue,
            ServerActionKind::DisableRescue => servers::ServerChange::DisableRescue,
            ServerActionKind::ResetRootPassword => servers::ServerChange::ResetRootPassword,
        };
        let (s, a) = servers::change(app(ctx), &tctx, id, what).await?;
        Ok(ServerPayload { server: Server(s), action: InfrastructureAction(a) })
    }

    /// Asks for a snapshot of a running or stopped server (`INFRASTRUCTURE_MANAGE`).
    async fn create_snapshot(
        &self,
        ctx: &Context<'_>,
        input: CreateSnapshotInput,
    ) -> Result<SnapshotPayload> {
        let (server, tctx) = server_access(ctx, "input.serverId", &input.server_id).await?;
        let labels = input.labels.map(|l| l.0).unwrap_or(serde_json::Value::Null);
        let (s, a) = snapshots::create(app(ctx), &tctx, server, input.description, labels).await?;
        Ok(SnapshotPayload { snapshot: Snapshot(s), action: InfrastructureAction(a) })
    }

    /// Asks to delete a snapshot (`INFRASTRUCTURE_MANAGE`).
    async fn delete_snapshot(&self, ctx: &Context<'_>, id: ID) -> Result<SnapshotPayload> {
        let (id, tctx) = snapshot_access(ctx, "id", &id).await?;
        let (s, a) = snapshots::delete(app(ctx), &tctx, id).await?;
        Ok(SnapshotPayload { snapshot: Snapshot(s), action: InfrastructureAction(a) })
    }

    /// Asks for a volume (`INFRASTRUCTURE_MANAGE`).
    async fn create_volume(&self, ctx: &Context<'_>, input: CreateVolumeInput) -> Result<VolumePayload> {
        let (provider, tctx) = provider_access(ctx, "input.providerId", &input.provider_id).await?;
        let req = volumes::NewVolume {
            provider,
            name: input.name,
            size_gb: input.size_gb,
            location: input.location,
            labels: input.labels.map(|j| j.0).unwrap_or(serde_json::Value::Null),
        };
        let (v, a) = volumes::create(app(ctx), &tctx, req).await?;
        Ok(VolumePayload { volume: Volume(v), action: InfrastructureAction(a) })
    }

    /// Attaches a volume to a server (`INFRASTRUCTURE_MANAGE`).
    async fn attach_volume(&self, ctx: &Context<'_>, input: AttachVolumeInput) -> Result<VolumePayload> {
        let (id, tctx) = volume_access(ctx, "input.volumeId", &input.volume_id).await?;
        let server = relay::decode_id("input.serverId", &input.server_id, kind::SERVER)?;
        let (v, a) = volumes::attach(app(ctx), &tctx, id, server).await?;
        Ok(VolumePayload { volume: Volume(v), action: InfrastructureAction(a) })
    }

    /// Detaches a volume (`INFRASTRUCTURE_MANAGE`).
    async fn detach_volume(&self, ctx: &Context<'_>, volume_id: ID) -> Result<VolumePayload> {
        let (id, tctx) = volume_access(ctx, "volumeId", &volume_id).await?;
        let (v, a) = volumes::detach(app(ctx), &tctx, id).await?;
        Ok(VolumePayload { volume: Volume(v), action: InfrastructureAction(a) })
    }

    /// Grows a volume (`INFRASTRUCTURE_MANAGE`).
    async fn resize_volume(&self, ctx: &Context<'_>, input: ResizeVolumeInput) -> Result<VolumePayload> {
        let (id, tctx) = volume_access(ctx, "input.volumeId", &input.volume_id).await?;
        let (v, a) = volumes::resize(app(ctx), &tctx, id, input.size_gb).await?;
        Ok(VolumePayload { volume: Volume(v), action: InfrastructureAction(a) })
    }

    /// Deletes a detached volume (`INFRASTRUCTURE_MANAGE`).
    async fn delete_volume(&self, ctx: &Context<'_>, id: ID) -> Result<VolumePayload> {
        let (id, tctx) = volume_access(ctx, "id", &id).await?;
        let (v, a) = volumes::delete(app(ctx), &tctx, id).await?;
        Ok(VolumePayload { volume: Volume(v), action: InfrastructureAction(a) })
    }

    /// Creates a DNS zone on an account (`INFRASTRUCTURE_MANAGE`).
    async fn create_dns_zone(&self, ctx: &Context<'_>, input: CreateDnsZoneInput) -> Result<DnsZonePayload> {
        let (provider, tctx) = provider_access(ctx, "input.providerId", &input.provider_id).await?;
        let (z, a) = dns::create_zone(app(ctx), &tctx, provider, &input.name, input.ttl).await?;
        Ok(DnsZonePayload { zone: DnsZone(z, vec![]), action: InfrastructureAction(a) })
    }

    /// Adds or changes a DNS record, checked by its type's rules (`INFRASTRUCTURE_MANAGE`).
    async fn upsert_dns_record(
        &self,
        ctx: &Context<'_>,
        input: UpsertDnsRecordInput,
    ) -> Result<DnsRecordPayload> {
        let (zone, tctx) = owned_row::<dns_zone::Entity>(
            ctx,
            "input.zoneId",
            &input.zone_id,
            kind::DNS_ZONE,
            "DNS zone",
            dns_zone::Column::Id,
        )
        .await?;
        let id =
            input.record_id.map(|r| relay::decode_id("input.recordId", &r, kind::DNS_RECORD)).transpose()?;
        let req = dns::RecordInput {
            zone,
            id,
            record_type: input.record_type,
            name: input.name,
            value: input.value,
            ttl: input.ttl,
        };
        let (r, a) = dns::upsert_record(app(ctx), &tctx, req).await?;
        Ok(DnsRecordPayload { record: DnsRecord(r), action: InfrastructureAction(a) })
    }

    /// Deletes a DNS record (`INFRASTRUCTURE_MANAGE`).
    async fn delete_dns_record(&self, ctx: &Context<'_>, id: ID) -> Result<DnsRecordPayload> {
        let (id, tctx) = owned_row::<dns_record::Entity>(
            ctx,
            "id",
            &id,
            kind::DNS_RECORD,
            "DNS record",
            dns_record::Column::Id,
        )
        .await?;
        let (r, a) = dns::delete_record(app(ctx), &tctx, id).await?;
        Ok(DnsRecordPayload { record: DnsRecord(r), action: InfrastructureAction(a) })
    }
}

#[derive(Default)]
pub struct InfrastructureSubscription;

#[Subscription]
impl InfrastructureSubscription {
    /// The organisation's infrastructure actions as they start, progress and end
    /// (`INFRASTRUCTURE_READ`, checked when it starts and with every event).
    async fn infrastructure_action_updated(
        &self,
        ctx: &Context<'_>,
        tenant_id: ID,
    ) -> Result<impl Stream<Item = InfrastructureAction> + use<>> {
        let (app, viewer, tenant) =
            crate::graphql::live::open(ctx, "tenantId", &tenant_id, Permission::InfrastructureRead).await?;
        Ok(crate::graphql::live::guarded(
            app.clone(),
            viewer,
            tenant,
            Permission::InfrastructureRead,
            topic(tenant),
        )
        .filter_map(move |(event, tctx)| {
            let app = app.clone();
            async move {
                let e: InfraEvent = serde_json::from_value(event.payload.clone()).ok()?;
                let id = e.action?;
                let a = actions::get(&app, &tctx, id).await.ok();
                tctx.reads.release().await;
                a.map(InfrastructureAction)
            }
        }))
    }

    /// The organisation's servers, volumes, zones, records and accounts as they change
    /// (`INFRASTRUCTURE_READ`); server and volume events carry the resource as it is now.
    async fn cloud_resource_changed(
        &self,
        ctx: &Context<'_>,
        tenant_id: ID,
    ) -> Result<impl Stream<Item = CloudResourceEvent> + use<>> {
        let (app, viewer, tenant) =
            crate::graphql::live::open(ctx, "tenantId", &tenant_id, Permission::InfrastructureRead).await?;
        Ok(crate::graphql::live::guarded(
            app.clone(),
            viewer,
            tenant,
            Permission::InfrastructureRead,
            topic(tenant),
        )
        .filter_map(move |(event, tctx)| {
            let app = app.clone();
            async move {
                let e: InfraEvent = serde_json::from_value(event.payload.clone()).ok()?;
                let mut out = CloudResourceEvent::new(&e.resource_type, e.resource_id, e.deleted, e.status);
                if !e.deleted {
                    match e.resource_type.as_str() {
                        "server" => {
                            out.server = servers::get(&app, &tctx, e.resource_id).await.ok().map(Server)
                        }
                        "volume" => {
                            out.volume = volumes::get(&app, &tctx, e.resource_id).await.ok().map(Volume)
                        }
                        "snapshot" => {
                            out.snapshot = snapshots::get(&app, &tctx, e.resource_id).await.ok().map(Snapshot)
                        }
                        _ => {}
                    }
                }
                tctx.reads.release().await;
                Some(out)
            }
        }))
    }
}
