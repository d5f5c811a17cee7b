//! Events of the tenancy module and their topic.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::pubsub::Topic;

/// What happened in a tenant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, async_graphql::Enum)]
pub enum TenantEventKind {
    /// The organisation's name or settings changed.
    TenantUpdated,
    /// A member joined.
    MemberJoined,
    /// A member's role or status changed.
    MemberUpdated,
    /// A member left or was removed.
    MemberRemoved,
    /// The organisation was deleted; no further events follow.
    TenantDeleted,
    /// A platform feature flag changed what the organisation has (`Tenant.features`,
    /// `Tenant.featureFlags`, the modules switched on).
    FeaturesChanged,
}

/// The payload published on [`topic`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TenantEventPayload {
    pub kind: TenantEventKind,
    pub tenant_id: Uuid,
    pub membership_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
    pub occurred_at: DateTime<Utc>,
}

/// `t:{tenant}:events`.
pub fn topic(tenant_id: Uuid) -> Topic {
    Topic::tenant(tenant_id, "events")
}
