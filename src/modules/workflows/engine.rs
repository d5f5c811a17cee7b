//! The execution engine: a durable queue in the `executions` table and the workers that
//! run it.
//!
//! * **Claim.** A worker claims due queued runs, parked runs whose wake-up time came, and
//!   running ones whose lease expired, with one `UPDATE … WHERE id IN (SELECT … FOR UPDATE
//!   SKIP LOCKED) RETURNING *` (SQLite has one writer, so the same statement without the
//!   lock clause is atomic there). Which runs it asks for is decided fairly: every waiting
//!   tenant's oldest runs are read and no tenant gets more than its share of this instance's
//!   workers while another one waits ([`fair_pick`]). Claims over the tenant's concurrency
//!   cap are handed back at once; runs of a suspended organisation or an archived workflow
//!   fail at claim, and so does a run whose worker was lost [`MAX_CLAIMS`] times
//!   (quarantined: a node that kills its process does not take down one worker after
//!   another).
//! * **Park.** Waiting does not hold a worker: a Delay longer than [`PARK_AFTER`] writes its
//!   `running` row, then parks the run — still `running` for clients, with no lease owner and
//!   `run_after` at its wake-up time — and frees the slot. The claim that wakes it resumes it
//!   like a crashed run (finished nodes are rows), without counting as a lost worker.
//! * **Lease.** While it runs, the worker renews the lease (a heartbeat every third of it).
//!   If the instance dies, another one — or the restarted one — claims the run when the
//!   lease has expired and continues from the last completed node: finished nodes are rows
//!   and are not run again. A node that was interrupted while running runs again only if it
//!   is safe to repeat; otherwise it fails with a clear error.
//! * **Compare-and-set.** Every write of the runner is conditional on the run still being
//!   `running` under this worker's lease, so a cancelled run stays `cancelled`: a late
//!   success finds nothing to update and is dropped.
//! * **Group commit.** Node results are written with the next durability point — before a
//!   node that is not safe to repeat, every second, and with the run's final state — so a
//!   run of fast nodes costs one transaction, and a crash at worst reruns safe nodes.
//! * **Cancel.** The runner listens on its execution's event topic (local or Redis) and
//!   stops the node in flight at once when the run is cancelled; HTTP, Delay, Code, LLM and
//!   agent nodes are interrupted, not waited for.

use std::{
    collections::{BTreeSet, HashMap},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use chrono::Utc;
use entity::{execution, execution_log, node_execution};
use futures::StreamExt;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set,
    sea_query::{Expr, Func, LockBehavior, LockType, OnConflict, Query},
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{
    expr,
    graph::{Backoff, Graph, Layout, NodeSpec, Settings},
    nodes::{self, NodeError},
};
use crate::{db::TenantScope, pubsub::Topic, startup::AppState};

/// Claims of one run (its first one included) after which a lost worker quarantines it: a
/// run whose lease expired again is failed with [`WORKER_LOST`] at its next claim instead of
/// being run once more. Waking a parked run is not a claim of a lost run and does not count.
pub const MAX_CLAIMS: i32 = 3;

/// The error of a quarantined run.
pub const WORKER_LOST: &str = "worker lost repeatedly";

/// A Delay whose rest of the wait is longer than this parks the run instead of holding its
/// worker; a shorter one waits in place (a park costs two writes and a claim).
pub const PARK_AFTER: Duration = Duration::from_secs(1);

/// Process-wide handle of the engine: wakes this instance's workers.
#[derive(Clone)]
pub struct Engine {
    wake: Arc<Notify>,
    /// This instance's name in `lease_owner`.
    pub instance: Arc<str>,
    /// For URLs a tenant's graph names: public hosts only unless the operator allows more.
    pub http: reqwest::Client,
    /// For URLs the operator configured (`ZYGO_LLM_BASE_URL`, often a local model server):
    /// unrestricted, and through the environment's proxy if one is set.
    pub operator_http: reqwest::Client,
}

impl Engine {
    pub fn new(allow_private: bool) -> Self {
        Self {
            wake: Arc::new(Notify::new()),
            instance: format!("{}-{}", std::process::id(), Uuid::new_v4().simple()).into(),
            http: nodes::http_client(allow_private),
            operator_http: nodes::http_client(true),
        }
    }

    /// Tells the local workers that runs are waiting.
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// Status of an execution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, async_graphql::Enum)]
#[serde(rename_all = "lowercase")]
pub enum ExecutionStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl ExecutionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }
    pub fn parse(s: &str) -> Self {
        match s {
            "queued" => Self::Queued,
            "running" => Self::Running,
            "succeeded" => Self::Succeeded,
            "cancelled" => Self::Cancelled,
            _ => Self::Failed,
        }
    }
    pub fn is_final(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Cancelled)
    }
}

/// Status of one node of an execution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, async_graphql::Enum)]
#[serde(rename_all = "lowercase")]
pub enum NodeStatus {
    Running,
    Retrying,
    Succeeded,
    Failed,
    Skipped,
    Cancelled,
}

impl NodeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Retrying => "retrying",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
            Self::Cancelled => "cancelled",
        }
    }
    pub fn parse(s: &str) -> Self {
        match s {
            "running" => Self::Running,
            "retrying" => Self::Retrying,
            "succeeded" => Self::Succeeded,
            "skipped" => Self::Skipped,
            "cancelled" => Self::Cancelled,
            _ => Self::Failed,
        }
    }
}

/// A change of a node's state, as carried by events.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeEvent {
    pub node_id: String,
    pub iteration: String,
    pub status: NodeStatus,
    pub attempt: i32,
    pub port: Option<String>,
    pub error: Option<String>,
}

/// A node's saved state: node id, iteration, status, attempt, port, error, started and
/// finished times (the columns of `node_executions` an event carries).
pub type SavedNodeState = (
    String,
    String,
    String,
    i32,
    Option<String>,
    Option<String>,
    Option<chrono::DateTime<Utc>>,
    Option<chrono::DateTime<Utc>>,
);

/// One event of `executionUpdated` / `workflowExecutions`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionEvent {
    /// Increases with each event one runner sends for a run (per claim).
    pub seq: u64,
    pub execution_id: Uuid,
    pub workflow_id: Uuid,
    pub status: ExecutionStatus,
    pub node: Option<NodeEvent>,
    pub error: Option<String>,
    pub at: chrono::DateTime<Utc>,
}

impl ExecutionEvent {
    /// The run's current status, as a stored row says it.
    pub fn status_of(e: &execution::Model) -> Self {
        Self {
            seq: 0,
            execution_id: e.id,
            workflow_id: e.workflow_id,
            status: ExecutionStatus::parse(&e.status),
            node: None,
            error: e.error.clone(),
            at: Utc::now(),
        }
    }

    /// One node's state as saved, within the run `e`.
    pub fn node_state_of(e: &execution::Model, n: SavedNodeState) -> Self {
        let (node_id, iteration, status, attempt, port, error, started_at, finished_at) = n;
        Self {
            node: Some(NodeEvent {
                node_id,
                iteration,
                status: NodeStatus::parse(&status),
                attempt,
                port,
                error,
            }),
            at: finished_at.or(started_at).unwrap_or_else(Utc::now),
            ..Self::status_of(e)
        }
    }
}

/// One log line as streamed by `executionLogs`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogEvent {
    pub id: Uuid,
    pub execution_id: Uuid,
    pub node_id: Option<String>,
    pub level: String,
    pub message: String,
    pub at: chrono::DateTime<Utc>,
}

pub fn execution_topic(tenant: Uuid, execution: Uuid) -> Topic {
    Topic::tenant(tenant, &format!("execution:{execution}"))
}

pub fn workflow_topic(tenant: Uuid, workflow: Uuid) -> Topic {
    Topic::tenant(tenant, &format!("workflow:{workflow}:executions"))
}

pub fn logs_topic(tenant: Uuid, execution: Uuid) -> Topic {
    Topic::tenant(tenant, &format!("execution:{execution}:logs"))
}

/// Publishes `event` to the run's topic and its workflow's topic.
pub async fn publish(app: &AppState, tenant: Uuid, event: &ExecutionEvent) {
    app.publish(&execution_topic(tenant, event.execution_id), event).await;
    app.publish(&workflow_topic(tenant, event.workflow_id), event).await;
}

/// Runs the workers of this instance until shutdown.
pub async fn run_workers(app: AppState) {
    let cfg = app.config.workflows.clone();
    if cfg.workers == 0 {
        return;
    }
    let slots = Arc::new(Semaphore::new(cfg.workers));
    let engine = app.engine.clone();
    // Runs in progress on this instance per tenant: what fairness weighs claims against.
    let active: Arc<std::sync::Mutex<HashMap<Uuid, usize>>> = Default::default();
    loop {
        let free = slots.available_permits();
        let mut full_batch = false;
        if free > 0 {
            let want = free.min(64);
            let busy = active.lock().expect("lock").clone();
            match claim(&app, want, &busy).await {
                Ok(runs) => {
                    full_batch = runs.len() == want;
                    for run in runs {
                        let permit = slots.clone().acquire_owned().await.expect("semaphore is never closed");
                        let (app, wake, active) = (app.clone(), engine.wake.clone(), active.clone());
                        let tenant = run.tenant_id;
                        *active.lock().expect("lock").entry(tenant).or_default() += 1;
                        tokio::spawn(async move {
                            run_execution(app, run).await;
                            {
                                let mut a = active.lock().expect("lock");
                                if let Some(n) = a.get_mut(&tenant) {
                                    *n -= 1;
                                    if *n == 0 {
                                        a.remove(&tenant);
                                    }
                                }
                            }
                            drop(permit);
                            wake.notify_one();
                        });
                    }
                }
                Err(e) => tracing::warn!(error = %e, "claiming workflow executions failed"),
            }
        }
        if full_batch {
            continue;
        }
        tokio::select! {
            _ = app.shutdown.cancelled() => return,
            _ = engine.wake.notified() => {}
            _ = tokio::time::sleep(cfg.poll_interval) => {}
        }
    }
}

/// Which of the due runs `candidates` (id, tenant; oldest first) this instance claims with
/// `free` slots, given the runs it already has per tenant (`active`) and its `workers`.
///
/// Each step gives a slot to the waiting tenant with the fewest runs here (ties: the one
/// whose run waits longest). While more than one tenant waits, none goes beyond its share,
/// `ceil(workers / waiting tenants)`; slots no one else waits for go to whoever still has
/// runs, so the pool is never left idle for fairness' sake.
pub(crate) fn fair_pick(
    candidates: &[(Uuid, Uuid)],
    active: &HashMap<Uuid, usize>,
    workers: usize,
    free: usize,
) -> Vec<Uuid> {
    // Per tenant, in the order its oldest run appears: its runs, oldest first.
    let mut order: Vec<Uuid> = Vec::new();
    let mut queues: HashMap<Uuid, std::collections::VecDeque<Uuid>> = HashMap::new();
    for (id, tenant) in candidates {
        queues
            .entry(*tenant)
            .or_insert_with(|| {
                order.push(*tenant);
                Default::default()
            })
            .push_back(*id);
    }
    if order.is_empty() {
        return Vec::new();
    }
    let share = workers.div_ceil(order.len()).max(1);
    let mut held: HashMap<Uuid, usize> =
        order.iter().map(|t| (*t, active.get(t).copied().unwrap_or(0))).collect();
    let mut picked = Vec::with_capacity(free);
    for capped in [true, false] {
        while picked.len() < free {
            let next = order
                .iter()
                .filter(|t| !queues[*t].is_empty())
                .filter(|t| !capped || held[*t] < share)
                .min_by_key(|t| held[*t]);
            let Some(&tenant) = next else { break };
            picked.push(queues.get_mut(&tenant).and_then(|q| q.pop_front()).expect("non-empty queue"));
            *held.get_mut(&tenant).expect("known tenant") += 1;
        }
    }
    picked
}

/// Due runs: queued ones whose time came, parked ones whose wake-up time came, and running
/// ones whose lease expired (their worker was lost).
fn due(now: chrono::DateTime<Utc>) -> sea_orm::Condition {
    use execution::Column as C;
    sea_orm::Condition::any()
        .add(sea_orm::Condition::all().add(C::Status.eq("queued")).add(C::RunAfter.lte(now)))
        .add(
            sea_orm::Condition::all()
                .add(C::Status.eq("running"))
                .add(C::LeaseOwner.is_null())
                .add(C::RunAfter.lte(now)),
        )
        .add(sea_orm::Condition::all().add(C::Status.eq("running")).add(C::LeaseExpiresAt.lt(now)))
}

/// Claims up to `n` runnable executions for this instance, `active` being the runs it has per
/// tenant. The queue is shared by every tenant, so these statements are the engine's only
/// ones outside a [`TenantScope`]; each claimed run is then worked on through its own
/// tenant's scope.
async fn claim(
    app: &AppState,
    n: usize,
    active: &HashMap<Uuid, usize>,
) -> Result<Vec<execution::Model>, sea_orm::DbErr> {
    use execution::Column as C;
    use sea_orm::sea_query::{Alias, ExprTrait, WindowStatement};
    let now = Utc::now();
    let lease = chrono::Duration::from_std(app.config.workflows.lease).unwrap_or_default();
    // The queue is shared by every tenant: the workers claim across tenants, then run each
    // execution behind its own tenant's wall.
    let queue = crate::db::across_tenants(&app.db);
    // Candidates: the `n` oldest due runs of each waiting tenant, so one tenant's backlog
    // cannot hide another tenant's run from the fair choice.
    let mut ranked = Query::select();
    ranked
        .columns([C::Id, C::TenantId, C::Status, C::RunAfter])
        .expr_window_as(
            Expr::cust("ROW_NUMBER()"),
            WindowStatement::partition_by(C::TenantId).order_by(C::RunAfter, sea_orm::Order::Asc).to_owned(),
            Alias::new("rn"),
        )
        .from(execution::Entity)
        .cond_where(due(now));
    let mut waiting = Query::select();
    waiting
        .columns([Alias::new("id"), Alias::new("tenant_id"), Alias::new("status")])
        .from_subquery(ranked, Alias::new("ranked"))
        .and_where(Expr::col(Alias::new("rn")).lte(n as i64))
        .order_by(Alias::new("run_after"), sea_orm::Order::Asc)
        .limit((n * 64).min(4096) as u64);
    let rows: Vec<(Uuid, Uuid, String)> = {
        let stmt = queue.get_database_backend().build(&waiting);
        let mut out = Vec::new();
        for row in queue.query_all_raw(stmt).await? {
            out.push((row.try_get("", "id")?, row.try_get("", "tenant_id")?, row.try_get("", "status")?));
        }
        out
    };
    let was_running: BTreeSet<Uuid> = rows.iter().filter(|r| r.2 == "running").map(|r| r.0).collect();
    let candidates: Vec<(Uuid, Uuid)> = rows.iter().map(|r| (r.0, r.1)).collect();
    let picked = fair_pick(&candidates, active, app.config.workflows.workers, n);
    if picked.is_empty() {
        return Ok(Vec::new());
    }
    // The claim itself re-checks that each picked run is still due: another instance may
    // have taken it since it was read.
    let mut still_due = Query::select();
    still_due.column(C::Id).from(execution::Entity).and_where(C::Id.is_in(picked)).cond_where(due(now));
    if crate::db::is_postgres(&app.db) {
        still_due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    // Waking a parked run (running, no lease owner) is not a new claim; anything else is.
    let woken = sea_orm::Condition::all().add(C::Status.eq("running")).add(C::LeaseOwner.is_null());
    let claimed = execution::Entity::update_many()
        .col_expr(C::Status, Expr::value("running"))
        .col_expr(C::LeaseOwner, Expr::value(app.engine.instance.to_string()))
        .col_expr(C::LeaseExpiresAt, Expr::value(now + lease))
        .col_expr(
            C::Claims,
            Expr::case(woken, Expr::col(C::Claims)).finally(Expr::col(C::Claims).add(1)).into(),
        )
        .col_expr(C::StartedAt, Func::coalesce([Expr::col(C::StartedAt).into(), Expr::value(now)]).into())
        .filter(C::Id.in_subquery(still_due))
        .exec_with_returning(&queue)
        .await?;
    if claimed.is_empty() {
        return Ok(claimed);
    }
    let claimed = refuse_at_claim(app, &queue, claimed).await?;
    if claimed.is_empty() {
        return Ok(claimed);
    }
    // The tenant cap: count what runs per tenant now (this claim included) and hand back
    // the newest claims of tenants over it.
    let tenants: BTreeSet<Uuid> = claimed.iter().map(|e| e.tenant_id).collect();
    let running: Vec<(Uuid, i64)> = execution::Entity::find()
        .select_only()
        .column(C::TenantId)
        .column_as(C::Id.count(), "n")
        .filter(C::Status.eq("running"))
        .filter(C::LeaseExpiresAt.gte(now))
        .filter(C::TenantId.is_in(tenants))
        .group_by(C::TenantId)
        .into_tuple()
        .all(&queue)
        .await?;
    let cap = app.config.workflows.tenant_concurrency as i64;
    let mut over: HashMap<Uuid, i64> =
        running.into_iter().filter(|(_, n)| *n > cap).map(|(t, n)| (t, n - cap)).collect();
    let mut keep = Vec::with_capacity(claimed.len());
    let (mut back_queued, mut back_parked) = (Vec::new(), Vec::new());
    for e in claimed.into_iter().rev() {
        match over.get_mut(&e.tenant_id) {
            Some(n) if *n > 0 => {
                *n -= 1;
                if was_running.contains(&e.id) { back_parked.push(e.id) } else { back_queued.push(e.id) }
            }
            _ => keep.push(e),
        }
    }
    let retry_at = now + chrono::Duration::milliseconds(200);
    if !back_queued.is_empty() {
        execution::Entity::update_many()
            .col_expr(C::Status, Expr::value("queued"))
            .col_expr(C::LeaseOwner, Expr::value(Option::<String>::None))
            .col_expr(C::Claims, Expr::col(C::Claims).sub(1))
            .col_expr(C::RunAfter, Expr::value(retry_at))
            .filter(C::Id.is_in(back_queued))
            .filter(C::LeaseOwner.eq(app.engine.instance.to_string()))
            .exec(&queue)
            .await?;
    }
    if !back_parked.is_empty() {
        // A run that was already running goes back parked: clients keep seeing it running,
        // and its next claim does not count as one more lost worker.
        execution::Entity::update_many()
            .col_expr(C::LeaseOwner, Expr::value(Option::<String>::None))
            .col_expr(C::LeaseExpiresAt, Expr::value(Option::<chrono::DateTime<Utc>>::None))
            .col_expr(C::RunAfter, Expr::value(retry_at))
            .filter(C::Id.is_in(back_parked))
            .filter(C::LeaseOwner.eq(app.engine.instance.to_string()))
            .exec(&queue)
            .await?;
    }
    keep.reverse();
    Ok(keep)
}

/// Fails the claimed runs that must not run — quarantined ones (a worker lost
/// [`MAX_CLAIMS`] times) and those of a suspended organisation or an archived workflow — and
/// returns the others.
async fn refuse_at_claim(
    app: &AppState,
    queue: &impl ConnectionTrait,
    claimed: Vec<execution::Model>,
) -> Result<Vec<execution::Model>, sea_orm::DbErr> {
    use entity::{tenant, workflow};
    let tenants: BTreeSet<Uuid> = claimed.iter().map(|e| e.tenant_id).collect();
    let workflows: BTreeSet<Uuid> = claimed.iter().map(|e| e.workflow_id).collect();
    let tenant_status: HashMap<Uuid, String> = tenant::Entity::find()
        .select_only()
        .column(tenant::Column::Id)
        .column(tenant::Column::Status)
        .filter(tenant::Column::Id.is_in(tenants))
        .into_tuple()
        .all(queue)
        .await?
        .into_iter()
        .collect();
    let workflow_status: HashMap<Uuid, String> = workflow::Entity::find()
        .select_only()
        .column(workflow::Column::Id)
        .column(workflow::Column::Status)
        .filter(workflow::Column::Id.is_in(workflows))
        .into_tuple()
        .all(queue)
        .await?
        .into_iter()
        .collect();
    let mut keep = Vec::with_capacity(claimed.len());
    for e in claimed {
        let refusal = super::service::Refusal::of(
            tenant_status.get(&e.tenant_id).map_or("", String::as_str),
            workflow_status.get(&e.workflow_id).map_or("", String::as_str),
        );
        let error = if e.claims > MAX_CLAIMS {
            format!(
                "{WORKER_LOST}: its worker stopped {} times while running it (a node may crash the server); quarantined, it is not run again",
                e.claims - 1
            )
        } else if let Some(r) = refusal {
            format!("not run: {}", r.message())
        } else {
            keep.push(e);
            continue;
        };
        if let Err(err) = fail_claimed(app, &e, &error).await {
            tracing::warn!(execution = %e.id, error = %err, "failing a refused run failed; its lease will expire");
        }
    }
    Ok(keep)
}

/// Ends a run this instance just claimed as failed with `error`, without running anything:
/// the node that was in flight (if any) fails with the same error, a log line says why, and
/// subscribers hear it.
async fn fail_claimed(app: &AppState, e: &execution::Model, error: &str) -> Result<(), sea_orm::DbErr> {
    use node_execution::Column as N;
    let scope = TenantScope::new(e.tenant_id);
    let now = Utc::now();
    let txn = crate::db::begin_tenant_txn(&app.db, scope).await?;
    let ended = scope
        .update_many::<execution::Entity>()
        .col_expr(execution::Column::Status, Expr::value(ExecutionStatus::Failed.as_str()))
        .col_expr(execution::Column::Error, Expr::value(error))
        .col_expr(execution::Column::FinishedAt, Expr::value(now))
        .col_expr(execution::Column::LeaseOwner, Expr::value(Option::<String>::None))
        .filter(execution::Column::Id.eq(e.id))
        .filter(execution::Column::Status.eq("running"))
        .filter(execution::Column::LeaseOwner.eq(app.engine.instance.to_string()))
        .exec(&txn)
        .await?;
    if ended.rows_affected != 1 {
        return Ok(());
    }
    scope
        .update_many::<node_execution::Entity>()
        .col_expr(N::Status, Expr::value(NodeStatus::Failed.as_str()))
        .col_expr(N::Error, Expr::value(error))
        .col_expr(N::FinishedAt, Expr::value(now))
        .filter(N::ExecutionId.eq(e.id))
        .filter(N::Status.is_in([NodeStatus::Running.as_str(), NodeStatus::Retrying.as_str()]))
        .exec(&txn)
        .await?;
    scope
        .insert_many([execution_log::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(e.tenant_id),
            execution_id: Set(e.id),
            node_id: Set(None),
            level: Set("error".into()),
            message: Set(error.to_string()),
            created_at: Set(now),
        }])
        .exec(&txn)
        .await?;
    txn.commit().await?;
    tracing::warn!(execution = %e.id, tenant = %e.tenant_id, error, "run refused at claim");
    let event = ExecutionEvent {
        seq: 1,
        status: ExecutionStatus::Failed,
        error: Some(error.to_string()),
        ..ExecutionEvent::status_of(e)
    };
    publish(app, e.tenant_id, &event).await;
    Ok(())
}

/// Why a run stopped before its end.
#[derive(Debug)]
pub(crate) enum Stop {
    /// Cancelled, or the lease went to another worker: write nothing more.
    Lost,
    /// The run took longer than its timeout.
    TimedOut,
    /// A node failed and had no error branch.
    NodeFailed { node: String, error: String },
    /// The database failed under the runner.
    Internal(String),
    /// A node waits until this time: the run parks and its worker is freed.
    Parked(chrono::DateTime<Utc>),
}

impl From<sea_orm::DbErr> for Stop {
    fn from(e: sea_orm::DbErr) -> Self {
        Stop::Internal(e.to_string())
    }
}

/// What a flush writes about the run besides its buffered rows.
enum Write {
    /// Progress only: the lease is renewed.
    Progress,
    /// The run's final state.
    Finish(ExecutionStatus, Option<Value>, Option<String>),
    /// The run waits until then without a worker.
    Park(chrono::DateTime<Utc>),
}

/// What is known about one node (in one iteration) of the run.
#[derive(Clone, Debug)]
pub(crate) struct Done {
    pub status: NodeStatus,
    pub port: Option<String>,
    pub output: Value,
}

/// One run in progress on this worker.
pub(crate) struct Runner {
    pub app: AppState,
    pub exec: execution::Model,
    pub graph: Graph,
    pub layout: Layout,
    pub scope: TenantScope,
    pub cancel: CancellationToken,
    pub env: HashMap<String, String>,
    /// Results already recorded (from earlier claims, or reused by a retry).
    pub done: HashMap<(String, String), Done>,
    /// Interrupted nodes found on resume: (node, iteration) that were `running`, with the
    /// time they started (a parked Delay counts its wait from there).
    pub interrupted: HashMap<(String, String), chrono::DateTime<Utc>>,
    /// Set by a Delay that parks the run: its wake-up time.
    park: std::sync::Mutex<Option<chrono::DateTime<Utc>>>,
    /// Nodes in flight that cannot be resumed (not safe to repeat, such as an AI agent
    /// calling a Delay as a tool): while there is one, a Delay waits in place.
    holds: std::sync::atomic::AtomicUsize,
    pending_nodes: std::sync::Mutex<Vec<node_execution::ActiveModel>>,
    pending_logs: std::sync::Mutex<Vec<execution_log::ActiveModel>>,
    last_flush: std::sync::Mutex<Instant>,
    /// Secret values read by this run, for redaction.
    pub secrets: std::sync::Mutex<Vec<(String, String)>>,
    seq: AtomicU64,
    pub deadline: Instant,
}

async fn run_execution(app: AppState, exec: execution::Model) {
    let id = exec.id;
    let span = tracing::info_span!("execution", execution = %id, tenant = %exec.tenant_id, workflow = %exec.workflow_id);
    if let Err(e) = tracing::Instrument::instrument(run_claimed(app, exec), span).await {
        tracing::error!(execution = %id, error = %e, "workflow execution failed inside the engine");
    }
}

async fn run_claimed(app: AppState, exec: execution::Model) -> anyhow::Result<()> {
    let scope = TenantScope::new(exec.tenant_id);
    let graph: Graph = serde_json::from_value(exec.graph.clone())?;
    let settings: Settings = serde_json::from_value(exec.settings.clone()).unwrap_or_default();
    let layout = graph.layout();
    // What the run resumes from and the tenant's variables: one walled read transaction,
    // ended before the run starts.
    let (rows, env) = {
        let db = &scope.on(&app.db);
        let rows = scope
            .find::<node_execution::Entity>()
            .filter(node_execution::Column::ExecutionId.eq(exec.id))
            .all(db)
            .await?;
        (rows, crate::modules::secrets::service::env_map(db, scope).await.unwrap_or_default())
    };
    let mut done = HashMap::new();
    let mut interrupted = HashMap::new();
    for r in rows {
        let status = NodeStatus::parse(&r.status);
        match status {
            NodeStatus::Succeeded | NodeStatus::Skipped => {
                done.insert(
                    (r.node_id, r.iteration),
                    Done { status, port: r.port, output: r.output.unwrap_or(Value::Null) },
                );
            }
            NodeStatus::Failed if r.port.as_deref() == Some("error") => {
                done.insert(
                    (r.node_id, r.iteration),
                    Done { status, port: r.port, output: r.output.unwrap_or(Value::Null) },
                );
            }
            NodeStatus::Running | NodeStatus::Retrying => {
                interrupted.insert((r.node_id, r.iteration), r.started_at.unwrap_or_else(Utc::now));
            }
            _ => {}
        }
    }
    let elapsed = exec.started_at.map(|s| (Utc::now() - s).to_std().unwrap_or_default()).unwrap_or_default();
    let deadline = Instant::now() + settings.run_timeout().saturating_sub(elapsed);
    let runner = Arc::new(Runner {
        cancel: CancellationToken::new(),
        app: app.clone(),
        scope,
        graph,
        layout,
        env,
        done,
        interrupted,
        park: Default::default(),
        holds: Default::default(),
        pending_nodes: Default::default(),
        pending_logs: Default::default(),
        last_flush: std::sync::Mutex::new(Instant::now()),
        secrets: Default::default(),
        seq: AtomicU64::new(0),
        deadline,
        exec,
    });
    // Watch for cancellation (from any instance) and keep the lease alive.
    let watcher = {
        let r = runner.clone();
        let mut events = app.bus.subscribe(&execution_topic(r.exec.tenant_id, r.exec.id));
        tokio::spawn(async move {
            let mut beat = tokio::time::interval(r.app.config.workflows.lease / 3);
            beat.tick().await;
            loop {
                tokio::select! {
                    _ = r.cancel.cancelled() => return,
                    _ = r.app.shutdown.cancelled() => { r.cancel.cancel(); return }
                    ev = events.next() => match ev {
                        Some(ev) => {
                            if ev.payload.get("status").and_then(Value::as_str) == Some("cancelled") {
                                r.cancel.cancel();
                                return;
                            }
                        }
                        None => return,
                    },
                    _ = beat.tick() => {
                        match r.heartbeat().await {
                            Ok(true) => {}
                            Ok(false) => { r.cancel.cancel(); return }
                            Err(e) => tracing::warn!(error = %e, "heartbeat failed"),
                        }
                    }
                }
            }
        })
    };
    if runner.exec.claims > 1 {
        runner.log(
            None,
            "warn",
            format!("resumed by {} after the previous worker stopped", app.engine.instance),
        );
    }
    // Quarantined runs (too many lost workers) never get here: the claim failed them.
    runner.publish_status(ExecutionStatus::Running, None).await;
    let outcome = runner.clone().run_main().await;
    runner.cancel.cancel();
    let _ = watcher.await;
    runner.finish(outcome).await;
    Ok(())
}

impl Runner {
    fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub fn redact(&self, s: &str) -> String {
        expr::redact_str(s, &self.secrets.lock().expect("lock"))
    }

    pub fn redact_value(&self, v: &mut Value) {
        expr::redact(v, &self.secrets.lock().expect("lock"));
    }

    async fn publish_status(&self, status: ExecutionStatus, error: Option<String>) {
        let event = ExecutionEvent {
            seq: self.next_seq(),
            execution_id: self.exec.id,
            workflow_id: self.exec.workflow_id,
            status,
            node: None,
            error,
            at: Utc::now(),
        };
        publish(&self.app, self.exec.tenant_id, &event).await;
    }

    pub async fn publish_node(&self, node: NodeEvent) {
        let event = ExecutionEvent {
            seq: self.next_seq(),
            execution_id: self.exec.id,
            workflow_id: self.exec.workflow_id,
            status: ExecutionStatus::Running,
            node: Some(node),
            error: None,
            at: Utc::now(),
        };
        publish(&self.app, self.exec.tenant_id, &event).await;
    }

    /// Buffers a log line (written with the next flush) and streams it at once.
    pub fn log(&self, node: Option<&str>, level: &str, message: String) {
        let message = self.redact(&message);
        let now = Utc::now();
        let id = Uuid::now_v7();
        self.pending_logs.lock().expect("lock").push(execution_log::ActiveModel {
            id: Set(id),
            tenant_id: Set(self.exec.tenant_id),
            execution_id: Set(self.exec.id),
            node_id: Set(node.map(str::to_string)),
            level: Set(level.into()),
            message: Set(message.clone()),
            created_at: Set(now),
        });
        let event = LogEvent {
            id,
            execution_id: self.exec.id,
            node_id: node.map(str::to_string),
            level: level.into(),
            message,
            at: now,
        };
        let (app, topic) = (self.app.clone(), logs_topic(self.exec.tenant_id, self.exec.id));
        tokio::spawn(async move { app.publish(&topic, &event).await });
    }

    /// An update of this run that applies only while it is `running` under this worker's
    /// lease: the compare-and-set every write of the runner goes through.
    fn while_ours(&self) -> sea_orm::UpdateMany<execution::Entity> {
        self.scope
            .update_many::<execution::Entity>()
            .filter(execution::Column::Id.eq(self.exec.id))
            .filter(execution::Column::Status.eq("running"))
            .filter(execution::Column::LeaseOwner.eq(self.app.engine.instance.to_string()))
    }

    fn lease_until(&self) -> chrono::DateTime<Utc> {
        Utc::now() + chrono::Duration::from_std(self.app.config.workflows.lease).unwrap_or_default()
    }

    /// Renews the lease; `false` when the run is no longer ours (cancelled or taken over).
    async fn heartbeat(&self) -> Result<bool, sea_orm::DbErr> {
        let r = self
            .while_ours()
            .col_expr(execution::Column::LeaseExpiresAt, Expr::value(self.lease_until()))
            .exec(&self.scope.on(&self.app.db))
            .await?;
        Ok(r.rows_affected == 1)
    }

    /// Records a node's state: buffered, or written now when `durable`.
    pub async fn record_node(
        &self,
        node: &NodeSpec,
        iteration: &str,
        status: NodeStatus,
        attempt: i32,
        input: Option<&Value>,
        result: Option<(&str, &Value)>,
        error: Option<&str>,
        started: chrono::DateTime<Utc>,
        durable: bool,
    ) -> Result<(), Stop> {
        let finished = !matches!(status, NodeStatus::Running | NodeStatus::Retrying);
        let mut input = input.cloned();
        if let Some(i) = input.as_mut() {
            self.redact_value(i);
        }
        let mut output = result.map(|(_, v)| v.clone());
        if let Some(o) = output.as_mut() {
            self.redact_value(o);
        }
        let row = node_execution::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(self.exec.tenant_id),
            execution_id: Set(self.exec.id),
            node_id: Set(node.id.clone()),
            iteration: Set(iteration.to_string()),
            status: Set(status.as_str().into()),
            port: Set(result.map(|(p, _)| p.to_string())),
            input: Set(input),
            output: Set(output),
            error: Set(error.map(|e| self.redact(e))),
            attempt: Set(attempt),
            reused: Set(false),
            started_at: Set(Some(started)),
            finished_at: Set(finished.then(Utc::now)),
        };
        self.pending_nodes.lock().expect("lock").push(row);
        let due = self.last_flush.lock().expect("lock").elapsed() > Duration::from_secs(1);
        if durable || due { self.flush(Write::Progress).await } else { Ok(()) }
    }

    /// Writes buffered node rows and logs, if the run is still ours, with what `write` says
    /// about the run itself, in one transaction.
    async fn flush(&self, write: Write) -> Result<(), Stop> {
        let nodes = std::mem::take(&mut *self.pending_nodes.lock().expect("lock"));
        let logs = std::mem::take(&mut *self.pending_logs.lock().expect("lock"));
        *self.last_flush.lock().expect("lock") = Instant::now();
        let txn = crate::db::begin_tenant_txn(&self.app.db, self.scope).await?;
        let mut cas = self.while_ours();
        match &write {
            Write::Finish(status, output, error) => {
                cas = cas
                    .col_expr(execution::Column::Status, Expr::value(status.as_str()))
                    .col_expr(execution::Column::Output, Expr::value(output.clone()))
                    .col_expr(execution::Column::Error, Expr::value(error.clone()))
                    .col_expr(execution::Column::FinishedAt, Expr::value(Utc::now()))
                    .col_expr(execution::Column::LeaseOwner, Expr::value(Option::<String>::None));
            }
            Write::Park(until) => {
                // Still `running` for clients; no owner and no lease, so only the claim of
                // its wake-up time (or a cancel) touches it next.
                cas = cas
                    .col_expr(execution::Column::LeaseOwner, Expr::value(Option::<String>::None))
                    .col_expr(
                        execution::Column::LeaseExpiresAt,
                        Expr::value(Option::<chrono::DateTime<Utc>>::None),
                    )
                    .col_expr(execution::Column::RunAfter, Expr::value(*until));
            }
            Write::Progress => {
                cas = cas.col_expr(execution::Column::LeaseExpiresAt, Expr::value(self.lease_until()))
            }
        }
        if cas.exec(&txn).await?.rows_affected != 1 {
            return Err(Stop::Lost);
        }
        if !nodes.is_empty() {
            use node_execution::Column as N;
            self.scope
                .insert_many(nodes)
                .on_conflict(
                    OnConflict::columns([N::ExecutionId, N::NodeId, N::Iteration])
                        .update_columns([
                            N::Status,
                            N::Port,
                            N::Input,
                            N::Output,
                            N::Error,
                            N::Attempt,
                            N::StartedAt,
                            N::FinishedAt,
                        ])
                        .to_owned(),
                )
                .exec(&txn)
                .await?;
        }
        let mut logs = logs;
        if let Write::Finish(ExecutionStatus::Failed, _, Some(error)) = &write
            && self.exec.trigger != "error"
        {
            self.start_error_workflow(&txn, error).await?;
            // What it logged goes with this last write.
            logs.append(&mut self.pending_logs.lock().expect("lock"));
        }
        if !logs.is_empty() {
            self.scope.insert_many(logs).exec(&txn).await?;
        }
        txn.commit().await?;
        Ok(())
    }

    async fn start_error_workflow(&self, txn: &impl ConnectionTrait, error: &str) -> Result<(), Stop> {
        let settings: Settings = serde_json::from_value(self.exec.settings.clone()).unwrap_or_default();
        let Some(target) = settings.error_workflow_id else { return Ok(()) };
        let Some(wf) = self.scope.find_by_id::<entity::workflow::Entity, _>(txn, target).await? else {
            return Ok(());
        };
        let input = json!({
            "execution": { "id": self.exec.id, "workflowId": self.exec.workflow_id },
            "error": error,
        });
        let queued = super::service::enqueue(
            txn,
            self.scope,
            wf.id,
            super::service::Snapshot::of(&wf, None),
            input,
            "error",
            None,
            None,
        )
        .await
        .map_err(|e| Stop::Internal(e.to_string()))?;
        match queued {
            Ok(_) => self.app.engine.wake(),
            // Written with the flush that ends the run (the caller's transaction).
            Err(r) => self.log(None, "warn", format!("error workflow not started: {}", r.message())),
        }
        Ok(())
    }

    /// Writes the final state (unless the run was cancelled or taken over) and tells
    /// subscribers.
    async fn finish(&self, outcome: Result<Value, Stop>) {
        let (status, output, error) = match outcome {
            Ok(output) => (ExecutionStatus::Succeeded, Some(output), None),
            Err(Stop::Lost) => {
                self.flush_cancelled().await;
                return;
            }
            Err(Stop::Parked(until)) => {
                self.park(until).await;
                return;
            }
            Err(Stop::TimedOut) => {
                (ExecutionStatus::Failed, None, Some("the run exceeded its timeout".to_string()))
            }
            Err(Stop::NodeFailed { node, error }) if node.is_empty() => {
                (ExecutionStatus::Failed, None, Some(error))
            }
            Err(Stop::NodeFailed { node, error }) => {
                (ExecutionStatus::Failed, None, Some(format!("node `{node}` failed: {error}")))
            }
            Err(Stop::Internal(e)) => {
                tracing::error!(error = %e, "database error while running");
                (ExecutionStatus::Failed, None, Some("internal error while running".to_string()))
            }
        };
        let mut output = output;
        if let Some(o) = output.as_mut() {
            self.redact_value(o);
        }
        let error = error.map(|e| self.redact(&e));
        if let Some(e) = &error {
            self.log(None, "error", e.clone());
        }
        match self.flush(Write::Finish(status, output, error.clone())).await {
            Ok(()) => self.publish_status(status, error).await,
            Err(Stop::Lost) => self.flush_cancelled().await,
            Err(e) => tracing::error!(error = ?e, "final state not written; the run will be resumed"),
        }
    }

    /// Parks the run until `until` and frees its worker; this instance's workers are woken
    /// then (any instance's poll also finds it).
    async fn park(&self, until: chrono::DateTime<Utc>) {
        self.log(
            None,
            "info",
            format!("waiting until {}; the run holds no worker meanwhile", until.to_rfc3339()),
        );
        match self.flush(Write::Park(until)).await {
            Ok(()) => {
                let (engine, shutdown) = (self.app.engine.clone(), self.app.shutdown.clone());
                let wait = (until - Utc::now()).to_std().unwrap_or_default();
                tokio::spawn(async move {
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => engine.wake(),
                        _ = shutdown.cancelled() => {}
                    }
                });
            }
            Err(Stop::Lost) => self.flush_cancelled().await,
            Err(e) => {
                tracing::error!(error = ?e, "parking failed; the run will be resumed when its lease expires")
            }
        }
    }

    /// The Delay node: waits `config.milliseconds` from the node's start (the first start,
    /// when a parked run wakes). The rest of a long wait parks the run instead of holding
    /// the worker ([`PARK_AFTER`]); a short one, one longer than the node's own timeout, or
    /// one inside a node that cannot be resumed waits in place, interrupted by a cancel.
    pub(crate) async fn delay(
        &self,
        spec: &NodeSpec,
        iteration: &str,
        input: &Value,
        config: &Value,
    ) -> Result<(String, Value), NodeError> {
        let ms = config.get("milliseconds").and_then(Value::as_u64).unwrap_or(0).min(86_400_000);
        let key = (spec.id.clone(), iteration.to_string());
        let started = self.interrupted.get(&key).copied().unwrap_or_else(Utc::now);
        let wake = started + chrono::Duration::milliseconds(ms as i64);
        let rest = (wake - Utc::now()).to_std().unwrap_or_default();
        let parkable = rest > PARK_AFTER
            && u128::from(ms) <= spec.timeout().as_millis()
            && self.holds.load(Ordering::SeqCst) == 0;
        if parkable {
            // Never past the run's own deadline: it times out when it wakes.
            let deadline = Utc::now()
                + chrono::Duration::from_std(self.deadline.saturating_duration_since(Instant::now()))
                    .unwrap_or_default();
            *self.park.lock().expect("lock") = Some(wake.min(deadline));
            return Err(NodeError::new("internal", "parked"));
        }
        tokio::time::sleep(rest).await;
        Ok(("main".into(), input.clone()))
    }

    /// After a cancel: log lines are kept, nothing else is written.
    async fn flush_cancelled(&self) {
        let logs = std::mem::take(&mut *self.pending_logs.lock().expect("lock"));
        if !logs.is_empty() {
            let _ = self.scope.insert_many(logs).exec(&self.scope.on(&self.app.db)).await;
        }
    }

    fn check(&self) -> Result<(), Stop> {
        if self.cancel.is_cancelled() {
            return Err(Stop::Lost);
        }
        if Instant::now() >= self.deadline {
            return Err(Stop::TimedOut);
        }
        Ok(())
    }

    /// Runs the main flow; the run's output is the output of its last node.
    async fn run_main(self: Arc<Self>) -> Result<Value, Stop> {
        let ids = self.graph.main_nodes(&self.layout);
        let mut outputs = HashMap::new();
        let last = self.clone().run_flow(&ids, "", None, &mut outputs, &Value::Null, &Value::Null).await?;
        Ok(last.unwrap_or(Value::Null))
    }

    /// Runs the nodes `ids` in order. `entry` activates the edges leaving `(loop, port)`
    /// with a value (a loop body's item). Returns the output of the last node that ran.
    pub(crate) fn run_flow<'a>(
        self: Arc<Self>,
        ids: &'a BTreeSet<String>,
        iteration: &'a str,
        entry: Option<(&'a str, &'a Value)>,
        outputs: &'a mut HashMap<String, Value>,
        item: &'a Value,
        index: &'a Value,
    ) -> futures::future::BoxFuture<'a, Result<Option<Value>, Stop>> {
        Box::pin(async move {
            let order = self
                .graph
                .topological(&self.layout, ids)
                .map_err(|n| Stop::NodeFailed { node: n, error: "the node is on a cycle".into() })?;
            let mut emitted: HashMap<String, (String, Value)> = HashMap::new();
            let mut last = None;
            let trigger_kind = match self.exec.trigger.as_str() {
                "webhook" => "trigger.webhook",
                "schedule" => "trigger.schedule",
                _ => "trigger.manual",
            };
            let any_matching = self.graph.nodes.iter().any(|n| n.node_type == trigger_kind);
            for id in order {
                self.check()?;
                let spec = self.graph.node(&id).expect("ordered ids are nodes").clone();
                let key = (id.clone(), iteration.to_string());
                let input = if spec.is_trigger() {
                    if any_matching && spec.node_type != trigger_kind {
                        None
                    } else {
                        Some(self.exec.input.clone())
                    }
                } else {
                    let active: Vec<Value> = self
                        .graph
                        .incoming(&id)
                        .filter_map(|e| match entry {
                            Some((src, v)) if e.source == src && e.source_port == "body" => Some(v.clone()),
                            _ => emitted
                                .get(&e.source)
                                .filter(|(port, _)| *port == e.source_port)
                                .map(|(_, v)| v.clone()),
                        })
                        .collect();
                    match active.len() {
                        0 => None,
                        1 => active.into_iter().next(),
                        _ => Some(Value::Array(active)),
                    }
                };
                let Some(input) = input else {
                    if !self.done.contains_key(&key) {
                        self.record_node(
                            &spec,
                            iteration,
                            NodeStatus::Skipped,
                            0,
                            None,
                            None,
                            None,
                            Utc::now(),
                            false,
                        )
                        .await?;
                        self.publish_node(NodeEvent {
                            node_id: id.clone(),
                            iteration: iteration.to_string(),
                            status: NodeStatus::Skipped,
                            attempt: 0,
                            port: None,
                            error: None,
                        })
                        .await;
                    }
                    continue;
                };
                let (port, output) = match self.done.get(&key) {
                    Some(d) if d.status != NodeStatus::Skipped => {
                        (d.port.clone().unwrap_or_else(|| "main".into()), d.output.clone())
                    }
                    _ => self.clone().run_node(&spec, iteration, input, outputs, item, index).await?,
                };
                outputs.insert(id.clone(), output.clone());
                last = Some(output.clone());
                emitted.insert(id, (port, output));
            }
            Ok(last)
        })
    }

    /// Builds the expression context of a node.
    pub(crate) fn context(
        &self,
        input: &Value,
        outputs: &HashMap<String, Value>,
        secrets: &HashMap<String, String>,
        item: &Value,
        index: &Value,
    ) -> minijinja::Value {
        let nodes: serde_json::Map<String, Value> =
            outputs.iter().map(|(k, v)| (k.clone(), json!({ "output": v }))).collect();
        minijinja::Value::from_serialize(json!({
            "input": input,
            "trigger": self.exec.input,
            "nodes": nodes,
            "secrets": secrets,
            "env": self.env,
            "item": item,
            "index": index,
            "execution": { "id": self.exec.id, "workflowId": self.exec.workflow_id, "trigger": self.exec.trigger },
        }))
    }

    /// Runs one node with its retry policy and timeout. Returns the port it emitted on and
    /// its output; a failure routed to an `error` edge is returned as `("error", …)`.
    pub(crate) fn run_node<'a>(
        self: Arc<Self>,
        spec: &'a NodeSpec,
        iteration: &'a str,
        input: Value,
        outputs: &'a mut HashMap<String, Value>,
        item: &'a Value,
        index: &'a Value,
    ) -> futures::future::BoxFuture<'a, Result<(String, Value), Stop>> {
        Box::pin(async move {
            let key = (spec.id.clone(), iteration.to_string());
            let safe = spec.safe_to_repeat();
            // A resumed node keeps its first start (a parked Delay, say).
            let started = self.interrupted.get(&key).copied().unwrap_or_else(Utc::now);
            let has_error_edge = self.graph.outgoing(&spec.id).any(|e| e.source_port == "error");
            if self.interrupted.contains_key(&key) && !safe {
                let msg = "interrupted while running when its worker stopped; not run again because it is not safe to repeat".to_string();
                return self.node_failed(spec, iteration, 1, &input, msg, started, has_error_edge).await;
            }
            // Secrets this node refers to: read (and logged) once per node run; expressions
            // see only their markers (see `expr::SecretSet`).
            let names = expr::secret_names(&spec.config);
            let secrets = expr::SecretSet::new(if names.is_empty() {
                HashMap::new()
            } else {
                let s = crate::modules::secrets::service::resolve_for_run(
                    &self.app,
                    self.scope,
                    &names,
                    self.exec.id,
                    &spec.id,
                )
                .await
                .map_err(|e| Stop::Internal(e.to_string()))?;
                self.secrets.lock().expect("lock").extend(s.iter().map(|(k, v)| (k.clone(), v.clone())));
                s
            });
            let kind = spec.kind();
            // The configuration the engine evaluates: without the keys the node evaluates
            // per item, and not evaluated at all when it holds no expression.
            let mut base_config = spec.config.clone();
            if let (Some(k), Some(o)) = (kind, base_config.as_object_mut()) {
                for key in k.per_item {
                    o.remove(*key);
                }
            }
            let templated = expr::has_templates(&base_config);
            let policy = spec.retry.clone();
            let max_attempts = policy.as_ref().map(|p| p.max_attempts.clamp(1, 10)).unwrap_or(1);
            let mut attempt = 1;
            loop {
                self.check()?;
                if !safe || kind.is_some_and(|k| k.checkpoint_before) {
                    // A durability point: everything before is written, and this node is
                    // known to be in flight — with its start time — if the worker dies now,
                    // while it waits (a parked run), and for anyone who looks meanwhile.
                    // Written before it is announced, so a client that hears RUNNING finds
                    // the row.
                    let written = self
                        .record_node(
                            spec,
                            iteration,
                            NodeStatus::Running,
                            attempt,
                            Some(&input),
                            None,
                            None,
                            started,
                            true,
                        )
                        .await;
                    if let Err(Stop::Lost) = written {
                        self.node_cancelled(spec, iteration, attempt).await;
                    }
                    written?;
                }
                self.publish_node(NodeEvent {
                    node_id: spec.id.clone(),
                    iteration: iteration.to_string(),
                    status: NodeStatus::Running,
                    attempt,
                    port: None,
                    error: None,
                })
                .await;
                let config = if templated {
                    expr::render(
                        &base_config,
                        &self.context(&input, outputs, &secrets.markers(), item, index),
                        expr::Budget::of(&self.app.config.workflows),
                    )
                } else {
                    Ok(base_config.clone())
                };
                let timeout = spec.timeout().min(self.deadline.saturating_duration_since(Instant::now()));
                let result = match config {
                    Err(e) => Err(NodeError::new("expression", e)),
                    Ok(config) => {
                        // A node that cannot be resumed keeps the run from parking under it.
                        let _hold = (!safe).then(|| Hold::new(&self.holds));
                        let fut = nodes::execute(
                            self.clone(),
                            spec,
                            iteration,
                            &input,
                            &config,
                            &secrets,
                            outputs,
                            item,
                            index,
                        );
                        tokio::select! {
                            r = tokio::time::timeout(timeout, fut) => match r {
                                Ok(r) => r,
                                Err(_) if Instant::now() >= self.deadline => return Err(Stop::TimedOut),
                                Err(_) => Err(NodeError::new("timeout", format!("timed out after {} ms", timeout.as_millis()))),
                            },
                            _ = self.cancel.cancelled() => {
                                self.node_cancelled(spec, iteration, attempt).await;
                                return Err(Stop::Lost);
                            }
                        }
                    }
                };
                // A Delay in this node (itself, or in a loop body under it) parked the run:
                // nothing is recorded, the run resumes here when it wakes.
                if result.is_err()
                    && let Some(until) = *self.park.lock().expect("lock")
                {
                    return Err(Stop::Parked(until));
                }
                match result {
                    Ok((port, mut output)) => {
                        self.redact_value(&mut output);
                        self.record_node(
                            spec,
                            iteration,
                            NodeStatus::Succeeded,
                            attempt,
                            Some(&input),
                            Some((&port, &output)),
                            None,
                            started,
                            !safe,
                        )
                        .await?;
                        self.publish_node(NodeEvent {
                            node_id: spec.id.clone(),
                            iteration: iteration.to_string(),
                            status: NodeStatus::Succeeded,
                            attempt,
                            port: Some(port.clone()),
                            error: None,
                        })
                        .await;
                        return Ok((port, output));
                    }
                    Err(err) => {
                        let message = self.redact(&err.message);
                        let retryable = err.kind != "expression"
                            && policy.as_ref().is_some_and(|p| err.matches(&p.retry_on));
                        if attempt < max_attempts && retryable {
                            let delay =
                                backoff_delay(policy.as_ref().expect("retryable has a policy"), attempt);
                            self.log(
                                Some(&spec.id),
                                "warn",
                                format!(
                                    "attempt {attempt} failed ({}): {message}; retrying in {} ms",
                                    err.kind,
                                    delay.as_millis()
                                ),
                            );
                            self.publish_node(NodeEvent {
                                node_id: spec.id.clone(),
                                iteration: iteration.to_string(),
                                status: NodeStatus::Retrying,
                                attempt,
                                port: None,
                                error: Some(message),
                            })
                            .await;
                            tokio::select! {
                                _ = tokio::time::sleep(delay) => {}
                                _ = self.cancel.cancelled() => {
                                    self.node_cancelled(spec, iteration, attempt).await;
                                    return Err(Stop::Lost);
                                }
                            }
                            attempt += 1;
                            continue;
                        }
                        return self
                            .node_failed(spec, iteration, attempt, &input, message, started, has_error_edge)
                            .await;
                    }
                }
            }
        })
    }
}

/// Counts a node in flight that cannot be resumed, for as long as it lives.
struct Hold<'a>(&'a std::sync::atomic::AtomicUsize);

impl<'a> Hold<'a> {
    fn new(count: &'a std::sync::atomic::AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        Self(count)
    }
}

impl Drop for Hold<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Wait before attempt `attempt + 1`.
fn backoff_delay(policy: &super::graph::RetryPolicy, attempt: i32) -> Duration {
    let base = policy.delay_ms.clamp(0, 3_600_000) as u64;
    let ms = match policy.backoff {
        Backoff::Fixed => base,
        Backoff::Exponential => base.saturating_mul(1u64 << (attempt - 1).clamp(0, 20)),
    };
    Duration::from_millis(ms.min(3_600_000))
}

impl Runner {
    /// A node failed for good: recorded, and either routed to its `error` edge or the end of
    /// the run.
    #[allow(clippy::too_many_arguments)]
    async fn node_failed(
        &self,
        spec: &NodeSpec,
        iteration: &str,
        attempt: i32,
        input: &Value,
        message: String,
        started: chrono::DateTime<Utc>,
        has_error_edge: bool,
    ) -> Result<(String, Value), Stop> {
        self.log(Some(&spec.id), "error", format!("failed: {message}"));
        let routed = json!({ "error": message, "nodeId": spec.id });
        self.record_node(
            spec,
            iteration,
            NodeStatus::Failed,
            attempt,
            Some(input),
            has_error_edge.then_some(("error", &routed)),
            Some(&message),
            started,
            true,
        )
        .await?;
        self.publish_node(NodeEvent {
            node_id: spec.id.clone(),
            iteration: iteration.to_string(),
            status: NodeStatus::Failed,
            attempt,
            port: has_error_edge.then(|| "error".to_string()),
            error: Some(message.clone()),
        })
        .await;
        if has_error_edge {
            Ok(("error".into(), routed))
        } else {
            Err(Stop::NodeFailed { node: spec.id.clone(), error: message })
        }
    }

    /// The node in flight when the run was cancelled: its row says so (a row that never
    /// finished, so nothing is overwritten), and subscribers hear it.
    async fn node_cancelled(&self, spec: &NodeSpec, iteration: &str, attempt: i32) {
        use node_execution::Column as N;
        let row = node_execution::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(self.exec.tenant_id),
            execution_id: Set(self.exec.id),
            node_id: Set(spec.id.clone()),
            iteration: Set(iteration.to_string()),
            status: Set(NodeStatus::Cancelled.as_str().into()),
            port: Set(None),
            input: Set(None),
            output: Set(None),
            error: Set(Some("cancelled".into())),
            attempt: Set(attempt),
            reused: Set(false),
            started_at: Set(None),
            finished_at: Set(Some(Utc::now())),
        };
        let _ = self
            .scope
            .insert_many([row])
            .on_conflict(
                OnConflict::columns([N::ExecutionId, N::NodeId, N::Iteration])
                    .update_columns([N::Status, N::Error, N::FinishedAt])
                    .to_owned(),
            )
            .exec(&self.scope.on(&self.app.db))
            .await;
        self.publish_node(NodeEvent {
            node_id: spec.id.clone(),
            iteration: iteration.to_string(),
            status: NodeStatus::Cancelled,
            attempt,
            port: None,
            error: None,
        })
        .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    /// `count` due runs of `tenant`, numbered from `first`.
    fn runs(tenant: Uuid, first: u128, count: u128) -> Vec<(Uuid, Uuid)> {
        (first..first + count).map(|i| (ids(i), tenant)).collect()
    }

    fn tenant_of(picked: &[Uuid], candidates: &[(Uuid, Uuid)], tenant: Uuid) -> usize {
        picked.iter().filter(|id| candidates.iter().any(|(c, t)| c == *id && *t == tenant)).count()
    }

    #[test]
    fn a_tenant_alone_may_use_every_free_worker() {
        let a = ids(1_000);
        let c = runs(a, 1, 10);
        let picked = fair_pick(&c, &HashMap::new(), 4, 4);
        assert_eq!(picked, vec![ids(1), ids(2), ids(3), ids(4)], "oldest first");
    }

    #[test]
    fn a_waiting_tenant_gets_the_next_free_worker_whatever_the_others_backlog() {
        let (a, b) = (ids(1_000), ids(2_000));
        // A's backlog is older than B's one run; A already holds 3 of 4 workers here.
        let mut c = runs(a, 1, 50);
        c.extend(runs(b, 100, 1));
        let active = HashMap::from([(a, 3)]);
        assert_eq!(fair_pick(&c, &active, 4, 1), vec![ids(100)]);
    }

    #[test]
    fn while_others_wait_no_tenant_goes_beyond_its_share() {
        let (a, b, c_) = (ids(1_000), ids(2_000), ids(3_000));
        let mut c = runs(a, 1, 20);
        c.extend(runs(b, 100, 20));
        c.extend(runs(c_, 200, 20));
        // 16 workers, 3 waiting tenants: a share of 6, so 6 + 6 + 4 of 16 free slots.
        let picked = fair_pick(&c, &HashMap::new(), 16, 16);
        assert_eq!(picked.len(), 16);
        for t in [a, b, c_] {
            let n = tenant_of(&picked, &c, t);
            assert!((5..=6).contains(&n), "{n} slots for one tenant");
        }
        // One that already holds its share gets nothing while the others wait.
        let active = HashMap::from([(a, 6)]);
        let picked = fair_pick(&c, &active, 16, 10);
        assert_eq!(tenant_of(&picked, &c, a), 0);
        assert_eq!(picked.len(), 10);
    }

    #[test]
    fn slots_nobody_else_waits_for_are_not_left_idle() {
        let (a, b) = (ids(1_000), ids(2_000));
        let mut c = runs(a, 1, 10);
        c.extend(runs(b, 100, 1));
        // Share 2, but B has only one run waiting: A takes the rest.
        let picked = fair_pick(&c, &HashMap::new(), 4, 4);
        assert_eq!(picked.len(), 4);
        assert_eq!(tenant_of(&picked, &c, b), 1);
        assert_eq!(tenant_of(&picked, &c, a), 3);
        assert!(fair_pick(&[], &HashMap::new(), 4, 4).is_empty());
    }
}
