//! GraphQL of infrastructure actions: `InfrastructureAction` (one change asked of a provider,
//! carried out in the background) and its status.

use async_graphql::{Enum, ID, Object};
use chrono::{DateTime, Utc};
use entity::infrastructure_action;
use uuid::Uuid;

use crate::graphql::relay::{self, kind};

/// An infrastructure action's state.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::infrastructure_action::ActionStatus")]
pub enum InfrastructureActionStatus {
    Pending,
    Running,
    Succeeded,
    Failed,
}

/// The global ID of an action's target.
pub(super) fn target_id(target_type: &str, id: Uuid) -> ID {
    let k = match target_type {
        "server" => kind::SERVER,
        "volume" => kind::VOLUME,
        "snapshot" => kind::SNAPSHOT,
        "dns_zone" => kind::DNS_ZONE,
        "dns_record" => kind::DNS_RECORD,
        "floating_ip" => kind::FLOATING_IP,
        "network" => kind::NETWORK,
        "firewall" => kind::FIREWALL,
        "load_balancer" => kind::LOAD_BALANCER,
        _ => kind::CLOUD_PROVIDER,
    };
    relay::to_global_id(k, id)
}

/// One change asked of a provider, carried out in the background.
pub struct InfrastructureAction(pub infrastructure_action::Model);

#[Object]
impl InfrastructureAction {
    pub async fn id(&self) -> ID {
        relay::to_global_id(kind::INFRASTRUCTURE_ACTION, self.0.id)
    }
    /// `server.create`, `server.stop`, `volume.resize`, `dns_record.upsert` …
    async fn kind(&self) -> &str {
        &self.0.kind
    }
    /// `server`, `volume`, `dns_zone` or `dns_record`.
    async fn target_type(&self) -> &str {
        &self.0.target_type
    }
    async fn target_id(&self) -> ID {
        target_id(&self.0.target_type, self.0.target_id)
    }
    async fn status(&self) -> InfrastructureActionStatus {
        self.0.status.into()
    }
    /// 0 to 100.
    async fn progress(&self) -> i32 {
        self.0.progress
    }
    /// The action got a root password from the provider that its requester has not revealed
    /// yet (`revealRootPassword`).
    async fn has_root_password(&self) -> bool {
        self.0.sealed_secret.is_some()
    }
    /// The provider's error code when FAILED (`unauthorized`, `invalid_input` …).
    async fn error_code(&self) -> Option<&str> {
        self.0.error_code.as_deref()
    }
    /// The provider's message (FAILED), or why the last attempt will be repeated.
    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    async fn finished_at(&self) -> Option<DateTime<Utc>> {
        self.0.finished_at
    }
}
