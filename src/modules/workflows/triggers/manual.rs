//! The manual trigger: `executeWorkflow` queues a run of a version or of the draft.

use entity::{
    execution::{self, ExecutionTrigger},
    workflow::{self, WorkflowStatus},
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    access::{Change, TenantCtx, TenantTx},
    auth::Permission,
    error::{AppError, AppResult},
    modules::workflows::{
        definition::{graph::Graph, versions::*, workflows::*},
        runtime::executions::*,
    },
    startup::AppState,
};

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
    let tx = TenantTx::begin(app, tctx, Permission::WorkflowExecute).await?;
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
    tx.commit_with(Change {
        action: "execution.started",
        target_type: "execution",
        target_id: Some(e.id),
        before: None,
        after: Some(json!({ "workflowId": id, "version": version })),
    })
    .await?;
    announce(app, &e).await;
    Ok(e)
}
