//! `auditLogAdded`: new audit entries of a tenant, live.

use std::sync::Arc;

use async_graphql::{Context, ID, Result, Subscription};
use futures::{Stream, StreamExt};

use super::{service, types::AuditEntry};
use crate::{
    auth::Permission,
    graphql::{app, rctx, relay},
    pubsub::Event,
    telemetry::GaugeGuard,
};

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
        let viewer = rctx(ctx).viewer()?;
        let id = relay::decode_id("tenantId", &tenant_id, relay::kind::TENANT)?;
        let app = app(ctx).clone();
        let tctx = crate::access::access_one(&app, viewer.user_id, id).await?;
        tctx.require(Permission::AuditRead)?;
        let guard = Arc::new(GaugeGuard::new(&app.metrics.subscriptions_active));
        let viewer = viewer.clone();
        drop(tctx);
        // Access is checked again for every entry: whoever loses AUDIT_READ (or the
        // membership) stops receiving at once, and the stream ends.
        Ok(app
            .bus
            .subscribe(&service::topic(id))
            .then(move |event: Arc<Event>| {
                let (app, viewer, _alive) = (app.clone(), viewer.clone(), guard.clone());
                async move {
                    match crate::access::access_one(&app, viewer.user_id, id).await {
                        Ok(tctx) if tctx.has(Permission::AuditRead) => Some((app, event, tctx)),
                        _ => None,
                    }
                }
            })
            .take_while(|allowed| futures::future::ready(allowed.is_some()))
            .filter_map(move |allowed| async move {
                // The event carries the committed entry itself (see `access::audit::announce`).
                let (_, event, _) = allowed?;
                match serde_json::from_value::<entity::audit_entry::Model>(event.payload.clone()) {
                    Ok(entry) if entry.tenant_id == id => Some(AuditEntry(entry)),
                    Ok(_) => None,
                    Err(e) => {
                        tracing::warn!(error = %e, "undecodable audit entry not delivered");
                        None
                    }
                }
            }))
    }
}
