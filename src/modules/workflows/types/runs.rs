//! GraphQL types of executions: runs, node states, logs and live updates.

#[allow(unused_imports)]
use super::*;

/// Status of an execution.
#[derive(async_graphql::Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::execution::ExecutionStatus")]
pub enum ExecutionStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

/// Status of one node of an execution.
#[derive(async_graphql::Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::node_execution::NodeStatus")]
pub enum NodeStatus {
    Running,
    Retrying,
    Succeeded,
    Failed,
    Skipped,
    Cancelled,
}

/// One run of a workflow.
pub struct Execution(pub execution::Model);

#[Object]
impl Execution {
    pub async fn id(&self) -> ID {
        relay::to_global_id(relay::kind::EXECUTION, self.0.id)
    }
    async fn workflow(&self, ctx: &Context<'_>) -> Result<Option<Workflow>> {
        let tctx = loaders(ctx).tenant_access(self.0.tenant_id).await?;
        Ok(tctx
            .scope()
            .find_by_id::<workflow::Entity, _>(&tctx.on(&app(ctx).db), self.0.workflow_id)
            .await
            .map_err(crate::error::AppError::from)?
            .map(Workflow))
    }
    /// The version it ran (null: the draft at the time).
    async fn version(&self) -> Option<i32> {
        self.0.version
    }
    async fn status(&self) -> ExecutionStatus {
        self.0.status.into()
    }
    /// `manual`, `webhook`, `schedule`, `retry` or `error`.
    async fn trigger(&self) -> String {
        self.0.trigger.to_value()
    }
    async fn input(&self) -> Json<Value> {
        Json(self.0.input.clone())
    }
    /// The output of the last node that ran (secret values redacted).
    async fn output(&self) -> Option<Json<Value>> {
        self.0.output.clone().map(Json)
    }
    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }
    /// The execution this one retries.
    async fn retry_of(&self) -> Option<ID> {
        self.0.retry_of.map(|id| relay::to_global_id(relay::kind::EXECUTION, id))
    }
    /// How many times a worker claimed it (more than one: it was resumed).
    async fn claims(&self) -> i32 {
        self.0.claims
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn started_at(&self) -> Option<DateTime<Utc>> {
        self.0.started_at
    }
    async fn finished_at(&self) -> Option<DateTime<Utc>> {
        self.0.finished_at
    }
    /// The graph it ran.
    async fn graph(&self) -> WorkflowGraph {
        WorkflowGraph(serde_json::from_value(self.0.graph.clone()).unwrap_or_default())
    }
    /// Every node's state, in the order they started.
    async fn nodes(&self, ctx: &Context<'_>) -> Result<Vec<NodeExecution>> {
        let tctx = loaders(ctx).tenant_access(self.0.tenant_id).await?;
        tctx.require(Permission::WorkflowRead)?;
        let rows = tctx
            .scope()
            .find::<node_execution::Entity>()
            .filter(node_execution::Column::ExecutionId.eq(self.0.id))
            .order_by_asc(node_execution::Column::StartedAt)
            .order_by_asc(node_execution::Column::Id)
            .all(&tctx.on(&app(ctx).db))
            .await
            .map_err(crate::error::AppError::from)?;
        Ok(rows.into_iter().map(NodeExecution).collect())
    }
    /// Log lines, oldest first.
    #[graphql(complexity = "crate::graphql::relay::cost(first, last, child_complexity)")]
    async fn logs(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<relay::Conn<ExecutionLog>> {
        let tctx = loaders(ctx).tenant_access(self.0.tenant_id).await?;
        tctx.require(Permission::WorkflowRead)?;
        let window =
            relay::PageArgs::new(after, before, first, last).window(app(ctx).config.max_page_size)?;
        let rows =
            child_page(ctx, &loaders(ctx).execution_log_pages, self.0.tenant_id, self.0.id, window, None)
                .await?;
        Ok(relay::to_connection(rows, |l| l.id, ExecutionLog))
    }
}

/// The state of one node in one execution (one row per Loop iteration or agent tool call).
pub struct NodeExecution(pub node_execution::Model);

#[Object]
impl NodeExecution {
    async fn node_id(&self) -> &str {
        &self.0.node_id
    }
    /// Empty for the main flow; `loop:2` for the third item of Loop `loop`, nested with `/`.
    async fn iteration(&self) -> &str {
        &self.0.iteration
    }
    async fn status(&self) -> NodeStatus {
        self.0.status.into()
    }
    /// The output port it emitted on.
    async fn port(&self) -> Option<&str> {
        self.0.port.as_deref()
    }
    async fn input(&self) -> Option<Json<Value>> {
        self.0.input.clone().map(Json)
    }
    async fn output(&self) -> Option<Json<Value>> {
        self.0.output.clone().map(Json)
    }
    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }
    async fn attempt(&self) -> i32 {
        self.0.attempt
    }
    /// Carried over from the execution this one retries, not run again.
    async fn reused(&self) -> bool {
        self.0.reused
    }
    async fn started_at(&self) -> Option<DateTime<Utc>> {
        self.0.started_at
    }
    async fn finished_at(&self) -> Option<DateTime<Utc>> {
        self.0.finished_at
    }
}

/// A log line of an execution.
#[derive(SimpleObject)]
pub struct ExecutionLog {
    #[graphql(owned)]
    pub id: ID,
    pub node_id: Option<String>,
    /// `info`, `warn` or `error`.
    pub level: String,
    pub message: String,
    pub at: DateTime<Utc>,
}

#[allow(non_snake_case)]
pub fn ExecutionLog(l: execution_log::Model) -> ExecutionLog {
    ExecutionLog {
        id: relay::to_global_id(relay::kind::EXECUTION_LOG, l.id),
        node_id: l.node_id,
        level: l.level.to_value(),
        message: l.message,
        at: l.created_at,
    }
}

impl From<runtime::LogEvent> for ExecutionLog {
    fn from(l: runtime::LogEvent) -> Self {
        Self {
            id: relay::to_global_id(relay::kind::EXECUTION_LOG, l.id),
            node_id: l.node_id,
            level: l.level.to_value(),
            message: l.message,
            at: l.at,
        }
    }
}

/// A node's state change inside an [`ExecutionUpdate`].
#[derive(SimpleObject)]
pub struct NodeUpdate {
    pub node_id: String,
    pub iteration: String,
    pub status: NodeStatus,
    pub attempt: i32,
    pub port: Option<String>,
    pub error: Option<String>,
}

/// A change of an execution: its status, or one node's state.
pub struct ExecutionUpdate(pub ExecutionEvent);

#[Object]
impl ExecutionUpdate {
    /// Order of the events of one worker's run (resets when another worker resumes it).
    async fn sequence(&self) -> i64 {
        self.0.seq as i64
    }
    async fn execution_id(&self) -> ID {
        relay::to_global_id(relay::kind::EXECUTION, self.0.execution_id)
    }
    async fn workflow_id(&self) -> ID {
        relay::to_global_id(relay::kind::WORKFLOW, self.0.workflow_id)
    }
    async fn status(&self) -> ExecutionStatus {
        self.0.status.into()
    }
    /// Set when a node changed.
    async fn node(&self) -> Option<NodeUpdate> {
        self.0.node.as_ref().map(|n| NodeUpdate {
            node_id: n.node_id.clone(),
            iteration: n.iteration.clone(),
            status: n.status.into(),
            attempt: n.attempt,
            port: n.port.clone(),
            error: n.error.clone(),
        })
    }
    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
}
