//! What the engine tells subscribers: statuses, node and run events, log lines, their topics.

#[allow(unused_imports)]
use super::*;

pub use entity::{execution::ExecutionStatus, node_execution::NodeStatus};

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
    NodeStatus,
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
            status: e.status,
            node: None,
            error: e.error.clone(),
            at: Utc::now(),
        }
    }

    /// One node's state as saved, within the run `e`.
    pub fn node_state_of(e: &execution::Model, n: SavedNodeState) -> Self {
        let (node_id, iteration, status, attempt, port, error, started_at, finished_at) = n;
        Self {
            node: Some(NodeEvent { node_id, iteration, status, attempt, port, error }),
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
    pub level: LogLevel,
    pub message: String,
    pub at: chrono::DateTime<Utc>,
}

pub fn execution_topic(tenant: Uuid, execution: Uuid) -> Topic {
    Topic::tenant(tenant, &format!("execution:{execution}"))
}

/// Where a cancel is announced to every instance: the one running the run stops it at
/// once (its heartbeat would find out within a third of the lease). One topic for all runs,
/// so a run in progress does not hold a subscription of its own; the payload is the run's
/// id only.
pub fn cancels_topic() -> Topic {
    Topic::platform("workflow-cancels")
}

pub fn workflow_topic(tenant: Uuid, workflow: Uuid) -> Topic {
    Topic::tenant(tenant, &format!("workflow:{workflow}:executions"))
}

pub fn logs_topic(tenant: Uuid, execution: Uuid) -> Topic {
    Topic::tenant(tenant, &format!("execution:{execution}:logs"))
}

/// Publishes `event` to the run's topic and its workflow's topic.
pub async fn publish(ctx: &Ctx, tenant: Uuid, event: &ExecutionEvent) {
    ctx.publish(&execution_topic(tenant, event.execution_id), event).await;
    ctx.publish(&workflow_topic(tenant, event.workflow_id), event).await;
}
