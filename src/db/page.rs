//! Keyset paging by primary key, for one list or for many lists at once.
//!
//! Every entity uses time-ordered UUID v7 ids, so id order is creation order. A [`Window`]
//! is a validated page request (the GraphQL layer turns Relay arguments into one);
//! [`page`] runs it on one list, [`load_scoped_pages`] on the lists of many tenants in two
//! statements (a `ROW_NUMBER() OVER (PARTITION BY tenant_id …)` query and a grouped count),
//! so a nested connection costs the same whatever the number of parents.

use super::FastMap;

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use entity::TenantOwned;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IdenStatic, ModelTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Select,
    sea_query::{Alias, Asterisk, Expr, ExprTrait, Order, Query, ValueType},
};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// Page size used when neither `first` nor `last` is given.
pub const DEFAULT_PAGE_SIZE: usize = 20;

/// One validated page request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Window {
    /// Rows wanted.
    pub limit: usize,
    /// Counting back from the end (`last`/`before`) rather than from the start.
    pub backward: bool,
    pub after: Option<Uuid>,
    pub before: Option<Uuid>,
    /// Whether the list's total is wanted (a connection's `totalCount` is selected). Without
    /// it the count statement is skipped and [`Rows::total`] is 0.
    pub total: bool,
}

/// One page of rows with what a connection needs besides them.
#[derive(Clone, Debug)]
pub struct Rows<M> {
    pub rows: Vec<M>,
    /// Rows in the whole list; 0 when the [`Window`] did not want it.
    pub total: u64,
    pub has_previous: bool,
    pub has_next: bool,
}

impl Window {
    /// This window, counting the whole list only if `wanted`.
    pub fn with_total(self, wanted: bool) -> Self {
        Self { total: wanted, ..self }
    }

    fn filter<E: EntityTrait>(&self, mut select: Select<E>, id_col: E::Column) -> Select<E> {
        if let Some(a) = self.after {
            select = select.filter(id_col.gt(a));
        }
        if let Some(b) = self.before {
            select = select.filter(id_col.lt(b));
        }
        select
    }

    /// Trims the `limit + 1` fetched rows (in query order) to the page, in ascending order.
    fn finish<M>(&self, mut rows: Vec<M>, total: u64) -> Rows<M> {
        let has_more = rows.len() > self.limit;
        rows.truncate(self.limit);
        if self.backward {
            rows.reverse();
        }
        let (has_previous, has_next) =
            if self.backward { (has_more, self.before.is_some()) } else { (self.after.is_some(), has_more) };
        Rows { rows, total, has_previous, has_next }
    }

    fn order(&self) -> Order {
        if self.backward { Order::Desc } else { Order::Asc }
    }
}

/// One page of `select`: one statement for the rows, one for the total (if the window wants
/// it).
pub async fn page<E, C>(
    db: &C,
    select: Select<E>,
    id_col: E::Column,
    window: Window,
) -> Result<Rows<E::Model>, DbErr>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ConnectionTrait,
{
    let total = if window.total { select.clone().count(db).await? } else { 0 };
    let rows = window
        .filter(select, id_col)
        .order_by(id_col, window.order())
        .limit(window.limit as u64 + 1)
        .all(db)
        .await?;
    Ok(window.finish(rows, total))
}

/// The same page of the lists of several tenants, in two statements (one if the window does
/// not want the totals). `select` may carry further filters; it is restricted here to
/// `tenants`, and every row is returned under its own tenant, so no list ever holds another
/// tenant's rows. The statements run behind the wall of exactly those tenants.
pub async fn load_scoped_pages<E>(
    db: &sea_orm::DatabaseConnection,
    reads: &super::Reads,
    select: Select<E>,
    id_col: E::Column,
    tenants: &[Uuid],
    window: Window,
) -> Result<FastMap<Uuid, Rows<E::Model>>, DbErr>
where
    E: TenantOwned,
    E::Model: super::positional::Decode + ModelTrait<Entity = E> + Sync,
{
    // Partitioned by tenant, so the pages' statements are restricted to `tenants`.
    let db = &reads.tenants(db, tenants.iter().copied());
    load_pages_by(db, select, E::tenant_column(), id_col, tenants, window).await
}

/// [`load_scoped_pages`] for rows read with rows of other tables joined to them (see
/// [`PagesBy::load`] for `join`, `decode` and `tenant`, which names an item's tenant).
#[allow(clippy::too_many_arguments)]
pub async fn load_scoped_pages_with<E: TenantOwned, T>(
    db: &sea_orm::DatabaseConnection,
    reads: &super::Reads,
    select: Select<E>,
    id_col: E::Column,
    tenants: &[Uuid],
    window: Window,
    join: impl FnOnce(&mut sea_orm::sea_query::SelectStatement),
    decode: impl FnOnce(Vec<sea_orm::QueryResult>) -> Result<Vec<T>, DbErr>,
    tenant: impl Fn(&T) -> Option<Uuid>,
) -> Result<FastMap<Uuid, Rows<T>>, DbErr> {
    // Partitioned by tenant, so the pages' statements are restricted to `tenants`.
    let db = &reads.tenants(db, tenants.iter().copied());
    PagesBy { partition: E::tenant_column(), id_col, parents: tenants, window }
        .load(db, select, join, decode, tenant)
        .await
}

/// The same page of the lists of several parents (rows grouped by `partition`, e.g. a team
/// id), in two statements (one if the window does not want the totals). The caller scopes
/// `select` to the tenants concerned.
pub async fn load_pages_by<E, C>(
    db: &C,
    select: Select<E>,
    partition: E::Column,
    id_col: E::Column,
    parents: &[Uuid],
    window: Window,
) -> Result<FastMap<Uuid, Rows<E::Model>>, DbErr>
where
    E: EntityTrait,
    E::Model: super::positional::Decode + ModelTrait<Entity = E> + Sync,
    C: ConnectionTrait,
{
    let pages = PagesBy { partition, id_col, parents, window };
    pages
        .load(
            db,
            select,
            |_| {},
            <E::Model as super::positional::Decode>::decode_all,
            |row| <Uuid as ValueType>::try_from(row.get(partition)).ok(),
        )
        .await
}

/// The page of each of several parents' lists, for [`load_pages_by`] and for lists whose rows
/// come with rows of other tables joined to them (e.g. a team's members with their
/// memberships): the joins are added to the statement that reads the pages, after the window
/// has picked each page's rows, so they read only the rows handed out.
pub struct PagesBy<'a, E: EntityTrait> {
    /// The column naming the parent (`team_id`, …).
    pub partition: E::Column,
    pub id_col: E::Column,
    pub parents: &'a [Uuid],
    pub window: Window,
}

/// The name of the sub-select holding each page's own rows, for the joins of [`PagesBy::load`].
pub const PAGE: &str = "page";

/// Where the first joined column stands in a PostgreSQL row of a page of a model with `own`
/// columns: after them and the window's row number.
pub const fn joined_at(own: usize) -> usize {
    own + 1
}

/// Columns of a user's profile joined to a page are named with this prefix.
pub const PROFILE: &str = "user_";

/// Joins the profile of the user that `user_id` names (a column of the page or of a table
/// joined before) to the select of a page, its columns named with [`PROFILE`] before theirs.
/// Users are outside the tenants' wall; the row that names the user is inside it.
pub fn join_profile(
    select: &mut sea_orm::sea_query::SelectStatement,
    user_id: impl sea_orm::sea_query::IntoColumnRef,
) {
    use entity::user;
    use sea_orm::Iden;
    select.inner_join(user::Entity, Expr::col((user::Entity, user::Column::Id)).equals(user_id));
    for column in user::Profile::COLUMNS {
        select.expr_as(
            Expr::col((user::Entity, column)),
            Alias::new(format!("{PROFILE}{}", column.to_string())),
        );
    }
}

impl<E: EntityTrait> PagesBy<'_, E> {
    /// Reads the pages: `join` adds joins and columns to the outer select (the list's own
    /// columns come first, as `PAGE.*`, followed by a row number; name joined columns so they
    /// cannot clash), `decode` turns the rows into items, `parent` names an item's parent.
    pub async fn load<C: ConnectionTrait, T>(
        &self,
        db: &C,
        select: Select<E>,
        join: impl FnOnce(&mut sea_orm::sea_query::SelectStatement),
        decode: impl FnOnce(Vec<sea_orm::QueryResult>) -> Result<Vec<T>, DbErr>,
        parent: impl Fn(&T) -> Option<Uuid>,
    ) -> Result<FastMap<Uuid, Rows<T>>, DbErr> {
        let Self { partition, id_col, parents, window } = *self;
        let base =
            select.filter(super::key_in(db.get_database_backend(), partition, parents.iter().copied()));
        let totals: FastMap<Uuid, i64> = if window.total {
            base.clone()
                .select_only()
                .column(partition)
                .column_as(id_col.count(), "total")
                .group_by(partition)
                .into_tuple::<(Uuid, i64)>()
                .all(db)
                .await?
                .into_iter()
                .collect()
        } else {
            FastMap::default()
        };

        let dir = if window.backward { "DESC" } else { "ASC" };
        let mut inner = window.filter(base, id_col).into_query();
        inner.expr_as(
            Expr::cust(format!(
                r#"ROW_NUMBER() OVER (PARTITION BY "{}" ORDER BY "{}" {dir})"#,
                partition.as_str(),
                id_col.as_str()
            )),
            Alias::new("zygo_row"),
        );
        let page = Alias::new(PAGE);
        let mut outer = Query::select()
            .column((page.clone(), Asterisk))
            .from_subquery(inner, page.clone())
            .and_where(Expr::col((page.clone(), Alias::new("zygo_row"))).lte(window.limit as i64 + 1))
            .order_by((page.clone(), Alias::new(partition.as_str())), Order::Asc)
            .order_by((page, Alias::new(id_col.as_str())), window.order())
            .to_owned();
        join(&mut outer);
        let stmt = db.get_database_backend().build(&outer);
        let rows = decode(db.query_all_raw(stmt).await?)?;

        let mut grouped: FastMap<Uuid, Vec<T>> = parents.iter().map(|t| (*t, Vec::new())).collect();
        for row in rows {
            if let Some(list) = parent(&row).and_then(|p| grouped.get_mut(&p)) {
                list.push(row);
            }
        }
        Ok(grouped
            .into_iter()
            .map(|(parent, rows)| {
                let total = totals.get(&parent).copied().unwrap_or(0) as u64;
                (parent, window.finish(rows, total))
            })
            .collect())
    }
}

// Relay paging arguments, validated into a [`Window`] (the GraphQL layer passes them through;
// services and loaders take them from here).

/// The four Relay paging arguments.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct PageArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

impl PageArgs {
    pub fn new(after: Option<String>, before: Option<String>, first: Option<i32>, last: Option<i32>) -> Self {
        Self { first, after, last, before }
    }
}

pub fn decode_cursor(field: &str, cursor: &str) -> AppResult<Uuid> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| Uuid::from_slice(&b).ok())
        .ok_or_else(|| AppError::validation(field, "not a valid cursor"))
}

pub fn encode_cursor(id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(id.as_bytes())
}

fn page_size(field: &str, value: Option<i32>, max: usize) -> AppResult<Option<usize>> {
    match value {
        None => Ok(None),
        Some(n) if n < 0 => Err(AppError::validation(field, "must not be negative")),
        Some(n) if n as usize > max => {
            Err(AppError::validation(field, format!("must be at most {max} (the maximum page size)")))
        }
        Some(n) => Ok(Some(n as usize)),
    }
}

impl PageArgs {
    /// Validates the arguments into a [`Window`]: page sizes within `0..=max`, not both
    /// `first` and `last`, cursors that decode. Errors name the argument.
    pub fn window(&self, max_page_size: usize) -> AppResult<Window> {
        let first = page_size("first", self.first, max_page_size)?;
        let last = page_size("last", self.last, max_page_size)?;
        if first.is_some() && last.is_some() {
            return Err(AppError::validation("last", "cannot be combined with `first`"));
        }
        Ok(Window {
            limit: last.or(first).unwrap_or(DEFAULT_PAGE_SIZE.min(max_page_size)),
            backward: last.is_some(),
            after: self.after.as_deref().map(|c| decode_cursor("after", c)).transpose()?,
            before: self.before.as_deref().map(|c| decode_cursor("before", c)).transpose()?,
            total: true,
        })
    }
}
