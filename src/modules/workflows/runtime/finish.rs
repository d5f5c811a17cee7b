//! Group commit of succeeded runs: the last write of every run that succeeded while the
//! previous group was being written goes into one transaction.
//!
//! A run's final write is a compare-and-set of its row (still `running` under this worker's
//! lease), its buffered node rows and its log lines. Written alone that is five round trips
//! and a commit per run, which under a backlog was most of what the engine did. The
//! finisher writes a group in a constant number of statements — one compare-and-set of all
//! its runs answering which were still ours, one insert of their node rows, one of the log
//! lines — and tells each run whether it was written. There is no waiting for a group to
//! fill: what queued up while the last commit was on its way is the next group. If a group
//! fails, each of its runs writes itself alone, so one bad row cannot hold the others back.

#[allow(unused_imports)]
use super::*;
use tokio::sync::{mpsc, oneshot};

/// Runs written together at most.
const GROUP: usize = 64;

/// A succeeded run's final write, handed to the finisher.
pub(super) struct Finishing {
    pub tenant: Uuid,
    pub execution: Uuid,
    pub output: Option<Value>,
    pub nodes: Vec<node_execution::ActiveModel>,
    pub logs: Vec<execution_log::ActiveModel>,
    /// `Ok(true)`: written; `Ok(false)`: the run was no longer this worker's (nothing of it
    /// written but its log lines); `Err(rows)`: the group failed, the run writes them alone.
    pub done: oneshot::Sender<Result<bool, Unwritten>>,
}

/// What a failed group hands back to a run.
pub(super) struct Unwritten {
    pub nodes: Vec<node_execution::ActiveModel>,
    pub logs: Vec<execution_log::ActiveModel>,
}

/// The channel runs hand their final writes to; the finisher task is started with the
/// workers ([`super::run_workers`]).
pub(super) struct Finisher {
    tx: mpsc::UnboundedSender<Finishing>,
    rx: std::sync::Mutex<Option<mpsc::UnboundedReceiver<Finishing>>>,
}

impl Default for Finisher {
    fn default() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        Self { tx, rx: std::sync::Mutex::new(Some(rx)) }
    }
}

impl Finisher {
    /// Hands `f` over; `Err(f)` back if no finisher runs on this instance.
    pub fn send(&self, f: Finishing) -> Result<(), Finishing> {
        self.tx.send(f).map_err(|e| e.0)
    }

    /// Starts the finisher task (once per instance; later calls do nothing).
    pub fn start(&self, app: AppState) {
        if let Some(rx) = self.rx.lock().expect("lock").take() {
            tokio::spawn(run(app, rx));
        }
    }
}

async fn run(app: AppState, mut rx: mpsc::UnboundedReceiver<Finishing>) {
    let mut group = Vec::with_capacity(GROUP);
    while rx.recv_many(&mut group, GROUP).await > 0 {
        match write(&app, &group).await {
            Ok(written) => {
                app.metrics.workflow_finish_groups.inc();
                for f in group.drain(..) {
                    let _ = f.done.send(Ok(written.contains(&f.execution)));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, runs = group.len(), "writing a group of finished runs failed; each writes itself");
                for f in group.drain(..) {
                    let _ = f.done.send(Err(Unwritten { nodes: f.nodes, logs: f.logs }));
                }
            }
        }
    }
}

/// Writes `group` in one transaction; returns the runs that were still ours.
async fn write(
    app: &AppState,
    group: &[Finishing],
) -> Result<std::collections::HashSet<Uuid>, sea_orm::DbErr> {
    use execution::Column as C;
    let tenants: BTreeSet<Uuid> = group.iter().map(|f| f.tenant).collect();
    let txn = crate::db::begin_tenants_txn(&app.db, tenants.iter().copied()).await?;
    let backend = txn.get_database_backend();
    // The column is `json` on PostgreSQL, where a bound value is `jsonb` and a CASE needs
    // one type; SQLite stores text and would read a cast as a number.
    let postgres = crate::db::is_postgres(&txn);
    let value = |v: &Option<Value>| {
        let e = Expr::value(v.clone());
        if postgres {
            sea_orm::sea_query::ExprTrait::cast_as(e, sea_orm::sea_query::Alias::new("json"))
        } else {
            e
        }
    };
    let mut output = Expr::case(C::Id.eq(group[0].execution), value(&group[0].output));
    for f in &group[1..] {
        output = output.case(C::Id.eq(f.execution), value(&f.output));
    }
    let mut cas = Query::update();
    cas.table(execution::Entity)
        .value(C::Status, Expr::value(ExecutionStatus::Succeeded))
        .value(C::Output, output.finally(Expr::col(C::Output)))
        .value(C::Error, Expr::value(Option::<String>::None))
        .value(C::FinishedAt, Expr::value(Utc::now()))
        .value(C::LeaseOwner, Expr::value(Option::<String>::None))
        .and_where(C::TenantId.is_in(tenants))
        .and_where(C::Id.is_in(group.iter().map(|f| f.execution)))
        .and_where(C::Status.eq(ExecutionStatus::Running))
        .and_where(C::LeaseOwner.eq(app.engine.instance.to_string()))
        .returning_col(C::Id);
    let mut written = std::collections::HashSet::with_capacity(group.len());
    for row in txn.query_all_raw(backend.build(&cas)).await? {
        written.insert(row.try_get::<Uuid>("", "id")?);
    }
    let nodes: Vec<_> = group
        .iter()
        .filter(|f| written.contains(&f.execution))
        .flat_map(|f| f.nodes.iter().cloned())
        .collect();
    if !nodes.is_empty() {
        node_execution::Entity::insert_many(nodes).on_conflict(node_upsert()).exec(&txn).await?;
    }
    // Log lines are kept whether or not the run was still ours, as a lone write keeps them.
    let logs: Vec<_> = group.iter().flat_map(|f| f.logs.iter().cloned()).collect();
    if !logs.is_empty() {
        execution_log::Entity::insert_many(logs).exec(&txn).await?;
    }
    txn.commit().await?;
    Ok(written)
}

/// Node rows are written once per state: a later state of the same node (and iteration)
/// replaces the earlier one.
pub(super) fn node_upsert() -> OnConflict {
    use node_execution::Column as N;
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
        .to_owned()
}

impl Runner {
    /// A succeeded run's last write, committed with the others finishing meanwhile
    /// (this module); its rows back if the group failed.
    pub(super) async fn finish_in_group(
        &self,
        output: Option<Value>,
        nodes: Vec<node_execution::ActiveModel>,
        logs: Vec<execution_log::ActiveModel>,
    ) -> Result<(), Result<Stop, Unwritten>> {
        let (done, answer) = tokio::sync::oneshot::channel();
        let handed = self.app.engine.finisher.send(Finishing {
            tenant: self.exec.tenant_id,
            execution: self.exec.id,
            output,
            nodes,
            logs,
            done,
        });
        if let Err(f) = handed {
            return Err(Err(Unwritten { nodes: f.nodes, logs: f.logs }));
        }
        match answer.await {
            Ok(Ok(true)) => Ok(()),
            Ok(Ok(false)) => Err(Ok(Stop::Lost)),
            Ok(Err(rows)) => Err(Err(rows)),
            Err(_) => Err(Ok(Stop::Internal("the finisher stopped".into()))),
        }
    }
}
