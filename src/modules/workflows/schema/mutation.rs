//! Workflow mutations: definitions, graph edits, versions, runs, templates, webhooks.

#[allow(unused_imports)]
use super::*;

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
            g.add_node(node)
        })
        .await
    }

    /// Changes a node's name, position, configuration, retry policy or timeout (needs
    /// `WORKFLOW_EDIT`).
    async fn update_node(&self, ctx: &Context<'_>, input: UpdateNodeInput) -> Result<WorkflowPayload> {
        if input.config.as_ref().is_some_and(|c| !c.0.is_object()) {
            return Err(AppError::validation("input.config", "must be a JSON object").into());
        }
        let change = definition::edits::NodeChange {
            name: input.name,
            position: input.position,
            config: input.config.map(|c| c.0),
            retry: input.retry,
            clear_retry: input.clear_retry,
            timeout_ms: input.timeout_ms,
            safe_to_repeat: input.safe_to_repeat,
        };
        let id = input.node_id;
        edit_graph(ctx, "input.workflowId", &input.workflow_id, input.expected_revision, "updateNode", |g| {
            g.update_node(&id, change)
        })
        .await
    }

    /// Removes a node and its edges (needs `WORKFLOW_EDIT`).
    async fn remove_node(&self, ctx: &Context<'_>, input: RemoveNodeInput) -> Result<WorkflowPayload> {
        edit_graph(ctx, "input.workflowId", &input.workflow_id, input.expected_revision, "removeNode", |g| {
            g.remove_node(&input.node_id)
        })
        .await
    }

    /// Connects an output port to an input port (needs `WORKFLOW_EDIT`).
    async fn connect_nodes(&self, ctx: &Context<'_>, input: ConnectNodesInput) -> Result<WorkflowPayload> {
        let ConnectNodesInput { workflow_id, expected_revision, source, source_port, target, target_port } =
            input;
        edit_graph(ctx, "input.workflowId", &workflow_id, expected_revision, "connectNodes", |g| {
            g.connect(source, source_port, target, target_port)
        })
        .await
    }

    /// Removes an edge (needs `WORKFLOW_EDIT`).
    async fn disconnect(&self, ctx: &Context<'_>, input: DisconnectInput) -> Result<WorkflowPayload> {
        edit_graph(ctx, "input.workflowId", &input.workflow_id, input.expected_revision, "disconnect", |g| {
            g.disconnect(&input.edge_id)
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
