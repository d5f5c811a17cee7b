//! Tenant-scoped query helpers: the one place that adds `tenant_id` to queries.

use entity::TenantOwned;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, DeleteMany, IntoActiveModel,
    PrimaryKeyTrait, QueryFilter, Select, Statement, UpdateMany,
};
use uuid::Uuid;

/// A proof that the caller acts inside one tenant. Obtained only from a
/// [`crate::auth::TenantCtx`] (after the membership check) or by internal workers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TenantScope {
    tenant_id: Uuid,
}

impl TenantScope {
    pub(crate) fn new(tenant_id: Uuid) -> Self {
        Self { tenant_id }
    }

    pub fn tenant_id(&self) -> Uuid {
        self.tenant_id
    }

    /// `SELECT … WHERE tenant_id = ?`.
    pub fn find<E: TenantOwned>(&self) -> Select<E> {
        E::find().filter(E::tenant_column().eq(self.tenant_id))
    }

    /// One row by primary key, `None` when it does not exist *or belongs to another tenant*.
    pub async fn find_by_id<E, C>(
        &self,
        db: &C,
        id: <E::PrimaryKey as PrimaryKeyTrait>::ValueType,
    ) -> Result<Option<E::Model>, DbErr>
    where
        E: TenantOwned,
        C: ConnectionTrait,
    {
        E::find_by_id(id).filter(E::tenant_column().eq(self.tenant_id)).one(db).await
    }

    /// `UPDATE … WHERE tenant_id = ?`.
    pub fn update_many<E: TenantOwned>(&self) -> UpdateMany<E> {
        E::update_many().filter(E::tenant_column().eq(self.tenant_id))
    }

    /// `DELETE … WHERE tenant_id = ?`.
    pub fn delete_many<E: TenantOwned>(&self) -> DeleteMany<E> {
        E::delete_many().filter(E::tenant_column().eq(self.tenant_id))
    }

    /// Inserts `model` with its tenant column set to this tenant, whatever it held before.
    pub async fn insert<E, A, C>(&self, db: &C, model: A) -> Result<E::Model, DbErr>
    where
        E: TenantOwned,
        A: ActiveModelTrait<Entity = E> + sea_orm::ActiveModelBehavior + Send,
        E::Model: IntoActiveModel<A>,
        C: ConnectionTrait,
    {
        let mut model = model;
        model.set(E::tenant_column(), self.tenant_id.into());
        model.insert(db).await
    }

    /// `INSERT` of several rows, each with its tenant column set to this tenant; the caller
    /// may add `on_conflict` before `exec`.
    pub fn insert_many<E, A>(&self, models: impl IntoIterator<Item = A>) -> sea_orm::InsertMany<A>
    where
        E: TenantOwned,
        A: ActiveModelTrait<Entity = E>,
    {
        E::insert_many(models.into_iter().map(|mut m| {
            m.set(E::tenant_column(), self.tenant_id.into());
            m
        }))
    }

    /// Updates `model` (which must already carry this tenant's id) and refuses a row of
    /// another tenant.
    pub async fn update<E, A, C>(&self, db: &C, model: A) -> Result<E::Model, DbErr>
    where
        E: TenantOwned,
        A: ActiveModelTrait<Entity = E> + sea_orm::ActiveModelBehavior + Send,
        E::Model: IntoActiveModel<A>,
        C: ConnectionTrait,
    {
        let owner = model.get(E::tenant_column());
        if owner.into_value() != Some(self.tenant_id.into()) {
            return Err(DbErr::RecordNotUpdated);
        }
        model.update(db).await
    }
}

/// Starts a transaction for work inside one tenant. On PostgreSQL the tenant is also set
/// as the transaction-local setting `zygo.tenant_id`, so row-level security policies can
/// use it as a second wall.
pub async fn begin_tenant_txn(
    db: &sea_orm::DatabaseConnection,
    scope: TenantScope,
) -> Result<DatabaseTransaction, DbErr> {
    let txn = super::begin_write(db).await?;
    if super::is_postgres(&txn) {
        txn.execute_raw(Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT set_config('zygo.tenant_id', $1, true)",
            [scope.tenant_id.to_string().into()],
        ))
        .await?;
    }
    Ok(txn)
}

/// Loads rows of several tenants by `(tenant_id, id)` keys in one statement, for
/// DataLoaders. A row whose tenant differs from its key's tenant is left out, so a key
/// never yields another tenant's row.
pub async fn load_scoped_by_ids<E, C>(
    db: &C,
    id_col: E::Column,
    keys: &[(Uuid, Uuid)],
) -> Result<std::collections::HashMap<(Uuid, Uuid), E::Model>, DbErr>
where
    E: TenantOwned,
    E::Model: sea_orm::ModelTrait<Entity = E>,
    C: ConnectionTrait,
{
    use sea_orm::{ModelTrait, sea_query::ValueType};
    let wanted: std::collections::HashSet<(Uuid, Uuid)> = keys.iter().copied().collect();
    let ids: Vec<Uuid> = keys.iter().map(|k| k.1).collect();
    let rows = E::find().filter(id_col.is_in(ids)).all(db).await?;
    Ok(rows
        .into_iter()
        .filter_map(|m| {
            let tenant = <Uuid as ValueType>::try_from(m.get(E::tenant_column())).ok()?;
            let id = <Uuid as ValueType>::try_from(m.get(id_col)).ok()?;
            wanted.contains(&(tenant, id)).then_some(((tenant, id), m))
        })
        .collect())
}

/// Loads the child rows of several `(tenant_id, parent id)` keys in one statement, grouped by
/// key, for DataLoaders. As in [`load_scoped_by_ids`], a row is returned only under a key
/// naming its own tenant. Every key is present in the result, with an empty list if needed.
pub async fn load_scoped_children<E, C>(
    db: &C,
    parent_col: E::Column,
    keys: &[(Uuid, Uuid)],
) -> Result<std::collections::HashMap<(Uuid, Uuid), Vec<E::Model>>, DbErr>
where
    E: TenantOwned,
    E::Model: sea_orm::ModelTrait<Entity = E>,
    C: ConnectionTrait,
{
    use sea_orm::{ModelTrait, sea_query::ValueType};
    let mut out: std::collections::HashMap<(Uuid, Uuid), Vec<E::Model>> =
        keys.iter().map(|k| (*k, Vec::new())).collect();
    let parents: Vec<Uuid> = keys.iter().map(|k| k.1).collect();
    for m in E::find().filter(parent_col.is_in(parents)).all(db).await? {
        let (Ok(tenant), Ok(parent)) = (
            <Uuid as ValueType>::try_from(m.get(E::tenant_column())),
            <Uuid as ValueType>::try_from(m.get(parent_col)),
        ) else {
            continue;
        };
        if let Some(list) = out.get_mut(&(tenant, parent)) {
            list.push(m);
        }
    }
    Ok(out)
}

/// The tenant owning row `id` of `E`, looked up only to run the viewer's access check
/// before the row itself is read through a [`TenantScope`] (for example by `node(id:)`).
pub async fn owning_tenant<E, C>(db: &C, id_col: E::Column, id: Uuid) -> Result<Option<Uuid>, DbErr>
where
    E: TenantOwned,
    C: ConnectionTrait,
{
    use sea_orm::QuerySelect;
    E::find().select_only().column(E::tenant_column()).filter(id_col.eq(id)).into_tuple().one(db).await
}

/// Serialises changes to one tenant's memberships and roles: takes the tenant row's write
/// lock at the start of `txn` (a no-op update). On PostgreSQL a second transaction waits on
/// the row lock; on SQLite it waits for the database write lock. Call it first in the
/// transaction, before any read, so the checks that follow see every committed change.
pub async fn lock_tenant(txn: &DatabaseTransaction, scope: TenantScope) -> Result<(), DbErr> {
    use entity::tenant;
    use sea_orm::{EntityTrait, sea_query::Expr};
    tenant::Entity::update_many()
        .col_expr(tenant::Column::UpdatedAt, Expr::col(tenant::Column::UpdatedAt).into())
        .filter(tenant::Column::Id.eq(scope.tenant_id()))
        .exec(txn)
        .await?;
    Ok(())
}

/// All rows of `E` belonging to any of `tenants`, grouped by tenant, in one statement. For
/// small per-tenant tables (roles, grants) that loaders and access checks read whole.
pub async fn load_for_tenants<E, C>(
    db: &C,
    tenants: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, Vec<E::Model>>, DbErr>
where
    E: TenantOwned,
    E::Model: sea_orm::ModelTrait<Entity = E>,
    C: ConnectionTrait,
{
    load_scoped_children::<E, C>(
        db,
        E::tenant_column(),
        &tenants.iter().map(|t| (*t, *t)).collect::<Vec<_>>(),
    )
    .await
    .map(|m| m.into_iter().map(|((t, _), rows)| (t, rows)).collect())
}
