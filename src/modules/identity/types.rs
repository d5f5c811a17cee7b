//! GraphQL types of the identity module, built from entity models.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::user;

use crate::{
    graphql::{app, rctx, relay, scalars::Email},
    modules::tenancy::{service as tenancy, types::Tenant},
};

/// A person with a Zygo account. Visible to the person and to fellow members of their
/// organisations.
#[derive(Clone)]
pub struct User(pub user::Model);

#[Object]
impl User {
    /// Global ID.
    pub async fn id(&self) -> ID {
        relay::to_global_id("User", self.0.id)
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
    /// Whether the e-mail address has been confirmed.
    async fn email_verified(&self) -> bool {
        self.0.email_verified_at.is_some()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// The signed-in user, with what only they may see.
pub struct Viewer(pub user::Model);

#[Object]
impl Viewer {
    /// Global ID of the user (the same as `User.id`).
    pub async fn id(&self) -> ID {
        relay::to_global_id("User", self.0.id)
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
    /// The viewer as a `User` node.
    async fn user(&self) -> User {
        User(self.0.clone())
    }
    /// What the viewer may do in organisation `tenantId`, so a client can render by
    /// permission. NOT_FOUND when the viewer is not a member.
    async fn permissions(&self, ctx: &Context<'_>, tenant_id: ID) -> Result<Vec<crate::auth::Permission>> {
        let id = relay::decode_id("tenantId", &tenant_id, "Tenant")?;
        let tctx = crate::graphql::loaders::loaders(ctx).tenant_access(id).await?;
        Ok(crate::auth::Permission::ALL.iter().copied().filter(|p| tctx.has(*p)).collect())
    }
    /// Organisations the viewer is an active member of, oldest membership first.
    async fn tenants(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<relay::Conn<Tenant>> {
        let viewer = rctx(ctx).viewer()?;
        Ok(tenancy::viewer_tenants(app(ctx), viewer, relay::PageArgs::new(after, before, first, last))
            .await?)
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
