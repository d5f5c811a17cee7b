//! Business logic of workflows, versions, templates and executions.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use entity::{
    execution::{self, ExecutionTrigger},
    node_execution::{self, NodeStatus},
    tenant::TenantStatus,
    workflow::{self, WorkflowStatus},
    workflow_template, workflow_version,
};
use sea_orm::{ActiveEnum, ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder, Set, sea_query::Expr};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{
    engine::{self, ExecutionEvent, ExecutionStatus},
    graph::{self, Graph, Settings, ValidationProblem},
    nodes::{ManualTrigger, NodeKind, ScheduleTrigger, WebhookTrigger},
    templates,
};
use crate::{
    access::{Change, TenantCtx, TenantTx},
    auth::Permission,
    db::{TenantScope, begin_tenant_txn},
    error::{AppError, AppResult},
    modules::secrets::service as secrets,
    startup::AppState,
};

fn validate_name(field: &str, name: &str) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 120 {
        return Err(AppError::validation(field, "must be 1 to 120 characters"));
    }
    Ok(name.to_string())
}

fn validate_description(field: &str, d: &str) -> AppResult<String> {
    if d.chars().count() > 2000 {
        return Err(AppError::validation(field, "must be at most 2000 characters"));
    }
    Ok(d.trim().to_string())
}

pub fn parse_graph(field: &str, v: &Value) -> AppResult<Graph> {
    let g: Graph =
        serde_json::from_value(v.clone()).map_err(|e| AppError::validation(field, e.to_string()))?;
    graph::check_shape(&g, field)?;
    Ok(g)
}

fn check_settings(field: &str, s: &Settings) -> AppResult<()> {
    if let Some(t) = s.timeout_seconds
        && !(1..=7 * 86400).contains(&t)
    {
        return Err(AppError::validation(format!("{field}.timeoutSeconds"), "must be 1 to 604800"));
    }
    Ok(())
}

/// BAD_USER_INPUT naming `field` unless the settings' error workflow is a workflow of this
/// organisation: another tenant's id, or an unknown one, is never stored (the lookup goes
/// through the tenant's wall, so a foreign id looks exactly like a missing one).
async fn check_error_workflow(
    db: &impl ConnectionTrait,
    scope: TenantScope,
    field: &str,
    s: &Settings,
) -> AppResult<()> {
    if let Some(target) = s.error_workflow_id
        && scope.find_by_id::<workflow::Entity, _>(db, target).await?.is_none()
    {
        return Err(AppError::validation(field, "no such workflow in this organisation"));
    }
    Ok(())
}

/// Settings copied from a template or another workflow, without an error workflow that is
/// not (or no longer) one of this organisation: a copy does not fail on a dangling link.
pub async fn settings_for_copy(app: &AppState, tctx: &TenantCtx, mut s: Settings) -> AppResult<Settings> {
    if check_error_workflow(&tctx.on(&app.db), tctx.scope(), "", &s).await.is_err() {
        s.error_workflow_id = None;
    }
    Ok(s)
}

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).expect("graph types serialise")
}

pub fn graph_of(w: &workflow::Model) -> Graph {
    serde_json::from_value(w.graph.clone()).unwrap_or_default()
}

pub fn settings_of(v: &Value) -> Settings {
    serde_json::from_value(v.clone()).unwrap_or_default()
}

/// A workflow of the tenant (`workflow.read`).
pub async fn get_workflow(app: &AppState, tctx: &TenantCtx, id: Uuid) -> AppResult<workflow::Model> {
    tctx.require(Permission::WorkflowRead)?;
    tctx.scope()
        .find_by_id::<workflow::Entity, _>(&tctx.on(&app.db), id)
        .await?
        .ok_or(AppError::NotFound("workflow"))
}

async fn locked(txn: &impl ConnectionTrait, scope: TenantScope, id: Uuid) -> AppResult<workflow::Model> {
    // A no-op update takes the row lock (PostgreSQL) before the read, so concurrent edits
    // serialise and the revision check below sees the latest one.
    scope
        .update_many::<workflow::Entity>()
        .col_expr(workflow::Column::Revision, Expr::col(workflow::Column::Revision).into())
        .filter(workflow::Column::Id.eq(id))
        .exec(txn)
        .await?;
    scope.find_by_id::<workflow::Entity, _>(txn, id).await?.ok_or(AppError::NotFound("workflow"))
}

/// The next run time of the graph's schedule trigger, if it has one.
pub fn next_schedule(g: &Graph, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    g.nodes
        .iter()
        .filter(|n| n.node_type == ScheduleTrigger::KEY)
        .filter_map(|n| {
            let cron = n.config.get("cron")?.as_str()?;
            super::schedule::parse(cron, n.config.get("timezone").and_then(Value::as_str))
                .ok()?
                .next_after(after)
        })
        .min()
}

/// The graph scheduled and webhook runs use: the latest version, else the draft.
async fn live_graph(
    db: &impl ConnectionTrait,
    scope: TenantScope,
    w: &workflow::Model,
) -> AppResult<(Option<workflow_version::Model>, Graph)> {
    if let Some(v) = w.latest_version {
        let ver = scope
            .find::<workflow_version::Entity>()
            .filter(workflow_version::Column::WorkflowId.eq(w.id))
            .filter(workflow_version::Column::Version.eq(v))
            .one(db)
            .await?;
        if let Some(ver) = ver {
            let g = serde_json::from_value(ver.graph.clone()).unwrap_or_default();
            return Ok((Some(ver), g));
        }
    }
    Ok((None, graph_of(w)))
}

async fn reschedule(txn: &impl ConnectionTrait, scope: TenantScope, w: &workflow::Model) -> AppResult<()> {
    let (_, g) = live_graph(txn, scope, w).await?;
    let next = if w.status == WorkflowStatus::Active { next_schedule(&g, Utc::now()) } else { None };
    scope
        .update_many::<workflow::Entity>()
        .col_expr(workflow::Column::ScheduleNextAt, Expr::value(next))
        .filter(workflow::Column::Id.eq(w.id))
        .exec(txn)
        .await?;
    Ok(())
}

fn default_graph() -> Graph {
    Graph {
        nodes: vec![graph::NodeSpec {
            id: "start".into(),
            node_type: ManualTrigger::KEY.into(),
            name: "Start".into(),
            position: graph::Position { x: 0.0, y: 0.0 },
            config: json!({}),
            retry: None,
            timeout_ms: None,
            safe_to_repeat: None,
        }],
        edges: vec![],
    }
}

/// Creates a workflow (`workflow.edit`); without a graph it starts with a manual trigger.
#[allow(clippy::too_many_arguments)]
pub async fn create_workflow(
    app: &AppState,
    tctx: &TenantCtx,
    name: &str,
    description: &str,
    graph: Option<Graph>,
    settings: Option<Settings>,
    action: &str,
) -> AppResult<workflow::Model> {
    tctx.require(Permission::WorkflowEdit)?;
    let name = validate_name("input.name", name)?;
    let description = validate_description("input.description", description)?;
    let graph = graph.unwrap_or_else(default_graph);
    graph::check_shape(&graph, "input.graph")?;
    let settings = settings.unwrap_or_default();
    check_settings("input.settings", &settings)?;
    let scope = tctx.scope();
    check_error_workflow(&tctx.on(&app.db), scope, "input.settings.errorWorkflowId", &settings).await?;
    let mut tx = TenantTx::begin(app, tctx, Permission::WorkflowEdit).await?;
    crate::modules::billing::usage::require_room(
        &mut tx,
        crate::modules::billing::plans::Limit::Workflows,
        1,
    )
    .await?;
    let id = Uuid::now_v7();
    let now = app.now();
    let token = crate::auth::tokens::random_token();
    let w = scope
        .insert(
            &tx,
            workflow::ActiveModel {
                id: Set(id),
                tenant_id: Set(scope.tenant_id()),
                name: Set(name.clone()),
                description: Set(description),
                graph: Set(to_json(&graph)),
                settings: Set(to_json(&settings)),
                revision: Set(1),
                status: Set(WorkflowStatus::Active),
                latest_version: Set(None),
                webhook_token: Set(app.keys.encrypt(scope.tenant_id(), &format!("webhook:{id}"), &token)),
                schedule_next_at: Set(next_schedule(&graph, now)),
                created_by: Set(tctx.acting_user()),
                created_at: Set(now),
                updated_at: Set(now),
            },
        )
        .await?;
    tx.audit(Change {
        action,
        target_type: "workflow",
        target_id: Some(id),
        before: None,
        after: Some(json!({ "name": name, "nodes": graph.nodes.len() })),
    })
    .await?;
    tx.commit().await?;
    Ok(w)
}

/// Renames, re-describes or changes settings (`workflow.edit`).
pub async fn update_workflow(
    app: &AppState,
    tctx: &TenantCtx,
    id: Uuid,
    name: Option<&str>,
    description: Option<&str>,
    settings: Option<Settings>,
) -> AppResult<workflow::Model> {
    tctx.require(Permission::WorkflowEdit)?;
    let name = name.map(|n| validate_name("input.name", n)).transpose()?;
    let description = description.map(|d| validate_description("input.description", d)).transpose()?;
    if let Some(s) = &settings {
        check_settings("input.settings", s)?;
        check_error_workflow(&tctx.on(&app.db), tctx.scope(), "input.settings.errorWorkflowId", s).await?;
    }
    let scope = tctx.scope();
    let mut tx = TenantTx::begin(app, tctx, Permission::WorkflowEdit).await?;
    let w = locked(&tx, scope, id).await?;
    let before = json!({ "name": w.name, "description": w.description, "settings": w.settings });
    let mut m: workflow::ActiveModel = w.into();
    if let Some(n) = name {
        m.name = Set(n);
    }
    if let Some(d) = description {
        m.description = Set(d);
    }
    if let Some(s) = settings {
        m.settings = Set(to_json(&s));
    }
    m.updated_at = Set(app.now());
    let w = scope.update(&tx, m).await?;
    tx.audit(Change {
        action: "workflow.updated",
        target_type: "workflow",
        target_id: Some(id),
        before: Some(before),
        after: Some(json!({ "name": w.name, "description": w.description, "settings": w.settings })),
    })
    .await?;
    tx.commit().await?;
    Ok(w)
}

/// Changes the draft graph with `edit`, if `expected_revision` is still the current one
/// (else CONFLICT), and bumps the revision (`workflow.edit`).
pub async fn edit_graph(
    app: &AppState,
    tctx: &TenantCtx,
    id: Uuid,
    expected_revision: i32,
    what: &str,
    edit: impl FnOnce(&mut Graph) -> AppResult<()>,
) -> AppResult<workflow::Model> {
    tctx.require(Permission::WorkflowEdit)?;
    let scope = tctx.scope();
    let mut tx = TenantTx::begin(app, tctx, Permission::WorkflowEdit).await?;
    let w = locked(&tx, scope, id).await?;
    if w.status == WorkflowStatus::Archived {
        return Err(AppError::rejected(
            "WORKFLOW_ARCHIVED",
            "id",
            "the workflow is archived; restore it to edit",
        ));
    }
    if w.revision != expected_revision {
        return Err(AppError::Conflict {
            field: Some("input.expectedRevision".into()),
            message: format!(
                "the workflow changed since revision {expected_revision} (now {}); reload and apply your change again",
                w.revision
            ),
        });
    }
    let mut g = graph_of(&w);
    edit(&mut g)?;
    graph::check_shape(&g, "input.graph")?;
    let revision = w.revision + 1;
    let mut m: workflow::ActiveModel = w.into();
    m.graph = Set(to_json(&g));
    m.revision = Set(revision);
    m.updated_at = Set(app.now());
    let w = scope.update(&tx, m).await?;
    if w.latest_version.is_none() {
        reschedule(&tx, scope, &w).await?;
    }
    tx.audit(Change {
        action: "workflow.graph_edited",
        target_type: "workflow",
        target_id: Some(id),
        before: None,
        after: Some(
            json!({ "edit": what, "revision": revision, "nodes": g.nodes.len(), "edges": g.edges.len() }),
        ),
    })
    .await?;
    tx.commit().await?;
    Ok(w)
}

/// Archives or restores a workflow (`workflow.edit`). Archived workflows neither run nor
/// change; their schedule stops.
pub async fn set_archived(
    app: &AppState,
    tctx: &TenantCtx,
    id: Uuid,
    archived: bool,
) -> AppResult<workflow::Model> {
    tctx.require(Permission::WorkflowEdit)?;
    let scope = tctx.scope();
    let mut tx = TenantTx::begin(app, tctx, Permission::WorkflowEdit).await?;
    let w = locked(&tx, scope, id).await?;
    let mut m: workflow::ActiveModel = w.into();
    m.status = Set(if archived { WorkflowStatus::Archived } else { WorkflowStatus::Active });
    m.updated_at = Set(app.now());
    let w = scope.update(&tx, m).await?;
    reschedule(&tx, scope, &w).await?;
    tx.audit(Change {
        action: if archived { "workflow.archived" } else { "workflow.restored" },
        target_type: "workflow",
        target_id: Some(id),
        before: None,
        after: None,
    })
    .await?;
    tx.commit().await?;
    Ok(w)
}

/// Deletes a workflow with its versions and executions (`workflow.edit`).
pub async fn delete_workflow(app: &AppState, tctx: &TenantCtx, id: Uuid) -> AppResult<()> {
    tctx.require(Permission::WorkflowEdit)?;
    let scope = tctx.scope();
    let mut tx = TenantTx::begin(app, tctx, Permission::WorkflowEdit).await?;
    let w = locked(&tx, scope, id).await?;
    scope.delete_many::<workflow::Entity>().filter(workflow::Column::Id.eq(id)).exec(&tx).await?;
    tx.audit(Change {
        action: "workflow.deleted",
        target_type: "workflow",
        target_id: Some(id),
        before: Some(json!({ "name": w.name })),
        after: None,
    })
    .await?;
    tx.commit().await
}

/// A copy of a workflow's draft (and settings) under a new name (`workflow.edit`).
pub async fn duplicate_workflow(
    app: &AppState,
    tctx: &TenantCtx,
    id: Uuid,
    name: Option<&str>,
) -> AppResult<workflow::Model> {
    let w = get_workflow(app, tctx, id).await?;
    let name = name.map(str::to_string).unwrap_or_else(|| format!("{} (copy)", w.name));
    let settings = settings_for_copy(app, tctx, settings_of(&w.settings)).await?;
    create_workflow(
        app,
        tctx,
        &name,
        &w.description,
        Some(graph_of(&w)),
        Some(settings),
        "workflow.duplicated",
    )
    .await
}

/// Problems of `g` for running it in this tenant.
/// Reads through the operation's shared read transaction: a request never holds one
/// connection while waiting for another.
pub async fn validate_graph(
    app: &AppState,
    tctx: &TenantCtx,
    g: &Graph,
) -> AppResult<Vec<ValidationProblem>> {
    validate_graph_on(&tctx.on(&app.db), tctx.scope(), g).await
}

/// [`validate_graph`] on a connection already walled to `scope`'s tenant (sharing its reads'
/// transaction).
async fn validate_graph_on(
    db: &impl ConnectionTrait,
    scope: TenantScope,
    g: &Graph,
) -> AppResult<Vec<ValidationProblem>> {
    let secret_names = secrets::secret_names(db, scope).await?;
    let env: BTreeSet<String> = secrets::env_map(db, scope).await?.into_keys().collect();
    Ok(graph::validate(g, &secret_names, &env))
}

fn refuse_invalid(what: &str, problems: &[ValidationProblem]) -> AppError {
    AppError::WorkflowInvalid {
        message: format!("{what}: {} problem(s), first: {}", problems.len(), problems[0].message),
        problems: to_json(&problems),
    }
}

/// Freezes the draft as the next immutable version (`workflow.edit`); refused when it does
/// not validate.
pub async fn publish_version(
    app: &AppState,
    tctx: &TenantCtx,
    id: Uuid,
    note: &str,
) -> AppResult<workflow_version::Model> {
    tctx.require(Permission::WorkflowEdit)?;
    if note.chars().count() > 500 {
        return Err(AppError::validation("input.note", "must be at most 500 characters"));
    }
    let scope = tctx.scope();
    let current = get_workflow(app, tctx, id).await?;
    let problems = validate_graph(app, tctx, &graph_of(&current)).await?;
    if !problems.is_empty() {
        return Err(refuse_invalid("the workflow cannot be published", &problems));
    }
    let mut tx = TenantTx::begin(app, tctx, Permission::WorkflowEdit).await?;
    let w = locked(&tx, scope, id).await?;
    if w.revision != current.revision {
        return Err(AppError::Conflict {
            field: None,
            message: "the workflow changed while publishing; try again".into(),
        });
    }
    let version = w.latest_version.unwrap_or(0) + 1;
    let v = scope
        .insert(
            &tx,
            workflow_version::ActiveModel {
                id: Set(Uuid::now_v7()),
                tenant_id: Set(scope.tenant_id()),
                workflow_id: Set(id),
                version: Set(version),
                graph: Set(w.graph.clone()),
                settings: Set(w.settings.clone()),
                note: Set(note.trim().to_string()),
                created_by: Set(tctx.acting_user()),
                created_at: Set(app.now()),
            },
        )
        .await?;
    let mut m: workflow::ActiveModel = w.into();
    m.latest_version = Set(Some(version));
    m.updated_at = Set(app.now());
    let w = scope.update(&tx, m).await?;
    reschedule(&tx, scope, &w).await?;
    tx.audit(Change {
        action: "workflow.version_published",
        target_type: "workflow",
        target_id: Some(id),
        before: None,
        after: Some(json!({ "version": version, "note": v.note })),
    })
    .await?;
    tx.commit().await?;
    Ok(v)
}

pub async fn get_version(
    db: &impl ConnectionTrait,
    scope: TenantScope,
    workflow_id: Uuid,
    version: i32,
) -> AppResult<workflow_version::Model> {
    scope
        .find::<workflow_version::Entity>()
        .filter(workflow_version::Column::WorkflowId.eq(workflow_id))
        .filter(workflow_version::Column::Version.eq(version))
        .one(db)
        .await?
        .ok_or(AppError::NotFound("workflow version"))
}

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
            Self::WorkflowArchived => "the workflow is archived; restore it to run it",
            Self::QuotaExceeded(_) => "the plan's executions for this month are used up",
        }
    }

    /// The refusal as a client sees it; `field` names the input that chose the workflow.
    pub fn error(self, field: &str) -> AppError {
        match self {
            Self::TenantSuspended => AppError::ForbiddenWith(self.message().into()),
            Self::WorkflowArchived => AppError::rejected("WORKFLOW_ARCHIVED", field, self.message()),
            Self::QuotaExceeded(e) => e.error(),
        }
    }

    /// The refusal of a run of `workflow` (status column) in a tenant of status `tenant`.
    pub fn of(tenant: TenantStatus, workflow: WorkflowStatus) -> Option<Self> {
        if tenant == TenantStatus::Suspended {
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
    let tenant: Option<TenantStatus> = entity::tenant::Entity::find()
        .select_only()
        .column(entity::tenant::Column::Status)
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
    if let Some(refusal) = Refusal::of(tenant, status) {
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

async fn announce(app: &AppState, e: &execution::Model) {
    app.engine.wake();
    engine::publish(app, e.tenant_id, &ExecutionEvent::status_of(e)).await;
}

/// Queues a run (`workflow.execute`) of `version`, or of the draft, and returns at once.
/// A workflow that does not validate is refused with its problems.
pub async fn execute(
    app: &AppState,
    tctx: &TenantCtx,
    id: Uuid,
    version: Option<i32>,
    input: Value,
) -> AppResult<execution::Model> {
    tctx.require(Permission::WorkflowExecute)?;
    let scope = tctx.scope();
    // The workflow, the version and what validation reads share one walled transaction,
    // ended before the write transaction opens.
    let (w, ver) = {
        let db = &tctx.on(&app.db);
        let w =
            scope.find_by_id::<workflow::Entity, _>(db, id).await?.ok_or(AppError::NotFound("workflow"))?;
        if w.status == WorkflowStatus::Archived {
            return Err(AppError::rejected(
                "WORKFLOW_ARCHIVED",
                "input.workflowId",
                "the workflow is archived",
            ));
        }
        let ver = match version {
            Some(v) => Some(get_version(db, scope, id, v).await.map_err(|_| {
                AppError::validation("input.version", format!("the workflow has no version {v}"))
            })?),
            None => None,
        };
        let g: Graph = match &ver {
            Some(v) => serde_json::from_value(v.graph.clone()).unwrap_or_default(),
            None => graph_of(&w),
        };
        let problems = validate_graph_on(db, scope, &g).await?;
        if !problems.is_empty() {
            return Err(refuse_invalid("the workflow cannot run", &problems));
        }
        (w, ver)
    };
    let mut tx = TenantTx::begin(app, tctx, Permission::WorkflowExecute).await?;
    let e = enqueue(
        &tx,
        &app.config,
        scope,
        w.id,
        Snapshot::of(&w, ver.as_ref()),
        input,
        ExecutionTrigger::Manual,
        tctx.acting_user(),
        None,
    )
    .await?
    .map_err(|r| r.error("input.workflowId"))?;
    tx.audit(Change {
        action: "execution.started",
        target_type: "execution",
        target_id: Some(e.id),
        before: None,
        after: Some(json!({ "workflowId": id, "version": version })),
    })
    .await?;
    tx.commit().await?;
    announce(app, &e).await;
    Ok(e)
}

/// An execution of the tenant (`workflow.read`).
pub async fn get_execution(app: &AppState, tctx: &TenantCtx, id: Uuid) -> AppResult<execution::Model> {
    tctx.require(Permission::WorkflowRead)?;
    tctx.scope()
        .find_by_id::<execution::Entity, _>(&tctx.on(&app.db), id)
        .await?
        .ok_or(AppError::NotFound("execution"))
}

/// Cancels a queued or running execution (`workflow.execute`). The state is `cancelled`
/// at once and for good; the worker running it stops the node in flight.
pub async fn cancel_execution(app: &AppState, tctx: &TenantCtx, id: Uuid) -> AppResult<execution::Model> {
    tctx.require(Permission::WorkflowExecute)?;
    let scope = tctx.scope();
    let mut tx = TenantTx::begin(app, tctx, Permission::WorkflowExecute).await?;
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
    tx.audit(Change {
        action: "execution.cancelled",
        target_type: "execution",
        target_id: Some(id),
        before: None,
        after: None,
    })
    .await?;
    tx.commit().await?;
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

// ---------------------------------------------------------------------------------------
// Templates

/// Saves a workflow's draft as a template of the tenant (`workflow.edit`).
pub async fn save_template(
    app: &AppState,
    tctx: &TenantCtx,
    workflow_id: Uuid,
    name: &str,
    description: &str,
    category: &str,
) -> AppResult<workflow_template::Model> {
    tctx.require(Permission::WorkflowEdit)?;
    let name = validate_name("input.name", name)?;
    let description = validate_description("input.description", description)?;
    let category = if category.trim().is_empty() {
        "custom".to_string()
    } else {
        validate_name("input.category", category)?
    };
    let w = get_workflow(app, tctx, workflow_id).await?;
    let scope = tctx.scope();
    let mut tx = TenantTx::begin(app, tctx, Permission::WorkflowEdit).await?;
    let id = Uuid::now_v7();
    let t = scope
        .insert(
            &tx,
            workflow_template::ActiveModel {
                id: Set(id),
                tenant_id: Set(scope.tenant_id()),
                name: Set(name.clone()),
                description: Set(description),
                category: Set(category),
                graph: Set(w.graph.clone()),
                settings: Set(w.settings.clone()),
                created_by: Set(tctx.acting_user()),
                created_at: Set(app.now()),
            },
        )
        .await?;
    tx.audit(Change {
        action: "workflow_template.saved",
        target_type: "workflow_template",
        target_id: Some(id),
        before: None,
        after: Some(json!({ "name": name, "workflowId": workflow_id })),
    })
    .await?;
    tx.commit().await?;
    Ok(t)
}

/// Deletes a tenant template (`workflow.edit`).
pub async fn delete_template(app: &AppState, tctx: &TenantCtx, id: Uuid) -> AppResult<()> {
    tctx.require(Permission::WorkflowEdit)?;
    let scope = tctx.scope();
    let mut tx = TenantTx::begin(app, tctx, Permission::WorkflowEdit).await?;
    let t = scope
        .find_by_id::<workflow_template::Entity, _>(&tx, id)
        .await?
        .ok_or(AppError::NotFound("template"))?;
    scope
        .delete_many::<workflow_template::Entity>()
        .filter(workflow_template::Column::Id.eq(id))
        .exec(&tx)
        .await?;
    tx.audit(Change {
        action: "workflow_template.deleted",
        target_type: "workflow_template",
        target_id: Some(id),
        before: Some(json!({ "name": t.name })),
        after: None,
    })
    .await?;
    tx.commit().await
}

/// A template by key: `builtin:<key>` or a tenant template's id.
pub async fn find_template(app: &AppState, tctx: &TenantCtx, key: &str) -> AppResult<templates::Template> {
    if let Some(t) = templates::builtin().into_iter().find(|t| t.key == key) {
        return Ok(t);
    }
    let id = crate::graphql::relay::from_global_id(&async_graphql::ID(key.to_string()))
        .filter(|(ty, _)| ty == crate::graphql::relay::kind::WORKFLOW_TEMPLATE)
        .map(|(_, id)| id)
        .ok_or_else(|| AppError::validation("input.templateId", "no such template"))?;
    let t = tctx
        .scope()
        .find_by_id::<workflow_template::Entity, _>(&tctx.on(&app.db), id)
        .await?
        .ok_or_else(|| AppError::validation("input.templateId", "no such template"))?;
    Ok(templates::Template::from_row(t))
}

// ---------------------------------------------------------------------------------------
// Triggers: schedules and webhooks

/// Starts scheduled runs until shutdown. Each due workflow is claimed by moving its next run
/// time forward with a compare-and-set, so one instance starts each tick exactly once.
pub async fn run_scheduler(app: AppState) {
    if app.config.workflows.workers == 0 {
        return;
    }
    let tick = app.config.workflows.poll_interval.max(std::time::Duration::from_millis(200));
    loop {
        if let Err(e) = schedule_due(&app).await {
            tracing::warn!(error = %e, "workflow scheduler failed");
        }
        tokio::select! {
            _ = app.shutdown.cancelled() => return,
            _ = tokio::time::sleep(tick) => {}
        }
    }
}

async fn schedule_due(app: &AppState) -> AppResult<()> {
    use sea_orm::{EntityTrait, QuerySelect};
    let now = Utc::now();
    // Which tenants' workflows are due is read before any tenant decision: the scheduler
    // acts for each of them through its own scope below.
    let due = workflow::Entity::find()
        .filter(workflow::Column::ScheduleNextAt.lte(now))
        .filter(workflow::Column::Status.eq(WorkflowStatus::Active))
        .limit(50)
        .all(&crate::db::across_tenants(&app.db))
        .await?;
    for w in due {
        let scope = TenantScope::new(w.tenant_id);
        let txn = begin_tenant_txn(&app.db, scope).await?;
        let (ver, g) = live_graph(&txn, scope, &w).await?;
        let next = next_schedule(&g, now);
        let claimed = scope
            .update_many::<workflow::Entity>()
            .col_expr(workflow::Column::ScheduleNextAt, Expr::value(next))
            .filter(workflow::Column::Id.eq(w.id))
            .filter(workflow::Column::ScheduleNextAt.eq(w.schedule_next_at))
            .exec(&txn)
            .await?;
        if claimed.rows_affected == 1 {
            let queued = enqueue(
                &txn,
                &app.config,
                scope,
                w.id,
                Snapshot::of(&w, ver.as_ref()),
                json!({ "scheduledAt": w.schedule_next_at }),
                ExecutionTrigger::Schedule,
                None,
                None,
            )
            .await?;
            // A refused tick is skipped, not kept for later: the schedule moves on either
            // way, so a reactivated organisation does not get a burst of old ticks.
            txn.commit().await?;
            match queued {
                Ok(e) => announce(app, &e).await,
                Err(r) => tracing::debug!(workflow = %w.id, reason = r.message(), "scheduled run refused"),
            }
        }
    }
    Ok(())
}

/// The webhook URL of a workflow.
pub fn webhook_url(app: &AppState, w: &workflow::Model) -> AppResult<String> {
    let token = app
        .keys
        .decrypt(w.tenant_id, &format!("webhook:{}", w.id), &w.webhook_token)
        .map_err(AppError::Internal)?;
    Ok(format!("{}/hooks/{}/{}", app.config.public_url, w.id, token))
}

/// A POST to a workflow's webhook: queues a run of its latest version (or draft) when the
/// token matches and the graph has a webhook trigger. `None` means "not found" to the caller,
/// whatever the reason.
pub async fn trigger_webhook(
    app: &AppState,
    workflow_id: Uuid,
    token: &str,
    input: Value,
) -> AppResult<Option<execution::Model>> {
    // The workflow decides the tenant: its owner is looked up before any scope exists.
    let owner = crate::db::owning_tenant::<workflow::Entity>(
        &crate::db::across_tenants(&app.db),
        workflow::Column::Id,
        workflow_id,
    )
    .await?;
    let Some(scope) = owner.map(TenantScope::new) else { return Ok(None) };
    let Some(w) = scope.find_by_id::<workflow::Entity, _>(&scope.on(&app.db), workflow_id).await? else {
        return Ok(None);
    };
    let expected = app
        .keys
        .decrypt(w.tenant_id, &format!("webhook:{}", w.id), &w.webhook_token)
        .map_err(AppError::Internal)?;
    if !crate::auth::tokens::constant_time_eq(expected.as_bytes(), token.as_bytes())
        || w.status != WorkflowStatus::Active
    {
        return Ok(None);
    }
    let txn = begin_tenant_txn(&app.db, scope).await?;
    let (ver, g) = live_graph(&txn, scope, &w).await?;
    if !g.nodes.iter().any(|n| n.node_type == WebhookTrigger::KEY) {
        return Ok(None);
    }
    // A refused run (suspended organisation) is "not found" like any other reason.
    let Ok(e) = enqueue(
        &txn,
        &app.config,
        scope,
        w.id,
        Snapshot::of(&w, ver.as_ref()),
        input,
        ExecutionTrigger::Webhook,
        None,
        None,
    )
    .await?
    else {
        return Ok(None);
    };
    txn.commit().await?;
    announce(app, &e).await;
    Ok(Some(e))
}

/// Replaces a workflow's webhook token (`workflow.edit`); the old URL stops working.
pub async fn rotate_webhook(app: &AppState, tctx: &TenantCtx, id: Uuid) -> AppResult<workflow::Model> {
    tctx.require(Permission::WorkflowEdit)?;
    let scope = tctx.scope();
    let mut tx = TenantTx::begin(app, tctx, Permission::WorkflowEdit).await?;
    let w = locked(&tx, scope, id).await?;
    let token = crate::auth::tokens::random_token();
    let mut m: workflow::ActiveModel = w.into();
    m.webhook_token = Set(app.keys.encrypt(scope.tenant_id(), &format!("webhook:{id}"), &token));
    let w = scope.update(&tx, m).await?;
    tx.audit(Change {
        action: "workflow.webhook_rotated",
        target_type: "workflow",
        target_id: Some(id),
        before: None,
        after: None,
    })
    .await?;
    tx.commit().await?;
    Ok(w)
}
