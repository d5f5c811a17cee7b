//! Executions as the API sees them: the one door into the queue ([`enqueue`], with its
//! refusals), reading, cancelling and retrying runs.

use chrono::Utc;
use entity::{
    execution::{self, ExecutionTrigger},
    node_execution::{self, NodeStatus},
    tenant::TenantStatus,
    workflow::{self, WorkflowStatus},
    workflow_version,
};
use sea_orm::{ActiveEnum, ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder, Set, sea_query::Expr};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    access::{Change, TenantCtx, TenantTx},
    auth::Permission,
    ctx::Ctx,
    db::TenantScope,
    error::{AppError, AppResult},
    modules::workflows::{
        definition::{graph::Graph, workflows::*},
        runtime::{self as engine, ExecutionEvent, ExecutionStatus},
    },
    startup::AppState,
};

/// What a run executes: the graph and settings of a version, or of the draft.
pub struct Snapshot {
    pub version: Option<i32>,
    pub graph: Value,
    pub settings: Value,
}

impl Snapshot {
    /// `version` of `w`, or its draft.
    pub fn of(w: &workflow::Model, version: Option<&workflow_version::Model>) -> Self {
        match version {
            Some(v) => {
                Self { version: Some(v.version), graph: v.graph.clone(), settings: v.settings.clone() }
            }
            None => Self { version: None, graph: w.graph.clone(), settings: w.settings.clone() },
        }
    }
}

/// Why a run of a workflow may not enter the queue, or leave it for a worker. [`enqueue`]
/// checks it for every trigger (manual, retry, webhook, schedule, error workflow) and the
/// engine again when it claims a run, so a run queued before the change does not start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The organisation is suspended: nothing of it runs until an owner reactivates it.
    TenantSuspended,
    /// The organisation is scheduled for deletion: nothing of it runs any more.
    TenantDeletionPending,
    /// The workflow is archived: it neither runs nor changes until it is restored.
    WorkflowArchived,
    /// The plan's executions for this month are used up.
    QuotaExceeded(crate::modules::billing::usage::Exceeded),
}

impl Refusal {
    /// The reason, as a run's error and a client's message say it.
    pub fn message(self) -> &'static str {
        match self {
            Self::TenantSuspended => "the organisation is suspended; an owner can reactivate it",
            Self::TenantDeletionPending => {
                "the organisation is scheduled for deletion; an owner can take the deletion back"
            }
            Self::WorkflowArchived => "the workflow is archived; restore it to run it",
            Self::QuotaExceeded(_) => "the plan's executions for this month are used up",
        }
    }

    /// The refusal as a client sees it; `field` names the input that chose the workflow.
    pub fn error(self, field: &str) -> AppError {
        match self {
            Self::TenantSuspended | Self::TenantDeletionPending => {
                AppError::ForbiddenWith(self.message().into())
            }
            Self::WorkflowArchived => AppError::rejected("WORKFLOW_ARCHIVED", field, self.message()),
            Self::QuotaExceeded(e) => e.error(),
        }
    }

    /// The refusal of a run of `workflow` (status column) in a tenant of status `tenant`,
    /// `deleting` when an owner deleted it (its grace period runs).
    pub fn of(tenant: TenantStatus, deleting: bool, workflow: WorkflowStatus) -> Option<Self> {
        if deleting {
            Some(Self::TenantDeletionPending)
        } else if tenant == TenantStatus::Suspended {
            Some(Self::TenantSuspended)
        } else if workflow == WorkflowStatus::Archived {
            Some(Self::WorkflowArchived)
        } else {
            None
        }
    }
}

/// Inserts a queued execution of `workflow_id` running `snapshot` inside `db`, unless the
/// organisation is suspended or the workflow archived (`Ok(Err(refusal))`, nothing written).
#[allow(clippy::too_many_arguments)]
pub async fn enqueue(
    db: &impl ConnectionTrait,
    config: &crate::config::Config,
    scope: TenantScope,
    workflow_id: Uuid,
    snapshot: Snapshot,
    input: Value,
    trigger: ExecutionTrigger,
    created_by: Option<Uuid>,
    retry_of: Option<Uuid>,
) -> AppResult<Result<execution::Model, Refusal>> {
    use sea_orm::{EntityTrait, QuerySelect};
    // The queue's one entry check, read in the caller's transaction so that it sees the
    // same state the insert commits with.
    let tenant: Option<(TenantStatus, Option<chrono::DateTime<Utc>>)> = entity::tenant::Entity::find()
        .select_only()
        .column(entity::tenant::Column::Status)
        .column(entity::tenant::Column::DeletionDueAt)
        .filter(entity::tenant::Column::Id.eq(scope.tenant_id()))
        .into_tuple()
        .one(db)
        .await?;
    let status: Option<WorkflowStatus> = scope
        .find::<workflow::Entity>()
        .select_only()
        .column(workflow::Column::Status)
        .filter(workflow::Column::Id.eq(workflow_id))
        .into_tuple()
        .one(db)
        .await?;
    let (Some(tenant), Some(status)) = (tenant, status) else { return Err(AppError::NotFound("workflow")) };
    if let Some(refusal) = Refusal::of(tenant.0, tenant.1.is_some(), status) {
        return Ok(Err(refusal));
    }
    let now = Utc::now();
    // Counted at the one door every run comes through; refused runs write nothing.
    if let Err(exceeded) = crate::modules::billing::usage::record(
        db,
        config,
        scope,
        crate::modules::billing::plans::Limit::ExecutionsPerMonth,
        1,
        now,
    )
    .await?
    {
        return Ok(Err(Refusal::QuotaExceeded(exceeded)));
    }
    let Snapshot { version: v, graph, settings } = snapshot;
    Ok(Ok(scope
        .insert(
            db,
            execution::ActiveModel {
                id: Set(Uuid::now_v7()),
                tenant_id: Set(scope.tenant_id()),
                workflow_id: Set(workflow_id),
                version: Set(v),
                graph: Set(graph),
                settings: Set(settings),
                status: Set(ExecutionStatus::Queued),
                trigger: Set(trigger),
                input: Set(input),
                output: Set(None),
                error: Set(None),
                retry_of: Set(retry_of),
                claims: Set(0),
                lease_owner: Set(None),
                lease_expires_at: Set(None),
                run_after: Set(now),
                created_by: Set(created_by),
                created_at: Set(now),
                started_at: Set(None),
                finished_at: Set(None),
            },
        )
        .await?))
}

pub(in crate::modules::workflows) async fn announce(app: &AppState, e: &execution::Model) {
    app.engine.wake();
    engine::publish(app, e.tenant_id, &ExecutionEvent::status_of(e)).await;
}

/// An execution of the tenant (`workflow.read`).
pub async fn get_execution(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> AppResult<execution::Model> {
    tctx.require(Permission::WorkflowRead)?;
    tctx.scope()
        .find_by_id::<execution::Entity, _>(&tctx.on(&ctx.db), id)
        .await?
        .ok_or(AppError::NotFound("execution"))
}

/// Cancels a queued or running execution (`workflow.execute`). The state is `cancelled`
/// at once and for good; the worker running it stops the node in flight.
pub async fn cancel_execution(app: &AppState, tctx: &TenantCtx, id: Uuid) -> AppResult<execution::Model> {
    tctx.require(Permission::WorkflowExecute)?;
    let scope = tctx.scope();
    let tx = TenantTx::begin(app, tctx, Permission::WorkflowExecute).await?;
    let now = app.now();
    let changed = scope
        .update_many::<execution::Entity>()
        .col_expr(execution::Column::Status, Expr::value(ExecutionStatus::Cancelled))
        .col_expr(execution::Column::FinishedAt, Expr::value(now))
        .col_expr(execution::Column::LeaseOwner, Expr::value(Option::<String>::None))
        .col_expr(execution::Column::Error, Expr::value("cancelled"))
        .filter(execution::Column::Id.eq(id))
        .filter(execution::Column::Status.is_in([ExecutionStatus::Queued, ExecutionStatus::Running]))
        .exec(&tx)
        .await?;
    let e =
        scope.find_by_id::<execution::Entity, _>(&tx, id).await?.ok_or(AppError::NotFound("execution"))?;
    if changed.rows_affected == 0 {
        return Err(AppError::rejected(
            "EXECUTION_FINISHED",
            "id",
            format!("the execution already ended ({})", e.status.to_value()),
        ));
    }
    // The nodes in flight end with the run; their rows keep when they started. A parked run
    // has no worker to say so: subscribers hear it from here.
    let in_flight: Vec<(String, String, i32)> = {
        use sea_orm::QuerySelect;
        scope
            .find::<node_execution::Entity>()
            .select_only()
            .column(node_execution::Column::NodeId)
            .column(node_execution::Column::Iteration)
            .column(node_execution::Column::Attempt)
            .filter(node_execution::Column::ExecutionId.eq(id))
            .filter(node_execution::Column::Status.is_in(["running", "retrying"]))
            .into_tuple()
            .all(&tx)
            .await?
    };
    scope
        .update_many::<node_execution::Entity>()
        .col_expr(node_execution::Column::Status, Expr::value(NodeStatus::Cancelled))
        .col_expr(node_execution::Column::FinishedAt, Expr::value(now))
        .filter(node_execution::Column::ExecutionId.eq(id))
        .filter(node_execution::Column::Status.is_in(["running", "retrying"]))
        .exec(&tx)
        .await?;
    tx.commit_with(Change {
        action: "execution.cancelled",
        target_type: "execution",
        target_id: Some(id),
        before: None,
        after: None,
    })
    .await?;
    app.publish(&engine::cancels_topic(), &serde_json::json!({ "executionId": id })).await;
    announce(app, &e).await;
    for (node_id, iteration, attempt) in in_flight {
        let event = ExecutionEvent {
            node: Some(engine::NodeEvent {
                node_id,
                iteration,
                status: engine::NodeStatus::Cancelled,
                attempt,
                port: None,
                error: Some("cancelled".into()),
            }),
            at: now,
            ..ExecutionEvent::status_of(&e)
        };
        engine::publish(app, e.tenant_id, &event).await;
    }
    Ok(e)
}

/// Runs a finished execution again (`workflow.execute`): with the same graph, or the
/// workflow's latest version (its draft if it has none) with `use_latest_version`; from the
/// failed node with `from_failed_node` (nodes that succeeded keep their results and do not
/// run again), else from the start.
pub async fn retry_execution(
    app: &AppState,
    tctx: &TenantCtx,
    id: Uuid,
    from_failed_node: bool,
    use_latest_version: bool,
) -> AppResult<execution::Model> {
    tctx.require(Permission::WorkflowExecute)?;
    let scope = tctx.scope();
    // The reads share one walled transaction, ended before the write transaction opens.
    let (old, snapshot, new_graph) = {
        let db = &tctx.on(&app.db);
        let old =
            scope.find_by_id::<execution::Entity, _>(db, id).await?.ok_or(AppError::NotFound("execution"))?;
        if !old.status.is_final() {
            return Err(AppError::rejected(
                "EXECUTION_NOT_FINISHED",
                "id",
                "the execution has not ended yet",
            ));
        }
        let snapshot = if use_latest_version {
            let w = scope
                .find_by_id::<workflow::Entity, _>(db, old.workflow_id)
                .await?
                .ok_or(AppError::NotFound("workflow"))?;
            let (ver, _) = live_graph(db, scope, &w).await?;
            Snapshot::of(&w, ver.as_ref())
        } else {
            Snapshot { version: old.version, graph: old.graph.clone(), settings: old.settings.clone() }
        };
        let new_graph: Graph = serde_json::from_value(snapshot.graph.clone()).unwrap_or_default();
        let problems = validate_graph_on(db, scope, &new_graph).await?;
        if !problems.is_empty() {
            return Err(refuse_invalid("the workflow cannot run", &problems));
        }
        (old, snapshot, new_graph)
    };
    let old_graph: Graph = serde_json::from_value(old.graph.clone()).unwrap_or_default();
    let mut tx = TenantTx::begin(app, tctx, Permission::WorkflowExecute).await?;
    let e = enqueue(
        &tx,
        &app.config,
        scope,
        old.workflow_id,
        snapshot,
        old.input.clone(),
        ExecutionTrigger::Retry,
        tctx.acting_user(),
        Some(id),
    )
    .await?
    .map_err(|r| r.error("input.id"))?;
    if from_failed_node {
        let kept = scope
            .find::<node_execution::Entity>()
            .filter(node_execution::Column::ExecutionId.eq(id))
            .filter(node_execution::Column::Status.is_in(["succeeded", "skipped"]))
            .order_by_asc(node_execution::Column::Id)
            .all(&tx)
            .await?;
        // Reused only if the node still exists with the same type and configuration.
        let reused: Vec<node_execution::ActiveModel> = kept
            .into_iter()
            .filter(|n| match (old_graph.node(&n.node_id), new_graph.node(&n.node_id)) {
                (Some(a), Some(b)) => a.node_type == b.node_type && a.config == b.config,
                _ => false,
            })
            .map(|n| node_execution::ActiveModel {
                id: Set(Uuid::now_v7()),
                tenant_id: Set(scope.tenant_id()),
                execution_id: Set(e.id),
                node_id: Set(n.node_id),
                iteration: Set(n.iteration),
                status: Set(n.status),
                port: Set(n.port),
                input: Set(n.input),
                output: Set(n.output),
                error: Set(None),
                attempt: Set(n.attempt),
                reused: Set(true),
                started_at: Set(n.started_at),
                finished_at: Set(n.finished_at),
            })
            .collect();
        if !reused.is_empty() {
            scope.insert_many(reused).exec(&tx).await?;
        }
    }
    tx.audit(Change {
        action: "execution.retried",
        target_type: "execution",
        target_id: Some(e.id),
        before: None,
        after: Some(json!({ "retryOf": id, "fromFailedNode": from_failed_node, "useLatestVersion": use_latest_version })),
    }).await?;
    tx.commit().await?;
    announce(app, &e).await;
    Ok(e)
}
