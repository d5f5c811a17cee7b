//! The transaction a [`super::ScopedConn`] reads in: SeaORM's, or — for an operation's shared
//! reads on PostgreSQL — one driven through sqlx directly, so that `BEGIN` and the wall's
//! settings travel in one round trip.
//!
//! SeaORM begins a transaction with `BEGIN` alone; the wall's `set_config` is then a second
//! round trip. A lookup by ID paid four: `BEGIN`, `set_config`, the `SELECT`, and the
//! `ROLLBACK` that travels with the connection's release. [`PgTxn`] sends
//! `BEGIN; SELECT set_config(…)` as one simple query, so it pays three. The statements are
//! SeaORM's own ([`Statement`]), bound as SeaORM binds them (`sea_query_sqlx`), and answer
//! SeaORM's rows, results and errors: a service cannot tell the two transactions apart.
//! Every statement is counted in `db_statements_total` as SeaORM's are.

use std::{fmt::Display, sync::Arc, time::Instant};

use sea_orm::{
    ConnectionTrait, DatabaseTransaction, DbErr, ExecResult, QueryResult, RuntimeErr, Statement,
    error::ConnAcquireErr,
    sqlx::{self, AssertSqlSafe, Executor as _, SqlSafeStr as _, pool::PoolConnection, postgres::Postgres},
};
use sea_query_sqlx::SqlxValues;
use sqlx_core::transaction::TransactionManager as _;

use crate::telemetry::Metrics;

type Manager = <Postgres as sqlx::Database>::TransactionManager;

/// An open read transaction.
pub(super) enum Txn {
    /// SeaORM's (SQLite, and PostgreSQL outside an operation's shared reads).
    Orm(DatabaseTransaction),
    Pg(PgTxn),
}

/// Counts statements run outside SeaORM into the metrics its callback feeds (see
/// `db::open`), and logs them under `zygo::sql` at debug level as that callback does.
#[derive(Clone)]
pub(crate) struct StatementLog(Metrics);

impl StatementLog {
    pub(crate) fn new(metrics: &Metrics) -> Self {
        Self(metrics.clone())
    }

    pub(crate) fn record(&self, statement: &dyn Display, elapsed: std::time::Duration, failed: bool) {
        tracing::debug!(target: "zygo::sql", ?elapsed, failed, "{statement}");
        self.0.db_statements.inc();
        if failed {
            self.0.db_statement_errors.inc();
        }
    }
}

/// A PostgreSQL read transaction on a pooled connection of SeaORM's own pool. sqlx's
/// transaction manager counts it, so dropping it queues the `ROLLBACK` that the pool's
/// release sends, exactly as for a dropped SeaORM transaction.
pub(super) struct PgTxn {
    conn: PoolConnection<Postgres>,
    log: StatementLog,
}

impl PgTxn {
    /// Begins a transaction behind the wall `settings` sets (`None`: no setting, for the
    /// tables outside row-level security), in one round trip.
    ///
    /// As `db::begin` explains, sqlx counts a transaction only once `BEGIN`'s answer is read:
    /// a caller cancelled in between would give the pool back a connection inside a
    /// transaction nothing ends. Until the answer is read the connection is held by
    /// [`Unsettled`], which closes it instead. If the server refused the statement after its
    /// `BEGIN` (the transaction would stay open, failed), the connection is rolled back
    /// before it goes back to the pool, or closed if even that fails.
    pub(super) async fn begin(
        pool: &sqlx::PgPool,
        settings: Option<WallSettings>,
        log: &StatementLog,
    ) -> Result<Self, DbErr> {
        let sql = match &settings {
            None => "BEGIN".to_owned(),
            Some(s) => s.begin_sql(),
        };
        let mut unsettled = Unsettled(Some(pool.acquire().await.map_err(acquire_err)?));
        let started = Instant::now();
        let result = Manager::begin(unsettled.conn(), Some(AssertSqlSafe(sql).into_sql_str())).await;
        if settings.is_some() {
            log.record(
                &"SELECT set_config(zygo.tenant_ids, zygo.across_tenants)",
                started.elapsed(),
                result.is_err(),
            );
        }
        match result {
            Ok(()) => Ok(PgTxn { conn: unsettled.settle(), log: log.clone() }),
            Err(e) => {
                // Rolled back, the connection is clean again; otherwise `unsettled` closes it.
                if unsettled.conn().execute("ROLLBACK").await.is_ok() {
                    unsettled.settle();
                }
                Err(query_err(e))
            }
        }
    }

    fn timed<T>(
        &self,
        statement: &dyn Display,
        started: Instant,
        result: Result<T, sqlx::Error>,
    ) -> Result<T, sqlx::Error> {
        self.log.record(statement, started.elapsed(), result.is_err());
        result
    }

    async fn execute(&mut self, stmt: Statement) -> Result<ExecResult, DbErr> {
        let started = Instant::now();
        let result = bound(&stmt).execute(&mut *self.conn).await;
        self.timed(&stmt, started, result).map(Into::into).map_err(exec_err)
    }

    async fn execute_unprepared(&mut self, sql: &str) -> Result<ExecResult, DbErr> {
        let started = Instant::now();
        let result = self.conn.execute(AssertSqlSafe(sql.to_owned())).await;
        self.timed(&sql, started, result).map(Into::into).map_err(exec_err)
    }

    async fn query_one(&mut self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        let started = Instant::now();
        let result = bound(&stmt).fetch_optional(&mut *self.conn).await;
        self.timed(&stmt, started, result).map(|row| row.map(Into::into)).map_err(query_err)
    }

    async fn query_all(&mut self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        let started = Instant::now();
        let result = bound(&stmt).fetch_all(&mut *self.conn).await;
        self.timed(&stmt, started, result)
            .map(|rows| rows.into_iter().map(Into::into).collect())
            .map_err(query_err)
    }
}

impl Drop for PgTxn {
    fn drop(&mut self) {
        // A no-op once committed or rolled back: the manager's depth is back to zero.
        Manager::start_rollback(&mut self.conn);
    }
}

/// A connection whose `BEGIN` has been sent but not yet answered: dropped (its caller
/// cancelled), it is taken out of the pool and closed, which ends whatever the server began.
struct Unsettled(Option<PoolConnection<Postgres>>);

impl Unsettled {
    fn conn(&mut self) -> &mut PoolConnection<Postgres> {
        self.0.as_mut().expect("an unsettled connection")
    }

    /// The connection, in a known state: it goes back to the pool as usual when dropped.
    fn settle(mut self) -> PoolConnection<Postgres> {
        self.0.take().expect("an unsettled connection")
    }
}

impl Drop for Unsettled {
    fn drop(&mut self) {
        if let Some(conn) = self.0.take() {
            drop(conn.detach());
        }
    }
}

/// The two settings the row-level security policies read, as `SET LOCAL` values. Only
/// [`super::Wall`] makes them, from `Uuid`s and the literals `on`/`off`, which is what lets
/// [`PgTxn::begin`] write them into its statement's text.
pub(super) struct WallSettings {
    pub tenant_ids: String,
    pub across: &'static str,
}

impl WallSettings {
    pub(super) fn new(tenant_ids: String, across: &'static str) -> Result<Self, DbErr> {
        // Belt and braces for the text of `PgTxn::begin`: UUIDs joined by commas.
        if !tenant_ids.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-' || b == b',')
            || !matches!(across, "on" | "off")
        {
            return Err(DbErr::Custom("a wall's settings are UUIDs and on/off".into()));
        }
        Ok(Self { tenant_ids, across })
    }

    /// The statement that puts an open transaction behind these settings.
    pub(super) fn statement(self) -> Statement {
        Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT set_config('zygo.tenant_ids', $1, true), set_config('zygo.across_tenants', $2, true)",
            [self.tenant_ids.into(), self.across.into()],
        )
    }

    /// `BEGIN` and [`Self::statement`] as one simple query, the values written in (see `new`).
    fn begin_sql(&self) -> String {
        format!(
            "BEGIN; SELECT set_config('zygo.tenant_ids', '{}', true), set_config('zygo.across_tenants', '{}', true)",
            self.tenant_ids, self.across
        )
    }
}

fn bound(stmt: &Statement) -> sqlx::query::Query<'_, Postgres, SqlxValues> {
    sqlx::query_with(
        AssertSqlSafe(stmt.sql.as_str()),
        SqlxValues(stmt.values.clone().unwrap_or_else(|| sea_orm::Values(Vec::new()))),
    )
}

fn exec_err(e: sqlx::Error) -> DbErr {
    DbErr::Exec(RuntimeErr::SqlxError(Arc::new(e)))
}

fn query_err(e: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(Arc::new(e)))
}

/// As SeaORM maps a failed acquire, so callers see the same errors either way.
fn acquire_err(e: sqlx::Error) -> DbErr {
    match e {
        sqlx::Error::PoolTimedOut => DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
        sqlx::Error::PoolClosed => DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed),
        e => DbErr::Conn(RuntimeErr::SqlxError(Arc::new(e))),
    }
}

impl Txn {
    pub(super) async fn execute(&mut self, stmt: Statement) -> Result<ExecResult, DbErr> {
        match self {
            Txn::Orm(t) => t.execute_raw(stmt).await,
            Txn::Pg(t) => t.execute(stmt).await,
        }
    }

    pub(super) async fn execute_unprepared(&mut self, sql: &str) -> Result<ExecResult, DbErr> {
        match self {
            Txn::Orm(t) => t.execute_unprepared(sql).await,
            Txn::Pg(t) => t.execute_unprepared(sql).await,
        }
    }

    pub(super) async fn query_one(&mut self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        match self {
            Txn::Orm(t) => t.query_one_raw(stmt).await,
            Txn::Pg(t) => t.query_one(stmt).await,
        }
    }

    pub(super) async fn query_all(&mut self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        match self {
            Txn::Orm(t) => t.query_all_raw(stmt).await,
            Txn::Pg(t) => t.query_all(stmt).await,
        }
    }

    pub(super) async fn commit(self) -> Result<(), DbErr> {
        match self {
            Txn::Orm(t) => t.commit().await,
            Txn::Pg(mut t) => Manager::commit(&mut t.conn).await.map_err(exec_err),
        }
    }

    pub(super) async fn rollback(self) -> Result<(), DbErr> {
        match self {
            Txn::Orm(t) => t.rollback().await,
            Txn::Pg(mut t) => Manager::rollback(&mut t.conn).await.map_err(exec_err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::WallSettings;

    #[test]
    fn wall_settings_written_into_sql_are_uuids_and_on_off() {
        let ids = "0190b1c4-0000-7000-8000-000000000001,0190b1c4-0000-7000-8000-000000000002";
        assert!(WallSettings::new(ids.into(), "off").is_ok());
        assert!(WallSettings::new(String::new(), "on").is_ok());
        for bad in ["x' , true); DROP TABLE users; --", "0190b1c4 ", "a'b"] {
            assert!(WallSettings::new(bad.into(), "off").is_err(), "{bad}");
        }
        assert!(WallSettings::new(String::new(), "yes").is_err());
    }
}
