//! Per-request batch loaders of the teams module (see [`crate::graphql::loaders::Loaders`]).
//!
//! A page of a team's members is read with each member's organisation membership and the
//! member's user profile joined in the same statement: a list of members is shown with its
//! people ("50 teams × 20 members → membership → user"), and three statements of a thousand
//! rows each, two of them keyed by the thousand ids the first returned, cost the server
//! and the database more than one statement of wider rows. `TeamMember.membership` and its
//! `user` then answer from the row, without a load.

use std::sync::Arc;

use entity::{membership, team_member, user};
use sea_orm::{
    DatabaseConnection, DbErr, EntityTrait, Iden, Iterable, QueryFilter, QueryResult,
    sea_query::{Alias, Expr, ExprTrait, SelectStatement},
};
use uuid::Uuid;

use crate::{
    db::{
        FastMap, Reads,
        page::{self, PAGE, PagesBy, Rows, Window},
        positional::{Positional, decode_joined},
    },
    graphql::{batch::Loader, loaders::empty_rows},
};

/// A team member as a page of its team's members hands it out.
#[derive(Clone, Debug)]
pub struct TeamMemberRow {
    pub member: team_member::Model,
    pub membership: membership::Model,
    pub user: Arc<user::Profile>,
}

/// The key of a page of a team's members: tenant, team, window.
pub type TeamMemberPageKey = (Uuid, Uuid, Window);

/// Pages of teams' members, with their memberships and users (see the module's description):
/// one statement per distinct window (two with the totals), whatever the number of teams.
/// Callers check the viewer's access to each tenant (and `members.read`) before asking.
pub struct TeamMemberPagesLoader {
    pub db: DatabaseConnection,
    pub reads: Reads,
}

impl Loader<TeamMemberPageKey> for TeamMemberPagesLoader {
    type Value = Rows<TeamMemberRow>;
    type Error = Arc<DbErr>;

    async fn load(
        &self,
        keys: &[TeamMemberPageKey],
    ) -> Result<FastMap<TeamMemberPageKey, Self::Value>, Self::Error> {
        let mut groups: FastMap<Window, Vec<(Uuid, Uuid)>> = FastMap::default();
        for (tenant, team, window) in keys {
            groups.entry(*window).or_default().push((*tenant, *team));
        }
        let backend = self.db.get_database_backend();
        let mut out = FastMap::default();
        for (window, pairs) in groups {
            let tenants: Vec<Uuid> = pairs.iter().map(|p| p.0).collect();
            let teams: Vec<Uuid> = pairs.iter().map(|p| p.1).collect();
            let db = self.reads.tenants(&self.db, tenants.iter().copied());
            let select = team_member::Entity::find().filter(crate::db::key_in(
                backend,
                team_member::Column::TenantId,
                tenants,
            ));
            let pages = PagesBy {
                partition: team_member::Column::TeamId,
                id_col: team_member::Column::Id,
                parents: &teams,
                window,
            }
            .load(&db, select, join_membership_and_user, decode, |row: &TeamMemberRow| {
                Some(row.member.team_id)
            })
            .await
            .map_err(Arc::new)?;
            for (tenant, team) in pairs {
                let mut rows = pages.get(&team).cloned().unwrap_or_else(empty_rows);
                // A team's members all belong to its tenant; a key naming another tenant gets none.
                rows.rows.retain(|r| r.member.tenant_id == tenant);
                out.insert((tenant, team, window), rows);
            }
        }
        Ok(out)
    }
}

/// Joined membership columns are named with this prefix (the page's own keep their names).
const MEMBERSHIP: &str = "membership_";

/// Adds each row's membership (of the row's own tenant) and its user's profile to the select
/// of the pages.
fn join_membership_and_user(select: &mut SelectStatement) {
    let page = Alias::new(PAGE);
    select.inner_join(
        membership::Entity,
        Expr::col((membership::Entity, membership::Column::Id))
            .equals((page.clone(), team_member::Column::MembershipId))
            .and(
                Expr::col((membership::Entity, membership::Column::TenantId))
                    .equals((page, team_member::Column::TenantId)),
            ),
    );
    for column in membership::Column::iter() {
        select.expr_as(
            Expr::col((membership::Entity, column)),
            Alias::new(format!("{MEMBERSHIP}{}", column.to_string())),
        );
    }
    page::join_profile(select, (membership::Entity, membership::Column::UserId));
}

/// The rows of [`join_membership_and_user`]'s select.
fn decode(rows: Vec<QueryResult>) -> Result<Vec<TeamMemberRow>, DbErr> {
    const MEMBERSHIP_AT: usize = page::joined_at(<team_member::Model as Positional>::FIELDS.len());
    const USER_AT: usize = MEMBERSHIP_AT + <membership::Model as Positional>::FIELDS.len();
    rows.iter()
        .map(|row| {
            Ok(TeamMemberRow {
                member: decode_joined(row, 0, "")?,
                membership: decode_joined(row, MEMBERSHIP_AT, MEMBERSHIP)?,
                user: Arc::new(decode_joined(row, USER_AT, page::PROFILE)?),
            })
        })
        .collect()
}
