//! Tenancy queries, mutations and the `tenantEvents` subscription.

use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject, Subscription};
use futures::{Stream, StreamExt};

use super::{
    admin, deletion,
    events::{self, TenantEventKind, TenantEventPayload},
    service,
    types::TenantEvent,
};
use crate::{
    auth::Permission,
    error::AppError,
    graphql::{app, live::Watch, loaders::loaders, rctx, relay, tenant::Tenant},
    pubsub::Event,
    telemetry::GaugeGuard,
};

#[derive(Default)]
pub struct TenancyQuery;

#[Object]
impl TenancyQuery {
    /// An organisation the viewer belongs to, by global `id` or by `slug` (exactly one).
    /// Any other organisation is NOT_FOUND, whether or not it exists.
    async fn tenant(&self, ctx: &Context<'_>, id: Option<ID>, slug: Option<String>) -> Result<Tenant> {
        rctx(ctx).require_principal()?;
        let tenant_id = match (id, slug) {
            (Some(id), None) => relay::decode_id("id", &id, relay::kind::TENANT)?,
            (None, Some(slug)) => service::tenant_id_by_slug(&loaders(ctx).reads.across(&app(ctx).db), &slug)
                .await?
                .ok_or(AppError::NotFound("tenant"))?,
            _ => {
                return Err(AppError::validation("id", "give exactly one of `id` and `slug`").into());
            }
        };
        let tctx = loaders(ctx).tenant_access(tenant_id).await?;
        Ok(Tenant::new(service::get_tenant(app(ctx), &tctx).await?))
    }
}

#[derive(InputObject)]
pub struct CreateTenantInput {
    /// Display name, 1 to 100 characters.
    pub name: String,
    /// Unique URL name: 3 to 40 characters of a-z, 0-9 and '-'.
    pub slug: String,
}

#[derive(SimpleObject)]
pub struct CreateTenantPayload {
    pub tenant: Tenant,
}

#[derive(InputObject)]
pub struct UpdateTenantInput {
    /// The organisation's global ID.
    pub id: ID,
    /// New display name.
    pub name: Option<String>,
    /// New unique URL name.
    pub slug: Option<String>,
}

#[derive(InputObject)]
pub struct TenantGeneralSettingsInput {
    pub description: Option<String>,
    /// An http(s) URL.
    pub website: Option<String>,
    /// BCP 47 language tag for new members.
    pub default_locale: Option<String>,
    /// IANA time zone for new members.
    pub default_time_zone: Option<String>,
}

#[derive(InputObject)]
pub struct TenantBrandingInput {
    /// An http(s) URL.
    pub logo_url: Option<String>,
    /// `#RRGGBB`.
    pub primary_color: Option<String>,
    /// `#RRGGBB`.
    pub accent_color: Option<String>,
}

/// Each part given replaces that part of the settings; parts left out stay as they are.
#[derive(InputObject)]
pub struct UpdateTenantSettingsInput {
    pub tenant_id: ID,
    pub general: Option<TenantGeneralSettingsInput>,
    pub branding: Option<TenantBrandingInput>,
    /// Notification defaults for new members (a JSON object).
    pub notification_defaults: Option<async_graphql::Json<serde_json::Value>>,
    pub security: Option<TenantSecuritySettingsInput>,
    pub retention: Option<TenantRetentionSettingsInput>,
}

/// Days to keep; left out or null: the platform's maximum.
#[derive(InputObject)]
pub struct TenantRetentionSettingsInput {
    pub audit_days: Option<u32>,
    pub execution_days: Option<u32>,
    pub webhook_delivery_days: Option<u32>,
}

#[derive(InputObject)]
pub struct TenantSecuritySettingsInput {
    /// Require two-factor authentication of every member; you need it on yourself first.
    pub require_mfa: bool,
}

#[derive(SimpleObject)]
pub struct DeleteTenantPayload {
    /// The organisation scheduled for deletion.
    pub deleted_tenant_id: ID,
    /// It, read-only until its data is removed at `deletionDueAt` (unless an owner takes the
    /// deletion back with `cancelTenantDeletion`).
    pub tenant: Tenant,
}

#[derive(SimpleObject)]
pub struct UpdateTenantPayload {
    pub tenant: Tenant,
}

#[derive(Default)]
pub struct TenancyMutation;

async fn tenant_ctx(
    ctx: &Context<'_>,
    field: &str,
    id: &ID,
) -> Result<std::sync::Arc<crate::access::TenantCtx>> {
    rctx(ctx).require_principal()?;
    let tenant_id = relay::decode_id(field, id, relay::kind::TENANT)?;
    Ok(loaders(ctx).tenant_access(tenant_id).await?)
}

#[Object]
impl TenancyMutation {
    /// Creates an organisation and makes the viewer its owner. Needs a verified e-mail.
    async fn create_tenant(
        &self,
        ctx: &Context<'_>,
        input: CreateTenantInput,
    ) -> Result<CreateTenantPayload> {
        let tenant = service::create_tenant(app(ctx), rctx(ctx), &input.name, &input.slug).await?;
        Ok(CreateTenantPayload { tenant: Tenant::new(tenant) })
    }

    /// Changes an organisation's settings (needs `TENANT_UPDATE`).
    async fn update_tenant(
        &self,
        ctx: &Context<'_>,
        input: UpdateTenantInput,
    ) -> Result<UpdateTenantPayload> {
        rctx(ctx).require_principal()?;
        let tenant_id = relay::decode_id("input.id", &input.id, relay::kind::TENANT)?;
        let tctx = loaders(ctx).tenant_access(tenant_id).await?;
        let tenant =
            service::update_tenant(app(ctx), &tctx, input.name.as_deref(), input.slug.as_deref()).await?;
        Ok(UpdateTenantPayload { tenant: Tenant::new(tenant) })
    }

    /// Changes the organisation's settings (needs `TENANT_UPDATE`).
    async fn update_tenant_settings(
        &self,
        ctx: &Context<'_>,
        input: UpdateTenantSettingsInput,
    ) -> Result<UpdateTenantPayload> {
        let tctx = tenant_ctx(ctx, "input.tenantId", &input.tenant_id).await?;
        let general = input.general.map(|g| admin::General {
            description: g.description,
            website: g.website,
            default_locale: g.default_locale,
            default_time_zone: g.default_time_zone,
        });
        let branding = input.branding.map(|b| admin::Branding {
            logo_url: b.logo_url,
            primary_color: b.primary_color,
            accent_color: b.accent_color,
        });
        let tenant = admin::update_settings(
            app(ctx),
            &tctx,
            general,
            branding,
            input.notification_defaults.map(|j| j.0),
            input.security.map(|s| admin::SecuritySettings { require_mfa: s.require_mfa }),
            input.retention.map(|r| admin::Retention {
                audit_days: r.audit_days,
                execution_days: r.execution_days,
                webhook_delivery_days: r.webhook_delivery_days,
            }),
        )
        .await?;
        Ok(UpdateTenantPayload { tenant: Tenant::new(tenant) })
    }

    /// Suspends the organisation: members keep read access only. Owner-only; type the slug
    /// back as `confirmSlug`.
    async fn suspend_tenant(
        &self,
        ctx: &Context<'_>,
        id: ID,
        confirm_slug: String,
    ) -> Result<UpdateTenantPayload> {
        let tctx = tenant_ctx(ctx, "id", &id).await?;
        let tenant = admin::set_suspended(app(ctx), &tctx, true, &confirm_slug).await?;
        loaders(ctx).forget_access();
        Ok(UpdateTenantPayload { tenant: Tenant::new(tenant) })
    }

    /// Lifts a suspension. Owner-only; type the slug back as `confirmSlug`.
    async fn reactivate_tenant(
        &self,
        ctx: &Context<'_>,
        id: ID,
        confirm_slug: String,
    ) -> Result<UpdateTenantPayload> {
        let tctx = tenant_ctx(ctx, "id", &id).await?;
        let tenant = admin::set_suspended(app(ctx), &tctx, false, &confirm_slug).await?;
        loaders(ctx).forget_access();
        Ok(UpdateTenantPayload { tenant: Tenant::new(tenant) })
    }

    /// Deletes the organisation: it becomes read-only at once, and everything it owns is removed
    /// after the grace period (`Tenant.deletionDueAt`, `ZYGO_TENANT_DELETION_GRACE_DAYS`) unless an
    /// owner takes it back with `cancelTenantDeletion`. Owner-only; type the slug back as
    /// `confirmSlug`. Refused (PAID_PLAN_ACTIVE) while a paid plan still renews.
    async fn delete_tenant(
        &self,
        ctx: &Context<'_>,
        id: ID,
        confirm_slug: String,
    ) -> Result<DeleteTenantPayload> {
        let tctx = tenant_ctx(ctx, "id", &id).await?;
        let tenant = deletion::schedule(app(ctx), &tctx, &confirm_slug).await?;
        loaders(ctx).forget_access();
        Ok(DeleteTenantPayload {
            deleted_tenant_id: relay::to_global_id(relay::kind::TENANT, tenant.id),
            tenant: Tenant::new(tenant),
        })
    }

    /// Takes back a scheduled deletion of the organisation. Owner-only; type the slug back as
    /// `confirmSlug`.
    async fn cancel_tenant_deletion(
        &self,
        ctx: &Context<'_>,
        id: ID,
        confirm_slug: String,
    ) -> Result<UpdateTenantPayload> {
        let tctx = tenant_ctx(ctx, "id", &id).await?;
        let tenant = deletion::cancel(app(ctx), &tctx, &confirm_slug).await?;
        loaders(ctx).forget_access();
        Ok(UpdateTenantPayload { tenant: Tenant::new(tenant) })
    }
}

#[derive(Default)]
pub struct TenancySubscription;

#[Subscription]
impl TenancySubscription {
    /// Live changes of an organisation and its memberships, for its members only. Access
    /// is checked when the subscription starts.
    async fn tenant_events(
        &self,
        ctx: &Context<'_>,
        tenant_id: ID,
    ) -> Result<impl Stream<Item = TenantEvent> + use<>> {
        let viewer = rctx(ctx).viewer()?;
        let id = relay::decode_id("tenantId", &tenant_id, relay::kind::TENANT)?;
        let app = app(ctx).clone();
        let watch = Watch::start(app.clone(), viewer.user_id, id).await?;
        watch.tctx().require(Permission::TenantRead)?;
        let alive = GaugeGuard::new(&app.metrics.subscriptions_active);
        let events = app.bus.subscribe(&events::topic(id));
        // Access is decided again whenever it may have changed (see `Watch`): a member
        // removed, suspended or stripped of the permission stops receiving at once, and the
        // stream ends. The organisation's deletion ends everyone's access, so that one event
        // cannot pass the check: it is delivered under the access the subscriber held until
        // then, and the stream ends. The payload is read in place (no copy per subscriber).
        let stream = futures::stream::unfold(Some((events, watch, alive)), move |state| async move {
            let (mut events, mut watch, alive) = state?;
            loop {
                let event: Arc<Event> = events.next().await?;
                let payload = match <TenantEventPayload as serde::Deserialize>::deserialize(&event.payload) {
                    Ok(payload) => payload,
                    Err(e) => {
                        tracing::warn!(error = %e, "undecodable tenant event ignored");
                        continue;
                    }
                };
                if payload.tenant_id != id {
                    continue;
                }
                if payload.kind == TenantEventKind::TenantDeleted {
                    return Some((TenantEvent { payload, tctx: watch.tctx().clone() }, None));
                }
                let tctx = match watch.current().await {
                    Ok(tctx) if tctx.has(Permission::TenantRead) => tctx.clone(),
                    _ => return None,
                };
                return Some((TenantEvent { payload, tctx }, Some((events, watch, alive))));
            }
        });
        Ok(stream)
    }
}
