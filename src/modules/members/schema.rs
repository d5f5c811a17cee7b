//! Mutations of the members module: invitations and membership changes.

use async_graphql::{Context, ID, InputObject, Object, Result};
use entity::{invitation, membership};

use super::{
    service::{self, MemberChange},
    types::{
        AcceptInvitationPayload, Invitation, InvitationPayload, InvitationPreview, Membership,
        MembershipPayload, RemoveMemberPayload,
    },
};
use crate::{
    error::AppError,
    graphql::tenant::Tenant,
    graphql::{app, loaders::loaders, owned_row, rctx, relay, scalars::Email},
    modules::tenancy::service as tenancy,
};

#[derive(InputObject)]
pub struct InviteMemberInput {
    /// The organisation's global ID.
    pub tenant_id: ID,
    /// Address to send the invitation to.
    pub email: String,
    /// Global ID of the role the invitee gets.
    pub role_id: ID,
    /// Teams the invitee joins on acceptance, each with a team role.
    #[graphql(default)]
    pub teams: Vec<TeamAssignmentInput>,
}

#[derive(InputObject)]
pub struct TeamAssignmentInput {
    pub team_id: ID,
    pub role: crate::graphql::enums::TeamRole,
}

#[derive(InputObject)]
pub struct ChangeMemberRoleInput {
    pub membership_id: ID,
    /// Global ID of the new role.
    pub role_id: ID,
}

#[derive(Default)]
pub struct MembersMutation;

#[derive(Default)]
pub struct MembersQuery;

#[Object]
impl MembersQuery {
    /// The invitation behind an invitation link's token, as the link's page shows it before
    /// anyone signs in: its status and, while pending, the organisation, role, inviter and a
    /// hint of the invited address. Null for a token that names no invitation.
    async fn invitation_preview(
        &self,
        ctx: &Context<'_>,
        token: String,
    ) -> Result<Option<InvitationPreview>> {
        Ok(service::preview_invitation(app(ctx), &token).await?.map(InvitationPreview))
    }
}

async fn change(ctx: &Context<'_>, id: &ID, field: &str, change: MemberChange) -> Result<membership::Model> {
    let (uuid, tctx) = owned_row::<membership::Entity>(
        ctx,
        field,
        id,
        relay::kind::MEMBERSHIP,
        "membership",
        membership::Column::Id,
    )
    .await?;
    let m = service::change_member(app(ctx), &tctx, uuid, change).await?;
    loaders(ctx).forget_access();
    Ok(m)
}

#[Object]
impl MembersMutation {
    /// Invites someone by e-mail (needs `MEMBERS_MANAGE`). Inviting a member is a CONFLICT.
    async fn invite_member(&self, ctx: &Context<'_>, input: InviteMemberInput) -> Result<InvitationPayload> {
        rctx(ctx).require_principal()?;
        let tenant_id = relay::decode_id("input.tenantId", &input.tenant_id, relay::kind::TENANT)?;
        let tctx = loaders(ctx).tenant_access(tenant_id).await?;
        let email = Email::parse(&input.email).map_err(|m| AppError::validation("input.email", m))?;
        let role_id = relay::decode_id("input.roleId", &input.role_id, relay::kind::ROLE)
            .map_err(|_| AppError::validation("input.roleId", "no such role in this organisation"))?;
        let teams = input
            .teams
            .iter()
            .map(|t| {
                relay::decode_id("input.teams", &t.team_id, relay::kind::TEAM)
                    .map(|team_id| crate::modules::teams::service::TeamAssignment {
                        team_id,
                        role: t.role.into(),
                    })
                    .map_err(|_| AppError::validation("input.teams", "no such team in this organisation"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let inv = service::invite_member(app(ctx), &tctx, email, role_id, teams).await?;
        Ok(InvitationPayload { invitation: Invitation(inv) })
    }

    /// Sends a pending invitation again with a new link; the old link stops working.
    async fn resend_invitation(&self, ctx: &Context<'_>, id: ID) -> Result<InvitationPayload> {
        let (uuid, tctx) = owned_row::<invitation::Entity>(
            ctx,
            "id",
            &id,
            relay::kind::INVITATION,
            "invitation",
            invitation::Column::Id,
        )
        .await?;
        let inv = service::resend_invitation(app(ctx), &tctx, uuid).await?;
        Ok(InvitationPayload { invitation: Invitation(inv) })
    }

    /// Withdraws a pending invitation.
    async fn revoke_invitation(&self, ctx: &Context<'_>, id: ID) -> Result<InvitationPayload> {
        let (uuid, tctx) = owned_row::<invitation::Entity>(
            ctx,
            "id",
            &id,
            relay::kind::INVITATION,
            "invitation",
            invitation::Column::Id,
        )
        .await?;
        let inv = service::revoke_invitation(app(ctx), &tctx, uuid).await?;
        Ok(InvitationPayload { invitation: Invitation(inv) })
    }

    /// Joins the organisation that sent the invitation. The signed-in user's e-mail must be
    /// the invited one; a new user signs up with it first.
    async fn accept_invitation(&self, ctx: &Context<'_>, token: String) -> Result<AcceptInvitationPayload> {
        let m = service::accept_invitation(app(ctx), rctx(ctx), &token).await?;
        loaders(ctx).forget_access();
        // The organisation just joined is shown even when it requires MFA the new member has
        // not turned on yet (its data then answers MFA_REQUIRED).
        let tctx = crate::access::access(app(ctx), rctx(ctx).viewer()?.user_id, &[m.tenant_id])
            .await
            .map_err(AppError::from)?
            .remove(&m.tenant_id)
            .ok_or(AppError::NotFound("tenant"))?;
        let tenant = tenancy::get_tenant(app(ctx), &tctx).await?;
        Ok(AcceptInvitationPayload { membership: Membership::new(m), tenant: Tenant::new(tenant) })
    }

    /// Gives a member another role (needs `MEMBERS_MANAGE` and a rank above theirs).
    async fn change_member_role(
        &self,
        ctx: &Context<'_>,
        input: ChangeMemberRoleInput,
    ) -> Result<MembershipPayload> {
        let role_id = relay::decode_id("input.roleId", &input.role_id, relay::kind::ROLE)
            .map_err(|_| AppError::validation("input.roleId", "no such role in this organisation"))?;
        let m = change(ctx, &input.membership_id, "input.membershipId", MemberChange::Role(role_id)).await?;
        Ok(MembershipPayload { membership: Membership::new(m) })
    }

    /// Suspends a member: they lose access to the organisation until reactivated.
    async fn suspend_member(&self, ctx: &Context<'_>, membership_id: ID) -> Result<MembershipPayload> {
        let m = change(ctx, &membership_id, "membershipId", MemberChange::Suspend).await?;
        Ok(MembershipPayload { membership: Membership::new(m) })
    }

    /// Gives a suspended member their access back.
    async fn reactivate_member(&self, ctx: &Context<'_>, membership_id: ID) -> Result<MembershipPayload> {
        let m = change(ctx, &membership_id, "membershipId", MemberChange::Reactivate).await?;
        Ok(MembershipPayload { membership: Membership::new(m) })
    }

    /// Removes a member (or, with one's own membership, leaves the organisation).
    async fn remove_member(&self, ctx: &Context<'_>, membership_id: ID) -> Result<RemoveMemberPayload> {
        let m = change(ctx, &membership_id, "membershipId", MemberChange::Remove).await?;
        Ok(RemoveMemberPayload { removed_membership_id: relay::to_global_id(relay::kind::MEMBERSHIP, m.id) })
    }
}
