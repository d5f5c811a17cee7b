//! The job dashboard: every background job kind with its counts by state and its oldest
//! waiting job (the durable jobs of `crate::jobs`, the mail outbox and the workflow
//! queue), the failed jobs with their errors, and the operator's retry and cancel. Reads
//! across tenants (the caller checked the platform role); a retry or cancel of a tenant's
//! job is audited in that tenant's log too (actor `platform_admin`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use entity::{
    execution::{self, ExecutionStatus},
    job::{self, JobStatus},
    mail_outbox::{self, MailStatus},
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use crate::{
    access::{
        Actor, Change, TenantCtx, TenantTx,
        platform::{PlatformEntry, audit},
    },
    ctx::Ctx,
    db::{
        across_tenants, begin_across_tenants_txn,
        page::{PageArgs, Rows, page},
    },
    error::{AppError, AppResult},
};

/// The state of one queue.
#[derive(Clone, Debug, Default)]
pub struct Queue {
    /// The job kind (`billing.collect`, …), `mail` for the outbox, `workflow.execution` for runs.
    pub kind: String,
    pub queued: u64,
    pub running: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub cancelled: u64,
    /// When the longest-waiting job became due.
    pub oldest_waiting: Option<DateTime<Utc>>,
}

/// The mail outbox's kind on the dashboard.
pub const MAIL: &str = "mail";
/// The workflow queue's kind on the dashboard.
pub const WORKFLOW: &str = "workflow.execution";

/// Every queue: each registered job kind (also when empty), the mail outbox and the
/// workflow queue. Six statements whatever the number of jobs.
pub async fn queues(ctx: &Ctx) -> AppResult<Vec<Queue>> {
    // The dashboard counts every tenant's jobs: the caller holds a platform role.
    let db = across_tenants(&ctx.db);
    let now = ctx.now();
    let mut out: BTreeMap<String, Queue> = ctx
        .jobs
        .kinds()
        .into_iter()
        .map(|k| (k.to_string(), Queue { kind: k.to_string(), ..Default::default() }))
        .collect();
    let counts: Vec<(String, JobStatus, i64)> = job::Entity::find()
        .select_only()
        .column(job::Column::Kind)
        .column(job::Column::Status)
        .column_as(Expr::col(job::Column::Id).count(), "n")
        .group_by(job::Column::Kind)
        .group_by(job::Column::Status)
        .into_tuple()
        .all(&db)
        .await?;
    for (kind, status, n) in counts {
        let q = out.entry(kind.clone()).or_insert_with(|| Queue { kind, ..Default::default() });
        let n = u64::try_from(n).unwrap_or(0);
        match status {
            JobStatus::Queued => q.queued += n,
            JobStatus::Running => q.running += n,
            JobStatus::Succeeded => q.succeeded += n,
            JobStatus::Failed => q.failed += n,
            JobStatus::Cancelled => q.cancelled += n,
        }
    }
    let oldest: Vec<(String, Option<DateTime<Utc>>)> = job::Entity::find()
        .select_only()
        .column(job::Column::Kind)
        .column_as(Expr::col(job::Column::RunAt).min(), "oldest")
        .filter(job::Column::Status.eq(JobStatus::Queued))
        .filter(job::Column::RunAt.lte(now))
        .group_by(job::Column::Kind)
        .into_tuple()
        .all(&db)
        .await?;
    for (kind, at) in oldest {
        if let Some(q) = out.get_mut(&kind) {
            q.oldest_waiting = at;
        }
    }
    // The platform's mail outbox (no tenant wall on it).
    let mut mail = Queue { kind: MAIL.into(), ..Default::default() };
    let counts: Vec<(MailStatus, i64)> = mail_outbox::Entity::find()
        .select_only()
        .column(mail_outbox::Column::Status)
        .column_as(Expr::col(mail_outbox::Column::Id).count(), "n")
        .group_by(mail_outbox::Column::Status)
        .into_tuple()
        .all(&db)
        .await?;
    for (status, n) in counts {
        let n = u64::try_from(n).unwrap_or(0);
        match status {
            MailStatus::Pending => mail.queued += n,
            MailStatus::Sending => mail.running += n,
            MailStatus::Sent => mail.succeeded += n,
            MailStatus::Failed => mail.failed += n,
        }
    }
    mail.oldest_waiting = mail_outbox::Entity::find()
        .select_only()
        .column_as(Expr::col(mail_outbox::Column::NextAttemptAt).min(), "oldest")
        .filter(mail_outbox::Column::Status.eq(MailStatus::Pending))
        .filter(mail_outbox::Column::NextAttemptAt.lte(now))
        .into_tuple::<Option<DateTime<Utc>>>()
        .one(&db)
        .await?
        .flatten();
    let mut runs = Queue { kind: WORKFLOW.into(), ..Default::default() };
    let counts: Vec<(ExecutionStatus, i64)> = execution::Entity::find()
        .select_only()
        .column(execution::Column::Status)
        .column_as(Expr::col(execution::Column::Id).count(), "n")
        .group_by(execution::Column::Status)
        .into_tuple()
        .all(&db)
        .await?;
    for (status, n) in counts {
        let n = u64::try_from(n).unwrap_or(0);
        match status {
            ExecutionStatus::Queued => runs.queued += n,
            ExecutionStatus::Running => runs.running += n,
            ExecutionStatus::Succeeded => runs.succeeded += n,
            ExecutionStatus::Failed => runs.failed += n,
            ExecutionStatus::Cancelled => runs.cancelled += n,
        }
    }
    runs.oldest_waiting = execution::Entity::find()
        .select_only()
        .column_as(Expr::col(execution::Column::CreatedAt).min(), "oldest")
        .filter(execution::Column::Status.eq(ExecutionStatus::Queued))
        .into_tuple::<Option<DateTime<Utc>>>()
        .one(&db)
        .await?
        .flatten();
    let mut all: Vec<Queue> = out.into_values().collect();
    all.push(mail);
    all.push(runs);
    Ok(all)
}

/// A page of failed jobs (oldest first), optionally of one `kind`.
pub async fn failed(ctx: &Ctx, kind: Option<&str>, args: &PageArgs) -> AppResult<Rows<job::Model>> {
    // Every tenant's failures: the caller holds a platform role.
    let db = across_tenants(&ctx.db);
    let window = args.window(ctx.config.max_page_size)?;
    let mut select = job::Entity::find().filter(job::Column::Status.eq(JobStatus::Failed));
    if let Some(k) = kind {
        select = select.filter(job::Column::Kind.eq(k));
    }
    Ok(page(&db, select, job::Column::Id, window).await?)
}

/// What an operator does to a job.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum JobAction {
    /// A failed (or cancelled) job runs again now, with its attempts counted afresh.
    Retry,
    /// A queued job never runs.
    Cancel,
}

/// Retries or cancels job `id` as `operator` (acting from `request`), with `reason`: the
/// change, the platform audit entry and, for a tenant's job, the tenant's own entry commit
/// together; a retry wakes the workers.
pub async fn act(
    ctx: &Ctx,
    operator: Uuid,
    request: &Actor,
    id: Uuid,
    action: JobAction,
    reason: Option<String>,
) -> AppResult<job::Model> {
    // Finding the job's tenant comes before any tenant decision.
    let current =
        job::Entity::find_by_id(id).one(&across_tenants(&ctx.db)).await?.ok_or(AppError::NotFound("job"))?;
    let now = ctx.now();
    let entry = |name: &'static str| PlatformEntry {
        actor_id: Some(operator),
        action: name,
        organisation_id: current.tenant_id,
        target_type: "Job",
        target_id: Some(id.to_string()),
        reason: reason.clone(),
        metadata: Some(serde_json::json!({ "kind": current.kind, "lastError": current.last_error })),
    };
    let (tenant_action, platform_action) = match action {
        JobAction::Retry => ("job.retried", "admin.job_retried"),
        JobAction::Cancel => ("job.cancelled", "admin.job_cancelled"),
    };
    match current.tenant_id {
        Some(tenant) => {
            let tctx = TenantCtx::platform_operator(tenant, operator, request);
            let mut tx = TenantTx::open(ctx, &tctx).await?;
            change(&tx, id, action, now).await?;
            tx.audit(Change {
                action: tenant_action,
                target_type: "Job",
                target_id: Some(id),
                before: Some(serde_json::json!({ "kind": current.kind, "status": current.status })),
                after: Some(serde_json::json!({ "reason": reason })),
            })
            .await?;
            audit(&tx, entry(platform_action), now).await?;
            tx.commit().await?;
        }
        None => {
            // A system job (a schedule) belongs to no tenant.
            let txn = begin_across_tenants_txn(&ctx.db).await?;
            change(&txn, id, action, now).await?;
            audit(&txn, entry(platform_action), now).await?;
            txn.commit().await?;
        }
    }
    if action == JobAction::Retry {
        crate::jobs::wake(ctx).await;
    }
    job::Entity::find_by_id(id).one(&across_tenants(&ctx.db)).await?.ok_or(AppError::NotFound("job"))
}

/// The state change itself, refused when the job is not in a state it applies to (checked
/// in the statement: a worker claiming it at the same moment wins, never both).
async fn change(db: &impl ConnectionTrait, id: Uuid, action: JobAction, now: DateTime<Utc>) -> AppResult<()> {
    use job::Column as C;
    let update = job::Entity::update_many().filter(C::Id.eq(id));
    let done = match action {
        JobAction::Retry => {
            update
                .filter(C::Status.is_in([JobStatus::Failed, JobStatus::Cancelled]))
                .col_expr(C::Status, Expr::value(JobStatus::Queued))
                .col_expr(C::Attempts, Expr::value(0))
                .col_expr(C::RunAt, Expr::value(now))
                .col_expr(C::FinishedAt, Expr::value(Option::<DateTime<Utc>>::None))
                .col_expr(C::LeaseOwner, Expr::value(Option::<String>::None))
                .col_expr(C::LeaseExpiresAt, Expr::value(Option::<DateTime<Utc>>::None))
                .exec(db)
                .await?
        }
        JobAction::Cancel => {
            update
                .filter(C::Status.eq(JobStatus::Queued))
                .col_expr(C::Status, Expr::value(JobStatus::Cancelled))
                .col_expr(C::FinishedAt, Expr::value(Some(now)))
                .exec(db)
                .await?
        }
    };
    if done.rows_affected == 0 {
        return Err(AppError::validation(
            "id",
            match action {
                JobAction::Retry => "only a failed or cancelled job can be retried",
                JobAction::Cancel => "only a waiting job can be cancelled",
            },
        ));
    }
    Ok(())
}
