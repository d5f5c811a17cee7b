//! GraphQL of what is read live from the provider: `Server.metrics`, `Server.monthlyCost`,
//! `DnsRecord.propagation` (resolved here, declared on their types) and `openServerConsole`.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, TimeZone, Utc};
use entity::cloud_server;

use super::{drivers::MetricFamily, insight};
use crate::graphql::{app, loaders::loaders, owned_row, relay::kind};

/// A family of server metrics.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum ServerMetricFamily {
    /// `cpu`: percent of one vCPU (a 2-vCPU server busy on both shows 200).
    Cpu,
    /// `disk.0.iops.read|write` (operations/s) and `disk.0.bandwidth.read|write` (bytes/s).
    Disk,
    /// `network.0.pps.in|out` (packets/s) and `network.0.bandwidth.in|out` (bytes/s).
    Network,
}

impl From<ServerMetricFamily> for MetricFamily {
    fn from(f: ServerMetricFamily) -> Self {
        match f {
            ServerMetricFamily::Cpu => Self::Cpu,
            ServerMetricFamily::Disk => Self::Disk,
            ServerMetricFamily::Network => Self::Network,
        }
    }
}

/// One sample.
#[derive(SimpleObject)]
pub struct MetricPoint {
    pub time: DateTime<Utc>,
    pub value: f64,
}

/// One named series (`cpu`, `disk.0.iops.read`, …), oldest sample first.
#[derive(SimpleObject)]
pub struct MetricTimeSeries {
    pub name: String,
    pub points: Vec<MetricPoint>,
}

/// A server's metrics over a window.
#[derive(SimpleObject)]
pub struct ServerMetrics {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Seconds between samples (coarsened by the provider when the window is long).
    pub step: i32,
    pub series: Vec<MetricTimeSeries>,
}

/// A monthly price from the provider's price list.
#[derive(SimpleObject)]
pub struct MonthlyCost {
    /// Before VAT.
    pub net: f64,
    /// With the provider's VAT.
    pub gross: f64,
    /// ISO 4217 (`EUR`).
    pub currency: String,
}

pub(super) async fn metrics(
    ctx: &Context<'_>,
    server: &cloud_server::Model,
    family: ServerMetricFamily,
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
    step: Option<i32>,
) -> Result<ServerMetrics> {
    let tctx = loaders(ctx).tenant_access(server.tenant_id).await?;
    let app = app(ctx);
    let w = insight::window(app.now(), family.into(), start, end, step)?;
    let series = insight::metrics(app, &tctx, server.id, &w).await?;
    let at = |t: f64| Utc.timestamp_opt(t as i64, 0).single().unwrap_or(w.start);
    Ok(ServerMetrics {
        start: w.start,
        end: w.end,
        step: w.step as i32,
        series: series
            .into_iter()
            .map(|s| MetricTimeSeries {
                name: s.name,
                points: s.points.into_iter().map(|(t, value)| MetricPoint { time: at(t), value }).collect(),
            })
            .collect(),
    })
}

pub(super) async fn monthly_cost(
    ctx: &Context<'_>,
    server: &cloud_server::Model,
) -> Result<Option<MonthlyCost>> {
    let tctx = loaders(ctx).tenant_access(server.tenant_id).await?;
    Ok(insight::monthly_cost(app(ctx), &tctx, server.id).await?.map(|p| MonthlyCost {
        net: p.net,
        gross: p.gross,
        currency: p.currency,
    }))
}

#[derive(InputObject)]
pub struct OpenServerConsoleInput {
    pub server_id: ID,
    /// Why (5 to 500 characters): written to the audit log.
    pub reason: String,
}

/// A console session, shown once. Hetzner: `url` is a WebSocket VNC address to open with
/// `password`. AWS: `url` is the instance's serial console over SSH
/// (`ssh://<instance>.port0@serial-console.ec2-instance-connect.<region>.aws`), reached with
/// `privateKey` unlocked by `password` within 60 seconds.
#[derive(SimpleObject)]
pub struct ServerConsole {
    pub url: String,
    pub password: String,
    /// The one-time private key of an SSH console (OpenSSH format, encrypted with
    /// `password`); null for a VNC console.
    pub private_key: Option<String>,
}

/// A root password, revealed once.
#[derive(SimpleObject)]
pub struct RevealedRootPassword {
    /// The action, which holds no password any more.
    pub action: super::types::InfrastructureAction,
    pub password: String,
}

#[derive(Default)]
pub struct InsightMutation;

#[Object]
impl InsightMutation {
    /// The root password a rescue or reset action (`serverAction` ENABLE_RESCUE or
    /// RESET_ROOT_PASSWORD) got from the provider: shown once, only to the member who asked
    /// for the action (`INFRASTRUCTURE_MANAGE`), then erased; audited without the password.
    async fn reveal_root_password(&self, ctx: &Context<'_>, action_id: ID) -> Result<RevealedRootPassword> {
        let (id, tctx) = owned_row::<entity::infrastructure_action::Entity>(
            ctx,
            "actionId",
            &action_id,
            kind::INFRASTRUCTURE_ACTION,
            "root password",
            entity::infrastructure_action::Column::Id,
        )
        .await?;
        let (password, action) = insight::reveal_root_password(app(ctx), &tctx, id).await?;
        Ok(RevealedRootPassword { action: super::types::InfrastructureAction(action), password })
    }

    /// Opens a console session to a server (`INFRASTRUCTURE_CONSOLE`; audited with the reason;
    /// `PROVIDER_ERROR` `not_supported` on the local cloud, whose servers have no screen).
    /// The session is opened at the provider at once: an AWS console's key is accepted for
    /// 60 seconds.
    async fn open_server_console(
        &self,
        ctx: &Context<'_>,
        input: OpenServerConsoleInput,
    ) -> Result<ServerConsole> {
        let (id, tctx) = owned_row::<cloud_server::Entity>(
            ctx,
            "input.serverId",
            &input.server_id,
            kind::SERVER,
            "server",
            cloud_server::Column::Id,
        )
        .await?;
        let c = insight::open_console(app(ctx), &tctx, id, &input.reason).await?;
        Ok(ServerConsole { url: c.url, password: c.password, private_key: c.private_key })
    }
}

/// What one authoritative name server answers for a record.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum DnsPropagationStatus {
    /// It answers with the record's value.
    Propagated,
    /// It answers for the name and type, but not with this value (yet).
    Outdated,
    /// It has no such record.
    Missing,
    /// It could not be asked (no address, no answer in time, an error).
    Unreachable,
}

/// One authoritative name server's part of a propagation check.
#[derive(SimpleObject)]
pub struct NameServerAnswer {
    /// Its host name (or address).
    pub name_server: String,
    /// The address asked.
    pub address: Option<String>,
    pub status: DnsPropagationStatus,
    /// The values it answered with.
    pub values: Vec<String>,
    /// Why it could not be asked.
    pub error: Option<String>,
}

/// A record asked for at every authoritative name server of its zone.
#[derive(SimpleObject)]
pub struct DnsPropagation {
    /// The fully qualified name asked for.
    pub fqdn: String,
    /// Every name server answers with the value.
    pub propagated: bool,
    pub name_servers: Vec<NameServerAnswer>,
    pub checked_at: DateTime<Utc>,
}

pub(super) async fn propagation(
    ctx: &Context<'_>,
    record: &entity::dns_record::Model,
) -> Result<DnsPropagation> {
    use super::propagation::{Answer, check};
    let tctx = loaders(ctx).tenant_access(record.tenant_id).await?;
    let r = check(app(ctx), &tctx, record.id).await?;
    Ok(DnsPropagation {
        propagated: r.propagated(),
        fqdn: r.fqdn,
        checked_at: r.checked_at,
        name_servers: r
            .servers
            .into_iter()
            .map(|s| NameServerAnswer {
                name_server: s.name_server,
                address: s.address.map(|a| a.to_string()),
                status: match s.answer {
                    Answer::Propagated => DnsPropagationStatus::Propagated,
                    Answer::Outdated => DnsPropagationStatus::Outdated,
                    Answer::Missing => DnsPropagationStatus::Missing,
                    Answer::Unreachable => DnsPropagationStatus::Unreachable,
                },
                values: s.values,
                error: s.error,
            })
            .collect(),
    })
}
