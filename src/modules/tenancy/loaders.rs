//! Per-request batch loaders of the tenancy module. Built fresh for every operation (see
//! [`crate::graphql::loaders::Loaders`]), so batches never mix viewers.

use std::sync::Arc;

use crate::db::FastMap;

use crate::graphql::batch::Loader;
use sea_orm::{DatabaseConnection, DbErr};
use uuid::Uuid;

/// Narrows `Tenant.members`: a search in names and e-mails, a role, a status.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct MemberFilter {
    /// Lower-cased text to find in the member's name (and e-mail, see `search_emails`).
    pub search: Option<String>,
    /// Whether the search looks into e-mail addresses too: only for callers allowed to see
    /// them (`members.manage`), or matching would reveal hidden addresses.
    pub search_emails: bool,
    pub role_id: Option<Uuid>,
    pub status: Option<String>,
}

impl MemberFilter {
    fn apply(
        &self,
        mut select: sea_orm::Select<entity::membership::Entity>,
    ) -> sea_orm::Select<entity::membership::Entity> {
        use entity::{membership, user};
        use sea_orm::{
            ColumnTrait, EntityTrait, QueryFilter, QuerySelect, QueryTrait,
            sea_query::{Expr, ExprTrait, Func},
        };
        if let Some(q) = &self.search {
            // LIKE with the wildcards of the search text escaped; lower() on both sides so
            // SQLite and PostgreSQL match the same rows.
            let escaped = q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            let pattern = format!("%{escaped}%");
            let mut matches = sea_orm::Condition::any().add(
                Expr::expr(Func::lower(Expr::col(user::Column::Name)))
                    .like(sea_orm::sea_query::LikeExpr::new(pattern.clone()).escape('\\')),
            );
            if self.search_emails {
                matches = matches.add(
                    Expr::col(user::Column::Email)
                        .like(sea_orm::sea_query::LikeExpr::new(pattern).escape('\\')),
                );
            }
            let users =
                user::Entity::find().select_only().column(user::Column::Id).filter(matches).into_query();
            select = select.filter(membership::Column::UserId.in_subquery(users));
        }
        if let Some(role) = self.role_id {
            select = select.filter(membership::Column::RoleId.eq(role));
        }
        if let Some(status) = &self.status {
            select = select.filter(membership::Column::Status.eq(status.clone()));
        }
        select
    }
}

/// Pages of `Tenant.members` for many tenants, keyed by `(tenant, window, filter)`: two
/// statements per distinct window and filter, whatever the number of tenants. Each membership
/// comes with its user's profile, joined in the page's statement (a list of members is shown
/// with their names: one statement of wider rows instead of a second load of every user).
pub struct MemberPagesLoader {
    pub db: DatabaseConnection,
    pub reads: crate::db::Reads,
}

/// A membership as a page of members hands it out, with its user's profile.
pub type MemberRow = (entity::membership::Model, Arc<entity::user::Profile>);

impl Loader<(Uuid, crate::db::page::Window, MemberFilter)> for MemberPagesLoader {
    type Value = crate::db::page::Rows<MemberRow>;
    type Error = Arc<DbErr>;

    async fn load(
        &self,
        keys: &[(Uuid, crate::db::page::Window, MemberFilter)],
    ) -> Result<FastMap<(Uuid, crate::db::page::Window, MemberFilter), Self::Value>, Self::Error> {
        use entity::membership;
        use sea_orm::{EntityTrait, QueryFilter};
        let mut groups: FastMap<(crate::db::page::Window, MemberFilter), Vec<Uuid>> = FastMap::default();
        for (tenant, window, filter) in keys {
            groups.entry((*window, filter.clone())).or_default().push(*tenant);
        }
        let mut out = FastMap::default();
        for ((window, filter), tenants) in groups {
            let select = filter.apply(membership::Entity::find()).filter(crate::db::key_in(
                self.db.get_database_backend(),
                membership::Column::TenantId,
                tenants.iter().copied(),
            ));
            let db = self.reads.tenants(&self.db, tenants.iter().copied());
            let pages = crate::db::page::PagesBy {
                partition: membership::Column::TenantId,
                id_col: membership::Column::Id,
                parents: &tenants,
                window,
            }
            .load(&db, select, join_user, decode, |row: &MemberRow| Some(row.0.tenant_id))
            .await
            .map_err(Arc::new)?;
            out.extend(pages.into_iter().map(|(t, rows)| ((t, window, filter.clone()), rows)));
        }
        Ok(out)
    }
}

/// Joined user columns are named with this prefix (the page's own keep their names).
const USER: &str = "user_";

/// Adds each membership's user profile to the select of the pages.
fn join_user(select: &mut sea_orm::sea_query::SelectStatement) {
    use entity::{membership, user};
    use sea_orm::{
        Iden,
        sea_query::{Alias, Expr, ExprTrait},
    };
    select.inner_join(
        user::Entity,
        Expr::col((user::Entity, user::Column::Id))
            .equals((Alias::new(crate::db::page::PAGE), membership::Column::UserId)),
    );
    for column in user::Profile::COLUMNS {
        select
            .expr_as(Expr::col((user::Entity, column)), Alias::new(format!("{USER}{}", column.to_string())));
    }
}

/// The rows of [`join_user`]'s select: on PostgreSQL by position (the membership's columns,
/// the window's row number, the profile's), elsewhere by name.
fn decode(rows: Vec<sea_orm::QueryResult>) -> Result<Vec<MemberRow>, DbErr> {
    use crate::db::positional::Positional;
    use entity::{membership, user};
    use sea_orm::FromQueryResult;
    const USER_AT: usize = <membership::Model as Positional>::FIELDS.len() + 1;
    rows.iter()
        .map(|row| {
            Ok(match row.try_as_pg_row() {
                Some(_) => (
                    membership::Model::from_pg_at(row, 0)?,
                    Arc::new(user::Profile::from_pg_at(row, USER_AT)?),
                ),
                None => (
                    membership::Model::from_query_result(row, "")?,
                    Arc::new(user::Profile::from_query_result(row, USER)?),
                ),
            })
        })
        .collect()
}
