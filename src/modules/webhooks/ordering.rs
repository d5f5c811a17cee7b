//! Ordered endpoints: their deliveries go one at a time, in the order their events committed.
//! A delivery queued while another of the endpoint is queued or running is *parked* (due in a
//! century); when a delivery ends — delivered, or given up after its last attempt — the oldest
//! parked one is let go. A head that is being retried holds the others back, as receivers that
//! ask for order expect.

use chrono::{DateTime, Duration, Utc};
use entity::job::{self, JobStatus};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    Statement, sea_query::Expr,
};
use uuid::Uuid;

use super::delivery::DELIVER;

/// When a parked delivery is due (never, until it is let go).
pub fn parked_at(now: DateTime<Utc>) -> DateTime<Utc> {
    now + Duration::days(36_500)
}

fn of(endpoint: Uuid) -> sea_orm::Condition {
    sea_orm::Condition::all()
        .add(job::Column::Kind.eq(DELIVER))
        // Delivery keys start with the endpoint's id.
        .add(job::Column::Key.like(format!("{endpoint}:%")))
}

/// Holds the endpoint's row until the transaction ends (PostgreSQL), so two transactions
/// committing events for it decide parking one after the other.
pub async fn lock(db: &impl ConnectionTrait, endpoint: Uuid) -> Result<(), DbErr> {
    if db.get_database_backend() == DbBackend::Postgres {
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT 1 FROM webhook_endpoints WHERE id = $1 FOR UPDATE",
            [endpoint.into()],
        ))
        .await?;
    }
    Ok(())
}

/// Whether a delivery of `endpoint` is queued or running.
pub async fn busy(db: &impl ConnectionTrait, endpoint: Uuid) -> Result<bool, DbErr> {
    Ok(job::Entity::find()
        .filter(of(endpoint))
        .filter(job::Column::Status.is_in([JobStatus::Queued, JobStatus::Running]))
        .count(db)
        .await?
        > 0)
}

/// Lets the oldest parked delivery of `endpoint` go now (every one with `all`), leaving
/// `except` (the delivery that just ended) alone.
pub async fn release(
    db: &impl ConnectionTrait,
    endpoint: Uuid,
    now: DateTime<Utc>,
    except: Option<Uuid>,
    all: bool,
) -> Result<(), DbErr> {
    let mut parked = job::Entity::find()
        .filter(of(endpoint))
        .filter(job::Column::Status.eq(JobStatus::Queued))
        .filter(job::Column::RunAt.gt(now + Duration::days(365)))
        .order_by_asc(job::Column::Id);
    if let Some(except) = except {
        parked = parked.filter(job::Column::Id.ne(except));
    }
    let ids: Vec<Uuid> = if all {
        parked.all(db).await?.into_iter().map(|j| j.id).collect()
    } else {
        parked.one(db).await?.map(|j| j.id).into_iter().collect()
    };
    if ids.is_empty() {
        return Ok(());
    }
    job::Entity::update_many()
        .col_expr(job::Column::RunAt, Expr::value(now))
        .filter(job::Column::Id.is_in(ids))
        .exec(db)
        .await?;
    Ok(())
}
