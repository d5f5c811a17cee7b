//! The statements on `jobs`: adding a job, claiming due ones, renewing a lease and recording
//! how a run ended. Claims and their follow-ups look across tenants (the queue is shared by
//! every tenant; a claimed job is then worked on behind its own tenant's wall by its handler);
//! every write after a claim names this instance's lease, so a worker that lost its lease
//! changes nothing.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::job::{self, JobStatus};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::{Expr, ExprTrait, LockBehavior, LockType, OnConflict, Query},
};
use uuid::Uuid;

use super::{Jobs, NewJob};
use crate::ctx::Ctx;

/// Adds `job` for `tenant` (`None`: a system job) through `db` — the transaction of the change
/// that wants it, so it exists exactly when that change commits. `Ok(false)`: a job of that
/// kind and key exists already (done or not) and nothing was added. Wake the workers after the
/// commit ([`super::wake`]; [`crate::access::TenantTx::enqueue`] does it for you).
pub async fn enqueue(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    tenant: Option<Uuid>,
    job: NewJob,
) -> Result<bool, DbErr> {
    let row = job::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tenant),
        kind: Set(job.kind.to_string()),
        key: Set(job.key),
        payload: Set(job.payload),
        status: Set(JobStatus::Queued),
        run_at: Set(job.run_at.unwrap_or(now)),
        attempts: Set(0),
        max_attempts: Set(job.max_attempts),
        lease_owner: Set(None),
        lease_expires_at: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        finished_at: Set(None),
    };
    let added = job::Entity::insert_many([row])
        .on_conflict(OnConflict::columns([job::Column::Kind, job::Column::Key]).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(added > 0)
}

/// Due jobs: queued ones whose time came, and running ones whose lease expired (their worker
/// was lost).
fn due(now: DateTime<Utc>) -> sea_orm::Condition {
    use job::Column as C;
    sea_orm::Condition::any()
        .add(sea_orm::Condition::all().add(C::Status.eq(JobStatus::Queued)).add(C::RunAt.lte(now)))
        .add(sea_orm::Condition::all().add(C::Status.eq(JobStatus::Running)).add(C::LeaseExpiresAt.lt(now)))
}

/// Claims up to `n` due jobs for this instance, `active` being the jobs it runs per tenant
/// (system jobs count under the nil tenant).
pub(super) async fn claim(
    ctx: &Ctx,
    jobs: &Jobs,
    n: usize,
    workers: usize,
    active: &HashMap<Uuid, usize>,
) -> Result<Vec<job::Model>, DbErr> {
    use job::Column as C;
    let now = ctx.now();
    // Across tenants: the queue is every tenant's; each job then runs behind its own wall.
    let queue = crate::db::across_tenants(&ctx.db);
    let candidates: Vec<(Uuid, Option<Uuid>)> = job::Entity::find()
        .select_only()
        .column(C::Id)
        .column(C::TenantId)
        .filter(due(now))
        .order_by_asc(C::RunAt)
        .limit((n * 16).min(1024) as u64)
        .into_tuple()
        .all(&queue)
        .await?;
    let candidates: Vec<(Uuid, Uuid)> =
        candidates.into_iter().map(|(id, t)| (id, t.unwrap_or(Uuid::nil()))).collect();
    let picked = super::fair_pick(&candidates, active, workers.max(1), n);
    if picked.is_empty() {
        return Ok(Vec::new());
    }
    // The claim re-checks that each picked job is still due: another instance may have taken
    // it since it was read (and skips the rows another claim holds right now).
    let mut still_due = Query::select();
    still_due.column(C::Id).from(job::Entity).and_where(C::Id.is_in(picked)).cond_where(due(now));
    if crate::db::is_postgres(&ctx.db) {
        still_due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let lease = chrono::Duration::from_std(ctx.config.jobs.lease).unwrap_or_default();
    let mut claimed = job::Entity::update_many()
        .col_expr(C::Status, Expr::value(JobStatus::Running))
        .col_expr(C::LeaseOwner, Expr::value(jobs.instance.clone()))
        .col_expr(C::LeaseExpiresAt, Expr::value(now + lease))
        .col_expr(C::Attempts, Expr::col(C::Attempts).add(1))
        .filter(C::Id.in_subquery(still_due))
        .exec_with_returning(&queue)
        .await?;
    claimed.sort_by_key(|j| j.run_at);
    Ok(claimed)
}

/// Keeps `job`'s lease while it runs; `false` once this instance no longer holds it.
pub(super) async fn renew(ctx: &Ctx, jobs: &Jobs, id: Uuid) -> Result<bool, DbErr> {
    let lease = chrono::Duration::from_std(ctx.config.jobs.lease).unwrap_or_default();
    let renewed = job::Entity::update_many()
        .col_expr(job::Column::LeaseExpiresAt, Expr::value(ctx.now() + lease))
        .filter(job::Column::Id.eq(id))
        .filter(job::Column::Status.eq(JobStatus::Running))
        .filter(job::Column::LeaseOwner.eq(jobs.instance.clone()))
        .exec(&crate::db::across_tenants(&ctx.db))
        .await?;
    Ok(renewed.rows_affected == 1)
}

/// How a run ended.
pub(super) enum Ending {
    Succeeded,
    Failed(String),
    RetryAt(DateTime<Utc>, String),
}

/// Records how `job`'s run on this instance ended (nothing if its lease was lost meanwhile:
/// the job is someone else's now).
pub(super) async fn finish(ctx: &Ctx, jobs: &Jobs, id: Uuid, ending: Ending) -> Result<(), DbErr> {
    use job::Column as C;
    let now = ctx.now();
    let mut update = job::Entity::update_many()
        .col_expr(C::LeaseOwner, Expr::value(Option::<String>::None))
        .col_expr(C::LeaseExpiresAt, Expr::value(Option::<DateTime<Utc>>::None));
    update = match ending {
        Ending::Succeeded => update
            .col_expr(C::Status, Expr::value(JobStatus::Succeeded))
            .col_expr(C::FinishedAt, Expr::value(now)),
        Ending::Failed(error) => update
            .col_expr(C::Status, Expr::value(JobStatus::Failed))
            .col_expr(C::LastError, Expr::value(error))
            .col_expr(C::FinishedAt, Expr::value(now)),
        Ending::RetryAt(at, error) => update
            .col_expr(C::Status, Expr::value(JobStatus::Queued))
            .col_expr(C::LastError, Expr::value(error))
            .col_expr(C::RunAt, Expr::value(at)),
    };
    update
        .filter(C::Id.eq(id))
        .filter(C::Status.eq(JobStatus::Running))
        .filter(C::LeaseOwner.eq(jobs.instance.clone()))
        .exec(&crate::db::across_tenants(&ctx.db))
        .await?;
    Ok(())
}

/// Jobs running now under a live lease, on any instance.
pub(super) async fn running(ctx: &Ctx) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    job::Entity::find()
        .filter(job::Column::Status.eq(JobStatus::Running))
        .filter(job::Column::LeaseExpiresAt.gte(ctx.now()))
        .count(&crate::db::across_tenants(&ctx.db))
        .await
}

/// Deletes jobs that succeeded before `before` (failed ones stay for the operator).
pub(super) async fn prune(ctx: &Ctx, before: DateTime<Utc>) -> Result<u64, DbErr> {
    let gone = job::Entity::delete_many()
        .filter(job::Column::Status.eq(JobStatus::Succeeded))
        .filter(job::Column::FinishedAt.lt(before))
        .exec(&crate::db::across_tenants(&ctx.db))
        .await?;
    Ok(gone.rows_affected)
}

/// Makes the waiting job of `kind` and `key` due now (an operator's "run now"): only a queued
/// job due later is moved, so a running one is never started twice. `Ok(false)`: none waits.
pub async fn hasten(
    db: &impl ConnectionTrait,
    kind: &str,
    key: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let moved = job::Entity::update_many()
        .col_expr(job::Column::RunAt, Expr::value(now))
        .filter(job::Column::Kind.eq(kind))
        .filter(job::Column::Key.eq(key))
        .filter(job::Column::Status.eq(JobStatus::Queued))
        .filter(job::Column::RunAt.gt(now))
        .exec(db)
        .await?;
    Ok(moved.rows_affected > 0)
}
