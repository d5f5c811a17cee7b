//! Database access: the connection (SQLite file by default, PostgreSQL when configured),
//! migrations, and the tenant-scoped helpers that are the only door to tenant rows.
//!
//! Services never filter tenant-owned tables by hand: they go through [`TenantScope`],
//! which adds `tenant_id = …` to every select/update/delete and sets it on every insert.
//! Batch loaders use [`load_scoped_by_ids`] / [`load_scoped_children`], keyed by
//! `(tenant, id)`. The only reads that precede a tenant decision are the viewer's own
//! memberships (the access check itself, in the tenancy service) and [`owning_tenant`].
//!
//! On PostgreSQL a second wall backs this up: row-level security on every tenant-owned
//! table, with the server's connections switched to the non-superuser role
//! [`migration::APP_ROLE`]. Statements run through a [`ScopedConn`] ([`TenantScope::on`],
//! [`tenants_conn`]) or a transaction from [`begin_tenant_txn`], which set the tenant with
//! `SET LOCAL`; a statement sent to the bare pool sees no tenant row at all. The few
//! cross-tenant reads use [`across_tenants`], each with its reason.

pub mod catalog;
pub mod page;
pub mod positional;
mod read_txn;
mod scoped;

use std::time::Duration;

/// The maps the batch loaders build by the thousand (keyed by ids, windows, filters):
/// foldhash instead of the standard library's SipHash, whose hashing of every key several
/// times over was a few percent of a long list's CPU. A batch is one operation's and its
/// keys are mostly ids read from the database, so colliding keys would only slow the
/// operation that sent them.
pub type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
/// The set counterpart of [`FastMap`].
pub type FastSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;

use anyhow::Context as _;
use migration::MigratorTrait;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend};
use secrecy::ExposeSecret;

pub use scoped::{
    Reads, ScopedConn, TenantScope, across_tenants, begin_across_tenants_txn, begin_tenant_txn,
    begin_tenants_txn, load_for_tenants, load_scoped_by_ids, load_scoped_children, lock_tenant, owned_by_id,
    owning_tenant, tenants_conn, with_system_rows,
};

use crate::{config::Config, telemetry::Metrics};

/// `col` is one of `keys` (duplicates dropped): a batch loader's filter. On PostgreSQL
/// `col IN (SELECT unnest($1))` with the keys as one `uuid[]` parameter: a batch of 1,000
/// keys binds one value and its statement is planned once, where `col IN ($1, …, $1000)`
/// made the server bind and plan 1,000 parameters on every execution (about a millisecond
/// per statement in its log). Not `col = ANY($1)`: once PostgreSQL keeps a generic plan,
/// that compares every row with every key (4 ms for 1,000 memberships), while the
/// sub-select is hashed or probes the index. Elsewhere `col IN (…)`.
pub fn key_in<C: sea_orm::ColumnTrait>(
    backend: DbBackend,
    col: C,
    keys: impl IntoIterator<Item = uuid::Uuid>,
) -> sea_orm::sea_query::Expr {
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Query};
    let mut keys: Vec<uuid::Uuid> = keys.into_iter().collect();
    keys.sort_unstable();
    keys.dedup();
    match backend {
        DbBackend::Postgres => Expr::col(col.as_column_ref()).in_subquery(
            Query::select()
                .expr(Func::cust(Alias::new("unnest")).arg(Expr::val(sea_orm::Value::from(keys))))
                .to_owned(),
        ),
        _ => col.is_in(keys),
    }
}

/// The database URL the configuration resolves to.
pub fn database_url(config: &Config) -> String {
    match &config.database_url {
        Some(url) => url.expose_secret().to_string(),
        None => format!("sqlite://{}?mode=rwc", config.data_dir.join("zygo.db").display()),
    }
}

/// Opens the server's connection pool and wires statement counting into `metrics`. On
/// PostgreSQL every connection switches to [`migration::APP_ROLE`] at start-up, so
/// row-level security applies to everything the server sends; run [`migrate`] on a pool
/// from [`connect_owner`] first, which creates that role.
pub async fn connect(config: &Config, metrics: &Metrics) -> anyhow::Result<DatabaseConnection> {
    open(config, Some(metrics), config.db_max_connections, true).await
}

/// One connection as the configured database user (the schema's owner), for migrations.
pub async fn connect_owner(config: &Config) -> anyhow::Result<DatabaseConnection> {
    open(config, None, 1, false).await
}

/// Migrates with an owner connection, then opens the server's pool.
pub async fn connect_and_migrate(config: &Config, metrics: &Metrics) -> anyhow::Result<DatabaseConnection> {
    let owner = connect_owner(config).await?;
    migrate(&owner).await?;
    owner.close().await.context("closing the migration connection")?;
    connect(config, metrics).await
}

async fn open(
    config: &Config,
    metrics: Option<&Metrics>,
    max_connections: u32,
    as_app_role: bool,
) -> anyhow::Result<DatabaseConnection> {
    let url = database_url(config);
    let is_sqlite = url.starts_with("sqlite:");
    let mut opts = ConnectOptions::new(url);
    opts.max_connections(max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(10))
        // A ping before handing out a connection costs a round trip on every statement; only
        // connections idle long enough to have been dropped by a proxy or firewall are pinged.
        .test_before_acquire_if_idle_for(Duration::from_secs(30))
        .sqlx_logging(false);
    if as_app_role {
        // The startup parameter `role` is `SET ROLE` for the whole session: the same
        // non-superuser role on every connection, never a per-tenant session setting.
        opts.map_sqlx_postgres_opts(|o| o.options([("role", migration::APP_ROLE)]));
    }
    let mut db =
        Database::connect(opts).await.context("cannot connect to the database (ZYGO_DATABASE_URL)")?;
    if is_sqlite {
        // WAL lets readers run while one writer commits; the setting is kept in the file.
        db.execute_unprepared("PRAGMA journal_mode=WAL").await?;
    }
    if as_app_role && !is_sqlite {
        // Fail closed: a server whose connections bypassed row-level security (as a
        // superuser or the tables' owner would) must not start.
        let role: Option<String> = db
            .query_one_raw(sea_orm::Statement::from_string(DbBackend::Postgres, "SELECT current_user::text"))
            .await?
            .map(|row| row.try_get_by_index(0))
            .transpose()?;
        anyhow::ensure!(
            role.as_deref() == Some(migration::APP_ROLE),
            "the database connections run as {role:?}, not as the role {}: row-level security would not apply",
            migration::APP_ROLE
        );
    }
    if let Some(metrics) = metrics {
        let log = read_txn::StatementLog::new(metrics);
        db.set_metric_callback(move |info| log.record(info.statement, info.elapsed, info.failed));
    }
    Ok(db)
}

/// Starts a transaction that will write. On SQLite it is `BEGIN IMMEDIATE`: the write lock
/// is taken at the start (waiting up to the busy timeout) instead of failing with
/// "database is locked" when a transaction that began by reading later needs to write while
/// another connection wrote in between. PostgreSQL ignores the option.
pub async fn begin_write(db: &DatabaseConnection) -> Result<sea_orm::DatabaseTransaction, sea_orm::DbErr> {
    use sea_orm::{SqliteTransactionMode, TransactionOptions};
    begin(
        db,
        TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        },
    )
    .await
}

/// Starts a transaction; every transaction of the server begins here.
///
/// `BEGIN` runs to its end in a task of its own, so the caller's cancellation (a client that
/// hangs up, the request timeout) cannot interrupt it. sqlx 0.9.0 on PostgreSQL counts a
/// transaction only once `BEGIN`'s answer is read (sqlx issues #4385 and #4393, fixed by
/// PR #4394 in no release yet): a future dropped in between left the pooled connection
/// inside a transaction that nothing would end, and the next borrower's statements ran in
/// it — an autocommit write there was rolled back later. Begun in its own task, the
/// transaction is always counted; if the caller is gone by then, dropping it queues the
/// `ROLLBACK` that travels with the connection's release, as for any dropped transaction.
pub async fn begin(
    db: &DatabaseConnection,
    options: sea_orm::TransactionOptions,
) -> Result<sea_orm::DatabaseTransaction, sea_orm::DbErr> {
    use sea_orm::TransactionTrait;
    let db = db.clone();
    tokio::spawn(async move { db.begin_with_options(options).await })
        .await
        .map_err(|e| sea_orm::DbErr::Custom(format!("beginning a transaction: {e}")))?
}

/// Brings the schema up to date.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    migration::Migrator::up(db, None).await.context("database migration failed")
}

/// Cheap round trip used by `/readyz`.
pub async fn ping(db: &DatabaseConnection) -> Result<(), sea_orm::DbErr> {
    db.ping().await
}

/// True on PostgreSQL, where row locks and `SKIP LOCKED` exist.
pub fn is_postgres(db: &impl ConnectionTrait) -> bool {
    db.get_database_backend() == DbBackend::Postgres
}
