//! Developer mode's roots: the operators' `adminStartSupportSession` and
//! `adminEndSupportSession` (any platform role, MFA on), and the organisation's
//! `approveSupportSession`, `denySupportSession`, `endSupportSession` and
//! `setSupportAccessApproval` (`tenant.update`). Thin: check, decode, call one service
//! function. The console's list is `admin { supportSessions }`.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use entity::{platform_role::PlatformRoleKind, support_session};

use super::{
    service::{self, NewSession, Step},
    types::SupportSession,
};
use crate::{
    access::{Actor, platform},
    graphql::{app, loaders::loaders, owned_row, rctx, relay},
};

#[derive(InputObject)]
pub struct AdminStartSupportSessionInput {
    /// The organisation (`Tenant` global ID).
    pub tenant_id: ID,
    /// Why (10 to 500 characters): shown to the organisation's owners and kept in both logs.
    pub reason: String,
    /// 1 to 480; 60 when left out.
    pub minutes: Option<i32>,
    /// Only reading: every change is refused.
    #[graphql(default)]
    pub read_only: bool,
}

#[derive(SimpleObject)]
pub struct SupportSessionPayload {
    pub session: SupportSession,
}

#[derive(SimpleObject)]
pub struct SupportAccessApprovalPayload {
    /// The organisation (`Tenant` global ID).
    pub tenant_id: ID,
    pub support_requires_approval: bool,
}

#[derive(Default)]
pub struct SupportMutation;

#[Object]
impl SupportMutation {
    /// Enters an organisation as platform support for a limited time, with a written reason
    /// (any platform role, two-factor authentication on): ACTIVE at once, or PENDING_APPROVAL
    /// when the organisation requires its owners' approval. While ACTIVE the operator acts
    /// there as an owner (only reading when `readOnly`), every request audited with actor
    /// `platform_admin`.
    async fn admin_start_support_session(
        &self,
        ctx: &Context<'_>,
        input: AdminStartSupportSessionInput,
    ) -> Result<SupportSessionPayload> {
        let viewer = rctx(ctx).viewer()?;
        platform::require(&app(ctx).db, viewer.user_id, platform::ANY).await?;
        let tenant_id = relay::decode_id("input.tenantId", &input.tenant_id, relay::kind::TENANT)?;
        let req = NewSession {
            tenant_id,
            reason: input.reason,
            minutes: input.minutes,
            read_only: input.read_only,
        };
        let view = service::start(app(ctx), viewer.user_id, &Actor::from_request(rctx(ctx)), req).await?;
        loaders(ctx).forget_access();
        Ok(SupportSessionPayload { session: SupportSession(view) })
    }

    /// Ends a support session from the console: one's own, or any as a super administrator.
    async fn admin_end_support_session(&self, ctx: &Context<'_>, id: ID) -> Result<SupportSessionPayload> {
        let viewer = rctx(ctx).viewer()?;
        let role = platform::require(&app(ctx).db, viewer.user_id, platform::ANY).await?;
        let id = relay::decode_id("id", &id, relay::kind::SUPPORT_SESSION)?;
        let view = service::end_by_operator(
            app(ctx),
            viewer.user_id,
            role == PlatformRoleKind::SuperAdmin,
            &Actor::from_request(rctx(ctx)),
            id,
        )
        .await?;
        loaders(ctx).forget_access();
        Ok(SupportSessionPayload { session: SupportSession(view) })
    }

    /// Lets a pending support session in (`tenant.update`): it runs for its minutes from now.
    async fn approve_support_session(&self, ctx: &Context<'_>, id: ID) -> Result<SupportSessionPayload> {
        decide(ctx, id, Step::Approve).await
    }

    /// Refuses a pending support session (`tenant.update`).
    async fn deny_support_session(&self, ctx: &Context<'_>, id: ID) -> Result<SupportSessionPayload> {
        decide(ctx, id, Step::Deny).await
    }

    /// Ends a pending or live support session at once (`tenant.update`).
    async fn end_support_session(&self, ctx: &Context<'_>, id: ID) -> Result<SupportSessionPayload> {
        decide(ctx, id, Step::End).await
    }

    /// Whether platform support sessions wait for an owner's approval (`tenant.update`).
    async fn set_support_access_approval(
        &self,
        ctx: &Context<'_>,
        tenant_id: ID,
        required: bool,
    ) -> Result<SupportAccessApprovalPayload> {
        rctx(ctx).require_principal()?;
        let tenant = relay::decode_id("tenantId", &tenant_id, relay::kind::TENANT)?;
        let tctx = loaders(ctx).tenant_access(tenant).await?;
        if tctx.support.is_some() {
            return Err(crate::error::AppError::ForbiddenWith(
                "support access is the organisation's own decision: not from within a support session".into(),
            )
            .into());
        }
        let t = crate::modules::tenancy::admin::set_support_approval(app(ctx), &tctx, required).await?;
        Ok(SupportAccessApprovalPayload {
            tenant_id,
            support_requires_approval: crate::modules::tenancy::admin::settings(&t).support.require_approval,
        })
    }
}

async fn decide(ctx: &Context<'_>, id: ID, step: Step) -> Result<SupportSessionPayload> {
    let (id, tctx) = owned_row::<support_session::Entity>(
        ctx,
        "id",
        &id,
        relay::kind::SUPPORT_SESSION,
        "supportSession",
        support_session::Column::Id,
    )
    .await?;
    let view = service::decide(app(ctx), &tctx, id, step).await?;
    loaders(ctx).forget_access();
    Ok(SupportSessionPayload { session: SupportSession(view) })
}
