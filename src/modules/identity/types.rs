//! GraphQL types of the identity module, built from entity models.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::user;

use crate::{
    graphql::{
        app, rctx,
        relay::{self},
        scalars::Email,
    },
    graphql::{tenant::Tenant, viewer::Viewer},
    modules::tenancy::service as tenancy,
};

/// A person with a Zygo account. Visible to the person and to fellow members of their
/// organisations; the e-mail address only to the person and to those who manage members of
/// an organisation they share. Built from the user's [`user::Profile`], never from the whole
/// account.
#[derive(Clone)]
pub struct User(pub std::sync::Arc<user::Profile>, EmailAccess);

/// Whether `User.email` still needs its guard.
#[derive(Clone, Copy, PartialEq, Eq)]
enum EmailAccess {
    /// Reached through a relation: the guard decides.
    Guarded,
    /// The caller proved they are this user (sign-up, verification token): always visible.
    Own,
}

impl User {
    /// A user reached through a relation; `email` is guarded.
    pub fn new(profile: std::sync::Arc<user::Profile>) -> Self {
        Self(profile, EmailAccess::Guarded)
    }

    /// The caller's own account, proven by the operation itself.
    pub fn own(model: &user::Model) -> Self {
        Self(std::sync::Arc::new(user::Profile::from(model)), EmailAccess::Own)
    }
}

#[Object]
impl User {
    /// Global ID.
    pub async fn id(&self) -> ID {
        relay::to_global_id(relay::kind::USER, self.0.id)
    }
    /// The database id (a time-ordered UUID), e.g. for correlating with logs and exports.
    async fn database_id(&self) -> uuid::Uuid {
        self.0.id
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Visible to the user and to those with `MEMBERS_MANAGE` in an organisation the user
    /// belongs to; null with a FORBIDDEN error for anyone else.
    async fn email(&self, ctx: &Context<'_>) -> Result<Option<Email>> {
        if self.1 == EmailAccess::Own || rctx(ctx).viewer.as_ref().is_some_and(|v| v.user_id == self.0.id) {
            return Ok(Some(Email::from_stored(&self.0.email)));
        }
        let loaders = crate::graphql::loaders::loaders(ctx);
        let tenants = loaders
            .user_tenants
            .load_one(self.0.id)
            .await
            .map_err(crate::graphql::loaders::loader_err)?
            .unwrap_or_default();
        for t in tenants {
            if let Ok(tctx) = loaders.tenant_access_unmetered(t).await
                && tctx.has(crate::auth::Permission::MembersManage)
            {
                return Ok(Some(Email::from_stored(&self.0.email)));
            }
        }
        Err(crate::error::AppError::Forbidden { permission: crate::auth::Permission::MembersManage.key() }
            .into())
    }
    /// Whether the e-mail address has been confirmed.
    async fn email_verified(&self) -> bool {
        self.0.email_verified_at.is_some()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// The identity part of `Viewer` (the signed-in user, with what only they may see; merged in
/// [`crate::graphql::viewer::Viewer`] with the other modules' parts).
#[derive(Clone)]
pub struct ViewerCore(pub std::sync::Arc<user::Model>);

#[Object]
impl ViewerCore {
    /// Global ID of the user (the same as `User.id`).
    pub async fn id(&self) -> ID {
        relay::to_global_id(relay::kind::USER, self.0.id)
    }
    /// The database id (a time-ordered UUID), e.g. for correlating with logs and exports.
    async fn database_id(&self) -> uuid::Uuid {
        self.0.id
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn email(&self) -> Email {
        Email::from_stored(&self.0.email)
    }
    async fn email_verified(&self) -> bool {
        self.0.email_verified_at.is_some()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn avatar_url(&self) -> Option<&str> {
        self.0.avatar_url.as_deref()
    }
    /// BCP 47 language tag, e.g. `en-GB`.
    async fn locale(&self) -> Option<&str> {
        self.0.locale.as_deref()
    }
    /// IANA time zone, e.g. `Europe/Berlin`.
    async fn time_zone(&self) -> Option<&str> {
        self.0.time_zone.as_deref()
    }
    async fn preferences(&self) -> Preferences {
        Preferences(super::account::preferences(&self.0))
    }
    /// The account has a password (accounts made through OAuth may not).
    async fn has_password(&self) -> bool {
        self.0.password_hash().is_some()
    }
    /// The organisation picked with `setActiveTenant` for this session (null if none, or if
    /// the viewer is no longer a member).
    async fn active_tenant(&self, ctx: &Context<'_>) -> Result<Option<Tenant>> {
        let viewer = rctx(ctx).viewer()?;
        let Some(id) = super::account::active_tenant(app(ctx), viewer).await? else { return Ok(None) };
        match crate::graphql::loaders::loaders(ctx).tenant_access(id).await {
            Ok(tctx) => Ok(Some(Tenant::new(tenancy::get_tenant(app(ctx), &tctx).await?))),
            Err(crate::error::AppError::NotFound(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
    /// The viewer as a `User` node.
    async fn user(&self) -> User {
        User::own(&self.0)
    }
    /// What the viewer may do in organisation `tenantId`, so a client can render by
    /// permission. NOT_FOUND when the viewer is not a member.
    async fn permissions(&self, ctx: &Context<'_>, tenant_id: ID) -> Result<Vec<crate::auth::Permission>> {
        let id = relay::decode_id("tenantId", &tenant_id, relay::kind::TENANT)?;
        let tctx = crate::graphql::loaders::loaders(ctx).tenant_access(id).await?;
        Ok(crate::auth::Permission::ALL.iter().copied().filter(|p| tctx.has(*p)).collect())
    }
    /// Organisations the viewer is an active member of, oldest membership first.
    #[graphql(complexity = "crate::graphql::relay::cost(first, last, child_complexity)")]
    async fn tenants(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<relay::Conn<Tenant>> {
        let viewer = rctx(ctx).viewer()?;
        let rows =
            tenancy::viewer_tenants(app(ctx), viewer, relay::PageArgs::new(after, before, first, last))
                .await?;
        // Listing one's organisations is not an operation served for each of them.
        crate::graphql::loaders::loaders(ctx).unmetered(rows.rows.iter().map(|t| t.id));
        Ok(relay::to_connection(rows, |t| t.id, Tenant::new))
    }
}

/// How the viewer likes the apps.
pub struct Preferences(pub super::account::Preferences);

#[Object]
impl Preferences {
    async fn theme(&self) -> super::account::Theme {
        self.0.theme
    }
    /// Interface language (BCP 47), if chosen.
    async fn language(&self) -> Option<&str> {
        self.0.language.as_deref()
    }
    /// Dashboard layout, as the client stores it.
    async fn dashboard_layout(&self) -> async_graphql::Json<serde_json::Value> {
        async_graphql::Json(self.0.dashboard_layout.clone())
    }
}

/// Tokens of a session. Send the access token as `Authorization: Bearer …` (or in the
/// WebSocket `connection_init` payload); exchange the refresh token with `refreshSession`
/// before the access token expires.
#[derive(SimpleObject)]
pub struct AuthPayload {
    pub access_token: String,
    pub access_token_expires_at: DateTime<Utc>,
    pub refresh_token: String,
    pub refresh_token_expires_at: DateTime<Utc>,
    pub viewer: Viewer,
}

#[derive(SimpleObject)]
pub struct SignUpPayload {
    /// The new, not yet verified, user.
    pub user: User,
    /// A verification mail is on its way.
    pub verification_mail_sent: bool,
}

#[derive(SimpleObject)]
pub struct VerifyEmailPayload {
    pub user: User,
}

#[derive(SimpleObject)]
pub struct ResendVerificationPayload {
    /// Always true: the answer does not reveal whether the address has an account.
    pub accepted: bool,
}

#[derive(SimpleObject)]
pub struct LogOutPayload {
    pub success: bool,
}
