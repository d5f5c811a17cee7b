//! GraphQL types of workflows and executions.

use crate::graphql::loaders::child_page;
use async_graphql::{Context, ID, Json, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{execution, execution_log, node_execution, workflow, workflow_version};
use sea_orm::{ActiveEnum, ColumnTrait, QueryFilter, QueryOrder};
use serde_json::Value;
use std::sync::Arc;

use super::{
    catalog,
    definition::{
        self,
        graph::{Graph, RetryPolicy},
        templates,
    },
    runtime::{self, ExecutionEvent},
    triggers,
};
use crate::{
    auth::Permission,
    graphql::loaders::loader_err,
    graphql::{app, loaders::loaders, relay},
    modules::identity::types::User,
};

mod runs;
pub use runs::*;

/// A node type of the catalog.
pub struct NodeType(pub &'static catalog::NodeType);

#[Object]
impl NodeType {
    /// The key used in a node's `type`, e.g. `http.request`.
    async fn key(&self) -> &str {
        self.0.key
    }
    /// `trigger`, `action`, `transform`, `logic`, `flow`, `data` or `ai`.
    async fn category(&self) -> &str {
        self.0.category
    }
    async fn name(&self) -> &str {
        self.0.name
    }
    async fn description(&self) -> &str {
        self.0.description
    }
    async fn input_ports(&self) -> Vec<&str> {
        self.0.inputs.to_vec()
    }
    async fn output_ports(&self) -> Vec<&str> {
        self.0.outputs.to_vec()
    }
    /// Whether an interrupted attempt may run again after a crash (a node can override it).
    async fn safe_to_repeat(&self) -> bool {
        self.0.safe_to_repeat
    }
    async fn default_timeout_ms(&self) -> i64 {
        self.0.default_timeout_ms as i64
    }
    /// JSON Schema (2020-12) of the node's `config`.
    async fn config_schema(&self) -> Json<Value> {
        Json(self.0.schema.clone())
    }
}

/// A node of a workflow graph.
pub struct WorkflowNode(pub definition::graph::NodeSpec);

#[Object(name = "WorkflowGraphNode")]
impl WorkflowNode {
    /// Key inside the workflow (edges and expressions use it).
    async fn id(&self) -> &str {
        &self.0.id
    }
    #[graphql(name = "type")]
    async fn node_type(&self) -> &str {
        &self.0.node_type
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn position(&self) -> &definition::graph::Position {
        &self.0.position
    }
    async fn config(&self) -> Json<Value> {
        Json(self.0.config.clone())
    }
    async fn retry(&self) -> Option<&RetryPolicy> {
        self.0.retry.as_ref()
    }
    async fn timeout_ms(&self) -> Option<i64> {
        self.0.timeout_ms
    }
    async fn safe_to_repeat(&self) -> bool {
        self.0.safe_to_repeat()
    }
}

/// An edge from a node's output port to another node's input port.
#[derive(SimpleObject)]
#[graphql(name = "WorkflowGraphEdge")]
pub struct WorkflowEdge {
    pub id: String,
    pub source: String,
    pub source_port: String,
    pub target: String,
    pub target_port: String,
}

/// A graph: nodes and edges.
pub struct WorkflowGraph(pub Graph);

#[Object]
impl WorkflowGraph {
    async fn nodes(&self) -> Vec<WorkflowNode> {
        self.0.nodes.iter().cloned().map(WorkflowNode).collect()
    }
    async fn edges(&self) -> Vec<WorkflowEdge> {
        self.0
            .edges
            .iter()
            .map(|e| WorkflowEdge {
                id: e.id.clone(),
                source: e.source.clone(),
                source_port: e.source_port.clone(),
                target: e.target.clone(),
                target_port: e.target_port.clone(),
            })
            .collect()
    }
    /// The whole graph as JSON, in the shape `saveWorkflowGraph` takes.
    async fn json(&self) -> Json<Value> {
        Json(serde_json::to_value(&self.0).unwrap_or_default())
    }
}

/// Workflow-wide settings.
#[derive(SimpleObject)]
pub struct WorkflowSettings {
    /// Longest a run may take, in seconds.
    pub timeout_seconds: i64,
    /// Workflow started when a run fails.
    pub error_workflow_id: Option<ID>,
}

fn settings(v: &Value) -> WorkflowSettings {
    let s = definition::workflows::settings_of(v);
    WorkflowSettings {
        timeout_seconds: s.run_timeout().as_secs() as i64,
        error_workflow_id: s.error_workflow_id.map(|id| relay::to_global_id(relay::kind::WORKFLOW, id)),
    }
}

/// A workflow: its editable draft and its published versions.
pub struct Workflow(pub workflow::Model);

#[Object]
impl Workflow {
    pub async fn id(&self) -> ID {
        relay::to_global_id(relay::kind::WORKFLOW, self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// Increases with every change of the draft; pass it back as `expectedRevision`.
    async fn revision(&self) -> i32 {
        self.0.revision
    }
    async fn archived(&self) -> bool {
        self.0.status == workflow::WorkflowStatus::Archived
    }
    /// The draft graph.
    async fn graph(&self) -> WorkflowGraph {
        WorkflowGraph(definition::workflows::graph_of(&self.0))
    }
    async fn settings(&self) -> WorkflowSettings {
        settings(&self.0.settings)
    }
    /// Number of the latest published version.
    async fn latest_version(&self) -> Option<i32> {
        self.0.latest_version
    }
    /// Next scheduled run, when a schedule trigger is set.
    async fn next_scheduled_run(&self) -> Option<DateTime<Utc>> {
        self.0.schedule_next_at
    }
    /// POST here to start it (needs `WORKFLOW_EDIT` to see; the URL holds its secret).
    async fn webhook_url(&self, ctx: &Context<'_>) -> Result<String> {
        let tctx = loaders(ctx).tenant_access(self.0.tenant_id).await?;
        tctx.require(Permission::WorkflowEdit)?;
        Ok(triggers::webhook::webhook_url(app(ctx), &self.0)?)
    }
    async fn created_by(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let Some(id) = self.0.created_by else { return Ok(None) };
        Ok(loaders(ctx).users.load_one(id).await.map_err(loader_err)?.map(User::new))
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// The problems that would stop the draft from running (empty when it can run).
    async fn problems(&self, ctx: &Context<'_>) -> Result<Vec<definition::graph::ValidationProblem>> {
        let tctx = loaders(ctx).tenant_access(self.0.tenant_id).await?;
        Ok(definition::workflows::validate_graph(app(ctx), &tctx, &definition::workflows::graph_of(&self.0))
            .await?)
    }
    /// Published versions, oldest first.
    #[graphql(complexity = "crate::graphql::relay::cost(first, last, child_complexity)")]
    async fn versions(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<relay::Conn<WorkflowVersion>> {
        let tctx = loaders(ctx).tenant_access(self.0.tenant_id).await?;
        tctx.require(Permission::WorkflowRead)?;
        let window =
            relay::PageArgs::new(after, before, first, last).window(app(ctx).config.max_page_size)?;
        let rows =
            child_page(ctx, &loaders(ctx).version_pages, self.0.tenant_id, self.0.id, window, None).await?;
        Ok(relay::to_connection(rows, |v| v.id, WorkflowVersion))
    }
    /// Its executions, oldest first (`last: n` for the newest).
    #[graphql(complexity = "crate::graphql::relay::cost(first, last, child_complexity)")]
    async fn executions(
        &self,
        ctx: &Context<'_>,
        status: Option<ExecutionStatus>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<relay::Conn<Execution>> {
        let tctx = loaders(ctx).tenant_access(self.0.tenant_id).await?;
        tctx.require(Permission::WorkflowRead)?;
        let window =
            relay::PageArgs::new(after, before, first, last).window(app(ctx).config.max_page_size)?;
        let status = status.map(|s| Arc::from(execution::ExecutionStatus::from(s).to_value()));
        let rows =
            child_page(ctx, &loaders(ctx).execution_pages, self.0.tenant_id, self.0.id, window, status)
                .await?;
        Ok(relay::to_connection(rows, |e| e.id, Execution))
    }
}

/// An immutable published version.
pub struct WorkflowVersion(pub workflow_version::Model);

#[Object]
impl WorkflowVersion {
    pub async fn id(&self) -> ID {
        relay::to_global_id(relay::kind::WORKFLOW_VERSION, self.0.id)
    }
    async fn version(&self) -> i32 {
        self.0.version
    }
    async fn note(&self) -> &str {
        &self.0.note
    }
    async fn graph(&self) -> WorkflowGraph {
        WorkflowGraph(serde_json::from_value(self.0.graph.clone()).unwrap_or_default())
    }
    async fn settings(&self) -> WorkflowSettings {
        settings(&self.0.settings)
    }
    async fn created_by(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let Some(id) = self.0.created_by else { return Ok(None) };
        Ok(loaders(ctx).users.load_one(id).await.map_err(loader_err)?.map(User::new))
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A template to start a workflow from.
pub struct WorkflowTemplate(pub templates::Template);

#[Object]
impl WorkflowTemplate {
    /// `builtin:<key>` for Zygo's templates, a global ID for the organisation's own.
    async fn id(&self) -> &str {
        &self.0.key
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    async fn category(&self) -> &str {
        &self.0.category
    }
    async fn builtin(&self) -> bool {
        self.0.builtin
    }
    async fn graph(&self) -> WorkflowGraph {
        WorkflowGraph(serde_json::from_value(self.0.graph.clone()).unwrap_or_default())
    }
}

#[derive(SimpleObject)]
pub struct WorkflowPayload {
    pub workflow: Workflow,
}

#[derive(SimpleObject)]
pub struct DeleteWorkflowPayload {
    pub deleted_workflow_id: ID,
}

#[derive(SimpleObject)]
pub struct PublishWorkflowVersionPayload {
    pub workflow: Workflow,
    pub version: WorkflowVersion,
}

#[derive(SimpleObject)]
pub struct ExecutionPayload {
    pub execution: Execution,
}

#[derive(SimpleObject)]
pub struct WorkflowTemplatePayload {
    pub template: WorkflowTemplate,
}

#[derive(SimpleObject)]
pub struct DeleteWorkflowTemplatePayload {
    pub deleted_template_id: String,
}

/// The result of `validateWorkflow`.
#[derive(SimpleObject)]
pub struct WorkflowValidation {
    pub valid: bool,
    pub problems: Vec<definition::graph::ValidationProblem>,
}

/// The workflows part of `Tenant`.
#[derive(Clone)]
pub struct TenantWorkflows(pub crate::graphql::tenant::TenantRow);

#[Object]
impl TenantWorkflows {
    /// The organisation's workflows, oldest first (needs `WORKFLOW_READ`). `search` matches
    /// names; archived ones only with `includeArchived`.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "crate::graphql::relay::cost(first, last, child_complexity)")]
    async fn workflows(
        &self,
        ctx: &Context<'_>,
        search: Option<String>,
        #[graphql(default)] include_archived: bool,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<relay::Conn<crate::modules::workflows::types::Workflow>> {
        use entity::workflow;
        use sea_orm::{ColumnTrait, QueryFilter, sea_query::ExprTrait};
        let tctx = loaders(ctx).tenant_access(self.0.id).await?;
        tctx.require(crate::auth::Permission::WorkflowRead)?;
        let mut select = tctx.scope().find::<workflow::Entity>();
        if !include_archived {
            select = select.filter(workflow::Column::Status.eq(workflow::WorkflowStatus::Active));
        }
        if let Some(s) = search.filter(|s| !s.trim().is_empty()) {
            if s.chars().count() > 100 {
                return Err(
                    crate::error::AppError::validation("search", "must be at most 100 characters").into()
                );
            }
            let pattern = format!("%{}%", s.trim().to_lowercase().replace('%', "\\%").replace('_', "\\_"));
            select = select.filter(
                sea_orm::sea_query::Expr::expr(sea_orm::sea_query::Func::lower(
                    sea_orm::sea_query::Expr::col(workflow::Column::Name),
                ))
                .like(sea_orm::sea_query::LikeExpr::new(pattern).escape('\\')),
            );
        }
        Ok(relay::paginate(
            &tctx.on(&app(ctx).db),
            select,
            workflow::Column::Id,
            |w| w.id,
            relay::PageArgs::new(after, before, first, last),
            app(ctx).config.max_page_size,
            crate::modules::workflows::types::Workflow,
        )
        .await?)
    }
}
