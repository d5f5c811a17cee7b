//! Durable provider actions: [`request`] records an `infrastructure_actions` row (PENDING) and
//! its `infrastructure.action` job in the transaction of the change that asks for it; the
//! [`Execute`] handler runs it (RUNNING with progress, then SUCCEEDED or FAILED with the
//! provider's error) through the provider's driver — see `apply.rs` for what each kind does.
//! A transient failure (unreachable, 5xx, rate limit) is tried again by the job machinery;
//! every create first looks its resource up by the `zygo-id` label, so a retry after a lost
//! answer adopts what the first attempt made instead of making a second one. Every state
//! change is published on the organisation's infrastructure topic.

use entity::{infrastructure_action as action, infrastructure_action::ActionStatus, job};
use sea_orm::{ColumnTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::{
    InfraEvent, apply,
    drivers::{ActionState, CloudDriver, DriverError, DriverResult},
    topic,
};
use crate::{
    access::{TenantCtx, TenantTx},
    auth::Permission,
    ctx::Ctx,
    db::page::{Rows, Window},
    error::{AppError, AppResult},
    jobs::{Handler, JobError, JobResult, NewJob},
};

pub const KIND: &str = "infrastructure.action";

/// Attempts of an action's job before it is FAILED.
const ATTEMPTS: i32 = 8;

#[derive(Serialize, Deserialize)]
struct Payload {
    action: Uuid,
}

/// Records action `kind` on `target` of provider `provider` and queues its job, in `tx`.
pub(super) async fn request(
    tx: &mut TenantTx<'_>,
    provider: Uuid,
    kind: &str,
    target_type: &str,
    target: Uuid,
    params: Value,
    key: Option<String>,
) -> AppResult<action::Model> {
    let scope = tx.scope();
    let now = tx.ctx().now();
    let id = Uuid::now_v7();
    let row = scope
        .insert(
            &*tx,
            action::ActiveModel {
                id: Set(id),
                tenant_id: Set(scope.tenant_id()),
                provider_id: Set(provider),
                kind: Set(kind.into()),
                target_type: Set(target_type.into()),
                target_id: Set(target),
                status: Set(ActionStatus::Pending),
                progress: Set(0),
                params: Set(params),
                error_code: Set(None),
                error: Set(None),
                idempotency_key: Set(key.unwrap_or_else(|| format!("{kind}:{id}"))),
                requested_by: Set(tx.tctx().acting_user()),
                sealed_secret: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
                finished_at: Set(None),
            },
        )
        .await
        .map_err(|e| AppError::from_db_unique(e, "input.idempotencyKey", "this idempotency key was used"))?;
    tx.enqueue(NewJob::new(KIND, &Payload { action: id }).key(format!("action:{id}")).attempts(ATTEMPTS))
        .await?;
    tx.emit(
        topic(scope.tenant_id()),
        &InfraEvent {
            action: Some(id),
            resource_type: target_type.into(),
            resource_id: target,
            deleted: false,
            status: None,
        },
    );
    Ok(row)
}

/// The action asked with idempotency key `key`, if any.
pub(super) async fn by_key(tx: &TenantTx<'_>, key: &str) -> AppResult<Option<action::Model>> {
    Ok(tx.scope().find::<action::Entity>().filter(action::Column::IdempotencyKey.eq(key)).one(tx).await?)
}

/// One action (`infrastructure.read`).
pub async fn get(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> AppResult<action::Model> {
    tctx.require(Permission::InfrastructureRead)?;
    tctx.scope()
        .find_by_id::<action::Entity, _>(&tctx.on(&ctx.db), id)
        .await?
        .ok_or(AppError::NotFound("infrastructure action"))
}

/// The organisation's actions, oldest first (optionally those of one resource).
pub async fn list(
    ctx: &Ctx,
    tctx: &TenantCtx,
    target: Option<Uuid>,
    w: Window,
) -> AppResult<Rows<action::Model>> {
    tctx.require(Permission::InfrastructureRead)?;
    let db = tctx.on(&ctx.db);
    let mut q = tctx.scope().find::<action::Entity>();
    if let Some(t) = target {
        q = q.filter(action::Column::TargetId.eq(t));
    }
    Ok(crate::db::page::page(&db, q, action::Column::Id, w).await?)
}

/// Changes action `id` with `change` and announces it.
pub(super) async fn update(
    ctx: &Ctx,
    tctx: &TenantCtx,
    id: Uuid,
    change: impl FnOnce(&mut action::ActiveModel),
) -> AppResult<()> {
    let mut tx = TenantTx::open(ctx, tctx).await?;
    let scope = tx.scope();
    let Some(row) = scope.find_by_id::<action::Entity, _>(&tx, id).await? else { return Ok(()) };
    let mut am: action::ActiveModel = row.clone().into();
    am.updated_at = Set(ctx.now());
    change(&mut am);
    scope.update(&tx, am).await?;
    tx.emit(
        topic(scope.tenant_id()),
        &InfraEvent {
            action: Some(id),
            resource_type: row.target_type,
            resource_id: row.target_id,
            deleted: false,
            status: None,
        },
    );
    tx.commit().await
}

/// Waits for the provider's action `pending` of our action `id`, recording its progress.
pub(super) async fn wait(
    ctx: &Ctx,
    tctx: &TenantCtx,
    id: Uuid,
    driver: &dyn CloudDriver,
    pending: Option<String>,
) -> DriverResult<()> {
    let Some(remote) = pending else { return Ok(()) };
    let deadline = std::time::Instant::now()
        + std::time::Duration::from_secs(ctx.config.infrastructure.action_timeout_seconds);
    let mut last = -1;
    loop {
        match driver.action(&remote).await? {
            ActionState::Succeeded => return Ok(()),
            ActionState::Failed { code, message } => return Err(DriverError::Provider { code, message }),
            ActionState::Running { progress } => {
                if progress != last {
                    last = progress;
                    update(ctx, tctx, id, |am| am.progress = Set(progress.clamp(0, 99))).await?;
                }
            }
        }
        if std::time::Instant::now() > deadline {
            return Err(DriverError::transient(format!("the provider's action {remote} is still running")));
        }
        // Polling the provider's action (its own API has no notification): the interval is
        // configuration, zero for the local cloud, which moves on with each look.
        let pause = driver.poll_interval();
        if !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
    }
}

/// `infrastructure.action`: carries out one action.
pub struct Execute;

#[async_trait::async_trait]
impl Handler for Execute {
    fn kind(&self) -> &'static str {
        KIND
    }

    async fn run(&self, ctx: &Ctx, job: &job::Model) -> JobResult {
        let tenant = job
            .tenant_id
            .ok_or_else(|| JobError::Fail("an infrastructure action without a tenant".into()))?;
        let p: Payload = serde_json::from_value(job.payload.clone())
            .map_err(|e| JobError::Fail(format!("unreadable payload: {e}")))?;
        let tctx = TenantCtx::system(tenant);
        let row = {
            let db = tctx.on(&ctx.db);
            let found = tctx.scope().find_by_id::<action::Entity, _>(&db, p.action).await?;
            tctx.reads.release().await;
            found
        };
        let Some(row) = row else { return Ok(()) };
        if row.status.is_final() {
            return Ok(());
        }
        update(ctx, &tctx, row.id, |am| am.status = Set(ActionStatus::Running)).await?;
        match apply::run(ctx, &tctx, &row).await {
            Ok(()) => {
                update(ctx, &tctx, row.id, |am| {
                    am.status = Set(ActionStatus::Succeeded);
                    am.progress = Set(100);
                    am.error = Set(None);
                    am.error_code = Set(None);
                    am.finished_at = Set(Some(ctx.now()));
                })
                .await?;
                Ok(())
            }
            Err(DriverError::Transient { message, retry_after }) if job.attempts < job.max_attempts => {
                tracing::info!(action = %row.id, error = %message, "infrastructure action will be tried again");
                update(ctx, &tctx, row.id, |am| am.error = Set(Some(message.clone()))).await?;
                let secs = retry_after.unwrap_or(1).clamp(1, 300) as i64;
                Err(JobError::RetryAfter(chrono::Duration::seconds(secs), message))
            }
            Err(e) => {
                let (code, message) = match e {
                    DriverError::Provider { code, message } => (code, message),
                    DriverError::Transient { message, .. } => ("unavailable".to_string(), message),
                };
                tracing::warn!(action = %row.id, code = %code, error = %message, "infrastructure action failed");
                apply::failed(ctx, &tctx, &row).await.map_err(|e| JobError::Retry(e.to_string()))?;
                update(ctx, &tctx, row.id, |am| {
                    am.status = Set(ActionStatus::Failed);
                    am.error_code = Set(Some(code));
                    am.error = Set(Some(message));
                    am.finished_at = Set(Some(ctx.now()));
                })
                .await?;
                Ok(())
            }
        }
    }
}
