//! Workflow queries, mutations and subscriptions.

use async_graphql::{Context, ID, InputObject, Json, Object, Result, Subscription};
use entity::{execution, node_execution, workflow, workflow_template};
use futures::{Stream, StreamExt};
use serde_json::Value;
use uuid::Uuid;

use super::{
    catalog,
    definition::{
        self,
        graph::{EdgeSpec, NodeSpec, Position, RetryPolicy, Settings},
        templates,
    },
    runtime::{self, ExecutionEvent, LogEvent},
    triggers,
    types::*,
};
use crate::{
    access::TenantCtx,
    auth::Permission,
    error::AppError,
    graphql::{app, loaders::loaders, owned_row, rctx, relay},
    pubsub::Event,
};

async fn workflow_ctx(ctx: &Context<'_>, field: &str, id: &ID) -> Result<(Uuid, TenantCtx)> {
    owned_row::<workflow::Entity>(ctx, field, id, relay::kind::WORKFLOW, "workflow", workflow::Column::Id)
        .await
}

/// A change of a workflow's draft graph through [`definition::workflows::edit_graph`], answered with the
/// workflow.
async fn edit_graph(
    ctx: &Context<'_>,
    field: &str,
    id: &ID,
    expected_revision: i32,
    what: &str,
    edit: impl FnOnce(&mut definition::graph::Graph) -> crate::error::AppResult<()>,
) -> Result<WorkflowPayload> {
    let (uuid, tctx) = workflow_ctx(ctx, field, id).await?;
    let w = definition::workflows::edit_graph(app(ctx), &tctx, uuid, expected_revision, what, edit).await?;
    Ok(WorkflowPayload { workflow: Workflow(w) })
}

async fn execution_ctx(ctx: &Context<'_>, field: &str, id: &ID) -> Result<(Uuid, TenantCtx)> {
    owned_row::<execution::Entity>(ctx, field, id, relay::kind::EXECUTION, "execution", execution::Column::Id)
        .await
}

#[derive(InputObject)]
pub struct WorkflowSettingsInput {
    /// Longest a run may take, in seconds (1–604800; default 3600).
    pub timeout_seconds: Option<i64>,
    /// A workflow of the same organisation to start when a run fails.
    pub error_workflow_id: Option<ID>,
}

fn settings_input(field: &str, s: Option<WorkflowSettingsInput>) -> Result<Option<Settings>> {
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

fn node_from_input(field: &str, n: NodeInput) -> Result<NodeSpec> {
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

#[derive(Default)]
pub struct WorkflowsQuery;

#[Object]
impl WorkflowsQuery {
    /// The node types workflows can use, with their ports and configuration schemas.
    async fn node_types(&self, ctx: &Context<'_>) -> Result<Vec<NodeType>> {
        rctx(ctx).require_principal()?;
        Ok(catalog::all().iter().map(NodeType).collect())
    }

    /// A workflow by ID (needs `WORKFLOW_READ`).
    async fn workflow(&self, ctx: &Context<'_>, id: ID) -> Result<Workflow> {
        let (uuid, tctx) = workflow_ctx(ctx, "id", &id).await?;
        Ok(Workflow(definition::workflows::get_workflow(app(ctx), &tctx, uuid).await?))
    }

    /// An execution by ID (needs `WORKFLOW_READ`).
    async fn execution(&self, ctx: &Context<'_>, id: ID) -> Result<Execution> {
        let (uuid, tctx) = execution_ctx(ctx, "id", &id).await?;
        Ok(Execution(runtime::executions::get_execution(app(ctx), &tctx, uuid).await?))
    }

    /// Zygo's starter templates and the organisation's saved ones (needs `WORKFLOW_READ`).
    async fn workflow_templates(&self, ctx: &Context<'_>, tenant_id: ID) -> Result<Vec<WorkflowTemplate>> {
        rctx(ctx).require_principal()?;
        let tenant = relay::decode_id("tenantId", &tenant_id, relay::kind::TENANT)?;
        let tctx = loaders(ctx).tenant_access(tenant).await?;
        tctx.require(Permission::WorkflowRead)?;
        use sea_orm::QueryOrder;
        let own = tctx
            .scope()
            .find::<workflow_template::Entity>()
            .order_by_asc(workflow_template::Column::Name)
            .all(&tctx.on(&app(ctx).db))
            .await
            .map_err(AppError::from)?;
        Ok(templates::builtin()
            .into_iter()
            .chain(own.into_iter().map(templates::Template::from_row))
            .map(WorkflowTemplate)
            .collect())
    }

    /// Checks a workflow's draft (or one of its versions): unknown node types, invalid
    /// configuration, cycles, unconnected inputs, broken expression references and unknown
    /// secrets, each with its node (needs `WORKFLOW_READ`).
    async fn validate_workflow(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: Option<i32>,
    ) -> Result<WorkflowValidation> {
        let (uuid, tctx) = workflow_ctx(ctx, "id", &id).await?;
        let w = definition::workflows::get_workflow(app(ctx), &tctx, uuid).await?;
        let g = match version {
            None => definition::workflows::graph_of(&w),
            Some(v) => {
                let ver = definition::versions::get_version(&tctx.on(&app(ctx).db), tctx.scope(), uuid, v)
                    .await
                    .map_err(|_| {
                        AppError::validation("version", format!("the workflow has no version {v}"))
                    })?;
                serde_json::from_value(ver.graph).unwrap_or_default()
            }
        };
        let problems = definition::workflows::validate_graph(app(ctx), &tctx, &g).await?;
        Ok(WorkflowValidation { valid: problems.is_empty(), problems })
    }
}

#[derive(Default)]
pub struct WorkflowsMutation;

#[Object]
impl WorkflowsMutation {
    /// Creates a workflow (needs `WORKFLOW_EDIT`).
    async fn create_workflow(
        &self,
        ctx: &Context<'_>,
        input: CreateWorkflowInput,
    ) -> Result<WorkflowPayload> {
        rctx(ctx).require_principal()?;
        let tenant = relay::decode_id("input.tenantId", &input.tenant_id, relay::kind::TENANT)?;
        let tctx = loaders(ctx).tenant_access(tenant).await?;
        let graph =
            input.graph.map(|g| definition::workflows::parse_graph("input.graph", &g.0)).transpose()?;
        let settings = settings_input("input.settings", input.settings)?;
        let w = definition::workflows::create_workflow(
            app(ctx),
            &tctx,
            &input.name,
            &input.description,
            graph,
            settings,
            "workflow.created",
        )
        .await?;
        Ok(WorkflowPayload { workflow: Workflow(w) })
    }

    /// Renames a workflow or changes its description or settings (needs `WORKFLOW_EDIT`).
    async fn update_workflow(
        &self,
        ctx: &Context<'_>,
        input: UpdateWorkflowInput,
    ) -> Result<WorkflowPayload> {
        let (id, tctx) = workflow_ctx(ctx, "input.id", &input.id).await?;
        let settings = settings_input("input.settings", input.settings)?;
        let w = definition::workflows::update_workflow(
            app(ctx),
            &tctx,
            id,
            input.name.as_deref(),
            input.description.as_deref(),
            settings,
        )
        .await?;
        Ok(WorkflowPayload { workflow: Workflow(w) })
    }

    /// Copies a workflow's draft into a new workflow (needs `WORKFLOW_EDIT`).
    async fn duplicate_workflow(
        &self,
        ctx: &Context<'_>,
        input: DuplicateWorkflowInput,
    ) -> Result<WorkflowPayload> {
        let (id, tctx) = workflow_ctx(ctx, "input.id", &input.id).await?;
        let w = definition::workflows::duplicate_workflow(app(ctx), &tctx, id, input.name.as_deref()).await?;
        Ok(WorkflowPayload { workflow: Workflow(w) })
    }

    /// Archives a workflow: it no longer runs or changes (needs `WORKFLOW_EDIT`).
    async fn archive_workflow(&self, ctx: &Context<'_>, id: ID) -> Result<WorkflowPayload> {
        let (uuid, tctx) = workflow_ctx(ctx, "id", &id).await?;
        Ok(WorkflowPayload {
            workflow: Workflow(definition::workflows::set_archived(app(ctx), &tctx, uuid, true).await?),
        })
    }

    /// Restores an archived workflow (needs `WORKFLOW_EDIT`).
    async fn restore_workflow(&self, ctx: &Context<'_>, id: ID) -> Result<WorkflowPayload> {
        let (uuid, tctx) = workflow_ctx(ctx, "id", &id).await?;
        Ok(WorkflowPayload {
            workflow: Workflow(definition::workflows::set_archived(app(ctx), &tctx, uuid, false).await?),
        })
    }

    /// Deletes a workflow with its versions and executions (needs `WORKFLOW_EDIT`).
    async fn delete_workflow(&self, ctx: &Context<'_>, id: ID) -> Result<DeleteWorkflowPayload> {
        let (uuid, tctx) = workflow_ctx(ctx, "id", &id).await?;
        definition::workflows::delete_workflow(app(ctx), &tctx, uuid).await?;
        Ok(DeleteWorkflowPayload { deleted_workflow_id: id })
    }

    /// Replaces the whole draft graph, e.g. a canvas autosave (needs `WORKFLOW_EDIT`).
    async fn save_workflow_graph(
        &self,
        ctx: &Context<'_>,
        input: SaveWorkflowGraphInput,
    ) -> Result<WorkflowPayload> {
        let g = definition::workflows::parse_graph("input.graph", &input.graph.0)?;
        edit_graph(ctx, "input.id", &input.id, input.expected_revision, "saveWorkflowGraph", |graph| {
            *graph = g;
            Ok(())
        })
        .await
    }

    /// Adds a node to the draft (needs `WORKFLOW_EDIT`).
    async fn add_node(&self, ctx: &Context<'_>, input: AddNodeInput) -> Result<WorkflowPayload> {
        let node = node_from_input("input.node", input.node)?;
        edit_graph(ctx, "input.workflowId", &input.workflow_id, input.expected_revision, "addNode", |g| {
            if g.node(&node.id).is_some() {
                return Err(AppError::conflict("input.node.id", format!("a node `{}` exists", node.id)));
            }
            g.nodes.push(node);
            Ok(())
        })
        .await
    }

    /// Changes a node's name, position, configuration, retry policy or timeout (needs
    /// `WORKFLOW_EDIT`).
    async fn update_node(&self, ctx: &Context<'_>, input: UpdateNodeInput) -> Result<WorkflowPayload> {
        if input.config.as_ref().is_some_and(|c| !c.0.is_object()) {
            return Err(AppError::validation("input.config", "must be a JSON object").into());
        }
        edit_graph(ctx, "input.workflowId", &input.workflow_id, input.expected_revision, "updateNode", |g| {
            let n = g
                .nodes
                .iter_mut()
                .find(|n| n.id == input.node_id)
                .ok_or_else(|| AppError::validation("input.nodeId", "no such node in this workflow"))?;
            if let Some(name) = input.name {
                n.name = name;
            }
            if let Some(p) = input.position {
                n.position = p;
            }
            if let Some(c) = input.config {
                n.config = c.0;
            }
            if input.clear_retry {
                n.retry = None;
            }
            if let Some(r) = input.retry {
                n.retry = Some(r);
            }
            if let Some(t) = input.timeout_ms {
                n.timeout_ms = Some(t);
            }
            if let Some(s) = input.safe_to_repeat {
                n.safe_to_repeat = Some(s);
            }
            Ok(())
        })
        .await
    }

    /// Removes a node and its edges (needs `WORKFLOW_EDIT`).
    async fn remove_node(&self, ctx: &Context<'_>, input: RemoveNodeInput) -> Result<WorkflowPayload> {
        edit_graph(ctx, "input.workflowId", &input.workflow_id, input.expected_revision, "removeNode", |g| {
            let before = g.nodes.len();
            g.nodes.retain(|n| n.id != input.node_id);
            if g.nodes.len() == before {
                return Err(AppError::validation("input.nodeId", "no such node in this workflow"));
            }
            g.edges.retain(|e| e.source != input.node_id && e.target != input.node_id);
            Ok(())
        })
        .await
    }

    /// Connects an output port to an input port (needs `WORKFLOW_EDIT`).
    async fn connect_nodes(&self, ctx: &Context<'_>, input: ConnectNodesInput) -> Result<WorkflowPayload> {
        edit_graph(
            ctx,
            "input.workflowId",
            &input.workflow_id,
            input.expected_revision,
            "connectNodes",
            |g| {
                for (field, node) in [("input.source", &input.source), ("input.target", &input.target)] {
                    if g.node(node).is_none() {
                        return Err(AppError::validation(field, "no such node in this workflow"));
                    }
                }
                if g.edges.iter().any(|e| {
                    e.source == input.source
                        && e.source_port == input.source_port
                        && e.target == input.target
                        && e.target_port == input.target_port
                }) {
                    return Err(AppError::conflict("input.target", "these ports are already connected"));
                }
                let mut n = g.edges.len() + 1;
                while g.edges.iter().any(|e| e.id == format!("e{n}")) {
                    n += 1;
                }
                g.edges.push(EdgeSpec {
                    id: format!("e{n}"),
                    source: input.source,
                    source_port: input.source_port,
                    target: input.target,
                    target_port: input.target_port,
                });
                Ok(())
            },
        )
        .await
    }

    /// Removes an edge (needs `WORKFLOW_EDIT`).
    async fn disconnect(&self, ctx: &Context<'_>, input: DisconnectInput) -> Result<WorkflowPayload> {
        edit_graph(ctx, "input.workflowId", &input.workflow_id, input.expected_revision, "disconnect", |g| {
            let before = g.edges.len();
            g.edges.retain(|e| e.id != input.edge_id);
            if g.edges.len() == before {
                return Err(AppError::validation("input.edgeId", "no such edge in this workflow"));
            }
            Ok(())
        })
        .await
    }

    /// Freezes the draft as the next immutable version; refused (WORKFLOW_INVALID, with the
    /// problems) when it does not validate (needs `WORKFLOW_EDIT`).
    async fn publish_workflow_version(
        &self,
        ctx: &Context<'_>,
        input: PublishWorkflowVersionInput,
    ) -> Result<PublishWorkflowVersionPayload> {
        let (id, tctx) = workflow_ctx(ctx, "input.workflowId", &input.workflow_id).await?;
        let v = definition::versions::publish_version(app(ctx), &tctx, id, &input.note).await?;
        let w = definition::workflows::get_workflow(app(ctx), &tctx, id).await?;
        Ok(PublishWorkflowVersionPayload { workflow: Workflow(w), version: WorkflowVersion(v) })
    }

    /// Gives the workflow a new webhook URL; the old one stops working (needs `WORKFLOW_EDIT`).
    async fn rotate_workflow_webhook(&self, ctx: &Context<'_>, id: ID) -> Result<WorkflowPayload> {
        let (uuid, tctx) = workflow_ctx(ctx, "id", &id).await?;
        Ok(WorkflowPayload {
            workflow: Workflow(triggers::webhook::rotate_webhook(app(ctx), &tctx, uuid).await?),
        })
    }

    /// Queues a run and returns it at once; refused with WORKFLOW_INVALID and the problems
    /// when the graph does not validate (needs `WORKFLOW_EXECUTE`).
    async fn execute_workflow(
        &self,
        ctx: &Context<'_>,
        input: ExecuteWorkflowInput,
    ) -> Result<ExecutionPayload> {
        let (id, tctx) = workflow_ctx(ctx, "input.workflowId", &input.workflow_id).await?;
        let run_input = input.input.map(|j| j.0).unwrap_or(Value::Object(Default::default()));
        let e = triggers::manual::execute(app(ctx), &tctx, id, input.version, run_input).await?;
        Ok(ExecutionPayload { execution: Execution(e) })
    }

    /// Cancels a queued or running execution; its final state is `CANCELLED` (needs
    /// `WORKFLOW_EXECUTE`).
    async fn cancel_execution(&self, ctx: &Context<'_>, id: ID) -> Result<ExecutionPayload> {
        let (uuid, tctx) = execution_ctx(ctx, "id", &id).await?;
        Ok(ExecutionPayload {
            execution: Execution(runtime::executions::cancel_execution(app(ctx), &tctx, uuid).await?),
        })
    }

    /// Runs a finished execution again as a new one (needs `WORKFLOW_EXECUTE`).
    async fn retry_execution(
        &self,
        ctx: &Context<'_>,
        input: RetryExecutionInput,
    ) -> Result<ExecutionPayload> {
        let (uuid, tctx) = execution_ctx(ctx, "input.id", &input.id).await?;
        let e = runtime::executions::retry_execution(
            app(ctx),
            &tctx,
            uuid,
            input.from_failed_node,
            input.use_latest_version,
        )
        .await?;
        Ok(ExecutionPayload { execution: Execution(e) })
    }

    /// Saves a workflow's draft as a template of the organisation (needs `WORKFLOW_EDIT`).
    async fn save_workflow_as_template(
        &self,
        ctx: &Context<'_>,
        input: SaveWorkflowAsTemplateInput,
    ) -> Result<WorkflowTemplatePayload> {
        let (id, tctx) = workflow_ctx(ctx, "input.workflowId", &input.workflow_id).await?;
        let t = definition::templates::save_template(
            app(ctx),
            &tctx,
            id,
            &input.name,
            &input.description,
            &input.category,
        )
        .await?;
        Ok(WorkflowTemplatePayload { template: WorkflowTemplate(templates::Template::from_row(t)) })
    }

    /// Deletes one of the organisation's templates (needs `WORKFLOW_EDIT`).
    async fn delete_workflow_template(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<DeleteWorkflowTemplatePayload> {
        let (uuid, tctx) = owned_row::<workflow_template::Entity>(
            ctx,
            "id",
            &id,
            relay::kind::WORKFLOW_TEMPLATE,
            "template",
            workflow_template::Column::Id,
        )
        .await?;
        definition::templates::delete_template(app(ctx), &tctx, uuid).await?;
        Ok(DeleteWorkflowTemplatePayload { deleted_template_id: id.to_string() })
    }

    /// Creates a workflow from a template (needs `WORKFLOW_EDIT`).
    async fn create_workflow_from_template(
        &self,
        ctx: &Context<'_>,
        input: CreateWorkflowFromTemplateInput,
    ) -> Result<WorkflowPayload> {
        rctx(ctx).require_principal()?;
        let tenant = relay::decode_id("input.tenantId", &input.tenant_id, relay::kind::TENANT)?;
        let tctx = loaders(ctx).tenant_access(tenant).await?;
        tctx.require(Permission::WorkflowRead)?;
        let t = definition::templates::find_template(app(ctx), &tctx, &input.template_id).await?;
        let graph = definition::workflows::parse_graph("input.templateId", &t.graph)?;
        let settings = definition::workflows::settings_for_copy(
            app(ctx),
            &tctx,
            definition::workflows::settings_of(&t.settings),
        )
        .await?;
        let w = definition::workflows::create_workflow(
            app(ctx),
            &tctx,
            input.name.as_deref().unwrap_or(&t.name),
            &t.description,
            Some(graph),
            Some(settings),
            "workflow.created_from_template",
        )
        .await?;
        Ok(WorkflowPayload { workflow: Workflow(w) })
    }
}

#[derive(Default)]
pub struct WorkflowsSubscription;

/// Events of `topic` while the viewer keeps `WORKFLOW_READ` in `tenant` (checked per event;
/// the stream ends when they lose it), mapped by `map`.
fn guarded<T: Send + 'static, F: Fn(&Event) -> Option<T> + Send + Sync + 'static>(
    app: crate::startup::AppState,
    viewer: crate::auth::Viewer,
    tenant: Uuid,
    topic: crate::pubsub::Topic,
    map: F,
) -> impl Stream<Item = T> + use<T, F> {
    crate::graphql::live::guarded(app, viewer, tenant, Permission::WorkflowRead, topic)
        .filter_map(move |(event, _)| futures::future::ready(map(&event)))
}

/// What a workflow subscription opens on: the row `id` (a global ID of `type_name` from
/// argument `field`) of `E`, its tenant, and the signed-in viewer's access there, which must
/// grant `WORKFLOW_READ`. Anonymous is UNAUTHENTICATED before the id is looked at; a row that
/// does not exist or whose tenant the viewer is not a member of is NOT_FOUND (`what`) alike;
/// a member lacking the permission is FORBIDDEN, as for queries.
async fn subscription_row<E: entity::TenantOwned>(
    ctx: &Context<'_>,
    field: &str,
    id: &ID,
    type_name: &'static str,
    what: &'static str,
    col: E::Column,
) -> Result<(Uuid, crate::auth::Viewer, TenantCtx)> {
    let viewer = rctx(ctx).viewer()?.clone();
    let uuid = relay::decode_id(field, id, type_name)?;
    let tenant = crate::db::owning_tenant::<E>(&crate::db::across_tenants(&app(ctx).db), col, uuid)
        .await
        .map_err(AppError::from)?
        .ok_or(AppError::NotFound(what))?;
    let tctx = crate::access::access_one(app(ctx), viewer.user_id, tenant)
        .await
        .map_err(|e| if matches!(e, AppError::NotFound(_)) { AppError::NotFound(what) } else { e })?;
    tctx.require(Permission::WorkflowRead)?;
    Ok((uuid, viewer, tctx))
}

/// [`subscription_row`] for an execution named by argument `executionId`.
async fn execution_subscription(
    ctx: &Context<'_>,
    id: &ID,
) -> Result<(Uuid, crate::auth::Viewer, TenantCtx)> {
    subscription_row::<execution::Entity>(
        ctx,
        "executionId",
        id,
        relay::kind::EXECUTION,
        "execution",
        execution::Column::Id,
    )
    .await
}

/// A bus event of an execution or workflow topic as a GraphQL update.
fn execution_update(e: &Event) -> Option<ExecutionUpdate> {
    serde_json::from_value::<ExecutionEvent>(e.payload.clone()).ok().map(ExecutionUpdate)
}

/// Most node states `executionUpdated` replays when it starts.
const REPLAYED_NODE_STATES: u64 = 1000;

#[Subscription]
impl WorkflowsSubscription {
    /// The execution's status and every node's state change, as they happen (needs
    /// `WORKFLOW_READ`). It starts with the current state, each event with `sequence` 0: the
    /// status, then the saved state of each node that has run (in the order they first ran;
    /// at most 1,000). Node states are saved in batches about a second apart, so a change from
    /// the second before subscribing can be missing from both the replay and the live events;
    /// `execution(id:)` has it once saved, and the run's end is always reported.
    async fn execution_updated(
        &self,
        ctx: &Context<'_>,
        execution_id: ID,
    ) -> Result<impl Stream<Item = ExecutionUpdate> + use<>> {
        let (id, viewer, tctx) = execution_subscription(ctx, &execution_id).await?;
        let tenant = tctx.tenant_id;
        let app = app(ctx).clone();
        let live =
            guarded(app.clone(), viewer, tenant, runtime::execution_topic(tenant, id), execution_update);
        // Subscribed first, then the current state: nothing falls in between.
        let (current, nodes) = {
            use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};
            let conn = tctx.on(&app.db);
            let current = tctx
                .scope()
                .find_by_id::<execution::Entity, _>(&conn, id)
                .await
                .map_err(AppError::from)?
                .ok_or(AppError::NotFound("execution"))?;
            use node_execution::Column as N;
            // Only what an event carries: not the nodes' inputs and outputs.
            let nodes: Vec<runtime::SavedNodeState> = tctx
                .scope()
                .find::<node_execution::Entity>()
                .select_only()
                .columns([N::NodeId, N::Iteration, N::Status, N::Attempt, N::Port, N::Error, N::StartedAt])
                .column(N::FinishedAt)
                .filter(N::ExecutionId.eq(id))
                .order_by_asc(N::Id)
                .limit(REPLAYED_NODE_STATES)
                .into_tuple()
                .all(&conn)
                .await
                .map_err(AppError::from)?;
            (current, nodes)
        };
        let mut state = vec![ExecutionUpdate(ExecutionEvent::status_of(&current))];
        state.extend(nodes.into_iter().map(|n| ExecutionUpdate(ExecutionEvent::node_state_of(&current, n))));
        Ok(futures::stream::iter(state).chain(live))
    }

    /// Status and node changes of every execution of a workflow (needs `WORKFLOW_READ`).
    async fn workflow_executions(
        &self,
        ctx: &Context<'_>,
        workflow_id: ID,
    ) -> Result<impl Stream<Item = ExecutionUpdate> + use<>> {
        let (id, viewer, tctx) = subscription_row::<workflow::Entity>(
            ctx,
            "workflowId",
            &workflow_id,
            relay::kind::WORKFLOW,
            "workflow",
            workflow::Column::Id,
        )
        .await?;
        let tenant = tctx.tenant_id;
        Ok(guarded(app(ctx).clone(), viewer, tenant, runtime::workflow_topic(tenant, id), execution_update))
    }

    /// The execution's log lines as they are written (needs `WORKFLOW_READ`).
    async fn execution_logs(
        &self,
        ctx: &Context<'_>,
        execution_id: ID,
    ) -> Result<impl Stream<Item = ExecutionLog> + use<>> {
        let (id, viewer, tctx) = execution_subscription(ctx, &execution_id).await?;
        let tenant = tctx.tenant_id;
        Ok(guarded(app(ctx).clone(), viewer, tenant, runtime::logs_topic(tenant, id), |e| {
            serde_json::from_value::<LogEvent>(e.payload.clone()).ok().map(ExecutionLog::from)
        }))
    }
}
