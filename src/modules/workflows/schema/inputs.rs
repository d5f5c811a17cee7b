//! Input objects of the workflow operations.

#[allow(unused_imports)]
use super::*;

#[derive(InputObject)]
pub struct WorkflowSettingsInput {
    /// Longest a run may take, in seconds (1–604800; default 3600).
    pub timeout_seconds: Option<i64>,
    /// A workflow of the same organisation to start when a run fails.
    pub error_workflow_id: Option<ID>,
}

pub(super) fn settings_input(field: &str, s: Option<WorkflowSettingsInput>) -> Result<Option<Settings>> {
    let Some(s) = s else { return Ok(None) };
    let error_workflow_id = s
        .error_workflow_id
        .map(|id| relay::decode_id(&format!("{field}.errorWorkflowId"), &id, relay::kind::WORKFLOW))
        .transpose()?;
    Ok(Some(Settings { timeout_seconds: s.timeout_seconds, error_workflow_id }))
}

#[derive(InputObject)]
pub struct CreateWorkflowInput {
    pub tenant_id: ID,
    pub name: String,
    #[graphql(default)]
    pub description: String,
    /// The whole graph (`{ nodes, edges }`); default: one manual trigger.
    pub graph: Option<Json<Value>>,
    pub settings: Option<WorkflowSettingsInput>,
}

#[derive(InputObject)]
pub struct UpdateWorkflowInput {
    pub id: ID,
    pub name: Option<String>,
    pub description: Option<String>,
    pub settings: Option<WorkflowSettingsInput>,
}

#[derive(InputObject)]
pub struct DuplicateWorkflowInput {
    pub id: ID,
    /// Default: "<name> (copy)".
    pub name: Option<String>,
}

#[derive(InputObject)]
pub struct SaveWorkflowGraphInput {
    pub id: ID,
    /// The revision the graph was edited from; a stale one gets CONFLICT.
    pub expected_revision: i32,
    pub graph: Json<Value>,
}

#[derive(InputObject)]
pub struct NodeInput {
    /// Key inside the workflow: letters, digits and `_`, starting with a letter.
    pub id: String,
    #[graphql(name = "type")]
    pub node_type: String,
    #[graphql(default)]
    pub name: String,
    pub position: Option<Position>,
    pub config: Option<Json<Value>>,
    pub retry: Option<RetryPolicy>,
    pub timeout_ms: Option<i64>,
    pub safe_to_repeat: Option<bool>,
}

#[derive(InputObject)]
pub struct AddNodeInput {
    pub workflow_id: ID,
    pub expected_revision: i32,
    pub node: NodeInput,
}

#[derive(InputObject)]
pub struct UpdateNodeInput {
    pub workflow_id: ID,
    pub expected_revision: i32,
    pub node_id: String,
    pub name: Option<String>,
    pub position: Option<Position>,
    pub config: Option<Json<Value>>,
    pub retry: Option<RetryPolicy>,
    /// Remove the node's retry policy.
    #[graphql(default)]
    pub clear_retry: bool,
    pub timeout_ms: Option<i64>,
    pub safe_to_repeat: Option<bool>,
}

#[derive(InputObject)]
pub struct RemoveNodeInput {
    pub workflow_id: ID,
    pub expected_revision: i32,
    pub node_id: String,
}

#[derive(InputObject)]
pub struct ConnectNodesInput {
    pub workflow_id: ID,
    pub expected_revision: i32,
    pub source: String,
    #[graphql(default_with = "\"main\".to_string()")]
    pub source_port: String,
    pub target: String,
    #[graphql(default_with = "\"main\".to_string()")]
    pub target_port: String,
}

#[derive(InputObject)]
pub struct DisconnectInput {
    pub workflow_id: ID,
    pub expected_revision: i32,
    pub edge_id: String,
}

#[derive(InputObject)]
pub struct PublishWorkflowVersionInput {
    pub workflow_id: ID,
    #[graphql(default)]
    pub note: String,
}

#[derive(InputObject)]
pub struct ExecuteWorkflowInput {
    pub workflow_id: ID,
    /// A published version; default: the draft.
    pub version: Option<i32>,
    /// The run's input (the trigger's output).
    pub input: Option<Json<Value>>,
}

#[derive(InputObject)]
pub struct RetryExecutionInput {
    pub id: ID,
    /// Keep the results of the nodes that succeeded and start at the one that failed.
    #[graphql(default)]
    pub from_failed_node: bool,
    /// Run the workflow's latest version (its draft if none) instead of the graph that failed.
    #[graphql(default)]
    pub use_latest_version: bool,
}

#[derive(InputObject)]
pub struct SaveWorkflowAsTemplateInput {
    pub workflow_id: ID,
    pub name: String,
    #[graphql(default)]
    pub description: String,
    #[graphql(default)]
    pub category: String,
}

#[derive(InputObject)]
pub struct CreateWorkflowFromTemplateInput {
    pub tenant_id: ID,
    /// `builtin:<key>` or the ID of one of the organisation's templates.
    pub template_id: String,
    /// Default: the template's name.
    pub name: Option<String>,
}

pub(super) fn node_from_input(field: &str, n: NodeInput) -> Result<NodeSpec> {
    let config = n.config.map(|c| c.0).unwrap_or_else(|| Value::Object(Default::default()));
    if !config.is_object() {
        return Err(AppError::validation(format!("{field}.config"), "must be a JSON object").into());
    }
    Ok(NodeSpec {
        id: n.id,
        node_type: n.node_type,
        name: n.name,
        position: n.position.unwrap_or_default(),
        config,
        retry: n.retry,
        timeout_ms: n.timeout_ms,
        safe_to_repeat: n.safe_to_repeat,
    })
}
