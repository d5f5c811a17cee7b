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
        use sea_orm::EntityTrait;
        let mut groups: FastMap<(crate::db::page::Window, MemberFilter), Vec<Uuid>> = FastMap::default();
        for (tenant, window, filter) in keys {
            groups.entry((*window, filter.clone())).or_default().push(*tenant);
        }
        let mut out = FastMap::default();
        for ((window, filter), tenants) in groups {
            let pages = crate::db::page::load_scoped_pages_with(
                &self.db,
                &self.reads,
                filter.apply(membership::Entity::find()),
                membership::Column::Id,
                &tenants,
                window,
                join_user,
                decode,
                |row: &MemberRow| Some(row.0.tenant_id),
            )
            .await
            .map_err(Arc::new)?;
            out.extend(pages.into_iter().map(|(t, rows)| ((t, window, filter.clone()), rows)));
        }
        Ok(out)
    }
}

/// Adds each membership's user profile to the select of the pages.
fn join_user(select: &mut sea_orm::sea_query::SelectStatement) {
    use sea_orm::sea_query::Alias;
    crate::db::page::join_profile(
        select,
        (Alias::new(crate::db::page::PAGE), entity::membership::Column::UserId),
    );
}

/// The rows of [`join_user`]'s select.
fn decode(rows: Vec<sea_orm::QueryResult>) -> Result<Vec<MemberRow>, DbErr> {
    use crate::db::{
        page,
        positional::{Positional, decode_joined},
    };
    const USER_AT: usize = page::joined_at(<entity::membership::Model as Positional>::FIELDS.len());
    rows.iter()
        .map(|row| Ok((decode_joined(row, 0, "")?, Arc::new(decode_joined(row, USER_AT, page::PROFILE)?))))
        .collect()
}
