//! The GraphQL schema: merged per-module roots, scalars, Relay helpers, loaders and the
//! extensions that shape errors and count operations.
//!
//! The schema holds only process-wide data ([`AppState`]); per-request data — the
//! [`RequestCtx`] and a fresh [`loaders::Loaders`] — is attached to each request by the
//! HTTP and WebSocket handlers.

pub mod admission;
pub mod answer;
pub mod batch;
pub mod connection;
pub mod enums;
pub mod inline;
pub mod limits;
pub mod live;
pub mod loader_set;
pub mod loaders;
pub mod node;
pub mod nulls;
pub mod relay;
pub mod scalars;
pub mod shape;
pub mod tenant;
pub mod viewer;

use async_graphql::{Context, MergedObject, MergedSubscription, Schema, SchemaBuilder};

use crate::{
    auth::RequestCtx,
    modules::{
        admin::{AdminMutation, AdminQuery},
        api_keys::ApiKeysMutation,
        audit::AuditSubscription,
        billing::{BillingMutation, BillingQuery, BillingSubscription},
        collection::{CollectionMutation, CollectionQuery, CollectionSubscription},
        domains::DomainsMutation,
        flags::{FlagsMutation, FlagsQuery},
        identity::{IdentityMutation, IdentityQuery},
        infrastructure::{InfrastructureMutation, InfrastructureSubscription},
        members::{MembersMutation, MembersQuery},
        notifications::{NotificationsMutation, NotificationsSubscription},
        privacy::{ConsentsMutation, ConsentsQuery, PrivacyMutation},
        resources::{ResourcesMutation, ResourcesQuery},
        roles::{RolesMutation, RolesQuery},
        secrets::SecretsMutation,
        security::{
            platform::PlatformSecurityQuery,
            schema::{SecurityMutation, SecurityQuery},
        },
        studio::{PresenceMutation, PresenceSubscription, StudioMutation, StudioQuery, StudioSubscription},
        support::SupportMutation,
        teams::TeamsMutation,
        tenancy::{TenancyMutation, TenancyQuery, TenancySubscription},
        webhooks::{WebhooksMutation, WebhooksQuery},
        workflows::{WorkflowsMutation, WorkflowsQuery, WorkflowsSubscription},
    },
    startup::AppState,
};

/// The root query: every module's queries plus `node`/`nodes`.
#[derive(MergedObject, Default)]
pub struct Query(
    node::NodeQuery,
    IdentityQuery,
    TenancyQuery,
    MembersQuery,
    RolesQuery,
    SecurityQuery,
    WorkflowsQuery,
    BillingQuery,
    WebhooksQuery,
    StudioQuery,
    ResourcesQuery,
    PlatformSecurityQuery,
    ConsentsQuery,
    CollectionQuery,
    AdminQuery,
    FlagsQuery,
);

/// The root mutation.
#[derive(MergedObject, Default)]
pub struct Mutation(
    IdentityMutation,
    TenancyMutation,
    MembersMutation,
    RolesMutation,
    ApiKeysMutation,
    TeamsMutation,
    SecurityMutation,
    SecretsMutation,
    WorkflowsMutation,
    BillingMutation,
    WebhooksMutation,
    StudioMutation,
    NotificationsMutation,
    PrivacyMutation,
    ConsentsMutation,
    PresenceMutation,
    ResourcesMutation,
    CollectionMutation,
    DomainsMutation,
    AdminMutation,
    InfrastructureMutation,
    FlagsMutation,
    SupportMutation,
);

/// The root subscription.
#[derive(MergedSubscription, Default)]
pub struct Subscription(
    TenancySubscription,
    AuditSubscription,
    WorkflowsSubscription,
    BillingSubscription,
    StudioSubscription,
    NotificationsSubscription,
    PresenceSubscription,
    CollectionSubscription,
    InfrastructureSubscription,
);

pub type AppSchema = Schema<Query, Mutation, Subscription>;

/// The schema without data: enough to print the SDL.
pub fn schema_builder() -> SchemaBuilder<Query, Mutation, Subscription> {
    Schema::build(Query::default(), Mutation::default(), Subscription::default())
        // The `JSON` scalar is part of the foundation's scalar set (free-form settings,
        // preferences and node configuration use it); registered so clients can rely on it.
        .register_output_type::<async_graphql::Json<serde_json::Value>>()
}

/// The SDL of the schema, as committed in `schema/schema.graphql`.
pub fn sdl() -> String {
    schema_builder().finish().sdl()
}

/// The serving schema.
pub fn build_schema(app: AppState) -> AppSchema {
    let limits = app.config.limits;
    let mut builder = schema_builder();
    if !app.config.introspection {
        // Off in production by default: no schema dump and no "did you mean …" hints.
        builder = builder.disable_introspection().disable_suggestions();
    }
    builder
        // Depth, cost and alias limits are admission's (`limits`), before the schema runs; the
        // schema has no extension, since async-graphql wraps every field in each one it has
        // (see `shape`).
        .limit_directives(limits.directives_per_field)
        .data(app)
        .finish()
}

/// Process-wide state from a resolver.
pub fn app<'a>(ctx: &Context<'a>) -> &'a AppState {
    ctx.data_unchecked::<AppState>()
}

/// The request context from a resolver (a default, anonymous one if none was attached).
pub fn rctx<'a>(ctx: &Context<'a>) -> &'a RequestCtx {
    static ANONYMOUS: std::sync::OnceLock<RequestCtx> = std::sync::OnceLock::new();
    ctx.data_opt::<RequestCtx>().unwrap_or_else(|| ANONYMOUS.get_or_init(RequestCtx::default))
}

/// Decodes `id` (a global ID of `type_name`, from argument `field`), finds the tenant that
/// owns that row of `E` and runs the viewer's access check there. A row that does not exist,
/// or that the viewer cannot reach, is NOT_FOUND (`what`) alike.
pub async fn owned_row<E: entity::TenantOwned>(
    ctx: &Context<'_>,
    field: &str,
    id: &async_graphql::ID,
    type_name: &'static str,
    what: &'static str,
    id_col: E::Column,
) -> async_graphql::Result<(uuid::Uuid, std::sync::Arc<crate::access::TenantCtx>)> {
    rctx(ctx).require_principal()?;
    let uuid = relay::decode_id(field, id, type_name)?;
    Ok((uuid, row_access::<E>(ctx, id_col, uuid, what).await?))
}

/// Row `id` of `E` with the viewer's access to the tenant owning it, for lookups by ID: the
/// row is read once, across the wall (it names its tenant), and returned only when the
/// viewer's access check for that tenant passes — NOT_FOUND (`what`) otherwise, alike for a
/// row that does not exist. One statement where [`row_access`] and a walled re-read cost two;
/// the caller still applies the permission the row needs.
pub async fn row_with_access<E>(
    ctx: &Context<'_>,
    id_col: E::Column,
    id: uuid::Uuid,
    what: &'static str,
) -> crate::error::AppResult<(E::Model, std::sync::Arc<crate::access::TenantCtx>)>
where
    E: entity::TenantOwned,
    E::Model: sea_orm::ModelTrait<Entity = E>,
{
    use crate::error::AppError;
    let loaders = loaders::loaders(ctx);
    let (tenant, row) = crate::db::owned_by_id::<E>(&loaders.reads.across(&app(ctx).db), id_col, id)
        .await?
        .ok_or(AppError::NotFound(what))?;
    let tctx = loaders.tenant_access(tenant).await.map_err(hidden(what))?;
    Ok((row, tctx))
}

/// The viewer's access to the tenant owning row `id` of `E`: NOT_FOUND (`what`) when there
/// is no such row or the viewer is not in its tenant (the two look alike).
pub async fn row_access<E: entity::TenantOwned>(
    ctx: &Context<'_>,
    id_col: E::Column,
    id: uuid::Uuid,
    what: &'static str,
) -> crate::error::AppResult<std::sync::Arc<crate::access::TenantCtx>> {
    use crate::error::AppError;
    let loaders = loaders::loaders(ctx);
    let tenant = crate::db::owning_tenant::<E>(&loaders.reads.across(&app(ctx).db), id_col, id)
        .await?
        .ok_or(AppError::NotFound(what))?;
    loaders.tenant_access(tenant).await.map_err(hidden(what))
}

/// A refused access to a row's tenant looks like a missing row (NOT_FOUND `what`); a failure
/// (the database unreachable or busy, a rate limit) stays what it is, so a client retries it
/// instead of believing the row gone.
fn hidden(what: &'static str) -> impl FnOnce(crate::error::AppError) -> crate::error::AppError {
    use crate::error::AppError;
    move |e| match e {
        AppError::Internal(_) | AppError::RateLimited { .. } => e,
        _ => AppError::NotFound(what),
    }
}
