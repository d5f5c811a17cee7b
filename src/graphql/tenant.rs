//! `Tenant`, merged from one part per module: each module declares its `Tenant…` part in its
//! own `types.rs` (`TenantTeams`, `TenantWorkflows`, …) and adds it here, so a new area adds
//! its fields to the organisation without touching `tenancy`.

use std::sync::Arc;

use async_graphql::{Context, ID, MergedObject, Result};
use entity::tenant;

use super::relay;
use crate::modules::{
    api_keys::types::TenantApiKeys, audit::types::TenantAuditLog, billing::types::TenantBilling,
    collection::types::TenantCollection, domains::types::TenantAddresses, flags::types::TenantFlags,
    infrastructure::types::TenantInfrastructure, members::types::TenantMembers,
    resources::types::TenantResources, roles::types::TenantRoles, secrets::types::TenantSecrets,
    studio::types::TenantDocuments, support::types::TenantSupport, teams::types::TenantTeams,
    tenancy::types::TenantCore, webhooks::types::TenantWebhooks, workflows::types::TenantWorkflows,
};

/// The organisation row every part reads (one allocation shared by the parts).
pub type TenantRow = Arc<tenant::Model>;

/// An organisation: the unit of tenancy. Everything it owns is visible to its members only.
#[derive(MergedObject, Clone)]
#[graphql(name = "Tenant")]
pub struct Tenant(
    TenantCore,
    TenantRoles,
    TenantMembers,
    TenantTeams,
    TenantWorkflows,
    TenantSecrets,
    TenantApiKeys,
    TenantAuditLog,
    TenantBilling,
    TenantWebhooks,
    TenantDocuments,
    TenantResources,
    TenantCollection,
    TenantAddresses,
    TenantInfrastructure,
    TenantFlags,
    TenantSupport,
);

impl Tenant {
    pub fn new(model: tenant::Model) -> Self {
        let row: TenantRow = Arc::new(model);
        Tenant(
            TenantCore(row.clone()),
            TenantRoles(row.clone()),
            TenantMembers(row.clone()),
            TenantTeams(row.clone()),
            TenantWorkflows(row.clone()),
            TenantSecrets(row.clone()),
            TenantApiKeys(row.clone()),
            TenantAuditLog(row.clone()),
            TenantBilling(row.clone()),
            TenantWebhooks(row.clone()),
            TenantDocuments(row.clone()),
            TenantResources(row.clone()),
            TenantCollection(row.clone()),
            TenantAddresses(row.clone()),
            TenantInfrastructure(row.clone()),
            TenantFlags(row.clone()),
            TenantSupport(row),
        )
    }

    /// The organisation's row.
    pub fn model(&self) -> &tenant::Model {
        &self.0.0
    }

    /// Global ID (the `Node` interface calls this; the field itself is `TenantCore`'s).
    pub async fn id(&self, _ctx: &Context<'_>) -> Result<ID> {
        Ok(relay::to_global_id(relay::kind::TENANT, self.model().id))
    }
}
