//! Keyset paging by primary key, for one list or for many lists at once.
//!
//! Every entity uses time-ordered UUID v7 ids, so id order is creation order. A [`Window`]
//! is a validated page request (the GraphQL layer turns Relay arguments into one);
//! [`page`] runs it on one list, [`load_scoped_pages`] on the lists of many tenants in two
//! statements (a `ROW_NUMBER() OVER (PARTITION BY tenant_id …)` query and a grouped count),
//! so a nested connection costs the same whatever the number of parents.

use std::collections::HashMap;

use entity::TenantOwned;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, IdenStatic, ModelTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select,
    sea_query::{Alias, Asterisk, Expr, ExprTrait, Order, Query, ValueType},
};
use uuid::Uuid;

/// One validated page request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Window {
    /// Rows wanted.
    pub limit: usize,
    /// Counting back from the end (`last`/`before`) rather than from the start.
    pub backward: bool,
    pub after: Option<Uuid>,
    pub before: Option<Uuid>,
}

/// One page of rows with what a connection needs besides them.
#[derive(Clone, Debug)]
pub struct Rows<M> {
    pub rows: Vec<M>,
    pub total: u64,
    pub has_previous: bool,
    pub has_next: bool,
}

impl Window {
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

/// One page of `select`: one statement for the rows, one for the total.
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
    let total = select.clone().count(db).await?;
    let rows = window
        .filter(select, id_col)
        .order_by(id_col, window.order())
        .limit(window.limit as u64 + 1)
        .all(db)
        .await?;
    Ok(window.finish(rows, total))
}

/// The same page of the lists of several tenants, in two statements. `select` may carry
/// further filters; it is restricted here to `tenants`, and every row is returned under its
/// own tenant, so no list ever holds another tenant's rows. The statements run behind the
/// wall of exactly those tenants.
pub async fn load_scoped_pages<E>(
    db: &sea_orm::DatabaseConnection,
    reads: &super::Reads,
    select: Select<E>,
    id_col: E::Column,
    tenants: &[Uuid],
    window: Window,
) -> Result<HashMap<Uuid, Rows<E::Model>>, DbErr>
where
    E: TenantOwned,
    E::Model: FromQueryResult + ModelTrait<Entity = E> + Sync,
{
    let select = select.filter(E::tenant_column().is_in(tenants.iter().copied()));
    let db = &reads.tenants(db, tenants.iter().copied());
    load_pages_by(db, select, E::tenant_column(), id_col, tenants, window).await
}

/// The same page of the lists of several parents (rows grouped by `partition`, e.g. a team
/// id), in two statements. The caller scopes `select` to the tenants concerned.
pub async fn load_pages_by<E, C>(
    db: &C,
    select: Select<E>,
    partition: E::Column,
    id_col: E::Column,
    parents: &[Uuid],
    window: Window,
) -> Result<HashMap<Uuid, Rows<E::Model>>, DbErr>
where
    E: EntityTrait,
    E::Model: FromQueryResult + ModelTrait<Entity = E> + Sync,
    C: ConnectionTrait,
{
    let base = select.filter(partition.is_in(parents.iter().copied()));
    let totals: HashMap<Uuid, i64> = base
        .clone()
        .select_only()
        .column(partition)
        .column_as(id_col.count(), "total")
        .group_by(partition)
        .into_tuple::<(Uuid, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect();

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
    let outer = Query::select()
        .column(Asterisk)
        .from_subquery(inner, Alias::new("page"))
        .and_where(Expr::col(Alias::new("zygo_row")).lte(window.limit as i64 + 1))
        .order_by(Alias::new(partition.as_str()), Order::Asc)
        .order_by(Alias::new(id_col.as_str()), window.order())
        .to_owned();
    let stmt = db.get_database_backend().build(&outer);
    let rows = E::Model::find_by_statement(stmt).all(db).await?;

    let mut grouped: HashMap<Uuid, Vec<E::Model>> = parents.iter().map(|t| (*t, Vec::new())).collect();
    for row in rows {
        if let Ok(parent) = <Uuid as ValueType>::try_from(row.get(partition))
            && let Some(list) = grouped.get_mut(&parent)
        {
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
