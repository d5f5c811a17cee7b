//! Failure throttles kept in the database, so every instance counts into the same row.
//!
//! An attempt is counted *before* the thing it guards is checked ([`Throttle::attempt`]),
//! inside a write transaction that serialises on the row (SQLite `BEGIN IMMEDIATE`,
//! PostgreSQL `SELECT … FOR UPDATE`): of any number of parallel attempts, only as many as
//! the limit ever reach the password check; the rest are refused. A success takes its
//! count back ([`Throttle::succeeded`]). Crossing the limit locks the key for a lockout
//! that doubles with each repeat (capped at a day).

use chrono::{DateTime, Duration, Utc};
use entity::auth_throttle;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, QuerySelect, Set, sea_query::OnConflict};

use crate::ctx::Ctx;
use crate::error::{AppError, AppResult};

/// The longest lockout.
const MAX_LOCKOUT_SECS: i64 = 24 * 3600;

/// One throttled thing.
#[derive(Clone, Debug)]
pub struct Throttle {
    pub key: String,
    pub limit: u32,
    pub window: Duration,
    /// The first lockout; `None` means "refuse until the window has passed" (no escalation).
    pub lockout: Option<Duration>,
}

/// What [`Throttle::attempt`] decided.
#[derive(Debug)]
pub enum Attempt {
    /// Go ahead; the attempt is counted until [`Throttle::succeeded`] takes it back.
    Allowed,
    /// Refused until `until`. `newly_locked` is true for the attempt that caused the lock.
    Refused { until: DateTime<Utc>, newly_locked: bool },
}

impl Attempt {
    /// RATE_LIMITED with the seconds until the next attempt may succeed.
    pub fn into_result(self) -> AppResult<()> {
        match self {
            Attempt::Allowed => Ok(()),
            Attempt::Refused { until, .. } => Err(rate_limited(until)),
        }
    }
}

pub fn rate_limited(until: DateTime<Utc>) -> AppError {
    AppError::RateLimited { retry_after_secs: (until - Utc::now()).num_seconds().max(1) as u64 }
}

impl Throttle {
    pub fn new(key: impl Into<String>, limit: u32, window: std::time::Duration) -> Self {
        Self {
            key: key.into(),
            limit,
            window: Duration::from_std(window).unwrap_or(Duration::minutes(15)),
            lockout: None,
        }
    }

    pub fn with_lockout(mut self, lockout: std::time::Duration) -> Self {
        self.lockout = Some(Duration::from_std(lockout).unwrap_or(Duration::minutes(15)));
        self
    }

    async fn locked_row(
        db: &impl ConnectionTrait,
        key: &str,
        now: DateTime<Utc>,
    ) -> AppResult<auth_throttle::Model> {
        auth_throttle::Entity::insert(auth_throttle::ActiveModel {
            key: Set(key.to_string()),
            failures: Set(0),
            window_started_at: Set(now),
            locked_until: Set(None),
            lockouts: Set(0),
            updated_at: Set(now),
        })
        .on_conflict(OnConflict::column(auth_throttle::Column::Key).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
        let mut q = auth_throttle::Entity::find_by_id(key.to_string());
        if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            q = q.lock_exclusive();
        }
        q.one(db).await?.ok_or_else(|| anyhow::anyhow!("throttle row vanished").into())
    }

    fn lock_until(
        &self,
        row: &auth_throttle::Model,
        now: DateTime<Utc>,
        started: DateTime<Utc>,
    ) -> DateTime<Utc> {
        match self.lockout {
            Some(base) => {
                let factor = 1_i64 << row.lockouts.clamp(0, 16);
                now + Duration::seconds((base.num_seconds() * factor).min(MAX_LOCKOUT_SECS))
            }
            None => started + self.window,
        }
    }

    /// Counts one attempt, atomically; refuses it when the key is locked or when attempts
    /// still in flight already fill the limit (which locks the key).
    pub async fn attempt(&self, ctx: &Ctx) -> AppResult<Attempt> {
        let now = Utc::now();
        let txn = crate::db::begin_write(&ctx.db).await?;
        let row = Self::locked_row(&txn, &self.key, now).await?;
        if let Some(until) = row.locked_until
            && until > now
        {
            txn.commit().await?;
            return Ok(Attempt::Refused { until, newly_locked: false });
        }
        let mut am: auth_throttle::ActiveModel = row.clone().into();
        let (mut failures, mut started) = (row.failures, row.window_started_at);
        if started + self.window <= now || row.locked_until.is_some() {
            // A new window (or the end of a lockout) starts counting afresh.
            failures = 0;
            started = now;
        }
        failures += 1;
        let decision = if failures as u32 > self.limit {
            let until = self.lock_until(&row, now, started);
            am.locked_until = Set(Some(until));
            am.lockouts = Set(row.lockouts + 1);
            failures = 0;
            started = until;
            Attempt::Refused { until, newly_locked: true }
        } else {
            am.locked_until = Set(None);
            Attempt::Allowed
        };
        am.failures = Set(failures);
        am.window_started_at = Set(started);
        am.updated_at = Set(now);
        am.update(&txn).await?;
        txn.commit().await?;
        Ok(decision)
    }

    /// The counted attempt failed. When that makes the limit full, the key locks now (so the
    /// owner hears about it at once): returns the lock's end in that case.
    pub async fn failed(&self, ctx: &Ctx) -> AppResult<Option<DateTime<Utc>>> {
        let now = Utc::now();
        let txn = crate::db::begin_write(&ctx.db).await?;
        let row = Self::locked_row(&txn, &self.key, now).await?;
        let already_locked = row.locked_until.is_some_and(|u| u > now);
        if already_locked || (row.failures as u32) < self.limit {
            txn.commit().await?;
            return Ok(None);
        }
        let until = self.lock_until(&row, now, row.window_started_at);
        let mut am: auth_throttle::ActiveModel = row.clone().into();
        am.locked_until = Set(Some(until));
        am.lockouts = Set(row.lockouts + 1);
        am.failures = Set(0);
        am.window_started_at = Set(until);
        am.updated_at = Set(now);
        am.update(&txn).await?;
        txn.commit().await?;
        Ok(Some(until))
    }

    /// Takes back the count of an attempt that succeeded. With `reset`, the whole key
    /// starts afresh (an account whose owner just proved who they are); without, only this
    /// attempt's count goes (an IP address, where one success says nothing about the rest).
    pub async fn succeeded(&self, ctx: &Ctx, reset: bool) -> AppResult<()> {
        let now = Utc::now();
        let txn = crate::db::begin_write(&ctx.db).await?;
        let row = Self::locked_row(&txn, &self.key, now).await?;
        let mut am: auth_throttle::ActiveModel = row.clone().into();
        if reset {
            am.failures = Set(0);
            am.lockouts = Set(0);
            am.locked_until = Set(None);
        } else {
            am.failures = Set((row.failures - 1).max(0));
        }
        am.updated_at = Set(now);
        am.update(&txn).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Lifts a lock (the owner followed the unlock link). The row stays (reset), so an
    /// attempt that already inserted it still finds it to lock.
    pub async fn clear(ctx: &Ctx, key: &str) -> AppResult<()> {
        Self::clear_in(&ctx.db, key).await
    }

    pub async fn clear_in(db: &impl ConnectionTrait, key: &str) -> AppResult<()> {
        use sea_orm::{ColumnTrait, QueryFilter, sea_query::Expr};
        auth_throttle::Entity::update_many()
            .col_expr(auth_throttle::Column::Failures, Expr::value(0))
            .col_expr(auth_throttle::Column::Lockouts, Expr::value(0))
            .col_expr(auth_throttle::Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None))
            .col_expr(auth_throttle::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(auth_throttle::Column::Key.eq(key))
            .exec(db)
            .await?;
        Ok(())
    }
}

/// Throttle keys, one place for their shapes.
pub mod keys {
    pub fn login_account(email: &str) -> String {
        format!("login:account:{}", email.to_lowercase())
    }
    pub fn login_ip(ip: &str) -> String {
        format!("login:ip:{ip}")
    }
    pub fn mfa_user(user_id: uuid::Uuid) -> String {
        format!("mfa:user:{user_id}")
    }
    pub fn mail_request(kind: &str, email: &str) -> String {
        format!("mail:{kind}:{}", email.to_lowercase())
    }
}
