//! Guarded subscription streams (DESIGN §4.7): access is decided when a subscription starts
//! and decided again only when it may have changed ([`Watch`]); the stream ends when the
//! viewer loses the permission or the membership.

use std::{sync::Arc, time::Instant};

use async_graphql::{Context, ID};
use futures::{Stream, StreamExt};
use uuid::Uuid;

use super::{app, rctx, relay};
use crate::{
    access::{TenantCtx, cache::ReadTicket},
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
    // Boxed: async-graphql keeps the resolver's future beside the subscription's stream for
    // the subscription's life, so it should be a pointer, not room for the whole check.
    Box::pin(crate::access::access_one(&app, viewer.user_id, tenant)).await?.require(permission)?;
    Ok((app, viewer, tenant))
}

/// A subscriber's access to one organisation, decided when it starts and decided again only
/// when access may have changed since: the instance's access cache saw a change (a
/// membership, role, organisation or two-factor change announced by any instance, or the
/// bus reconnecting) or the decision is older than a cache entry may be
/// (`ZYGO_ACCESS_CACHE_TTL`; with the cache off, every time). An event that changes no one's
/// access (a rename) is therefore delivered without looking at access at all, yet a member
/// removed or stripped of a permission is refused at their next event, as before.
pub struct Watch {
    app: AppState,
    user: Uuid,
    tenant: Uuid,
    tctx: TenantCtx,
    ticket: ReadTicket,
    checked: Instant,
}

impl Watch {
    /// Decides `user`'s access to `tenant` now (NOT_FOUND unless a member).
    pub async fn start(app: AppState, user: Uuid, tenant: Uuid) -> AppResult<Self> {
        // Taken before the read: a change while it runs makes the next event decide again.
        let (ticket, started) = (app.access.ticket(), Instant::now());
        let tctx = Box::pin(crate::access::access_one(&app, user, tenant)).await?;
        // An answer from the cache is as old as its entry.
        let checked = app.access.checked_at(user, tenant).map_or(started, |c| c.min(started));
        Ok(Self { app, user, tenant, tctx, ticket, checked })
    }

    /// The access as last decided.
    pub fn tctx(&self) -> &TenantCtx {
        &self.tctx
    }

    /// The access now: the last decision while it holds, else decided again (an error when
    /// the subscriber is no longer a member).
    pub async fn current(&mut self) -> AppResult<&TenantCtx> {
        // A support session's end comes with no event: compared at every event.
        let session_over = self.tctx.support.as_ref().is_some_and(|s| !s.live(self.app.now()));
        if session_over || !self.app.access.unchanged_since(self.ticket, self.checked) {
            *self = Box::pin(Self::start(self.app.clone(), self.user, self.tenant)).await?;
        }
        Ok(&self.tctx)
    }
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
    struct Guarded {
        events: futures::stream::BoxStream<'static, Arc<Event>>,
        /// Decided at the first event, then kept while it holds.
        watch: Option<Watch>,
        app: AppState,
        user: Uuid,
        _alive: GaugeGuard,
    }
    let state = Guarded {
        events: app.bus.subscribe(&topic),
        watch: None,
        _alive: GaugeGuard::new(&app.metrics.subscriptions_active),
        app,
        user: viewer.user_id,
    };
    futures::stream::unfold(state, move |mut state| async move {
        let event = state.events.next().await?;
        let tctx = match &mut state.watch {
            Some(watch) => watch.current().await.ok()?.clone(),
            None => {
                let watch = Watch::start(state.app.clone(), state.user, tenant).await.ok()?;
                state.watch.insert(watch).tctx().clone()
            }
        };
        tctx.has(permission).then_some(((event, tctx), state))
    })
}
