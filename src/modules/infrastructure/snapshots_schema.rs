//! GraphQL of snapshots: the `Snapshot` node, its status and its mutations' payload.

use async_graphql::{Enum, ID, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::actions_schema::InfrastructureAction;
use crate::graphql::relay::{self, kind};

/// A snapshot's state.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::cloud_snapshot::SnapshotStatus")]
pub enum SnapshotStatus {
    /// Asked for; the provider does not have it yet.
    Pending,
    Creating,
    Available,
    Deleting,
    /// It could not be made (see its action's error).
    Error,
}

/// An image of a server's disk; it outlives the server and can be restored onto one.
pub struct Snapshot(pub entity::cloud_snapshot::Model);

#[Object]
impl Snapshot {
    pub async fn id(&self) -> ID {
        relay::to_global_id(kind::SNAPSHOT, self.0.id)
    }
    async fn provider_id(&self) -> ID {
        relay::to_global_id(kind::CLOUD_PROVIDER, self.0.provider_id)
    }
    /// The server it was taken of, while that server exists.
    async fn server_id(&self) -> Option<ID> {
        self.0.server_id.map(|s| relay::to_global_id(kind::SERVER, s))
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    async fn status(&self) -> SnapshotStatus {
        self.0.status.into()
    }
    /// The image's size once made, in GB.
    async fn size_gb(&self) -> Option<f64> {
        self.0.size_gb
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

#[derive(SimpleObject)]
pub struct SnapshotPayload {
    pub snapshot: Snapshot,
    pub action: InfrastructureAction,
}
