//! Database access: the connection (SQLite file by default, PostgreSQL when configured),
//! migrations, and the tenant-scoped helpers that are the only door to tenant rows.
//!
//! Services never filter tenant-owned tables by hand: they go through [`TenantScope`],
//! which adds `tenant_id = …` to every select/update/delete and sets it on every insert.
//! Batch loaders use [`load_scoped_by_ids`] / [`load_scoped_children`], keyed by
//! `(tenant, id)`. The only reads that precede a tenant decision are the viewer's own
//! memberships (the access check itself, in the tenancy service) and [`owning_tenant`].

pub mod page;
mod scoped;

use std::time::Duration;

use anyhow::Context as _;
use migration::MigratorTrait;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend};
use secrecy::ExposeSecret;

pub use scoped::{
    TenantScope, begin_tenant_txn, load_for_tenants, load_scoped_by_ids, load_scoped_children, lock_tenant,
    owning_tenant,
};

use crate::{config::Config, telemetry::Metrics};

/// The database URL the configuration resolves to.
pub fn database_url(config: &Config) -> String {
    match &config.database_url {
        Some(url) => url.expose_secret().to_string(),
        None => format!("sqlite://{}?mode=rwc", config.data_dir.join("zygo.db").display()),
    }
}

/// Opens the connection pool and wires statement counting into `metrics`.
pub async fn connect(config: &Config, metrics: &Metrics) -> anyhow::Result<DatabaseConnection> {
    let url = database_url(config);
    let is_sqlite = url.starts_with("sqlite:");
    let mut opts = ConnectOptions::new(url);
    opts.max_connections(config.db_max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    let mut db =
        Database::connect(opts).await.context("cannot connect to the database (ZYGO_DATABASE_URL)")?;
    if is_sqlite {
        // WAL lets readers run while one writer commits; the setting is kept in the file.
        db.execute_unprepared("PRAGMA journal_mode=WAL").await?;
    }
    let statements = metrics.db_statements.clone();
    let errors = metrics.db_statement_errors.clone();
    db.set_metric_callback(move |info| {
        tracing::debug!(target: "zygo::sql", elapsed = ?info.elapsed, failed = info.failed, "{}", info.statement);
        statements.inc();
        if info.failed {
            errors.inc();
        }
    });
    Ok(db)
}

/// Starts a transaction that will write. On SQLite it is `BEGIN IMMEDIATE`: the write lock
/// is taken at the start (waiting up to the busy timeout) instead of failing with
/// "database is locked" when a transaction that began by reading later needs to write while
/// another connection wrote in between. PostgreSQL ignores the option.
pub async fn begin_write(db: &DatabaseConnection) -> Result<sea_orm::DatabaseTransaction, sea_orm::DbErr> {
    use sea_orm::{SqliteTransactionMode, TransactionOptions, TransactionTrait};
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
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
