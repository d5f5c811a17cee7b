//! GraphQL types of developer mode: `SupportSession`, the organisation's part of `Tenant`
//! (`supportSessions`, `supportRequiresApproval`) and the viewer's (`supportSessions`, the
//! live ones the web app shows its banner for).

use async_graphql::{Context, Enum, ID, Object, Result};
use chrono::{DateTime, Utc};
use entity::support_session::SupportSessionStatus as Status;

use super::service::{self, SessionView};
use crate::graphql::{app, loaders::loaders, relay};

/// Where a support session stands.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum SupportSessionStatus {
    /// Waiting for an owner's approval: no access yet.
    PendingApproval,
    /// The operator acts in the organisation until `expiresAt`.
    Active,
    /// Ended by the operator or the organisation.
    Ended,
    /// Refused by an owner.
    Denied,
    /// Its time ran out.
    Expired,
}

impl From<Status> for SupportSessionStatus {
    fn from(s: Status) -> Self {
        match s {
            Status::PendingApproval => Self::PendingApproval,
            Status::Active => Self::Active,
            Status::Ended => Self::Ended,
            Status::Denied => Self::Denied,
            Status::Expired => Self::Expired,
        }
    }
}

/// A platform operator's time-limited access to one organisation (developer mode).
pub struct SupportSession(pub SessionView);

#[Object]
impl SupportSession {
    async fn id(&self) -> ID {
        relay::to_global_id(relay::kind::SUPPORT_SESSION, self.0.session.id)
    }
    /// The organisation (`Tenant` global ID).
    async fn tenant_id(&self) -> ID {
        relay::to_global_id(relay::kind::TENANT, self.0.session.tenant_id)
    }
    async fn tenant_name(&self) -> &str {
        &self.0.tenant_name
    }
    async fn tenant_slug(&self) -> &str {
        &self.0.tenant_slug
    }
    /// Who enters (a platform operator).
    async fn operator_email(&self) -> &str {
        &self.0.operator_email
    }
    async fn operator_name(&self) -> &str {
        &self.0.operator_name
    }
    /// Why, as the operator wrote it.
    async fn reason(&self) -> &str {
        &self.0.session.reason
    }
    /// Only reading: every change is refused.
    async fn read_only(&self) -> bool {
        self.0.session.read_only
    }
    /// How long it lasts once active.
    async fn minutes(&self) -> i32 {
        self.0.session.minutes
    }
    /// As of now: EXPIRED once its time ran out.
    async fn status(&self) -> SupportSessionStatus {
        self.0.status.into()
    }
    async fn requested_at(&self) -> DateTime<Utc> {
        self.0.session.requested_at
    }
    async fn approved_at(&self) -> Option<DateTime<Utc>> {
        self.0.session.approved_at
    }
    async fn denied_at(&self) -> Option<DateTime<Utc>> {
        self.0.session.denied_at
    }
    async fn started_at(&self) -> Option<DateTime<Utc>> {
        self.0.session.started_at
    }
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.session.expires_at
    }
    async fn ended_at(&self) -> Option<DateTime<Utc>> {
        self.0.session.ended_at
    }
}

/// Wraps views.
pub fn sessions(views: Vec<SessionView>) -> Vec<SupportSession> {
    views.into_iter().map(SupportSession).collect()
}

/// The support-access part of `Tenant`.
#[derive(Clone)]
pub struct TenantSupport(pub crate::graphql::tenant::TenantRow);

#[Object]
impl TenantSupport {
    /// Platform support sessions into the organisation, newest first (`audit.read`).
    async fn support_sessions(&self, ctx: &Context<'_>) -> Result<Vec<SupportSession>> {
        let tctx = loaders(ctx).tenant_access(self.0.id).await?;
        Ok(sessions(service::for_tenant(app(ctx), &tctx).await?))
    }
    /// Support sessions wait for an owner's approval before giving any access.
    async fn support_requires_approval(&self, ctx: &Context<'_>) -> Result<bool> {
        let tctx = loaders(ctx).tenant_access(self.0.id).await?;
        tctx.require(crate::auth::Permission::TenantRead)?;
        Ok(crate::modules::tenancy::admin::settings(&self.0).support.require_approval)
    }
}

/// The support-access part of `Viewer`.
#[derive(Clone)]
pub struct ViewerSupport(pub std::sync::Arc<entity::user::Model>);

#[Object]
impl ViewerSupport {
    /// The viewer's own open support sessions (pending or live): the web app shows a banner
    /// with an exit button while one is ACTIVE. Empty for everyone without a platform role.
    async fn support_sessions(&self, ctx: &Context<'_>) -> Result<Vec<SupportSession>> {
        Ok(sessions(service::live_for(app(ctx), self.0.id).await?))
    }
}
