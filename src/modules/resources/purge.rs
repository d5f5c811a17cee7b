//! Purging a file from the bin for good: its rows go in one transaction, which also enqueues
//! the removal of its stored objects as a durable job (`resources.remove_objects`) — so the
//! bytes leave storage exactly when the rows are gone, even if the instance dies right after,
//! and a retry of the job removes nothing twice (removing a missing object is not an error).
//! The plan's storage use drops with the rows.

use entity::{resource, resource_version};
use sea_orm::{ColumnTrait, QueryFilter, QuerySelect};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{access::visible_resource, service::summary};
use crate::{
    access::{Change, TenantCtx, TenantTx},
    auth::Permission,
    ctx::Ctx,
    error::{AppError, AppResult},
    jobs::{Handler, JobError, JobResult, NewJob},
};

/// The job kind that removes stored objects.
pub const REMOVE_OBJECTS: &str = "resources.remove_objects";

#[derive(Serialize, Deserialize)]
struct RemoveObjects {
    keys: Vec<String>,
}

/// Deletes a resource that is in the bin, with its versions, share links and download log;
/// its stored objects are removed by a job queued in the same transaction.
pub async fn purge(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> AppResult<resource::Model> {
    let mut tx = TenantTx::begin(ctx, tctx, Permission::ResourcesDelete).await?;
    let r = visible_resource(&tx, tctx, id, true).await?;
    if r.deleted_at.is_none() {
        return Err(AppError::rejected(
            "NOT_DELETED",
            "id",
            "only a file in the bin can be purged; delete it first",
        ));
    }
    let scope = tx.scope();
    let keys: Vec<String> = scope
        .find::<resource_version::Entity>()
        .select_only()
        .column(resource_version::Column::StorageKey)
        .filter(resource_version::Column::ResourceId.eq(id))
        .into_tuple()
        .all(&tx)
        .await?;
    // Versions, share links and downloads go with it (ON DELETE CASCADE).
    scope.delete_many::<resource::Entity>().filter(resource::Column::Id.eq(id)).exec(&tx).await?;
    tx.enqueue(remove_objects(keys, format!("purge:{id}"))).await?;
    tx.commit_with(Change {
        action: "resource.purged",
        target_type: "Resource",
        target_id: Some(id),
        before: Some(summary(&r, None)),
        after: None,
    })
    .await?;
    Ok(r)
}

/// The durable job that removes the stored objects `keys` (named `key`, so asking twice
/// removes once): enqueue it in the transaction that deletes the rows naming them — other
/// areas' stored files too (collection exports going with their folder).
pub fn remove_objects(keys: Vec<String>, key: String) -> NewJob {
    NewJob::new(REMOVE_OBJECTS, &RemoveObjects { keys }).key(key)
}

/// Removes stored objects of purged files.
pub struct RemoveObjectsHandler;

#[async_trait::async_trait]
impl Handler for RemoveObjectsHandler {
    fn kind(&self) -> &'static str {
        REMOVE_OBJECTS
    }

    async fn run(&self, ctx: &Ctx, job: &entity::job::Model) -> JobResult {
        let p: RemoveObjects = serde_json::from_value(job.payload.clone())
            .map_err(|e| JobError::Fail(format!("unreadable payload: {e}")))?;
        for key in &p.keys {
            ctx.storage.delete(key).await.map_err(|e| JobError::Retry(format!("storage: {e}")))?;
        }
        Ok(())
    }
}

/// Resources' job handler.
pub fn register(registry: crate::jobs::Registry) -> crate::jobs::Registry {
    registry.handler(RemoveObjectsHandler)
}
