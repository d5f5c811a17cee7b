//! GraphQL types of the members module.

use async_graphql::{Context, Enum, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{invitation, membership};

use crate::{
    auth::Permission,
    error::AppError,
    graphql::{
        app,
        inline::Inline,
        loaders::{empty_rows, loader_err, loaders},
        relay,
        tenant::Tenant,
    },
    modules::{identity::types::User, roles::types::Role, tenancy::service as tenancy},
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
        match inv.status {
            invitation::InvitationState::Accepted => Self::Accepted,
            invitation::InvitationState::Revoked => Self::Revoked,
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

/// Whether a member can use the organisation.
#[derive(async_graphql::Enum, Clone, Copy, PartialEq, Eq)]
pub enum MemberStatus {
    Active,
    Suspended,
}

impl MemberStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "suspended",
        }
    }
}

/// A user's membership in an organisation, with their role.
#[derive(Clone)]
pub struct Membership(pub membership::Model, Option<std::sync::Arc<entity::user::Profile>>);

impl Membership {
    pub fn new(model: membership::Model) -> Self {
        Self(model, None)
    }

    /// A membership read together with its user's profile (a list of people), whose `user`
    /// answers without a load.
    pub fn with_user(model: membership::Model, user: std::sync::Arc<entity::user::Profile>) -> Self {
        Self(model, Some(user))
    }
}

#[Object]
impl Membership {
    /// Global ID.
    pub async fn id(&self) -> ID {
        relay::to_global_id(relay::kind::MEMBERSHIP, self.0.id)
    }
    /// The database id (a time-ordered UUID), e.g. for correlating with logs and exports.
    async fn database_id(&self) -> uuid::Uuid {
        self.0.id
    }
    async fn status(&self) -> MemberStatus {
        if self.0.status == membership::MembershipStatus::Suspended {
            MemberStatus::Suspended
        } else {
            MemberStatus::Active
        }
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn user(&self, ctx: &Context<'_>) -> Result<Inline<User>> {
        if let Some(user) = &self.1 {
            return Ok(Inline(User::new(user.clone())));
        }
        let user = loaders(ctx).users.load_one(self.0.user_id).await.map_err(loader_err)?;
        Ok(Inline(User::new(user.ok_or(AppError::NotFound("user"))?)))
    }
    async fn role(&self, ctx: &Context<'_>) -> Result<Role> {
        let role = loaders(ctx).role(self.0.tenant_id, self.0.role_id).await?;
        Ok(Role(role.ok_or(AppError::NotFound("role"))?))
    }
}

/// The members part of `Tenant`: its members and invitations.
#[derive(Clone)]
pub struct TenantMembers(pub crate::graphql::tenant::TenantRow);

#[Object]
impl TenantMembers {
    /// Members of the organisation (needs `MEMBERS_READ`; null with a FORBIDDEN error
    /// otherwise), narrowed by a `search` in names and e-mails, a `role` and a `status`.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "crate::graphql::relay::cost(first, last, child_complexity)")]
    async fn members(
        &self,
        ctx: &Context<'_>,
        search: Option<String>,
        role: Option<ID>,
        status: Option<MemberStatus>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<Option<relay::Conn<Membership>>> {
        let tctx = loaders(ctx).tenant_access(self.0.id).await?;
        let args = relay::PageArgs::new(after, before, first, last);
        let window = tenancy::members_window(app(ctx), &tctx, &args)?;
        let search = search.map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty());
        if search.as_ref().is_some_and(|s| s.chars().count() > 100) {
            return Err(AppError::validation("search", "must be at most 100 characters").into());
        }
        let role_id = role
            .as_ref()
            .map(|r| relay::decode_id("role", r, relay::kind::ROLE))
            .transpose()
            .map_err(|_| AppError::validation("role", "not a role of this organisation"))?;
        let filter = crate::modules::tenancy::loaders::MemberFilter {
            search,
            search_emails: tctx.has(Permission::MembersManage),
            role_id,
            status: status.map(|s| s.as_str().to_string()),
        };
        let rows = loaders(ctx)
            .member_pages
            .load_one((self.0.id, crate::graphql::relay::counted(ctx, window), filter))
            .await
            .map_err(loader_err)?;
        Ok(Some(relay::to_connection(
            rows.unwrap_or_else(empty_rows),
            |r| r.0.id,
            |(m, user)| Membership::with_user(m, user),
        )))
    }
    /// Invitations sent by the organisation, oldest first (needs `MEMBERS_MANAGE`; null with a
    /// FORBIDDEN error otherwise).
    #[graphql(complexity = "crate::graphql::relay::cost(first, last, child_complexity)")]
    async fn invitations(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<Option<relay::Conn<crate::modules::members::types::Invitation>>> {
        let tctx = loaders(ctx).tenant_access(self.0.id).await?;
        let args = relay::PageArgs::new(after, before, first, last);
        let window = crate::modules::members::service::invitations_window(app(ctx), &tctx, &args)?;
        let rows = loaders(ctx)
            .invitation_pages
            .load_one((self.0.id, crate::graphql::relay::counted(ctx, window)))
            .await
            .map_err(loader_err)?;
        Ok(Some(relay::to_connection(
            rows.unwrap_or_else(empty_rows),
            |r| r.id,
            crate::modules::members::types::Invitation,
        )))
    }
}
