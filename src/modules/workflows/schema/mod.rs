//! Workflow queries, mutations and subscriptions, one file each; the shared helpers here.

use async_graphql::{Context, ID, InputObject, Json, Object, Result, Subscription};
use entity::{execution, node_execution, workflow, workflow_template};
use futures::{Stream, StreamExt};
use serde_json::Value;
use uuid::Uuid;

use super::{
    catalog,
    definition::{
        self,
        graph::{NodeSpec, Position, RetryPolicy, Settings},
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

async fn workflow_ctx(ctx: &Context<'_>, field: &str, id: &ID) -> Result<(Uuid, std::sync::Arc<TenantCtx>)> {
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

async fn execution_ctx(ctx: &Context<'_>, field: &str, id: &ID) -> Result<(Uuid, std::sync::Arc<TenantCtx>)> {
    owned_row::<execution::Entity>(ctx, field, id, relay::kind::EXECUTION, "execution", execution::Column::Id)
        .await
}

mod inputs;
mod mutation;
mod query;
mod subscription;

pub use inputs::*;
pub use mutation::WorkflowsMutation;
pub use query::WorkflowsQuery;
pub use subscription::WorkflowsSubscription;
