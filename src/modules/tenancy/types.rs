//! GraphQL types of the tenancy module.

use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};

use super::{events::TenantEventKind, service};
use crate::{
    error::AppError,
    graphql::{
        app, relay,
        tenant::{Tenant, TenantRow},
    },
    modules::members::types::Membership,
};

/// The organisation's own fields; every module adds its part beside it in
/// [`crate::graphql::tenant::Tenant`].
#[derive(Clone)]
pub struct TenantCore(pub TenantRow);

#[Object]
impl TenantCore {
    /// Global ID.
    pub async fn id(&self) -> ID {
        relay::to_global_id(relay::kind::TENANT, self.0.id)
    }
    /// The database id (a time-ordered UUID), e.g. for correlating with logs and exports.
    async fn database_id(&self) -> uuid::Uuid {
        self.0.id
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// URL-friendly unique name.
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    /// `active` or `suspended`.
    async fn status(&self) -> String {
        sea_orm::ActiveEnum::to_value(&self.0.status)
    }
    /// When an owner deleted the organisation: the moment its data will be removed. Until then
    /// it is read-only and an owner can take the deletion back (`cancelTenantDeletion`).
    async fn deletion_due_at(&self) -> Option<DateTime<Utc>> {
        self.0.deletion_due_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// General settings, branding and notification defaults.
    async fn settings(&self) -> TenantSettings {
        TenantSettings(super::admin::settings(&self.0))
    }
}

/// Something that happened in an organisation, delivered by `tenantEvents`.
pub struct TenantEvent {
    pub payload: super::events::TenantEventPayload,
    pub tctx: crate::access::TenantCtx,
}

#[Object]
impl TenantEvent {
    async fn kind(&self) -> TenantEventKind {
        self.payload.kind
    }
    async fn tenant_id(&self) -> ID {
        relay::to_global_id(relay::kind::TENANT, self.payload.tenant_id)
    }
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.payload.occurred_at
    }
    /// Global ID of the user who caused the event, if any.
    async fn actor_id(&self) -> Option<ID> {
        self.payload.actor_id.map(|id| relay::to_global_id(relay::kind::USER, id))
    }
    /// The organisation as it is now; null in the `TENANT_DELETED` event.
    async fn tenant(&self, ctx: &Context<'_>) -> Result<Option<Tenant>> {
        if self.payload.kind == TenantEventKind::TenantDeleted {
            return Ok(None);
        }
        Ok(Some(Tenant::new(service::get_tenant(app(ctx), &self.tctx).await?)))
    }
    /// The membership concerned, for member events (null once it no longer exists).
    async fn membership(&self, ctx: &Context<'_>) -> Result<Option<Membership>> {
        let Some(id) = self.payload.membership_id else {
            return Ok(None);
        };
        match service::get_membership(app(ctx), &self.tctx, id).await {
            Ok(m) => Ok(Some(Membership::new(m))),
            Err(AppError::NotFound(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

/// An organisation's settings.
pub struct TenantSettings(pub super::admin::Settings);

/// Security rules of an organisation.
#[derive(async_graphql::SimpleObject)]
pub struct TenantSecuritySettings {
    /// Members need two-factor authentication to reach the organisation's data (others get
    /// MFA_REQUIRED until they turn it on).
    pub require_mfa: bool,
}

#[Object]
impl TenantSettings {
    async fn general(&self) -> TenantGeneralSettings {
        TenantGeneralSettings(self.0.general.clone())
    }
    async fn branding(&self) -> TenantBranding {
        TenantBranding(self.0.branding.clone())
    }
    /// Security rules for the members.
    async fn security(&self) -> TenantSecuritySettings {
        TenantSecuritySettings { require_mfa: self.0.security.require_mfa }
    }
    /// Days kept of what accumulates, as in force (the organisation's choice within the
    /// platform's maxima); older rows are removed by the hourly cleanup.
    async fn retention(&self, ctx: &async_graphql::Context<'_>) -> TenantRetentionSettings {
        let max = &crate::graphql::app(ctx).config.retention;
        let (audit_days, execution_days, webhook_delivery_days) = self.0.retention.effective(max);
        TenantRetentionSettings {
            audit_days,
            execution_days,
            webhook_delivery_days,
            max_audit_days: max.audit_days,
            max_execution_days: max.execution_days,
            max_webhook_delivery_days: max.webhook_delivery_days,
        }
    }
    /// Notification defaults for new members (a JSON object).
    async fn notification_defaults(&self) -> async_graphql::Json<serde_json::Value> {
        async_graphql::Json(if self.0.notification_defaults.is_null() {
            serde_json::json!({})
        } else {
            self.0.notification_defaults.clone()
        })
    }
}

/// Retention in force, and the platform's maxima it may not exceed.
#[derive(async_graphql::SimpleObject)]
pub struct TenantRetentionSettings {
    pub audit_days: u32,
    pub execution_days: u32,
    pub webhook_delivery_days: u32,
    pub max_audit_days: u32,
    pub max_execution_days: u32,
    pub max_webhook_delivery_days: u32,
}

pub struct TenantGeneralSettings(pub super::admin::General);

#[Object]
impl TenantGeneralSettings {
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    async fn website(&self) -> Option<&str> {
        self.0.website.as_deref()
    }
    async fn default_locale(&self) -> Option<&str> {
        self.0.default_locale.as_deref()
    }
    async fn default_time_zone(&self) -> Option<&str> {
        self.0.default_time_zone.as_deref()
    }
}

pub struct TenantBranding(pub super::admin::Branding);

#[Object]
impl TenantBranding {
    async fn logo_url(&self) -> Option<&str> {
        self.0.logo_url.as_deref()
    }
    /// `#rrggbb`.
    async fn primary_color(&self) -> Option<&str> {
        self.0.primary_color.as_deref()
    }
    /// `#rrggbb`.
    async fn accent_color(&self) -> Option<&str> {
        self.0.accent_color.as_deref()
    }
}
