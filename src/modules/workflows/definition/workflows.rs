//! Workflows as definitions: create, rename, edit the draft graph, archive, delete,
//! duplicate and validate (`workflow.edit` / `workflow.read`).

use std::collections::BTreeSet;

use chrono::Utc;
use entity::{
    workflow::{self, WorkflowStatus},
    workflow_version,
};
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter, Set, sea_query::Expr};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::modules::workflows::nodes::{ManualTrigger, NodeKind};
use crate::{
    access::{Change, TenantCtx, TenantTx},
    auth::Permission,
    ctx::Ctx,
    db::TenantScope,
    error::{AppError, AppResult},
    modules::{
        secrets::service as secrets,
        workflows::{
            definition::graph::{self, Graph, Settings, ValidationProblem},
            triggers::schedule::*,
        },
    },
};

pub(in crate::modules::workflows) fn validate_name(field: &str, name: &str) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 120 {
        return Err(AppError::validation(field, "must be 1 to 120 characters"));
    }
    Ok(name.to_string())
}

pub(in crate::modules::workflows) fn validate_description(field: &str, d: &str) -> AppResult<String> {
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

pub(in crate::modules::workflows) fn check_settings(field: &str, s: &Settings) -> AppResult<()> {
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
pub(in crate::modules::workflows) async fn check_error_workflow(
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
pub async fn settings_for_copy(ctx: &Ctx, tctx: &TenantCtx, mut s: Settings) -> AppResult<Settings> {
    if check_error_workflow(&tctx.on(&ctx.db), tctx.scope(), "", &s).await.is_err() {
        s.error_workflow_id = None;
    }
    Ok(s)
}

pub(in crate::modules::workflows) fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).expect("graph types serialise")
}

pub fn graph_of(w: &workflow::Model) -> Graph {
    serde_json::from_value(w.graph.clone()).unwrap_or_default()
}

pub fn settings_of(v: &Value) -> Settings {
    serde_json::from_value(v.clone()).unwrap_or_default()
}

/// A workflow of the tenant (`workflow.read`).
pub async fn get_workflow(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> AppResult<workflow::Model> {
    tctx.require(Permission::WorkflowRead)?;
    tctx.scope()
        .find_by_id::<workflow::Entity, _>(&tctx.on(&ctx.db), id)
        .await?
        .ok_or(AppError::NotFound("workflow"))
}

pub(in crate::modules::workflows) async fn locked(
    txn: &impl ConnectionTrait,
    scope: TenantScope,
    id: Uuid,
) -> AppResult<workflow::Model> {
    // A no-op update takes the row lock (PostgreSQL) before the read, so concurrent edits
    // serialise and the revision check below sees the latest one.
    scope
        .update_many::<workflow::Entity>()
        .col_expr(workflow::Column::Revision, Expr::col(workflow::Column::Revision))
        .filter(workflow::Column::Id.eq(id))
        .exec(txn)
        .await?;
    scope.find_by_id::<workflow::Entity, _>(txn, id).await?.ok_or(AppError::NotFound("workflow"))
}

/// The graph scheduled and webhook runs use: the latest version, else the draft.
pub(in crate::modules::workflows) async fn live_graph(
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

pub(in crate::modules::workflows) async fn reschedule(
    txn: &impl ConnectionTrait,
    scope: TenantScope,
    w: &workflow::Model,
) -> AppResult<()> {
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

pub(in crate::modules::workflows) fn default_graph() -> Graph {
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
    ctx: &Ctx,
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
    check_error_workflow(&tctx.on(&ctx.db), scope, "input.settings.errorWorkflowId", &settings).await?;
    let mut tx = TenantTx::begin(ctx, tctx, Permission::WorkflowEdit).await?;
    crate::modules::billing::usage::require_room(
        &mut tx,
        crate::modules::billing::plans::Limit::Workflows,
        1,
    )
    .await?;
    let id = Uuid::now_v7();
    let now = ctx.now();
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
                webhook_token: Set(ctx.keys.encrypt(scope.tenant_id(), &format!("webhook:{id}"), &token)),
                schedule_next_at: Set(next_schedule(&graph, now)),
                created_by: Set(tctx.acting_user()),
                created_at: Set(now),
                updated_at: Set(now),
            },
        )
        .await?;
    tx.commit_with(Change {
        action,
        target_type: "workflow",
        target_id: Some(id),
        before: None,
        after: Some(json!({ "name": name, "nodes": graph.nodes.len() })),
    })
    .await?;
    Ok(w)
}

/// Renames, re-describes or changes settings (`workflow.edit`).
pub async fn update_workflow(
    ctx: &Ctx,
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
        check_error_workflow(&tctx.on(&ctx.db), tctx.scope(), "input.settings.errorWorkflowId", s).await?;
    }
    let scope = tctx.scope();
    let tx = TenantTx::begin(ctx, tctx, Permission::WorkflowEdit).await?;
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
    m.updated_at = Set(ctx.now());
    let w = scope.update(&tx, m).await?;
    tx.commit_with(Change {
        action: "workflow.updated",
        target_type: "workflow",
        target_id: Some(id),
        before: Some(before),
        after: Some(json!({ "name": w.name, "description": w.description, "settings": w.settings })),
    })
    .await?;
    Ok(w)
}

/// Changes the draft graph with `edit`, if `expected_revision` is still the current one
/// (else CONFLICT), and bumps the revision (`workflow.edit`).
pub async fn edit_graph(
    ctx: &Ctx,
    tctx: &TenantCtx,
    id: Uuid,
    expected_revision: i32,
    what: &str,
    edit: impl FnOnce(&mut Graph) -> AppResult<()>,
) -> AppResult<workflow::Model> {
    tctx.require(Permission::WorkflowEdit)?;
    let scope = tctx.scope();
    let tx = TenantTx::begin(ctx, tctx, Permission::WorkflowEdit).await?;
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
    m.updated_at = Set(ctx.now());
    let w = scope.update(&tx, m).await?;
    if w.latest_version.is_none() {
        reschedule(&tx, scope, &w).await?;
    }
    tx.commit_with(Change {
        action: "workflow.graph_edited",
        target_type: "workflow",
        target_id: Some(id),
        before: None,
        after: Some(
            json!({ "edit": what, "revision": revision, "nodes": g.nodes.len(), "edges": g.edges.len() }),
        ),
    })
    .await?;
    Ok(w)
}

/// Archives or restores a workflow (`workflow.edit`). Archived workflows neither run nor
/// change; their schedule stops.
pub async fn set_archived(
    ctx: &Ctx,
    tctx: &TenantCtx,
    id: Uuid,
    archived: bool,
) -> AppResult<workflow::Model> {
    tctx.require(Permission::WorkflowEdit)?;
    let scope = tctx.scope();
    let tx = TenantTx::begin(ctx, tctx, Permission::WorkflowEdit).await?;
    let w = locked(&tx, scope, id).await?;
    let mut m: workflow::ActiveModel = w.into();
    m.status = Set(if archived { WorkflowStatus::Archived } else { WorkflowStatus::Active });
    m.updated_at = Set(ctx.now());
    let w = scope.update(&tx, m).await?;
    reschedule(&tx, scope, &w).await?;
    tx.commit_with(Change {
        action: if archived { "workflow.archived" } else { "workflow.restored" },
        target_type: "workflow",
        target_id: Some(id),
        before: None,
        after: None,
    })
    .await?;
    Ok(w)
}

/// Deletes a workflow with its versions and executions (`workflow.edit`).
pub async fn delete_workflow(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> AppResult<()> {
    tctx.require(Permission::WorkflowEdit)?;
    let scope = tctx.scope();
    let mut tx = TenantTx::begin(ctx, tctx, Permission::WorkflowEdit).await?;
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
    ctx: &Ctx,
    tctx: &TenantCtx,
    id: Uuid,
    name: Option<&str>,
) -> AppResult<workflow::Model> {
    let w = get_workflow(ctx, tctx, id).await?;
    let name = name.map(str::to_string).unwrap_or_else(|| format!("{} (copy)", w.name));
    let settings = settings_for_copy(ctx, tctx, settings_of(&w.settings)).await?;
    create_workflow(
        ctx,
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
pub async fn validate_graph(ctx: &Ctx, tctx: &TenantCtx, g: &Graph) -> AppResult<Vec<ValidationProblem>> {
    validate_graph_on(&tctx.on(&ctx.db), tctx.scope(), g).await
}

/// [`validate_graph`] on a connection already walled to `scope`'s tenant (sharing its reads'
/// transaction).
pub(in crate::modules::workflows) async fn validate_graph_on(
    db: &impl ConnectionTrait,
    scope: TenantScope,
    g: &Graph,
) -> AppResult<Vec<ValidationProblem>> {
    let secret_names = secrets::secret_names(db, scope).await?;
    let env: BTreeSet<String> = secrets::env_map(db, scope).await?.into_keys().collect();
    Ok(graph::validate(g, &secret_names, &env))
}

pub(in crate::modules::workflows) fn refuse_invalid(what: &str, problems: &[ValidationProblem]) -> AppError {
    AppError::WorkflowInvalid {
        message: format!("{what}: {} problem(s), first: {}", problems.len(), problems[0].message),
        problems: to_json(&problems),
    }
}
