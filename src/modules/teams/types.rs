//! GraphQL types of teams.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::team;

use crate::{
    graphql::{
        app,
        inline::Inline,
        loaders::{empty_rows, loader_err, loaders},
        relay,
    },
    modules::{members::types::Membership, teams::loaders::TeamMemberRow},
};

/// A group of members inside an organisation.
pub struct Team(pub team::Model);

#[Object]
impl Team {
    /// Global ID.
    pub async fn id(&self) -> ID {
        relay::to_global_id(relay::kind::TEAM, self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// The team's members with their team roles (needs `MEMBERS_READ`).
    #[graphql(complexity = "crate::graphql::relay::cost(first, last, child_complexity)")]
    async fn members(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<relay::Conn<TeamMember>> {
        let tctx = loaders(ctx).tenant_access(self.0.tenant_id).await?;
        let args = relay::PageArgs::new(after, before, first, last);
        let window = super::service::team_members_window(app(ctx), &tctx, &args)?;
        let rows = loaders(ctx)
            .team_member_pages
            .load_one((self.0.tenant_id, self.0.id, relay::counted(ctx, window)))
            .await
            .map_err(loader_err)?
            .unwrap_or_else(empty_rows);
        Ok(relay::to_connection(rows, |r| r.member.id, TeamMember))
    }
}

/// A member's place in a team, read with the membership and its user (a team's members
/// are listed only to those who may read the organisation's members).
pub struct TeamMember(pub TeamMemberRow);

#[Object]
impl TeamMember {
    /// The organisation membership.
    async fn membership(&self) -> Inline<Membership> {
        Inline(Membership::with_user(self.0.membership.clone(), self.0.user.clone()))
    }
    async fn role(&self) -> crate::graphql::enums::TeamRole {
        self.0.member.role.into()
    }
    async fn added_at(&self) -> DateTime<Utc> {
        self.0.member.created_at
    }
}

#[derive(SimpleObject)]
pub struct TeamPayload {
    pub team: Team,
}

#[derive(SimpleObject)]
pub struct DeleteTeamPayload {
    pub deleted_team_id: ID,
}

/// The teams part of `Tenant`.
#[derive(Clone)]
pub struct TenantTeams(pub crate::graphql::tenant::TenantRow);

#[Object]
impl TenantTeams {
    /// The organisation's teams.
    #[graphql(complexity = "crate::graphql::relay::cost(first, last, child_complexity)")]
    async fn teams(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<relay::Conn<crate::modules::teams::types::Team>> {
        let tctx = loaders(ctx).tenant_access(self.0.id).await?;
        let args = relay::PageArgs::new(after, before, first, last);
        let window = crate::modules::teams::service::teams_window(app(ctx), &tctx, &args)?;
        let rows = loaders(ctx)
            .team_pages
            .load_one((self.0.id, crate::graphql::relay::counted(ctx, window)))
            .await
            .map_err(loader_err)?;
        Ok(relay::to_connection(
            rows.unwrap_or_else(empty_rows),
            |t| t.id,
            crate::modules::teams::types::Team,
        ))
    }
}
