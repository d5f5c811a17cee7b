//! GraphQL types of the members module.

use async_graphql::{Context, Enum, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::invitation;

use super::service::{ACCEPTED, REVOKED};
use crate::{
    error::AppError,
    graphql::{loaders::loaders, relay},
    modules::{
        identity::types::User,
        tenancy::types::{Membership, Role, Tenant, loader_err},
    },
};

/// Where an invitation stands.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum InvitationStatus {
    Pending,
    Accepted,
    Revoked,
    /// Pending past its expiry.
    Expired,
}

/// An invitation to join an organisation, sent by e-mail.
pub struct Invitation(pub invitation::Model);

impl InvitationStatus {
    pub fn of(inv: &invitation::Model) -> Self {
        match inv.status.as_str() {
            ACCEPTED => Self::Accepted,
            REVOKED => Self::Revoked,
            _ if inv.expires_at <= Utc::now() => Self::Expired,
            _ => Self::Pending,
        }
    }
}

#[Object]
impl Invitation {
    /// Global ID.
    pub async fn id(&self) -> ID {
        relay::to_global_id(relay::kind::INVITATION, self.0.id)
    }
    /// The address invited.
    async fn email(&self) -> &str {
        &self.0.email
    }
    async fn status(&self) -> InvitationStatus {
        InvitationStatus::of(&self.0)
    }
    /// The role the invitee gets.
    async fn role(&self, ctx: &Context<'_>) -> Result<Role> {
        let role = loaders(ctx).role(self.0.tenant_id, self.0.role_id).await?;
        Ok(Role(role.ok_or(AppError::NotFound("role"))?))
    }
    /// Who sent it.
    async fn invited_by(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        Ok(loaders(ctx).users.load_one(self.0.invited_by).await.map_err(loader_err)?.map(User::new))
    }
    async fn expires_at(&self) -> DateTime<Utc> {
        self.0.expires_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn accepted_at(&self) -> Option<DateTime<Utc>> {
        self.0.accepted_at
    }
}

#[derive(SimpleObject)]
pub struct InvitationPayload {
    pub invitation: Invitation,
}

#[derive(SimpleObject)]
pub struct AcceptInvitationPayload {
    /// The new membership.
    pub membership: Membership,
    /// The organisation joined.
    pub tenant: Tenant,
}

#[derive(SimpleObject)]
pub struct MembershipPayload {
    pub membership: Membership,
}

#[derive(SimpleObject)]
pub struct RemoveMemberPayload {
    /// Global ID of the membership that no longer exists.
    pub removed_membership_id: ID,
}

/// An invitation as its link shows it, before anyone signs in: where it stands and, while it
/// is pending, who invites whom into which organisation with which role.
pub struct InvitationPreview(pub super::service::InvitationPreview);

impl InvitationPreview {
    fn pending(&self) -> bool {
        InvitationStatus::of(&self.0.invitation) == InvitationStatus::Pending
    }
}

#[Object]
impl InvitationPreview {
    async fn status(&self) -> InvitationStatus {
        InvitationStatus::of(&self.0.invitation)
    }
    /// The address invited, masked (`a•••@example.com`; pending invitations only): a link
    /// that leaked does not tell which account to create.
    async fn invited_email_hint(&self) -> Option<String> {
        self.pending().then(|| mask_email(&self.0.invitation.email))
    }
    /// Whether the signed-in user is the one invited (their address is the invited one); null
    /// when signed out. Only the invited address can accept.
    async fn for_viewer(&self, ctx: &Context<'_>) -> Result<Option<bool>> {
        let Some(viewer) = crate::graphql::rctx(ctx).viewer.as_ref() else { return Ok(None) };
        let user = loaders(ctx).users.load_one(viewer.user_id).await.map_err(loader_err)?;
        Ok(user.map(|u| u.email.eq_ignore_ascii_case(&self.0.invitation.email)))
    }
    /// The inviting organisation's name (pending invitations only).
    async fn organisation_name(&self) -> Option<&str> {
        self.pending().then_some(self.0.tenant_name.as_str())
    }
    /// The name of the role the invitee gets (pending invitations only).
    async fn role_name(&self) -> Option<&str> {
        self.pending().then_some(self.0.role_name.as_str())
    }
    /// The name of who sent it (pending invitations only; null once their account is gone).
    async fn invited_by_name(&self) -> Option<&str> {
        self.0.invited_by.as_deref().filter(|_| self.pending())
    }
    async fn expires_at(&self) -> DateTime<Utc> {
        self.0.invitation.expires_at
    }
}

/// `ada@example.com` → `a•••@example.com`.
fn mask_email(email: &str) -> String {
    let (local, domain) = email.rsplit_once('@').unwrap_or((email, ""));
    let first: String = local.chars().take(1).collect();
    format!("{first}•••@{domain}")
}
