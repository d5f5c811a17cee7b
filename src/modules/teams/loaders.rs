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
    DatabaseConnection, DbErr, EntityTrait, FromQueryResult, Iden, Iterable, QueryFilter, QueryResult,
    sea_query::{Alias, Expr, ExprTrait, SelectStatement},
};
use uuid::Uuid;

use crate::{
    db::{
        FastMap, Reads,
        page::{PAGE, PagesBy, Rows, Window},
        positional::Positional,
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

/// Joined columns are named with these prefixes (the page's own keep their names).
const MEMBERSHIP: &str = "membership_";
const USER: &str = "user_";

/// Adds each row's membership and its user's profile to the select of the pages.
fn join_membership_and_user(select: &mut SelectStatement) {
    select
        .inner_join(
            membership::Entity,
            Expr::col((membership::Entity, membership::Column::Id))
                .equals((Alias::new(PAGE), team_member::Column::MembershipId)),
        )
        .inner_join(
            user::Entity,
            Expr::col((user::Entity, user::Column::Id))
                .equals((membership::Entity, membership::Column::UserId)),
        );
    for column in membership::Column::iter() {
        select.expr_as(
            Expr::col((membership::Entity, column)),
            Alias::new(format!("{MEMBERSHIP}{}", column.to_string())),
        );
    }
    for column in user::Profile::COLUMNS {
        select
            .expr_as(Expr::col((user::Entity, column)), Alias::new(format!("{USER}{}", column.to_string())));
    }
}

/// The rows of [`join_membership_and_user`]'s select: on PostgreSQL by position (the page's
/// columns, its row number, the membership's, the profile's), elsewhere by name.
fn decode(rows: Vec<QueryResult>) -> Result<Vec<TeamMemberRow>, DbErr> {
    // The page's columns are followed by the row number of the window that picked them.
    const MEMBERSHIP_AT: usize = <team_member::Model as Positional>::FIELDS.len() + 1;
    const USER_AT: usize = MEMBERSHIP_AT + <membership::Model as Positional>::FIELDS.len();
    rows.iter()
        .map(|row| {
            Ok(match row.try_as_pg_row() {
                Some(_) => TeamMemberRow {
                    member: team_member::Model::from_pg_at(row, 0)?,
                    membership: membership::Model::from_pg_at(row, MEMBERSHIP_AT)?,
                    user: Arc::new(user::Profile::from_pg_at(row, USER_AT)?),
                },
                None => TeamMemberRow {
                    member: team_member::Model::from_query_result(row, "")?,
                    membership: membership::Model::from_query_result(row, MEMBERSHIP)?,
                    user: Arc::new(user::Profile::from_query_result(row, USER)?),
                },
            })
        })
        .collect()
}
