//! One claimed run: its state, durability points, leases, and the walk of its graph.

#[allow(unused_imports)]
use super::*;

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
pub(super) enum Write {
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
    pub(super) park: std::sync::Mutex<Option<chrono::DateTime<Utc>>>,
    /// Nodes in flight that cannot be resumed (not safe to repeat, such as an AI agent
    /// calling a Delay as a tool): while there is one, a Delay waits in place.
    pub(super) holds: std::sync::atomic::AtomicUsize,
    pub(super) pending_nodes: std::sync::Mutex<Vec<node_execution::ActiveModel>>,
    pub(super) pending_logs: std::sync::Mutex<Vec<execution_log::ActiveModel>>,
    pub(super) last_flush: std::sync::Mutex<Instant>,
    /// Secret values read by this run, for redaction.
    pub secrets: std::sync::Mutex<Vec<(String, String)>>,
    pub(super) seq: AtomicU64,
    pub deadline: Instant,
}

/// A claimed run with what it starts from, read for the whole claim at once (see
/// [`super::queue::claim`]), so starting a run reads nothing.
pub(crate) struct Claimed {
    pub exec: execution::Model,
    /// Its recorded node states: none at a first start; on resume, the finished nodes (not
    /// run again) and the interrupted ones.
    pub rows: Vec<node_execution::Model>,
    /// Its tenant's environment variables by name.
    pub env: HashMap<String, String>,
}

pub(super) async fn run_execution(app: AppState, run: Claimed) {
    let exec = &run.exec;
    let id = exec.id;
    let span = tracing::info_span!("execution", execution = %id, tenant = %exec.tenant_id, workflow = %exec.workflow_id);
    if let Err(e) = tracing::Instrument::instrument(run_claimed(app, run), span).await {
        tracing::error!(execution = %id, error = %e, "workflow execution failed inside the engine");
    }
}

pub(super) async fn run_claimed(app: AppState, run: Claimed) -> anyhow::Result<()> {
    let Claimed { exec, rows, env } = run;
    let scope = TenantScope::new(exec.tenant_id);
    let graph: Graph = serde_json::from_value(exec.graph.clone())?;
    let settings: Settings = serde_json::from_value(exec.settings.clone()).unwrap_or_default();
    let layout = graph.layout();
    let mut done = HashMap::new();
    let mut interrupted = HashMap::new();
    for r in rows {
        let status = r.status;
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
    // A cancel from any instance reaches the run through this instance's registry (see
    // `cancels_topic`); the heartbeat keeps the lease alive and notices a run that is no
    // longer ours.
    let _registered = app.engine.register(runner.exec.id, runner.cancel.clone());
    let watcher = {
        let r = runner.clone();
        tokio::spawn(async move {
            let mut beat = tokio::time::interval(r.app.config.workflows.lease / 3);
            beat.tick().await;
            loop {
                tokio::select! {
                    _ = r.cancel.cancelled() => return,
                    _ = r.app.shutdown.cancelled() => { r.cancel.cancel(); return }
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
            LogLevel::Warn,
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
    pub(super) fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub fn redact(&self, s: &str) -> String {
        expr::redact_str(s, &self.secrets.lock().expect("lock"))
    }

    pub fn redact_value(&self, v: &mut Value) {
        expr::redact(v, &self.secrets.lock().expect("lock"));
    }

    pub(super) async fn publish_status(&self, status: ExecutionStatus, error: Option<String>) {
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
    pub fn log(&self, node: Option<&str>, level: LogLevel, message: String) {
        let message = self.redact(&message);
        let now = Utc::now();
        let id = Uuid::now_v7();
        self.pending_logs.lock().expect("lock").push(execution_log::ActiveModel {
            id: Set(id),
            tenant_id: Set(self.exec.tenant_id),
            execution_id: Set(self.exec.id),
            node_id: Set(node.map(str::to_string)),
            level: Set(level),
            message: Set(message.clone()),
            created_at: Set(now),
        });
        let event = LogEvent {
            id,
            execution_id: self.exec.id,
            node_id: node.map(str::to_string),
            level,
            message,
            at: now,
        };
        let (app, topic) = (self.app.clone(), logs_topic(self.exec.tenant_id, self.exec.id));
        tokio::spawn(async move { app.publish(&topic, &event).await });
    }

    /// An update of this run that applies only while it is `running` under this worker's
    /// lease: the compare-and-set every write of the runner goes through.
    pub(super) fn while_ours(&self) -> sea_orm::UpdateMany<execution::Entity> {
        self.scope
            .update_many::<execution::Entity>()
            .filter(execution::Column::Id.eq(self.exec.id))
            .filter(execution::Column::Status.eq(ExecutionStatus::Running))
            .filter(execution::Column::LeaseOwner.eq(self.app.engine.instance.to_string()))
    }

    pub(super) fn lease_until(&self) -> chrono::DateTime<Utc> {
        Utc::now() + chrono::Duration::from_std(self.app.config.workflows.lease).unwrap_or_default()
    }

    /// Renews the lease; `false` when the run is no longer ours (cancelled or taken over).
    pub(super) async fn heartbeat(&self) -> Result<bool, sea_orm::DbErr> {
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
            status: Set(status),
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
    pub(super) async fn flush(&self, write: Write) -> Result<(), Stop> {
        let nodes = std::mem::take(&mut *self.pending_nodes.lock().expect("lock"));
        let logs = std::mem::take(&mut *self.pending_logs.lock().expect("lock"));
        *self.last_flush.lock().expect("lock") = Instant::now();
        let (nodes, logs) = match &write {
            Write::Finish(ExecutionStatus::Succeeded, output, None) => {
                match self.finish_in_group(output.clone(), nodes, logs).await {
                    Ok(()) => {
                        self.app.metrics.workflow_finishes.with_label_values(&["group"]).inc();
                        return Ok(());
                    }
                    Err(Ok(stop)) => return Err(stop),
                    Err(Err(rows)) => (rows.nodes, rows.logs),
                }
            }
            _ => (nodes, logs),
        };
        if let Write::Finish(..) = write {
            self.app.metrics.workflow_finishes.with_label_values(&["alone"]).inc();
        }
        let txn = crate::db::begin_tenant_txn(&self.app.db, self.scope).await?;
        let mut cas = self.while_ours();
        match &write {
            Write::Finish(status, output, error) => {
                cas = cas
                    .col_expr(execution::Column::Status, Expr::value(*status))
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
            self.scope.insert_many(nodes).on_conflict(super::finish::node_upsert()).exec(&txn).await?;
        }
        let mut logs = logs;
        if let Write::Finish(ExecutionStatus::Failed, _, Some(error)) = &write
            && self.exec.trigger != ExecutionTrigger::Error
        {
            self.start_error_workflow(&txn, error).await?;
            self.notify_failure(&txn, error).await?;
            // What it logged goes with this last write.
            logs.append(&mut self.pending_logs.lock().expect("lock"));
        }
        if !logs.is_empty() {
            self.scope.insert_many(logs).exec(&txn).await?;
        }
        txn.commit().await?;
        Ok(())
    }

    /// Tells whoever started the run (else the workflow's author) that it failed, with the
    /// run's last write.
    async fn notify_failure(&self, txn: &impl ConnectionTrait, error: &str) -> Result<(), Stop> {
        use crate::modules::notifications::{catalog::NotificationKind, service as notifications};
        let wf = self.scope.find_by_id::<entity::workflow::Entity, _>(txn, self.exec.workflow_id).await?;
        let Some(user) = self.exec.created_by.or(wf.as_ref().and_then(|w| w.created_by)) else {
            return Ok(());
        };
        let name = wf.as_ref().map(|w| w.name.as_str()).unwrap_or("A workflow");
        let notice = notifications::Notice {
            kind: NotificationKind::ExecutionFailed,
            organisation: Some(self.scope.tenant_id()),
            recipients: notifications::Recipients::Users { ids: vec![user] },
            title: format!("A run of {name} failed"),
            body: error.chars().take(300).collect(),
            link: Some(format!(
                "/workflows/{}/executions/{}",
                crate::graphql::relay::to_global_id(
                    crate::graphql::relay::kind::WORKFLOW,
                    self.exec.workflow_id
                )
                .0,
                crate::graphql::relay::to_global_id(crate::graphql::relay::kind::EXECUTION, self.exec.id).0
            )),
            data: serde_json::json!({ "executionId": self.exec.id, "workflowId": self.exec.workflow_id }),
            except: None,
        };
        notifications::notify(txn, self.app.now(), &notice)
            .await
            .map_err(|e| Stop::Internal(e.to_string()))?;
        Ok(())
    }

    pub(super) async fn start_error_workflow(
        &self,
        txn: &impl ConnectionTrait,
        error: &str,
    ) -> Result<(), Stop> {
        let settings: Settings = serde_json::from_value(self.exec.settings.clone()).unwrap_or_default();
        let Some(target) = settings.error_workflow_id else { return Ok(()) };
        let Some(wf) = self.scope.find_by_id::<entity::workflow::Entity, _>(txn, target).await? else {
            return Ok(());
        };
        let input = json!({
            "execution": { "id": self.exec.id, "workflowId": self.exec.workflow_id },
            "error": error,
        });
        let queued = crate::modules::workflows::runtime::executions::enqueue(
            txn,
            &self.app.config,
            self.scope,
            wf.id,
            crate::modules::workflows::runtime::executions::Snapshot::of(&wf, None),
            input,
            ExecutionTrigger::Error,
            None,
            None,
        )
        .await
        .map_err(|e| Stop::Internal(e.to_string()))?;
        match queued {
            Ok(_) => self.app.engine.wake(),
            // Written with the flush that ends the run (the caller's transaction).
            Err(r) => self.log(None, LogLevel::Warn, format!("error workflow not started: {}", r.message())),
        }
        Ok(())
    }

    /// Writes the final state (unless the run was cancelled or taken over) and tells
    /// subscribers.
    pub(super) async fn finish(&self, outcome: Result<Value, Stop>) {
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
            self.log(None, LogLevel::Error, e.clone());
        }
        match self.flush(Write::Finish(status, output, error.clone())).await {
            Ok(()) => self.publish_status(status, error).await,
            Err(Stop::Lost) => self.flush_cancelled().await,
            Err(e) => tracing::error!(error = ?e, "final state not written; the run will be resumed"),
        }
    }

    /// Parks the run until `until` and frees its worker; this instance's workers are woken
    /// then (any instance's poll also finds it).
    pub(super) async fn park(&self, until: chrono::DateTime<Utc>) {
        self.log(
            None,
            LogLevel::Info,
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
    pub(super) async fn flush_cancelled(&self) {
        let logs = std::mem::take(&mut *self.pending_logs.lock().expect("lock"));
        if !logs.is_empty() {
            let _ = self.scope.insert_many(logs).exec(&self.scope.on(&self.app.db)).await;
        }
    }

    pub(super) fn check(&self) -> Result<(), Stop> {
        if self.cancel.is_cancelled() {
            return Err(Stop::Lost);
        }
        if Instant::now() >= self.deadline {
            return Err(Stop::TimedOut);
        }
        Ok(())
    }
}
