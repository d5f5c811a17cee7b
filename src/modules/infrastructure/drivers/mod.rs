//! The one interface every cloud sits behind ([`CloudDriver`]) and the driver of a connected
//! provider account ([`for_provider`]): `local.rs` (the simulated cloud of the embedded
//! default), `hetzner.rs` (Hetzner Cloud and DNS APIs) and `aws.rs` (EC2, Route 53,
//! CloudWatch and ELBv2). Drivers speak to their provider only; they never touch Zygo's own
//! tables (the local driver's simulated cloud is its own).

pub mod aws;
mod aws_console;
mod aws_dns;
mod aws_ec2;
mod aws_elb;
mod aws_net;
pub mod aws_sg;
mod aws_sign;
mod aws_xml;
pub mod hetzner;
mod hetzner_net;
pub mod local;
mod local_net;
mod local_sim;
pub mod net;

use std::collections::BTreeMap;

use entity::cloud_provider::{self, CloudProviderKind};
use serde::{Deserialize, Serialize};

use crate::{ctx::Ctx, error::AppError};

/// Labels of a provider resource.
pub type Labels = BTreeMap<String, String>;

/// Why a provider call did not work.
#[derive(Debug, Clone)]
pub enum DriverError {
    /// Worth trying again: unreachable, 5xx, or rate-limited (then `retry_after` seconds).
    Transient { message: String, retry_after: Option<u64> },
    /// The provider refused: trying again changes nothing. `code` is the provider's own.
    Provider { code: String, message: String },
}

impl DriverError {
    pub fn transient(message: impl Into<String>) -> Self {
        Self::Transient { message: message.into(), retry_after: None }
    }
    pub fn provider(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Provider { code: code.into(), message: message.into() }
    }
}

impl std::fmt::Display for DriverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Transient { message, .. } => f.write_str(message),
            Self::Provider { code, message } => write!(f, "{code}: {message}"),
        }
    }
}

impl From<DriverError> for AppError {
    fn from(e: DriverError) -> Self {
        let (code, message) = match e {
            DriverError::Provider { code, message } => (code, message),
            DriverError::Transient { message, .. } => ("unavailable".to_string(), message),
        };
        AppError::RejectedWith {
            code: "PROVIDER_ERROR",
            message: format!("the provider refused: {message}"),
            details: serde_json::json!({ "providerCode": code }),
        }
    }
}

impl From<sea_orm::DbErr> for DriverError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::transient(e.to_string())
    }
}

impl From<AppError> for DriverError {
    fn from(e: AppError) -> Self {
        Self::transient(e.to_string())
    }
}

pub type DriverResult<T> = Result<T, DriverError>;

/// A server to create.
#[derive(Clone, Debug)]
pub struct ServerSpec {
    pub name: String,
    pub server_type: String,
    pub image: String,
    pub location: String,
    pub labels: Labels,
}

/// A server as the provider has it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RemoteServer {
    pub id: String,
    pub name: String,
    /// The provider's state: initializing, starting, running, stopping, off, deleting …
    pub status: String,
    pub server_type: String,
    pub ipv4: Option<String>,
    pub labels: Labels,
}

/// A change to a server.
#[derive(Clone, Debug)]
pub enum ServerOp {
    Start,
    Stop,
    Reboot,
    /// A hard reset (the power cycled, no shutdown).
    Reset,
    /// Power cut off at once (after a graceful shutdown was not heeded).
    PowerOff,
    Resize {
        server_type: String,
    },
    /// Reinstalls the disk from `image` (an image name or a snapshot's id).
    Rebuild {
        image: String,
    },
}

/// A change to how a server is reached as root.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RootAccessOp {
    /// Boot into the provider's rescue system next (a new root password for it).
    EnableRescue,
    DisableRescue,
    /// A new root password for the running system.
    ResetPassword,
}

/// A volume to create.
#[derive(Clone, Debug)]
pub struct VolumeSpec {
    pub name: String,
    pub size_gb: i32,
    pub location: String,
    pub labels: Labels,
}

/// A volume as the provider has it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RemoteVolume {
    pub id: String,
    pub name: String,
    pub size_gb: i32,
    /// The provider's id of the server it is attached to.
    pub server: Option<String>,
    /// creating, available …
    pub status: String,
    pub labels: Labels,
}

/// A floating IP to reserve.
#[derive(Clone, Debug)]
pub struct FloatingIpSpec {
    pub name: String,
    /// `ipv4` or `ipv6`.
    pub ip_type: String,
    pub home_location: String,
    pub description: String,
    pub labels: Labels,
}

/// A floating IP as the provider has it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RemoteFloatingIp {
    pub id: String,
    pub ip: String,
    /// The provider's id of the server it is assigned to.
    pub server: Option<String>,
    /// The reverse DNS name of `ip`.
    pub dns_ptr: Option<String>,
    pub labels: Labels,
}

/// A snapshot image at the provider.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RemoteSnapshot {
    pub id: String,
    pub description: String,
    /// `creating` until it can be used, then `available`.
    pub status: String,
    pub size_gb: Option<f64>,
    pub labels: Labels,
}

/// A DNS zone as the provider has it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RemoteZone {
    pub id: String,
    pub name: String,
    pub ttl: i32,
    /// The provider's authoritative name servers of the zone (host names), when it says.
    #[serde(default)]
    pub name_servers: Vec<String>,
}

/// A DNS record (to write, or as the provider has it: then with its id).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct RemoteRecord {
    pub id: Option<String>,
    pub record_type: String,
    pub name: String,
    pub value: String,
    pub ttl: i32,
}

/// A family of server metrics, as the providers group them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricFamily {
    /// `cpu` (percent of one vCPU).
    Cpu,
    /// `disk.0.iops.read|write` (operations/s), `disk.0.bandwidth.read|write` (bytes/s).
    Disk,
    /// `network.0.pps.in|out` (packets/s), `network.0.bandwidth.in|out` (bytes/s).
    Network,
}

impl MetricFamily {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cpu => "cpu",
            Self::Disk => "disk",
            Self::Network => "network",
        }
    }
}

/// A window of server metrics to read: `[start, end]` every `step` seconds.
#[derive(Clone, Copy, Debug)]
pub struct MetricWindow {
    pub family: MetricFamily,
    pub start: chrono::DateTime<chrono::Utc>,
    pub end: chrono::DateTime<chrono::Utc>,
    pub step: i64,
}

/// One named time series: (unix seconds, value) points, oldest first.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MetricSeries {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// A console session the provider opened for a server: where to connect and its one-time
/// password.
#[derive(Clone, Debug)]
pub struct RemoteConsole {
    pub url: String,
    pub password: String,
    /// For a console reached over SSH: the one-time private key (OpenSSH format, encrypted
    /// with `password`).
    pub private_key: Option<String>,
}

/// What a server type costs a month at a location, as the provider prices it.
#[derive(Clone, Debug, PartialEq)]
pub struct MonthlyPrice {
    pub net: f64,
    pub gross: f64,
    /// ISO 4217 (`EUR`).
    pub currency: String,
}

/// Where a provider's own asynchronous action stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ActionState {
    Running { progress: i32 },
    Succeeded,
    Failed { code: String, message: String },
}

/// What a change started: the provider's action to wait for, when it has one.
pub type Pending = Option<String>;

/// One cloud. Every create first looks for what carries its `zygo-id` label (see
/// [`crate::modules::infrastructure::actions`]), so these calls need not be idempotent
/// themselves.
#[async_trait::async_trait]
pub trait CloudDriver: Send + Sync {
    /// Checks the credentials with a harmless read.
    async fn validate(&self) -> DriverResult<()>;
    /// Servers carrying every label of `selector` (`key=value`, comma-separated).
    async fn list_servers(&self, selector: &str) -> DriverResult<Vec<RemoteServer>>;
    async fn create_server(&self, spec: &ServerSpec) -> DriverResult<(RemoteServer, Pending)>;
    /// `None`: the provider does not have it (any more).
    async fn get_server(&self, id: &str) -> DriverResult<Option<RemoteServer>>;
    async fn delete_server(&self, id: &str) -> DriverResult<Pending>;
    async fn server_action(&self, id: &str, op: &ServerOp) -> DriverResult<Pending>;
    async fn list_volumes(&self, selector: &str) -> DriverResult<Vec<RemoteVolume>>;
    async fn create_volume(&self, spec: &VolumeSpec) -> DriverResult<(RemoteVolume, Pending)>;
    async fn get_volume(&self, id: &str) -> DriverResult<Option<RemoteVolume>>;
    async fn attach_volume(&self, id: &str, server: &str) -> DriverResult<Pending>;
    async fn detach_volume(&self, id: &str) -> DriverResult<Pending>;
    async fn resize_volume(&self, id: &str, size_gb: i32) -> DriverResult<Pending>;
    async fn delete_volume(&self, id: &str) -> DriverResult<()>;
    /// Images server `server`'s disk as a snapshot carrying `labels`.
    async fn create_snapshot(
        &self,
        server: &str,
        description: &str,
        labels: &Labels,
    ) -> DriverResult<(RemoteSnapshot, Pending)>;
    async fn list_snapshots(&self, selector: &str) -> DriverResult<Vec<RemoteSnapshot>>;
    async fn get_snapshot(&self, id: &str) -> DriverResult<Option<RemoteSnapshot>>;
    /// Deletes a snapshot; one already gone is not an error.
    async fn delete_snapshot(&self, id: &str) -> DriverResult<()>;
    async fn list_floating_ips(&self, selector: &str) -> DriverResult<Vec<RemoteFloatingIp>>;
    async fn create_floating_ip(&self, spec: &FloatingIpSpec) -> DriverResult<(RemoteFloatingIp, Pending)>;
    async fn get_floating_ip(&self, id: &str) -> DriverResult<Option<RemoteFloatingIp>>;
    async fn assign_floating_ip(&self, id: &str, server: &str) -> DriverResult<Pending>;
    async fn unassign_floating_ip(&self, id: &str) -> DriverResult<Pending>;
    /// Sets (or with `None` resets) the reverse DNS name of address `ip` of floating IP `id`.
    async fn set_floating_ip_dns_ptr(&self, id: &str, ip: &str, ptr: Option<&str>) -> DriverResult<Pending>;
    /// Releases a floating IP; one already gone is not an error.
    async fn delete_floating_ip(&self, id: &str) -> DriverResult<()>;
    /// The zone named `name`, if the provider hosts it.
    async fn find_zone(&self, name: &str) -> DriverResult<Option<RemoteZone>>;
    async fn create_zone(&self, name: &str, ttl: i32) -> DriverResult<RemoteZone>;
    async fn list_records(&self, zone: &str) -> DriverResult<Vec<RemoteRecord>>;
    /// Creates `record` in `zone`, or replaces record `record.id`.
    async fn put_record(&self, zone: &str, record: &RemoteRecord) -> DriverResult<RemoteRecord>;
    async fn delete_record(&self, id: &str) -> DriverResult<()>;
    /// The time series of `window.family` for server `id`.
    async fn server_metrics(&self, id: &str, window: &MetricWindow) -> DriverResult<Vec<MetricSeries>>;
    /// Opens a console session to server `id`.
    async fn request_console(&self, id: &str) -> DriverResult<RemoteConsole>;
    /// The monthly price of `server_type` at `location`; `None` when the provider lists none.
    async fn server_price(&self, server_type: &str, location: &str) -> DriverResult<Option<MonthlyPrice>>;
    /// The state of a provider action returned by a change.
    async fn action(&self, id: &str) -> DriverResult<ActionState>;
    /// How long to wait between two looks at a running action.
    fn poll_interval(&self) -> std::time::Duration;

    /// Enables or disables rescue mode, or resets the root password; the provider's action and
    /// the new root password when it gives one.
    async fn root_access(&self, id: &str, op: RootAccessOp) -> DriverResult<(Pending, Option<String>)> {
        let _ = (id, op);
        Err(DriverError::provider("not_supported", "this provider has no rescue mode or password reset here"))
    }

    /// Its networks, firewalls and load balancers, when it has them.
    fn net(&self) -> Option<&dyn net::NetDriver> {
        None
    }
}

/// The credentials of a provider account (sealed as JSON).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Credentials {
    /// Hetzner Cloud API token.
    #[serde(default)]
    pub api_token: Option<String>,
    /// Hetzner DNS API token (the Cloud token when absent).
    #[serde(default)]
    pub dns_api_token: Option<String>,
    /// AWS access key id (of an IAM user).
    #[serde(default)]
    pub access_key_id: Option<String>,
    /// AWS secret access key.
    #[serde(default)]
    pub secret_access_key: Option<String>,
    /// AWS region (`eu-central-1`).
    #[serde(default)]
    pub region: Option<String>,
}

/// What the sealed credentials of provider `id` are bound to.
pub fn credentials_aad(id: uuid::Uuid) -> String {
    format!("cloud_provider:{id}")
}

/// The driver of `kind` with `creds` for provider account `provider` of `tenant`.
pub fn driver(
    ctx: &Ctx,
    tenant: uuid::Uuid,
    provider: uuid::Uuid,
    kind: CloudProviderKind,
    creds: &Credentials,
) -> Result<Box<dyn CloudDriver>, DriverError> {
    match kind {
        CloudProviderKind::Local => Ok(Box::new(local::Local::new(ctx.clone(), tenant, provider))),
        CloudProviderKind::Hetzner => {
            let token = creds
                .api_token
                .clone()
                .ok_or_else(|| DriverError::provider("invalid_input", "a Hetzner API token is required"))?;
            let dns = creds.dns_api_token.clone().unwrap_or_else(|| token.clone());
            Ok(Box::new(hetzner::Hetzner::new(&ctx.config.infrastructure, token, dns)))
        }
        CloudProviderKind::Aws => {
            let (Some(id), Some(secret), Some(region)) =
                (creds.access_key_id.clone(), creds.secret_access_key.clone(), creds.region.clone())
            else {
                return Err(DriverError::provider(
                    "invalid_input",
                    "an AWS access key id, secret access key and region are required",
                ));
            };
            let cfg = &ctx.config.infrastructure;
            Ok(Box::new(aws::Aws::new(
                aws::AwsKeys { access_key_id: id, secret_access_key: secret, region },
                cfg.aws_endpoint.clone(),
                std::time::Duration::from_millis(cfg.poll_ms),
                std::time::Duration::from_secs(cfg.shutdown_timeout_seconds),
            )))
        }
    }
}

/// The unsealed credentials of a saved provider account.
pub fn credentials_of(ctx: &Ctx, p: &cloud_provider::Model) -> Result<Credentials, DriverError> {
    let raw = ctx.keys.decrypt(p.tenant_id, &credentials_aad(p.id), &p.credentials).map_err(|_| {
        DriverError::provider("credentials_unreadable", "the stored credentials cannot be read")
    })?;
    Ok(serde_json::from_str(&raw).unwrap_or_default())
}

/// The driver of a saved provider account (its credentials unsealed).
pub fn for_provider(ctx: &Ctx, p: &cloud_provider::Model) -> Result<Box<dyn CloudDriver>, DriverError> {
    driver(ctx, p.tenant_id, p.id, p.kind, &credentials_of(ctx, p)?)
}
