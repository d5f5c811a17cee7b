//! Workflow queries: workflows, executions, node types, templates, validation.

#[allow(unused_imports)]
use super::*;

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
