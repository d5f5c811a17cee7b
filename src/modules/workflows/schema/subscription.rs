//! Live execution updates and logs.

#[allow(unused_imports)]
use super::*;

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
