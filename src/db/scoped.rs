//! Tenant-scoped query helpers: the one place that adds `tenant_id` to queries.

use entity::TenantOwned;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr,
    DeleteMany, ExecResult, IntoActiveModel, PrimaryKeyTrait, QueryFilter, QueryResult, Select, Statement,
    UpdateMany,
};
use std::sync::Arc;

use uuid::Uuid;

use super::read_txn::{PgTxn, StatementLog, Txn, WallSettings};
use crate::telemetry::Metrics;

/// A proof that the caller acts inside one tenant. Obtained only from a
/// [`crate::access::TenantCtx`] (after the membership check) or by internal workers.
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

    /// `db` behind this tenant's wall: on PostgreSQL its statements run with
    /// `zygo.tenant_ids` set to this tenant (see [`ScopedConn`]).
    pub fn on<'a>(&self, db: &'a DatabaseConnection) -> ScopedConn<'a> {
        ScopedConn::new(db, Wall::tenants([self.tenant_id]))
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

/// What a connection may see under PostgreSQL row-level security (migration
/// `m20261121_000010`): the rows of some tenants, or every tenant's.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Wall {
    /// `zygo.tenant_ids`: one or more tenant ids, comma-separated.
    Tenants(String),
    /// `zygo.across_tenants = on`.
    AcrossTenants,
    /// Statements on tables outside row-level security (users): they run in whatever
    /// transaction is open, behind whatever wall it has.
    Outside,
}

impl Wall {
    fn tenants(ids: impl IntoIterator<Item = Uuid>) -> Self {
        let mut ids: Vec<String> = ids.into_iter().map(|id| id.to_string()).collect();
        ids.sort_unstable();
        ids.dedup();
        Wall::Tenants(ids.join(","))
    }

    /// Sets the wall for the rest of `txn`, or until it is moved to another wall
    /// (`set_config(…, true)` is `SET LOCAL`: it ends with the transaction, so nothing stays
    /// on the pooled connection). Both settings are set every time, so moving from the
    /// across-tenants wall to a tenant's never leaves the former on. No-op on SQLite.
    async fn raise(&self, txn: &DatabaseTransaction) -> Result<(), DbErr> {
        if !super::is_postgres(txn) {
            return Ok(());
        }
        let Some(settings) = self.settings()? else { return Ok(()) };
        txn.execute_raw(settings.statement()).await?;
        Ok(())
    }

    /// The settings this wall stands for; `None` for [`Wall::Outside`], which sets none.
    fn settings(&self) -> Result<Option<WallSettings>, DbErr> {
        match self {
            Wall::Tenants(ids) => WallSettings::new(ids.clone(), "off").map(Some),
            Wall::AcrossTenants => WallSettings::new(String::new(), "on").map(Some),
            Wall::Outside => Ok(None),
        }
    }

    /// Moves the open transaction `txn` (on PostgreSQL) behind this wall.
    async fn raise_on(&self, txn: &mut Txn) -> Result<(), DbErr> {
        match self.settings()? {
            Some(settings) => txn.execute(settings.statement()).await.map(|_| ()),
            None => Ok(()),
        }
    }
}

/// A connection whose statements run behind a [`Wall`]. On PostgreSQL the first statement
/// opens a transaction that sets the wall with `SET LOCAL` semantics; the reads that follow
/// through the same `ScopedConn` reuse it (one `BEGIN` and one `set_config` for all of them),
/// a statement that is not a plain `SELECT` commits it, and dropping the `ScopedConn` rolls
/// back what is left (nothing but reads; the rollback travels with the pool's release instead
/// of costing a round trip). On SQLite it is the pool itself.
///
/// While a read transaction is open it holds a pooled connection: keep a named `ScopedConn`
/// only as long as its statements need, and do not open a second connection meanwhile.
///
/// `ScopedConn`s made from one shared [`Reads`] (one per GraphQL operation over HTTP) use
/// one transaction between them, moved from wall to wall with one `set_config` when they
/// differ: a request's reads cost one `BEGIN`, however many loaders and services read.
///
/// Obtain one from [`TenantScope::on`], [`tenants_conn`], [`across_tenants`] or a
/// [`Reads`]; several writes that belong together go in [`begin_tenant_txn`] instead.
pub struct ScopedConn<'a> {
    db: &'a DatabaseConnection,
    wall: Wall,
    slot: Arc<Slot>,
}

/// Where an open read transaction lives, with the wall it is behind.
#[derive(Default)]
struct Slot {
    open: tokio::sync::Mutex<Option<Open>>,
    /// Set for an operation's shared reads: on PostgreSQL their transaction is a [`PgTxn`],
    /// whose statements are counted here.
    log: Option<StatementLog>,
}

struct Open {
    txn: Txn,
    wall: Wall,
}

impl<'a> ScopedConn<'a> {
    fn new(db: &'a DatabaseConnection, wall: Wall) -> Self {
        Self { db, wall, slot: Arc::default() }
    }

    fn walled(&self) -> bool {
        super::is_postgres(self.db)
    }

    /// The open transaction, begun if needed and behind this connection's wall.
    async fn txn(&self) -> Result<tokio::sync::MutexGuard<'_, Option<Open>>, DbErr> {
        let mut open = self.slot.open.lock().await;
        match open.as_mut() {
            Some(o) if o.wall == self.wall || self.wall == Wall::Outside => {}
            Some(o) => {
                if let Err(e) = self.wall.raise_on(&mut o.txn).await {
                    open.take();
                    return Err(e);
                }
                o.wall = self.wall.clone();
            }
            None => {
                let txn = match &self.slot.log {
                    Some(log) => {
                        let pool = self.db.get_postgres_connection_pool();
                        Txn::Pg(PgTxn::begin(pool, self.wall.settings()?, log).await?)
                    }
                    None => {
                        let txn = super::begin(self.db, Default::default()).await?;
                        self.wall.raise(&txn).await?;
                        Txn::Orm(txn)
                    }
                };
                *open = Some(Open { txn, wall: self.wall.clone() });
            }
        }
        Ok(open)
    }
}

/// How the reads of one unit of work share a transaction (PostgreSQL; on SQLite there is
/// none to share). `Reads::default()` shares nothing: every [`ScopedConn`] opens its own.
/// [`Reads::shared`] is one per GraphQL operation over HTTP: every walled read of the
/// operation — loaders, access-checked service reads through [`crate::access::TenantCtx::on`]
/// — goes through one transaction, opened lazily by the first of them and rolled back when
/// the operation's last handle is dropped, so a request holds at most one pooled connection
/// for its reads. A write transaction ([`crate::access::TenantTx`]) first
/// [`releases`](Reads::release) it, so a request never waits for a second connection while
/// holding one.
#[derive(Clone, Default)]
pub struct Reads(Option<Arc<Slot>>);

impl Reads {
    /// Reads that share one transaction; on PostgreSQL a [`PgTxn`], whose statements are
    /// counted into `metrics`.
    pub fn shared(metrics: &Metrics) -> Self {
        Self(Some(Arc::new(Slot { open: Default::default(), log: Some(StatementLog::new(metrics)) })))
    }

    fn conn<'a>(&self, db: &'a DatabaseConnection, wall: Wall) -> ScopedConn<'a> {
        match &self.0 {
            Some(slot) => ScopedConn { db, wall, slot: slot.clone() },
            None => ScopedConn::new(db, wall),
        }
    }

    /// `db` behind `scope`'s wall.
    pub fn tenant<'a>(&self, db: &'a DatabaseConnection, scope: TenantScope) -> ScopedConn<'a> {
        self.conn(db, Wall::tenants([scope.tenant_id]))
    }

    /// `db` behind the wall of `tenants` (see [`tenants_conn`]).
    pub fn tenants<'a>(
        &self,
        db: &'a DatabaseConnection,
        tenants: impl IntoIterator<Item = Uuid>,
    ) -> ScopedConn<'a> {
        self.conn(db, Wall::tenants(tenants))
    }

    /// `db` for tables outside row-level security (users), in the shared transaction when
    /// one is open.
    pub fn outside<'a>(&self, db: &'a DatabaseConnection) -> ScopedConn<'a> {
        self.conn(db, Wall::Outside)
    }

    /// `db` seeing every tenant's rows (see [`across_tenants`]).
    pub fn across<'a>(&self, db: &'a DatabaseConnection) -> ScopedConn<'a> {
        self.conn(db, Wall::AcrossTenants)
    }

    /// Ends the shared read transaction, if one is open, and gives its connection back to
    /// the pool (the next read opens another).
    pub async fn release(&self) {
        if let Some(slot) = &self.0 {
            if let Some(open) = slot.open.lock().await.take() {
                if let Err(e) = open.txn.rollback().await {
                    tracing::warn!(error = %e, "ending a request's read transaction failed");
                }
            }
        }
    }
}

impl std::fmt::Debug for Reads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "Reads::shared" } else { "Reads::separate" })
    }
}

/// Runs `$call` on the walled transaction: a plain `SELECT` leaves it open for the next
/// statement, anything else commits it; an error ends it (PostgreSQL refuses every further
/// statement of a failed transaction).
macro_rules! walled {
    ($self:ident, $select:expr, |$txn:ident| $call:expr) => {{
        let mut open = $self.txn().await?;
        let result = {
            let $txn = &mut open.as_mut().expect("an open transaction").txn;
            $call.await
        };
        match result {
            Ok(value) if $select => Ok(value),
            Ok(value) => {
                open.take().expect("an open transaction").txn.commit().await?;
                Ok(value)
            }
            Err(e) => {
                open.take();
                Err(e)
            }
        }
    }};
}

fn is_plain_select(sql: &str) -> bool {
    let head = sql.trim_start();
    head.len() >= 6 && head[..6].eq_ignore_ascii_case("SELECT")
}

#[async_trait::async_trait]
impl ConnectionTrait for ScopedConn<'_> {
    fn get_database_backend(&self) -> sea_orm::DbBackend {
        self.db.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        if !self.walled() {
            return self.db.execute_raw(stmt).await;
        }
        walled!(self, false, |txn| txn.execute(stmt))
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        if !self.walled() {
            return self.db.execute_unprepared(sql).await;
        }
        walled!(self, false, |txn| txn.execute_unprepared(sql))
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        if !self.walled() {
            return self.db.query_one_raw(stmt).await;
        }
        let select = is_plain_select(&stmt.sql);
        walled!(self, select, |txn| txn.query_one(stmt))
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        if !self.walled() {
            return self.db.query_all_raw(stmt).await;
        }
        let select = is_plain_select(&stmt.sql);
        walled!(self, select, |txn| txn.query_all(stmt))
    }

    fn support_returning(&self) -> bool {
        self.db.support_returning()
    }
}

/// A connection that sees the rows of `tenants` (for loaders whose keys name several
/// tenants, each already cleared by the viewer's access check).
pub fn tenants_conn(db: &DatabaseConnection, tenants: impl IntoIterator<Item = Uuid>) -> ScopedConn<'_> {
    ScopedConn::new(db, Wall::tenants(tenants))
}

/// A connection that sees every tenant's rows. Only for what must look before (or without)
/// a tenant decision: the viewer's own memberships (the access check itself),
/// [`owning_tenant`], lookups by secret (API key, invitation token), slug uniqueness, and
/// the workflow workers' queue. Each caller says why in a comment.
pub fn across_tenants(db: &DatabaseConnection) -> ScopedConn<'_> {
    ScopedConn::new(db, Wall::AcrossTenants)
}

/// Starts a write transaction that sees every tenant's rows: for the workers' own
/// bookkeeping that spans tenants (a person's notifications and the system jobs that mail
/// them), never for a request's reads. Callers say why.
pub async fn begin_across_tenants_txn(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    let txn = super::begin_write(db).await?;
    Wall::AcrossTenants.raise(&txn).await?;
    Ok(txn)
}

/// Runs `write` — an insert of system rows (no tenant: a system job, say) — inside `txn`, a
/// write transaction behind `restore`'s wall or none: the across-tenants wall is raised for
/// `write` alone and `txn` is put back behind `tenant` (or behind no tenant's wall) right after,
/// so nothing else the transaction does sees across tenants. The rows commit or roll back with
/// `txn`. No-op walls on SQLite.
pub async fn with_system_rows<T>(
    txn: &DatabaseTransaction,
    tenant: Option<Uuid>,
    write: impl AsyncFnOnce(&DatabaseTransaction) -> Result<T, DbErr>,
) -> Result<T, DbErr> {
    Wall::AcrossTenants.raise(txn).await?;
    let out = write(txn).await;
    Wall::tenants(tenant).raise(txn).await?;
    out
}

/// Starts a transaction for work inside one tenant. On PostgreSQL the tenant is set as the
/// transaction-local setting `zygo.tenant_ids`, which the row-level security policies check.
pub async fn begin_tenant_txn(
    db: &DatabaseConnection,
    scope: TenantScope,
) -> Result<DatabaseTransaction, DbErr> {
    let txn = super::begin_write(db).await?;
    Wall::tenants([scope.tenant_id]).raise(&txn).await?;
    Ok(txn)
}

/// Starts a write transaction behind the walls of several tenants at once: for a worker
/// writing what several tenants' runs produced in one commit. Each statement in it must
/// still name its rows' tenants.
pub async fn begin_tenants_txn(
    db: &DatabaseConnection,
    tenants: impl IntoIterator<Item = Uuid>,
) -> Result<DatabaseTransaction, DbErr> {
    let txn = super::begin_write(db).await?;
    Wall::tenants(tenants).raise(&txn).await?;
    Ok(txn)
}

/// Loads rows of several tenants by `(tenant_id, id)` keys in one statement, for
/// batch loaders. A row whose tenant differs from its key's tenant is left out, so a key
/// never yields another tenant's row. `db` must see the keys' tenants ([`tenants_conn`]).
pub async fn load_scoped_by_ids<E, C>(
    db: &C,
    id_col: E::Column,
    keys: &[(Uuid, Uuid)],
) -> Result<crate::db::FastMap<(Uuid, Uuid), E::Model>, DbErr>
where
    E: TenantOwned,
    E::Model: sea_orm::ModelTrait<Entity = E> + super::positional::Decode,
    C: ConnectionTrait,
{
    use sea_orm::{ModelTrait, sea_query::ValueType};
    let wanted: std::collections::HashSet<(Uuid, Uuid)> = keys.iter().copied().collect();
    let ids: Vec<Uuid> = keys.iter().map(|k| k.1).collect();
    let backend = db.get_database_backend();
    let select = E::find().filter(super::key_in(backend, id_col, ids));
    let rows = <E::Model as super::positional::Decode>::decode_all(
        db.query_all_raw(sea_orm::QueryTrait::build(&select, backend)).await?,
    )?;
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
/// key, for batch loaders. As in [`load_scoped_by_ids`], a row is returned only under a key
/// naming its own tenant. Every key is present in the result, with an empty list if needed.
pub async fn load_scoped_children<E, C>(
    db: &C,
    parent_col: E::Column,
    keys: &[(Uuid, Uuid)],
) -> Result<crate::db::FastMap<(Uuid, Uuid), Vec<E::Model>>, DbErr>
where
    E: TenantOwned,
    E::Model: sea_orm::ModelTrait<Entity = E>,
    C: ConnectionTrait,
{
    use sea_orm::{ModelTrait, sea_query::ValueType};
    let mut out: crate::db::FastMap<(Uuid, Uuid), Vec<E::Model>> =
        keys.iter().map(|k| (*k, Vec::new())).collect();
    let parents: Vec<Uuid> = keys.iter().map(|k| k.1).collect();
    for m in E::find().filter(super::key_in(db.get_database_backend(), parent_col, parents)).all(db).await? {
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
/// `across` sees every tenant ([`across_tenants`] or [`Reads::across`]): this is the lookup
/// that precedes the access check.
pub async fn owning_tenant<E>(
    across: &ScopedConn<'_>,
    id_col: E::Column,
    id: Uuid,
) -> Result<Option<Uuid>, DbErr>
where
    E: TenantOwned,
{
    use sea_orm::QuerySelect;
    E::find().select_only().column(E::tenant_column()).filter(id_col.eq(id)).into_tuple().one(across).await
}

/// Row `id` of `E` with the tenant owning it: like [`owning_tenant`], a lookup by ID that
/// precedes the access check, through `across` (which sees every tenant). The caller returns
/// the row only when the viewer's access to that tenant passes.
pub async fn owned_by_id<E>(
    across: &ScopedConn<'_>,
    id_col: E::Column,
    id: Uuid,
) -> Result<Option<(Uuid, E::Model)>, DbErr>
where
    E: TenantOwned,
    E::Model: sea_orm::ModelTrait<Entity = E>,
{
    use sea_orm::{ModelTrait, sea_query::ValueType};
    let Some(row) = E::find().filter(id_col.eq(id)).one(across).await? else { return Ok(None) };
    let tenant = <Uuid as ValueType>::try_from(row.get(E::tenant_column()))
        .map_err(|_| DbErr::Type("the tenant column is not a UUID".into()))?;
    Ok(Some((tenant, row)))
}

/// Serialises changes to one tenant's memberships and roles: takes the tenant row's write
/// lock at the start of `txn` (a no-op update). On PostgreSQL a second transaction waits on
/// the row lock; on SQLite it waits for the database write lock. Call it first in the
/// transaction, before any read, so the checks that follow see every committed change.
pub async fn lock_tenant(txn: &impl ConnectionTrait, scope: TenantScope) -> Result<(), DbErr> {
    use entity::tenant;
    use sea_orm::{EntityTrait, sea_query::Expr};
    tenant::Entity::update_many()
        .col_expr(tenant::Column::UpdatedAt, Expr::col(tenant::Column::UpdatedAt))
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
) -> Result<crate::db::FastMap<Uuid, Vec<E::Model>>, DbErr>
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
