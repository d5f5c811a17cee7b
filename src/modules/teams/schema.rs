//! Team mutations.

use async_graphql::{Context, ID, InputObject, Object, Result};
use entity::team;
use uuid::Uuid;

use super::{
    service,
    types::{DeleteTeamPayload, Team, TeamPayload},
};
use crate::{
    access::TenantCtx,
    error::AppError,
    graphql::enums::TeamRole,
    graphql::{app, loaders::loaders, owned_row, rctx, relay},
};

#[derive(InputObject)]
pub struct CreateTeamInput {
    pub tenant_id: ID,
    /// Unique within the organisation, 1–80 characters.
    pub name: String,
    #[graphql(default)]
    pub description: String,
}

#[derive(InputObject)]
pub struct UpdateTeamInput {
    pub id: ID,
    pub name: Option<String>,
    pub description: Option<String>,
}

#[derive(InputObject)]
pub struct SetTeamMemberInput {
    pub team_id: ID,
    pub membership_id: ID,
    pub role: TeamRole,
}

#[derive(InputObject)]
pub struct RemoveTeamMemberInput {
    pub team_id: ID,
    pub membership_id: ID,
}

#[derive(Default)]
pub struct TeamsMutation;

async fn team_ctx(ctx: &Context<'_>, field: &str, id: &ID) -> Result<(Uuid, std::sync::Arc<TenantCtx>)> {
    owned_row::<team::Entity>(ctx, field, id, relay::kind::TEAM, "team", team::Column::Id).await
}

async fn reload(ctx: &Context<'_>, tctx: &TenantCtx, id: Uuid) -> Result<Team> {
    let t = tctx
        .scope()
        .find_by_id::<team::Entity, _>(&tctx.on(&app(ctx).db), id)
        .await
        .map_err(AppError::from)?;
    Ok(Team(t.ok_or(AppError::NotFound("team"))?))
}

#[Object]
impl TeamsMutation {
    /// Creates a team (needs `TEAMS_MANAGE`).
    async fn create_team(&self, ctx: &Context<'_>, input: CreateTeamInput) -> Result<TeamPayload> {
        rctx(ctx).require_principal()?;
        let tenant = relay::decode_id("input.tenantId", &input.tenant_id, relay::kind::TENANT)?;
        let tctx = loaders(ctx).tenant_access(tenant).await?;
        let team = service::create_team(app(ctx), &tctx, &input.name, &input.description).await?;
        Ok(TeamPayload { team: Team(team) })
    }

    /// Renames a team or changes its description (`TEAMS_MANAGE` or team owner).
    async fn update_team(&self, ctx: &Context<'_>, input: UpdateTeamInput) -> Result<TeamPayload> {
        let (id, tctx) = team_ctx(ctx, "input.id", &input.id).await?;
        let team =
            service::update_team(app(ctx), &tctx, id, input.name.as_deref(), input.description.as_deref())
                .await?;
        Ok(TeamPayload { team: Team(team) })
    }

    /// Deletes a team (needs `TEAMS_MANAGE`); its members stay in the organisation.
    async fn delete_team(&self, ctx: &Context<'_>, id: ID) -> Result<DeleteTeamPayload> {
        let (uuid, tctx) = team_ctx(ctx, "id", &id).await?;
        let team = service::delete_team(app(ctx), &tctx, uuid).await?;
        Ok(DeleteTeamPayload { deleted_team_id: relay::to_global_id(relay::kind::TEAM, team.id) })
    }

    /// Adds a member to a team, or changes their team role (`TEAMS_MANAGE` or team owner).
    async fn set_team_member(&self, ctx: &Context<'_>, input: SetTeamMemberInput) -> Result<TeamPayload> {
        let (id, tctx) = team_ctx(ctx, "input.teamId", &input.team_id).await?;
        let membership =
            relay::decode_id("input.membershipId", &input.membership_id, relay::kind::MEMBERSHIP).map_err(
                |_| AppError::validation("input.membershipId", "no such member in this organisation"),
            )?;
        service::set_team_member(app(ctx), &tctx, id, membership, input.role.into()).await?;
        Ok(TeamPayload { team: reload(ctx, &tctx, id).await? })
    }

    /// Removes a member from a team (`TEAMS_MANAGE` or team owner).
    async fn remove_team_member(
        &self,
        ctx: &Context<'_>,
        input: RemoveTeamMemberInput,
    ) -> Result<TeamPayload> {
        let (id, tctx) = team_ctx(ctx, "input.teamId", &input.team_id).await?;
        let membership =
            relay::decode_id("input.membershipId", &input.membership_id, relay::kind::MEMBERSHIP)
                .map_err(|_| AppError::NotFound("team member"))?;
        service::remove_team_member(app(ctx), &tctx, id, membership).await?;
        Ok(TeamPayload { team: reload(ctx, &tctx, id).await? })
    }
}
