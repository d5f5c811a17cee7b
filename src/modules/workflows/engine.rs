//! The execution engine: a durable queue in the `executions` table and the workers that
//! run it.
//!
//! * **Claim.** A worker claims due queued runs, and running ones whose lease expired, with
//!   one `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING *` (SQLite has
//!   one writer, so the same statement without the lock clause is atomic there). Claims over
//!   the tenant's concurrency cap are handed back at once.
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

/// Runs that may be claimed this many times (crash loops) before they are failed.
const MAX_CLAIMS: i32 = 5;

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
    loop {
        let free = slots.available_permits();
        let mut full_batch = false;
        if free > 0 {
            let want = free.min(64);
            match claim(&app, want).await {
                Ok(runs) => {
                    full_batch = runs.len() == want;
                    for run in runs {
                        let permit = slots.clone().acquire_owned().await.expect("semaphore is never closed");
                        let (app, wake) = (app.clone(), engine.wake.clone());
                        tokio::spawn(async move {
                            run_execution(app, run).await;
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

/// Claims up to `n` runnable executions for this instance. The queue is shared by every
/// tenant, so these statements are the engine's only ones outside a [`TenantScope`]; each
/// claimed run is then worked on through its own tenant's scope.
async fn claim(app: &AppState, n: usize) -> Result<Vec<execution::Model>, sea_orm::DbErr> {
    use execution::Column as C;
    use sea_orm::sea_query::ExprTrait;
    let now = Utc::now();
    let lease = chrono::Duration::from_std(app.config.workflows.lease).unwrap_or_default();
    let mut due = Query::select();
    due.column(C::Id)
        .from(execution::Entity)
        .cond_where(
            sea_orm::Condition::any()
                .add(sea_orm::Condition::all().add(C::Status.eq("queued")).add(C::RunAfter.lte(now)))
                .add(sea_orm::Condition::all().add(C::Status.eq("running")).add(C::LeaseExpiresAt.lt(now))),
        )
        .order_by(C::RunAfter, sea_orm::Order::Asc)
        .limit(n as u64);
    if crate::db::is_postgres(&app.db) {
        due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    // The queue is shared by every tenant: the workers claim across tenants, then run each
    // execution behind its own tenant's wall.
    let queue = crate::db::across_tenants(&app.db);
    let claimed = execution::Entity::update_many()
        .col_expr(C::Status, Expr::value("running"))
        .col_expr(C::LeaseOwner, Expr::value(app.engine.instance.to_string()))
        .col_expr(C::LeaseExpiresAt, Expr::value(now + lease))
        .col_expr(C::Claims, Expr::col(C::Claims).add(1))
        .col_expr(C::StartedAt, Func::coalesce([Expr::col(C::StartedAt).into(), Expr::value(now)]).into())
        .filter(C::Id.in_subquery(due))
        .exec_with_returning(&queue)
        .await?;
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
    let mut give_back = Vec::new();
    for e in claimed.into_iter().rev() {
        match over.get_mut(&e.tenant_id) {
            Some(n) if *n > 0 => {
                *n -= 1;
                give_back.push(e.id);
            }
            _ => keep.push(e),
        }
    }
    if !give_back.is_empty() {
        execution::Entity::update_many()
            .col_expr(C::Status, Expr::value("queued"))
            .col_expr(C::LeaseOwner, Expr::value(Option::<String>::None))
            .col_expr(C::Claims, Expr::col(C::Claims).sub(1))
            .col_expr(C::RunAfter, Expr::value(now + chrono::Duration::milliseconds(200)))
            .filter(C::Id.is_in(give_back))
            .filter(C::LeaseOwner.eq(app.engine.instance.to_string()))
            .exec(&queue)
            .await?;
    }
    keep.reverse();
    Ok(keep)
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
}

impl From<sea_orm::DbErr> for Stop {
    fn from(e: sea_orm::DbErr) -> Self {
        Stop::Internal(e.to_string())
    }
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
    /// Interrupted nodes found on resume: (node, iteration) that were `running`.
    pub interrupted: BTreeSet<(String, String)>,
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
    let mut interrupted = BTreeSet::new();
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
                interrupted.insert((r.node_id, r.iteration));
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
    let outcome = if runner.exec.claims > MAX_CLAIMS {
        Err(Stop::NodeFailed {
            node: String::new(),
            error: format!("abandoned after {MAX_CLAIMS} attempts to run it"),
        })
    } else {
        runner.publish_status(ExecutionStatus::Running, None).await;
        runner.clone().run_main().await
    };
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
        if durable || due { self.flush(None).await } else { Ok(()) }
    }

    /// Writes buffered node rows and logs, if the run is still ours. With `fin`, also sets
    /// the run's final state in the same transaction.
    async fn flush(&self, fin: Option<(ExecutionStatus, Option<Value>, Option<String>)>) -> Result<(), Stop> {
        let nodes = std::mem::take(&mut *self.pending_nodes.lock().expect("lock"));
        let logs = std::mem::take(&mut *self.pending_logs.lock().expect("lock"));
        *self.last_flush.lock().expect("lock") = Instant::now();
        let txn = crate::db::begin_tenant_txn(&self.app.db, self.scope).await?;
        let mut cas = self.while_ours();
        match &fin {
            Some((status, output, error)) => {
                cas = cas
                    .col_expr(execution::Column::Status, Expr::value(status.as_str()))
                    .col_expr(execution::Column::Output, Expr::value(output.clone()))
                    .col_expr(execution::Column::Error, Expr::value(error.clone()))
                    .col_expr(execution::Column::FinishedAt, Expr::value(Utc::now()))
                    .col_expr(execution::Column::LeaseOwner, Expr::value(Option::<String>::None));
            }
            None => cas = cas.col_expr(execution::Column::LeaseExpiresAt, Expr::value(self.lease_until())),
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
        if !logs.is_empty() {
            self.scope.insert_many(logs).exec(&txn).await?;
        }
        if let Some((ExecutionStatus::Failed, _, Some(error))) = &fin
            && self.exec.trigger != "error"
        {
            self.start_error_workflow(&txn, error).await?;
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
        super::service::enqueue(
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
        self.app.engine.wake();
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
        match self.flush(Some((status, output, error.clone()))).await {
            Ok(()) => self.publish_status(status, error).await,
            Err(Stop::Lost) => self.flush_cancelled().await,
            Err(e) => tracing::error!(error = ?e, "final state not written; the run will be resumed"),
        }
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
            let started = Utc::now();
            let has_error_edge = self.graph.outgoing(&spec.id).any(|e| e.source_port == "error");
            if self.interrupted.contains(&key) && !safe {
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
                self.publish_node(NodeEvent {
                    node_id: spec.id.clone(),
                    iteration: iteration.to_string(),
                    status: NodeStatus::Running,
                    attempt,
                    port: None,
                    error: None,
                })
                .await;
                if safe
                    && kind.is_some_and(|k| k.checkpoint_before)
                    && !self.pending_nodes.lock().expect("lock").is_empty()
                {
                    self.flush(None).await?;
                }
                if !safe {
                    // A durability point: everything before is written, and this node is
                    // known to be in flight if the worker dies now.
                    self.record_node(
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
                    .await?;
                }
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
