//! `auditLogAdded`: new audit entries of a tenant, live.

use async_graphql::{Context, ID, Result, Subscription};
use futures::{Stream, StreamExt};

use super::{service, types::AuditEntry};
use crate::{auth::Permission, graphql::live};

#[derive(Default)]
pub struct AuditSubscription;

#[Subscription]
impl AuditSubscription {
    /// Each new entry of the organisation's audit log (needs `AUDIT_READ`).
    async fn audit_log_added(
        &self,
        ctx: &Context<'_>,
        tenant_id: ID,
    ) -> Result<impl Stream<Item = AuditEntry> + use<>> {
        let (app, viewer, id) = live::open(ctx, "tenantId", &tenant_id, Permission::AuditRead).await?;
        // Access is checked again for every entry: whoever loses AUDIT_READ (or the
        // membership) stops receiving at once, and the stream ends.
        Ok(live::guarded(app, viewer, id, Permission::AuditRead, service::topic(id)).filter_map(
            move |(event, _)| async move {
                // The event carries the committed entry itself (see `access::audit::announce`).
                match serde_json::from_value::<entity::audit_entry::Model>(event.payload.clone()) {
                    Ok(entry) if entry.tenant_id == id => Some(AuditEntry(entry)),
                    Ok(_) => None,
                    Err(e) => {
                        tracing::warn!(error = %e, "undecodable audit entry not delivered");
                        None
                    }
                }
            },
        ))
    }
}
