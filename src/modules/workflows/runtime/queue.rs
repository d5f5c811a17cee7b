//! The queue: this instance's workers, fair claiming, refusals and quarantine at claim.

#[allow(unused_imports)]
use super::*;

/// How long a claim under a backlog waits for more free workers (see [`run_workers`]).
const GATHER_FOR: Duration = Duration::from_millis(3);

/// How long candidates read ahead serve later claims (see [`Candidates`]).
const FRESH_FOR: Duration = Duration::from_millis(100);

/// Due runs read ahead of the claims that take them. Finding candidates ranks every due
/// run by tenant, which under a backlog of thousands was the costliest statement of a
/// claim, and it ran for every claim of a few runs. One read now serves the claims of the
/// next [`FRESH_FOR`] (each claim re-checks in the database that its runs are still due,
/// so a run another instance took meanwhile is simply not claimed); a run that became due
/// since waits at most that long, and only while older runs are still waiting.
#[derive(Default)]
pub(super) struct Candidates {
    /// (run, tenant, was already running), oldest first.
    rows: Vec<(Uuid, Uuid, bool)>,
    read_at: Option<Instant>,
}

impl Candidates {
    fn stale(&self) -> bool {
        self.rows.is_empty() || self.read_at.is_none_or(|t| t.elapsed() > FRESH_FOR)
    }
}

/// Runs the workers of this instance until shutdown.
pub async fn run_workers(app: AppState) {
    let cfg = app.config.workflows.clone();
    if cfg.workers == 0 {
        return;
    }
    let slots = Arc::new(Semaphore::new(cfg.workers));
    let engine = app.engine.clone();
    engine.finisher.start(app.clone());
    // Cancels announced by any instance, for the runs in progress here.
    let mut cancels = app.bus.subscribe(&cancels_topic());
    tokio::spawn({
        let (engine, shutdown) = (engine.clone(), app.shutdown.clone());
        async move {
            loop {
                let ev = tokio::select! {
                    _ = shutdown.cancelled() => return,
                    ev = cancels.next() => ev,
                };
                let Some(ev) = ev else { return };
                if let Some(id) = ev.payload.get("executionId").and_then(Value::as_str)
                    && let Ok(id) = Uuid::parse_str(id)
                {
                    engine.cancel(id);
                }
            }
        }
    });
    // Runs in progress on this instance per tenant: what fairness weighs claims against.
    let active: Arc<std::sync::Mutex<HashMap<Uuid, usize>>> = Default::default();
    // Under a backlog every finished run would free one slot and cost a whole claim (seven
    // statements for one run); so while the last claim took all it asked for, a claim waits
    // briefly for a quarter of the workers to be free.
    let gather = (cfg.workers / 4).max(1);
    let mut backlog = false;
    let mut candidates = Candidates::default();
    loop {
        if backlog && (1..gather).contains(&slots.available_permits()) {
            let until = tokio::time::Instant::now() + GATHER_FOR;
            while slots.available_permits() < gather {
                tokio::select! {
                    _ = app.shutdown.cancelled() => return,
                    _ = engine.wake.notified() => {}
                    _ = tokio::time::sleep_until(until) => break,
                }
            }
        }
        let free = slots.available_permits();
        let mut full_batch = false;
        if free > 0 {
            let want = free.min(64);
            let busy = active.lock().expect("lock").clone();
            match claim(&app, want, &busy, &mut candidates).await {
                Ok(runs) => {
                    full_batch = runs.len() == want;
                    backlog = full_batch;
                    for run in runs {
                        let permit = slots.clone().acquire_owned().await.expect("semaphore is never closed");
                        let (app, wake, active) = (app.clone(), engine.wake.clone(), active.clone());
                        let tenant = run.exec.tenant_id;
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
                Err(e) => {
                    backlog = false;
                    tracing::warn!(error = %e, "claiming workflow executions failed")
                }
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

/// Due runs: queued ones whose time came, parked ones whose wake-up time came, and running
/// ones whose lease expired (their worker was lost).
pub(super) fn due(now: chrono::DateTime<Utc>) -> sea_orm::Condition {
    use execution::Column as C;
    sea_orm::Condition::any()
        .add(sea_orm::Condition::all().add(C::Status.eq(ExecutionStatus::Queued)).add(C::RunAfter.lte(now)))
        .add(
            sea_orm::Condition::all()
                .add(C::Status.eq(ExecutionStatus::Running))
                .add(C::LeaseOwner.is_null())
                .add(C::RunAfter.lte(now)),
        )
        .add(
            sea_orm::Condition::all()
                .add(C::Status.eq(ExecutionStatus::Running))
                .add(C::LeaseExpiresAt.lt(now)),
        )
}

/// Claims up to `n` runnable executions for this instance, `active` being the runs it has per
/// tenant, from `read` (re-read when stale). The queue is shared by every tenant, so these
/// statements are the engine's only ones outside a [`TenantScope`]; each claimed run is then
/// worked on through its own tenant's scope.
pub(super) async fn claim(
    app: &AppState,
    n: usize,
    active: &HashMap<Uuid, usize>,
    read: &mut Candidates,
) -> Result<Vec<Claimed>, sea_orm::DbErr> {
    use execution::Column as C;
    use sea_orm::sea_query::ExprTrait;
    let now = Utc::now();
    let lease = chrono::Duration::from_std(app.config.workflows.lease).unwrap_or_default();
    // The queue is shared by every tenant: the workers claim across tenants, then run each
    // execution behind its own tenant's wall.
    if read.stale() {
        let queue = crate::db::across_tenants(&app.db);
        read.rows = read_candidates(&queue, now, app.config.workflows.workers).await?;
        read.read_at = Some(Instant::now());
    }
    let pairs: Vec<(Uuid, Uuid)> = read.rows.iter().map(|r| (r.0, r.1)).collect();
    let picked = crate::jobs::fair_pick(&pairs, active, app.config.workflows.workers, n);
    if picked.is_empty() {
        return Ok(Vec::new());
    }
    // Whether claimed now or taken by another instance since the read, a picked run is no
    // longer a candidate.
    let taken: BTreeSet<Uuid> = picked.iter().copied().collect();
    let mut was_running = BTreeSet::new();
    read.rows.retain(|r| {
        let picked = taken.contains(&r.0);
        if picked && r.2 {
            was_running.insert(r.0);
        }
        !picked
    });
    // The claim itself re-checks that each picked run is still due: another instance may
    // have taken it since it was read.
    let mut still_due = Query::select();
    still_due.column(C::Id).from(execution::Entity).and_where(C::Id.is_in(picked)).cond_where(due(now));
    if crate::db::is_postgres(&app.db) {
        still_due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    // The claim, and the reads of what the claimed runs need, in one transaction.
    let txn = crate::db::begin_across_tenants_txn(&app.db).await?;
    // Waking a parked run (running, no lease owner) is not a new claim; anything else is.
    let woken =
        sea_orm::Condition::all().add(C::Status.eq(ExecutionStatus::Running)).add(C::LeaseOwner.is_null());
    let claimed = execution::Entity::update_many()
        .col_expr(C::Status, Expr::value(ExecutionStatus::Running))
        .col_expr(C::LeaseOwner, Expr::value(app.engine.instance.to_string()))
        .col_expr(C::LeaseExpiresAt, Expr::value(now + lease))
        .col_expr(
            C::Claims,
            Expr::case(woken, Expr::col(C::Claims)).finally(Expr::col(C::Claims).add(1)).into(),
        )
        .col_expr(C::StartedAt, Func::coalesce([Expr::col(C::StartedAt), Expr::value(now)]).into())
        .filter(C::Id.in_subquery(still_due))
        .exec_with_returning(&txn)
        .await?;
    if claimed.is_empty() {
        return Ok(Vec::new());
    }
    // What decides each run's fate, and what it starts from, read in the claim's
    // transaction (the count of running runs sees this claim).
    let states = claim_states(&txn, &claimed, now).await?;
    let claimed = with_start_state(&txn, claimed).await?;
    txn.commit().await?;
    // The tenant cap: what runs per tenant now (this claim included, the refused not) —
    // over it, the newest claims go back.
    let (claimed, running) = refuse_at_claim(app, claimed, states).await;
    if claimed.is_empty() {
        return Ok(Vec::new());
    }
    let cap = app.config.workflows.tenant_concurrency as i64;
    let mut over: HashMap<Uuid, i64> =
        running.into_iter().filter(|(_, n)| *n > cap).map(|(t, n)| (t, n - cap)).collect();
    let mut keep = Vec::with_capacity(claimed.len());
    let (mut back_queued, mut back_parked) = (Vec::new(), Vec::new());
    for run in claimed.into_iter().rev() {
        let e = &run.exec;
        match over.get_mut(&e.tenant_id) {
            Some(n) if *n > 0 => {
                *n -= 1;
                if was_running.contains(&e.id) { back_parked.push(e.id) } else { back_queued.push(e.id) }
            }
            _ => keep.push(run),
        }
    }
    let queue = crate::db::across_tenants(&app.db);
    let retry_at = now + chrono::Duration::milliseconds(200);
    if !back_queued.is_empty() {
        execution::Entity::update_many()
            .col_expr(C::Status, Expr::value(ExecutionStatus::Queued))
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

/// Candidates: the oldest due runs of each waiting tenant (enough for several claims of a
/// full pool), so one tenant's backlog cannot hide another tenant's run from the fair choice.
async fn read_candidates(
    queue: &impl ConnectionTrait,
    now: chrono::DateTime<Utc>,
    workers: usize,
) -> Result<Vec<(Uuid, Uuid, bool)>, sea_orm::DbErr> {
    use execution::Column as C;
    use sea_orm::sea_query::{Alias, ExprTrait, WindowStatement};
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
        .and_where(Expr::col(Alias::new("rn")).lte((workers * 8) as i64))
        .order_by(Alias::new("run_after"), sea_orm::Order::Asc)
        .limit((workers * 64).min(4096) as u64);
    let running = ExecutionStatus::Running.to_value();
    let mut out = Vec::new();
    for row in queue.query_all_raw(queue.get_database_backend().build(&waiting)).await? {
        let status: String = row.try_get("", "status")?;
        out.push((row.try_get("", "id")?, row.try_get("", "tenant_id")?, status == running));
    }
    Ok(out)
}

/// What the claimed runs start from — their recorded node states and their tenants'
/// environment variables — read in two statements for the whole claim instead of a walled
/// read transaction per run. Like the claim, these read across tenants, and only rows of
/// the claimed runs and their tenants.
async fn with_start_state(
    queue: &impl ConnectionTrait,
    runs: Vec<execution::Model>,
) -> Result<Vec<Claimed>, sea_orm::DbErr> {
    if runs.is_empty() {
        return Ok(Vec::new());
    }
    let keys: Vec<(Uuid, Uuid)> = runs.iter().map(|e| (e.tenant_id, e.id)).collect();
    let mut rows = crate::db::load_scoped_children::<node_execution::Entity, _>(
        queue,
        node_execution::Column::ExecutionId,
        &keys,
    )
    .await?;
    let tenants: Vec<Uuid> = runs.iter().map(|e| e.tenant_id).collect::<BTreeSet<_>>().into_iter().collect();
    let env = crate::modules::secrets::service::env_maps(queue, &tenants).await?;
    Ok(runs
        .into_iter()
        .map(|exec| Claimed {
            rows: rows.remove(&(exec.tenant_id, exec.id)).unwrap_or_default(),
            env: env.get(&exec.tenant_id).cloned().unwrap_or_default(),
            exec,
        })
        .collect())
}

/// What decides the fate of claimed runs: their tenants' and workflows' states and how
/// many runs each tenant has running (leases not expired at `now`), in one statement.
pub(super) struct ClaimStates {
    tenants: HashMap<Uuid, (entity::tenant::TenantStatus, bool)>,
    workflows: HashMap<Uuid, entity::workflow::WorkflowStatus>,
    running: HashMap<Uuid, i64>,
}

pub(super) async fn claim_states(
    queue: &impl ConnectionTrait,
    claimed: &[execution::Model],
    now: chrono::DateTime<Utc>,
) -> Result<ClaimStates, sea_orm::DbErr> {
    use entity::{tenant, workflow};
    use execution::Column as C;
    use sea_orm::sea_query::{Alias, ExprTrait, JoinType};
    let tenants: BTreeSet<Uuid> = claimed.iter().map(|e| e.tenant_id).collect();
    let workflows: BTreeSet<Uuid> = claimed.iter().map(|e| e.workflow_id).collect();
    let r = Alias::new("r");
    let mut running = Query::select();
    running
        .expr(Expr::col((r.clone(), C::Id)).count())
        .from_as(execution::Entity, r.clone())
        .and_where(Expr::col((r.clone(), C::TenantId)).equals((tenant::Entity, tenant::Column::Id)))
        .and_where(Expr::col((r.clone(), C::Status)).eq(ExecutionStatus::Running.to_value()))
        .and_where(Expr::col((r, C::LeaseExpiresAt)).gte(now));
    let mut q = Query::select();
    q.expr_as(Expr::col((tenant::Entity, tenant::Column::Id)), Alias::new("tenant_id"))
        .expr_as(Expr::col((tenant::Entity, tenant::Column::Status)), Alias::new("tenant_status"))
        .expr_as(Expr::col((tenant::Entity, tenant::Column::DeletionDueAt)), Alias::new("deletion_due_at"))
        .expr_as(Expr::from(running), Alias::new("running"))
        .expr_as(Expr::col((workflow::Entity, workflow::Column::Id)), Alias::new("workflow_id"))
        .expr_as(Expr::col((workflow::Entity, workflow::Column::Status)), Alias::new("workflow_status"))
        .from(tenant::Entity)
        .join(
            JoinType::LeftJoin,
            workflow::Entity,
            sea_orm::Condition::all()
                .add(
                    Expr::col((workflow::Entity, workflow::Column::TenantId))
                        .equals((tenant::Entity, tenant::Column::Id)),
                )
                .add(Expr::col((workflow::Entity, workflow::Column::Id)).is_in(workflows)),
        )
        .and_where(Expr::col((tenant::Entity, tenant::Column::Id)).is_in(tenants));
    let mut states =
        ClaimStates { tenants: HashMap::new(), workflows: HashMap::new(), running: HashMap::new() };
    for row in queue.query_all_raw(queue.get_database_backend().build(&q)).await? {
        let t: Uuid = row.try_get("", "tenant_id")?;
        let due: Option<chrono::DateTime<Utc>> = row.try_get("", "deletion_due_at")?;
        states.tenants.insert(t, (row.try_get("", "tenant_status")?, due.is_some()));
        states.running.insert(t, row.try_get("", "running")?);
        if let Some(w) = row.try_get::<Option<Uuid>>("", "workflow_id")? {
            states.workflows.insert(w, row.try_get("", "workflow_status")?);
        }
    }
    Ok(states)
}

/// Fails the claimed runs that must not run — quarantined ones (a worker lost
/// [`MAX_CLAIMS`] times) and those of a suspended organisation or an archived workflow — and
/// returns the others, with how many runs their tenants have running, the refused ones not
/// counted.
pub(super) async fn refuse_at_claim(
    app: &AppState,
    claimed: Vec<Claimed>,
    states: ClaimStates,
) -> (Vec<Claimed>, HashMap<Uuid, i64>) {
    use entity::{tenant, workflow};
    let ClaimStates { tenants, workflows, mut running } = states;
    let mut keep = Vec::with_capacity(claimed.len());
    for run in claimed {
        let e = &run.exec;
        let refusal = crate::modules::workflows::runtime::executions::Refusal::of(
            tenants.get(&e.tenant_id).map_or(tenant::TenantStatus::Active, |s| s.0),
            tenants.get(&e.tenant_id).is_some_and(|s| s.1),
            workflows.get(&e.workflow_id).copied().unwrap_or(workflow::WorkflowStatus::Active),
        );
        let error = if e.claims > MAX_CLAIMS {
            format!(
                "{WORKER_LOST}: its worker stopped {} times while running it (a node may crash the server); quarantined, it is not run again",
                e.claims - 1
            )
        } else if let Some(r) = refusal {
            format!("not run: {}", r.message())
        } else {
            keep.push(run);
            continue;
        };
        if let Some(n) = running.get_mut(&e.tenant_id) {
            *n -= 1;
        }
        if let Err(err) = fail_claimed(app, e, &error).await {
            tracing::warn!(execution = %e.id, error = %err, "failing a refused run failed; its lease will expire");
        }
    }
    (keep, running)
}

/// Ends a run this instance just claimed as failed with `error`, without running anything:
/// the node that was in flight (if any) fails with the same error, a log line says why, and
/// subscribers hear it.
pub(super) async fn fail_claimed(
    app: &AppState,
    e: &execution::Model,
    error: &str,
) -> Result<(), sea_orm::DbErr> {
    use node_execution::Column as N;
    let scope = TenantScope::new(e.tenant_id);
    let now = Utc::now();
    let txn = crate::db::begin_tenant_txn(&app.db, scope).await?;
    let ended = scope
        .update_many::<execution::Entity>()
        .col_expr(execution::Column::Status, Expr::value(ExecutionStatus::Failed))
        .col_expr(execution::Column::Error, Expr::value(error))
        .col_expr(execution::Column::FinishedAt, Expr::value(now))
        .col_expr(execution::Column::LeaseOwner, Expr::value(Option::<String>::None))
        .filter(execution::Column::Id.eq(e.id))
        .filter(execution::Column::Status.eq(ExecutionStatus::Running))
        .filter(execution::Column::LeaseOwner.eq(app.engine.instance.to_string()))
        .exec(&txn)
        .await?;
    if ended.rows_affected != 1 {
        return Ok(());
    }
    scope
        .update_many::<node_execution::Entity>()
        .col_expr(N::Status, Expr::value(NodeStatus::Failed))
        .col_expr(N::Error, Expr::value(error))
        .col_expr(N::FinishedAt, Expr::value(now))
        .filter(N::ExecutionId.eq(e.id))
        .filter(N::Status.is_in([NodeStatus::Running, NodeStatus::Retrying]))
        .exec(&txn)
        .await?;
    scope
        .insert_many([execution_log::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(e.tenant_id),
            execution_id: Set(e.id),
            node_id: Set(None),
            level: Set(LogLevel::Error),
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
