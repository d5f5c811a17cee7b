//! GraphQL of floating IPs: the `FloatingIp` node, `Tenant.floatingIps` (declared on
//! `TenantInfrastructure`, resolved here) and the mutations that reserve, assign, unassign,
//! name and release them.

use async_graphql::{Context, Enum, ID, InputObject, Json, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::cloud_floating_ip as fip;
use uuid::Uuid;

use super::{floating_ips, types::InfrastructureAction};
use crate::{
    access::TenantCtx,
    db::page::PageArgs,
    graphql::{app, loaders::loaders, owned_row, relay, relay::kind},
};

/// A floating IP's state.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::cloud_floating_ip::FloatingIpStatus")]
pub enum FloatingIpStatus {
    /// Asked for; the provider has not reserved it yet.
    Pending,
    /// Reserved and usable.
    Ready,
    /// Being assigned, unassigned or given a reverse DNS name.
    Busy,
    Deleting,
    Error,
}

/// An address family.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum FloatingIpType {
    #[graphql(name = "IPV4")]
    Ipv4,
    /// A /64 network.
    #[graphql(name = "IPV6")]
    Ipv6,
}

/// An address reserved through a provider account, assignable to any of its servers.
pub struct FloatingIp(pub fip::Model);

#[Object]
impl FloatingIp {
    /// Global ID.
    pub async fn id(&self) -> ID {
        relay::to_global_id(kind::FLOATING_IP, self.0.id)
    }
    async fn provider_id(&self) -> ID {
        relay::to_global_id(kind::CLOUD_PROVIDER, self.0.provider_id)
    }
    /// The server it is assigned to.
    async fn server_id(&self) -> Option<ID> {
        self.0.server_id.map(|s| relay::to_global_id(kind::SERVER, s))
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    #[graphql(name = "type")]
    async fn ip_type(&self) -> FloatingIpType {
        if self.0.ip_type == "ipv6" { FloatingIpType::Ipv6 } else { FloatingIpType::Ipv4 }
    }
    /// The address, once reserved.
    async fn ip(&self) -> Option<&str> {
        self.0.ip.as_deref()
    }
    /// Its reverse DNS name.
    async fn dns_ptr(&self) -> Option<&str> {
        self.0.dns_ptr.as_deref()
    }
    async fn home_location(&self) -> &str {
        &self.0.home_location
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    async fn status(&self) -> FloatingIpStatus {
        self.0.status.into()
    }
    /// The provider's id, once it has the address.
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

#[derive(SimpleObject)]
pub struct FloatingIpPayload {
    pub floating_ip: FloatingIp,
    pub action: InfrastructureAction,
}

pub(super) async fn list(
    ctx: &Context<'_>,
    tenant: Uuid,
    after: Option<String>,
    first: Option<i32>,
    last: Option<i32>,
) -> Result<relay::Conn<FloatingIp>> {
    let tctx = loaders(ctx).tenant_access(tenant).await?;
    let w = PageArgs::new(after, None, first, last).window(app(ctx).config.max_page_size)?;
    Ok(relay::to_connection(floating_ips::list(app(ctx), &tctx, w).await?, |f| f.id, FloatingIp))
}

async fn access(ctx: &Context<'_>, field: &str, id: &ID) -> Result<(Uuid, std::sync::Arc<TenantCtx>)> {
    owned_row::<fip::Entity>(ctx, field, id, kind::FLOATING_IP, "floating IP", fip::Column::Id).await
}

#[derive(InputObject)]
pub struct CreateFloatingIpInput {
    pub provider_id: ID,
    /// 1 to 64 letters, digits, `-`, `_` or `.`; unique on the account.
    pub name: String,
    #[graphql(name = "type")]
    pub ip_type: FloatingIpType,
    /// The provider's location it is routed from first (`fsn1`).
    pub home_location: String,
    /// At most 200 characters.
    pub description: Option<String>,
    /// Labels: an object of strings.
    pub labels: Option<Json<serde_json::Value>>,
}

#[derive(InputObject)]
pub struct AssignFloatingIpInput {
    pub floating_ip_id: ID,
    /// A server of the same account (the address moves there from any other).
    pub server_id: ID,
}

#[derive(InputObject)]
pub struct SetFloatingIpReverseDnsInput {
    pub floating_ip_id: ID,
    /// A host name (`mail.example.com`); null resets it to the provider's default.
    pub dns_ptr: Option<String>,
}

#[derive(Default)]
pub struct FloatingIpMutation;

#[Object]
impl FloatingIpMutation {
    /// Reserves a floating IP on an account (`INFRASTRUCTURE_MANAGE`); its action makes it.
    async fn create_floating_ip(
        &self,
        ctx: &Context<'_>,
        input: CreateFloatingIpInput,
    ) -> Result<FloatingIpPayload> {
        let (provider, tctx) = owned_row::<entity::cloud_provider::Entity>(
            ctx,
            "input.providerId",
            &input.provider_id,
            kind::CLOUD_PROVIDER,
            "cloud provider",
            entity::cloud_provider::Column::Id,
        )
        .await?;
        let req = floating_ips::NewFloatingIp {
            provider,
            name: input.name,
            ip_type: if input.ip_type == FloatingIpType::Ipv6 { "ipv6" } else { "ipv4" }.into(),
            home_location: input.home_location,
            description: input.description,
            labels: input.labels.map(|j| j.0).unwrap_or(serde_json::Value::Null),
        };
        let (f, a) = floating_ips::create(app(ctx), &tctx, req).await?;
        Ok(FloatingIpPayload { floating_ip: FloatingIp(f), action: InfrastructureAction(a) })
    }

    /// Assigns a floating IP to a server of its account (`INFRASTRUCTURE_MANAGE`).
    async fn assign_floating_ip(
        &self,
        ctx: &Context<'_>,
        input: AssignFloatingIpInput,
    ) -> Result<FloatingIpPayload> {
        let (id, tctx) = access(ctx, "input.floatingIpId", &input.floating_ip_id).await?;
        let server = relay::decode_id("input.serverId", &input.server_id, kind::SERVER)?;
        let (f, a) = floating_ips::assign(app(ctx), &tctx, id, server).await?;
        Ok(FloatingIpPayload { floating_ip: FloatingIp(f), action: InfrastructureAction(a) })
    }

    /// Unassigns a floating IP (`INFRASTRUCTURE_MANAGE`).
    async fn unassign_floating_ip(&self, ctx: &Context<'_>, floating_ip_id: ID) -> Result<FloatingIpPayload> {
        let (id, tctx) = access(ctx, "floatingIpId", &floating_ip_id).await?;
        let (f, a) = floating_ips::unassign(app(ctx), &tctx, id).await?;
        Ok(FloatingIpPayload { floating_ip: FloatingIp(f), action: InfrastructureAction(a) })
    }

    /// Sets or resets a floating IP's reverse DNS name (`INFRASTRUCTURE_MANAGE`).
    async fn set_floating_ip_reverse_dns(
        &self,
        ctx: &Context<'_>,
        input: SetFloatingIpReverseDnsInput,
    ) -> Result<FloatingIpPayload> {
        let (id, tctx) = access(ctx, "input.floatingIpId", &input.floating_ip_id).await?;
        let (f, a) = floating_ips::set_reverse_dns(app(ctx), &tctx, id, input.dns_ptr).await?;
        Ok(FloatingIpPayload { floating_ip: FloatingIp(f), action: InfrastructureAction(a) })
    }

    /// Releases a floating IP (`INFRASTRUCTURE_MANAGE`).
    async fn delete_floating_ip(&self, ctx: &Context<'_>, id: ID) -> Result<FloatingIpPayload> {
        let (id, tctx) = access(ctx, "id", &id).await?;
        let (f, a) = floating_ips::delete(app(ctx), &tctx, id).await?;
        Ok(FloatingIpPayload { floating_ip: FloatingIp(f), action: InfrastructureAction(a) })
    }
}
