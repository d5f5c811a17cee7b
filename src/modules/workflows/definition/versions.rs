//! Immutable versions: publishing the draft as the next version, reading one.

use entity::{
    workflow::{self},
    workflow_version,
};
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter, Set};
use serde_json::json;
use uuid::Uuid;

use crate::{
    access::{Change, TenantCtx, TenantTx},
    auth::Permission,
    ctx::Ctx,
    db::TenantScope,
    error::{AppError, AppResult},
    modules::workflows::definition::workflows::*,
};

/// Freezes the draft as the next immutable version (`workflow.edit`); refused when it does
/// not validate.
pub async fn publish_version(
    ctx: &Ctx,
    tctx: &TenantCtx,
    id: Uuid,
    note: &str,
) -> AppResult<workflow_version::Model> {
    tctx.require(Permission::WorkflowEdit)?;
    if note.chars().count() > 500 {
        return Err(AppError::validation("input.note", "must be at most 500 characters"));
    }
    let scope = tctx.scope();
    let current = get_workflow(ctx, tctx, id).await?;
    let problems = validate_graph(ctx, tctx, &graph_of(&current)).await?;
    if !problems.is_empty() {
        return Err(refuse_invalid("the workflow cannot be published", &problems));
    }
    let tx = TenantTx::begin(ctx, tctx, Permission::WorkflowEdit).await?;
    let w = locked(&tx, scope, id).await?;
    if w.revision != current.revision {
        return Err(AppError::Conflict {
            field: None,
            message: "the workflow changed while publishing; try again".into(),
        });
    }
    let version = w.latest_version.unwrap_or(0) + 1;
    let v = scope
        .insert(
            &tx,
            workflow_version::ActiveModel {
                id: Set(Uuid::now_v7()),
                tenant_id: Set(scope.tenant_id()),
                workflow_id: Set(id),
                version: Set(version),
                graph: Set(w.graph.clone()),
                settings: Set(w.settings.clone()),
                note: Set(note.trim().to_string()),
                created_by: Set(tctx.acting_user()),
                created_at: Set(ctx.now()),
            },
        )
        .await?;
    let mut m: workflow::ActiveModel = w.into();
    m.latest_version = Set(Some(version));
    m.updated_at = Set(ctx.now());
    let w = scope.update(&tx, m).await?;
    reschedule(&tx, scope, &w).await?;
    tx.commit_with(Change {
        action: "workflow.version_published",
        target_type: "workflow",
        target_id: Some(id),
        before: None,
        after: Some(json!({ "version": version, "note": v.note })),
    })
    .await?;
    Ok(v)
}

pub async fn get_version(
    db: &impl ConnectionTrait,
    scope: TenantScope,
    workflow_id: Uuid,
    version: i32,
) -> AppResult<workflow_version::Model> {
    scope
        .find::<workflow_version::Entity>()
        .filter(workflow_version::Column::WorkflowId.eq(workflow_id))
        .filter(workflow_version::Column::Version.eq(version))
        .one(db)
        .await?
        .ok_or(AppError::NotFound("workflow version"))
}
