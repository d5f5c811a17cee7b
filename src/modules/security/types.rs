//! The security part of `Viewer`: the signed-in user's sessions, security log, second factor
//! and connected accounts (merged in [`crate::graphql::viewer::Viewer`]).

use std::sync::Arc;

use async_graphql::{Context, Object, Result};
use entity::user;

use super::schema;
use crate::graphql::relay::{Conn, PageArgs};

#[derive(Clone)]
pub struct ViewerSecurity(pub Arc<user::Model>);

#[Object]
impl ViewerSecurity {
    /// Open sessions (signed-in devices), most recently used first.
    async fn sessions(&self, ctx: &Context<'_>) -> Result<Vec<schema::Session>> {
        schema::viewer_sessions(ctx).await
    }
    /// The account's security log: sign-ins, failures, lockouts, MFA and session changes.
    #[graphql(complexity = "crate::graphql::relay::cost(first, last, child_complexity)")]
    async fn security_events(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<schema::SecurityEvent>> {
        schema::viewer_security_events(ctx, PageArgs::new(after, before, first, last)).await
    }
    /// Two-factor authentication status.
    async fn mfa(&self, ctx: &Context<'_>) -> Result<schema::MfaStatus> {
        schema::viewer_mfa(ctx, &self.0).await
    }
    /// Provider accounts (Google, GitHub, …) linked for signing in.
    async fn connected_accounts(&self, ctx: &Context<'_>) -> Result<Vec<schema::ConnectedAccount>> {
        schema::viewer_connected_accounts(ctx).await
    }
}
