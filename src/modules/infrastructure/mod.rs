//! Infrastructure (issue 20, first slice): organisations connect their own cloud accounts
//! (Hetzner, or the local simulated cloud of the embedded default) and run servers, volumes
//! and DNS from Zygo. Every change is an `infrastructure_actions` row carried out by the job
//! machinery (`actions.rs`), through one [`drivers::CloudDriver`] per cloud.
//!
//! Owns the tenant tables `cloud_providers`, `cloud_servers`, `cloud_volumes`, `dns_zones`,
//! `dns_records`, `infrastructure_actions` and `local_cloud_objects` (the local driver's).
//!
//! Layout: `providers.rs` (accounts), `servers.rs`, `volumes.rs`, `dns.rs` (what members ask
//! for), `actions.rs` (requests and the job that executes them), `drivers/` (the clouds),
//! `types.rs` / `schema.rs` (GraphQL).

pub mod actions;
pub mod actions_schema;
mod apply;
pub mod dns;
pub mod drivers;
pub mod floating_ips;
pub mod floating_ips_schema;
pub mod insight;
mod insight_schema;
pub mod networking;
pub mod networking_inputs;
pub mod networking_schema;
mod networking_spec;
pub mod propagation;
pub mod providers;
pub mod reconcile;
pub mod schema;
pub mod servers;
pub mod snapshots;
pub mod snapshots_schema;
pub mod types;
pub mod volumes;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use schema::InfrastructureSubscription;

/// Infrastructure's mutations.
#[derive(async_graphql::MergedObject, Default)]
pub struct InfrastructureMutation(
    schema::InfrastructureCoreMutation,
    insight_schema::InsightMutation,
    floating_ips_schema::FloatingIpMutation,
    networking_schema::NetworkingMutation,
);

use crate::pubsub::Topic;

/// The topic of an organisation's infrastructure changes.
pub fn topic(tenant: Uuid) -> Topic {
    Topic::tenant(tenant, "infrastructure")
}

/// What the infrastructure topic carries: an action changed, a resource changed, or both.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct InfraEvent {
    pub action: Option<Uuid>,
    /// `server`, `volume`, `snapshot`, `floating_ip`, `network`, `firewall`, `load_balancer`,
    /// `dns_zone`, `dns_record` or `cloud_provider`.
    pub resource_type: String,
    pub resource_id: Uuid,
    /// The resource is gone.
    pub deleted: bool,
    /// The status the change gave the resource (`INITIALIZING`, `RUNNING` …), where it has one:
    /// a subscriber reading the resource later may find it has moved on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

impl InfraEvent {
    pub fn resource(resource_type: &str, id: Uuid) -> Self {
        Self {
            action: None,
            resource_type: resource_type.into(),
            resource_id: id,
            deleted: false,
            status: None,
        }
    }

    /// A resource changed to `status` (a row's status enum, named as GraphQL names it).
    pub fn resource_in(resource_type: &str, id: Uuid, status: impl Serialize) -> Self {
        let status = serde_json::to_value(status).ok().and_then(|v| v.as_str().map(str::to_ascii_uppercase));
        Self { status, ..Self::resource(resource_type, id) }
    }
}

/// Infrastructure's job handlers: provider actions, and the drift reconciler every `every`.
pub fn register(registry: crate::jobs::Registry, every: std::time::Duration) -> crate::jobs::Registry {
    registry.handler(actions::Execute).handler(reconcile::Reconcile).every(reconcile::RECONCILE, every)
}
