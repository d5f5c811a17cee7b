//! Guarded subscription streams (DESIGN §4.7): access is decided when a subscription starts
//! and checked again for every event it would deliver (the access cache makes that cheap); the
//! stream ends when the viewer loses the permission or the membership.

use std::sync::Arc;

use async_graphql::{Context, ID};
use futures::{Stream, StreamExt};
use uuid::Uuid;

use super::{app, rctx, relay};
use crate::{
    access::TenantCtx,
    auth::{Permission, Viewer},
    error::AppResult,
    pubsub::{Event, Topic},
    startup::AppState,
    telemetry::GaugeGuard,
};

/// Opens a subscription on organisation `tenant_id` (argument `field`): the signed-in viewer
/// (UNAUTHENTICATED otherwise), the organisation (NOT_FOUND unless a member) and `permission`
/// held there (FORBIDDEN otherwise).
pub async fn open(
    ctx: &Context<'_>,
    field: &str,
    tenant_id: &ID,
    permission: Permission,
) -> AppResult<(AppState, Viewer, Uuid)> {
    let viewer = rctx(ctx).viewer()?.clone();
    let tenant = relay::decode_id(field, tenant_id, relay::kind::TENANT)?;
    let app = app(ctx).clone();
    crate::access::access_one(&app, viewer.user_id, tenant).await?.require(permission)?;
    Ok((app, viewer, tenant))
}

/// The events of `topic`, each with the viewer's access to `tenant` at the time, while that
/// access grants `permission`; counted in `zygo_subscriptions_active` while open.
pub fn guarded(
    app: AppState,
    viewer: Viewer,
    tenant: Uuid,
    permission: Permission,
    topic: Topic,
) -> impl Stream<Item = (Arc<Event>, TenantCtx)> + use<> {
    let alive = Arc::new(GaugeGuard::new(&app.metrics.subscriptions_active));
    app.bus
        .subscribe(&topic)
        .then(move |event: Arc<Event>| {
            let (app, viewer, _alive) = (app.clone(), viewer.clone(), alive.clone());
            // Boxed: an idle subscription then holds a pointer, not room for the whole access
            // check's future (measured per idle presence participant, issue 18).
            Box::pin(async move {
                match crate::access::access_one(&app, viewer.user_id, tenant).await {
                    Ok(tctx) if tctx.has(permission) => Some((event, tctx)),
                    _ => None,
                }
            })
        })
        .take_while(|allowed| futures::future::ready(allowed.is_some()))
        .filter_map(|allowed| async move { allowed })
}
