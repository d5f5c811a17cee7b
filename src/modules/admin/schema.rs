//! The admin API's roots: `admin` (the console, any platform role) and the operators'
//! mutations (super administrators). Thin: check the platform role, decode, call one
//! service function.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use entity::platform_role::PlatformRoleKind;
use uuid::Uuid;

use super::{
    jobs::{self, JobAction},
    roles,
    types::{Admin, AdminJob, OrganisationStatusGql, PlatformRoleGql},
};
use crate::{
    access::{Actor, TenantCtx, platform},
    error::{AppError, AppResult},
    graphql::{app, rctx, relay},
};

/// The caller's user id once their platform role is among `allowed` (and MFA is on).
async fn operator(ctx: &Context<'_>, allowed: &[PlatformRoleKind]) -> Result<(Uuid, PlatformRoleKind)> {
    let viewer = rctx(ctx).viewer()?;
    let role = platform::require(&app(ctx).db, viewer.user_id, allowed).await?;
    Ok((viewer.user_id, role))
}

/// A written reason: 1 to 500 characters.
fn checked_reason(reason: &str) -> AppResult<String> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(AppError::validation("reason", "say why, in 1 to 500 characters"));
    }
    Ok(reason.to_string())
}

fn checked_optional_reason(reason: Option<String>) -> AppResult<Option<String>> {
    reason.filter(|r| !r.trim().is_empty()).map(|r| checked_reason(&r)).transpose()
}

#[derive(Default)]
pub struct AdminQuery;

#[Object]
impl AdminQuery {
    /// The platform operators' console: FORBIDDEN without a platform role, MFA_REQUIRED
    /// without two-factor authentication.
    async fn admin(&self, ctx: &Context<'_>) -> Result<Admin> {
        let (_, role) = operator(ctx, platform::ANY).await?;
        Ok(Admin { role })
    }
}

/// A platform role given or taken.
#[derive(SimpleObject)]
pub struct PlatformRolePayload {
    /// The account (`User` global ID).
    pub user_id: ID,
    pub email: String,
    /// The role it holds now (null after a revocation).
    pub role: Option<PlatformRoleGql>,
}

/// An organisation whose status an operator changed.
#[derive(SimpleObject)]
pub struct AdminTenantPayload {
    /// The organisation (`Tenant` global ID).
    pub id: ID,
    pub name: String,
    pub slug: String,
    pub status: OrganisationStatusGql,
    /// When its data goes, if its deletion is scheduled.
    pub deletion_due_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(InputObject)]
pub struct AdminCreateOrganisationInput {
    pub name: String,
    /// Unique across all organisations.
    pub slug: String,
    /// Who is invited as its first owner.
    pub owner_email: String,
    /// Why (1 to 500 characters), kept in the platform audit log.
    pub reason: String,
}

#[derive(SimpleObject)]
pub struct AdminCreateOrganisationPayload {
    pub organisation: AdminTenantPayload,
    pub invited_email: String,
    pub invitation_expires_at: chrono::DateTime<chrono::Utc>,
}

/// A job an operator retried or cancelled.
#[derive(SimpleObject)]
pub struct AdminJobPayload {
    pub job: AdminJob,
}

#[derive(Default)]
pub struct AdminMutation;

impl AdminMutation {
    async fn set_suspended(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reason: String,
        suspend: bool,
    ) -> Result<AdminTenantPayload> {
        let (user, _) = operator(ctx, platform::SUPER_ADMIN).await?;
        let tenant_id = relay::decode_id("id", &id, relay::kind::TENANT)?;
        let reason = checked_reason(&reason)?;
        let app = app(ctx);
        let tctx = TenantCtx::platform_operator(tenant_id, user, &Actor::from_request(rctx(ctx)));
        let t =
            crate::modules::tenancy::admin::set_suspended_by_platform(app, &tctx, suspend, &reason).await?;
        Ok(AdminTenantPayload {
            id: relay::to_global_id(relay::kind::TENANT, t.id),
            name: t.name,
            slug: t.slug,
            status: t.status.into(),
            deletion_due_at: t.deletion_due_at,
        })
    }

    async fn deletion(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reason: String,
        schedule: bool,
    ) -> Result<AdminTenantPayload> {
        let (user, _) = operator(ctx, platform::SUPER_ADMIN).await?;
        let tenant_id = relay::decode_id("id", &id, relay::kind::TENANT)?;
        let reason = checked_reason(&reason)?;
        let app = app(ctx);
        let tctx = TenantCtx::platform_operator(tenant_id, user, &Actor::from_request(rctx(ctx)));
        let t = if schedule {
            crate::modules::tenancy::deletion::schedule_by_platform(app, &tctx, &reason).await?
        } else {
            crate::modules::tenancy::deletion::cancel_by_platform(app, &tctx, &reason).await?
        };
        Ok(AdminTenantPayload {
            id: relay::to_global_id(relay::kind::TENANT, t.id),
            name: t.name,
            slug: t.slug,
            status: t.status.into(),
            deletion_due_at: t.deletion_due_at,
        })
    }

    async fn job(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reason: Option<String>,
        action: JobAction,
    ) -> Result<AdminJobPayload> {
        let (user, _) = operator(ctx, platform::SUPER_ADMIN).await?;
        let id = relay::decode_id("id", &id, super::JOB)?;
        let reason = checked_optional_reason(reason)?;
        let job = jobs::act(app(ctx), user, &Actor::from_request(rctx(ctx)), id, action, reason).await?;
        Ok(AdminJobPayload { job: AdminJob(job) })
    }
}

#[Object]
impl AdminMutation {
    /// Creates an organisation for a customer and invites its first owner by e-mail (super
    /// administrators only, with a written reason): the organisation has no member until the
    /// invitation is accepted. Audited in both logs.
    async fn admin_create_organisation(
        &self,
        ctx: &Context<'_>,
        input: AdminCreateOrganisationInput,
    ) -> Result<AdminCreateOrganisationPayload> {
        let (user, _) = operator(ctx, platform::SUPER_ADMIN).await?;
        let reason = checked_reason(&input.reason)?;
        let email = crate::graphql::scalars::Email::parse(&input.owner_email)
            .map_err(|m| AppError::validation("input.ownerEmail", m))?;
        let req = super::organisations::NewOrganisation {
            name: input.name,
            slug: input.slug,
            owner_email: email.into_inner(),
            reason,
        };
        let (t, inv) =
            super::organisations::create(app(ctx), user, &Actor::from_request(rctx(ctx)), req).await?;
        Ok(AdminCreateOrganisationPayload {
            organisation: AdminTenantPayload {
                id: relay::to_global_id(relay::kind::TENANT, t.id),
                name: t.name,
                slug: t.slug,
                status: t.status.into(),
                deletion_due_at: t.deletion_due_at,
            },
            invited_email: inv.email,
            invitation_expires_at: inv.expires_at,
        })
    }

    /// Gives the account with `email` a platform role (super administrators only).
    async fn admin_grant_platform_role(
        &self,
        ctx: &Context<'_>,
        email: String,
        role: PlatformRoleGql,
    ) -> Result<PlatformRolePayload> {
        let (user, _) = operator(ctx, platform::SUPER_ADMIN).await?;
        let app = app(ctx);
        let account = roles::grant(&app.db, &email, role.into(), Some(user), app.now()).await?;
        Ok(PlatformRolePayload {
            user_id: relay::to_global_id(relay::kind::USER, account.id),
            email: account.email,
            role: Some(role),
        })
    }

    /// Takes the platform role of the account with `email` away (super administrators only;
    /// not one's own).
    async fn admin_revoke_platform_role(
        &self,
        ctx: &Context<'_>,
        email: String,
    ) -> Result<PlatformRolePayload> {
        let (user, _) = operator(ctx, platform::SUPER_ADMIN).await?;
        let app = app(ctx);
        let account = roles::revoke(&app.db, &email, Some(user), app.now()).await?;
        Ok(PlatformRolePayload {
            user_id: relay::to_global_id(relay::kind::USER, account.id),
            email: account.email,
            role: None,
        })
    }

    /// Suspends an organisation with a written reason: its members keep read access only.
    /// Audited in the platform log and in the organisation's own (actor `platform_admin`).
    async fn admin_suspend_tenant(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reason: String,
    ) -> Result<AdminTenantPayload> {
        self.set_suspended(ctx, id, reason, true).await
    }

    /// Lifts a suspension with a written reason; audited like `adminSuspendTenant`.
    async fn admin_reactivate_tenant(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reason: String,
    ) -> Result<AdminTenantPayload> {
        self.set_suspended(ctx, id, reason, false).await
    }

    /// Schedules an organisation's deletion after the grace period
    /// (`ZYGO_TENANT_DELETION_GRACE_DAYS`), with a written reason; read-only until then, and
    /// `adminCancelTenantDeletion` (or an owner) can take it back. Audited in both logs.
    async fn admin_delete_tenant(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reason: String,
    ) -> Result<AdminTenantPayload> {
        self.deletion(ctx, id, reason, true).await
    }

    /// Takes a scheduled deletion back, with a written reason. Audited in both logs.
    async fn admin_cancel_tenant_deletion(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reason: String,
    ) -> Result<AdminTenantPayload> {
        self.deletion(ctx, id, reason, false).await
    }

    /// Runs a failed (or cancelled) background job again now, its attempts counted afresh.
    async fn admin_retry_job(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reason: Option<String>,
    ) -> Result<AdminJobPayload> {
        self.job(ctx, id, reason, JobAction::Retry).await
    }

    /// Cancels a waiting background job: it never runs.
    async fn admin_cancel_job(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reason: Option<String>,
    ) -> Result<AdminJobPayload> {
        self.job(ctx, id, reason, JobAction::Cancel).await
    }
}
