//! The Relay `Node` interface and `node(id:)` / `nodes(ids:)`.

use async_graphql::{Context, ID, Interface, Object, Result};

use super::{app, loaders::loaders, rctx, relay, relay::kind, row_access, row_with_access, tenant::Tenant};
use crate::{
    auth::Permission,
    error::{AppError, AppResult},
    modules::{
        identity::types::User,
        members::types::Membership,
        roles::types::Role,
        tenancy::service as tenancy,
        workflows::{definition::workflows, runtime::executions},
    },
};

/// An object with a global ID.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "Global ID"))]
pub enum Node {
    User(User),
    Tenant(Tenant),
    Membership(Membership),
    Role(Role),
    Invitation(crate::modules::members::types::Invitation),
    AuditEntry(crate::modules::audit::types::AuditEntry),
    Workflow(crate::modules::workflows::types::Workflow),
    WorkflowVersion(crate::modules::workflows::types::WorkflowVersion),
    Execution(crate::modules::workflows::types::Execution),
    Team(crate::modules::teams::types::Team),
    ApiKey(crate::modules::api_keys::types::ApiKey),
    Secret(crate::modules::secrets::types::Secret),
    EnvironmentVariable(crate::modules::secrets::types::EnvironmentVariable),
    ExecutionLog(crate::modules::workflows::types::ExecutionLog),
    Invoice(crate::modules::billing::types::Invoice),
    Session(crate::modules::security::schema::Session),
    SecurityEvent(crate::modules::security::schema::SecurityEvent),
    ConnectedAccount(crate::modules::security::schema::ConnectedAccount),
    WebhookEndpoint(crate::modules::webhooks::types::WebhookEndpoint),
    WebhookDelivery(crate::modules::webhooks::types::WebhookDelivery),
    Document(crate::modules::studio::types::Document),
    DocumentPage(crate::modules::studio::types::DocumentPage),
    DocumentSection(crate::modules::studio::types::DocumentSection),
    DocumentVersion(crate::modules::studio::types::DocumentVersion),
    Notification(crate::modules::notifications::types::Notification),
    DataExport(crate::modules::privacy::types::DataExport),
    CloudProvider(crate::modules::infrastructure::types::CloudProvider),
    Server(crate::modules::infrastructure::types::Server),
    Volume(crate::modules::infrastructure::types::Volume),
    Snapshot(crate::modules::infrastructure::types::Snapshot),
    DnsRecord(crate::modules::infrastructure::types::DnsRecord),
    FloatingIp(crate::modules::infrastructure::floating_ips_schema::FloatingIp),
    Network(crate::modules::infrastructure::networking_schema::Network),
    Firewall(crate::modules::infrastructure::networking_schema::Firewall),
    LoadBalancer(crate::modules::infrastructure::networking_schema::LoadBalancer),
    InfrastructureAction(crate::modules::infrastructure::types::InfrastructureAction),
}

#[derive(Default)]
pub struct NodeQuery;

/// A studio object by ID: the row once, the viewer's access to its tenant, `documents.read`,
/// and its document not deleted (which [`studio::get_document`] checks).
async fn studio_node(ctx: &Context<'_>, ty: &str, uuid: uuid::Uuid) -> AppResult<Node> {
    use crate::modules::studio::{service as studio, types};
    use entity::{document, document_page, document_section, document_version};
    let app = app(ctx);
    let hidden =
        |e: AppError| if matches!(e, AppError::NotFound(_)) { AppError::NotFound("node") } else { e };
    Ok(match ty {
        kind::DOCUMENT => {
            let (_, tctx) =
                row_with_access::<document::Entity>(ctx, document::Column::Id, uuid, "node").await?;
            Node::Document(types::Document(studio::get_document(app, &tctx, uuid).await.map_err(hidden)?))
        }
        kind::DOCUMENT_PAGE => {
            let (page, tctx) =
                row_with_access::<document_page::Entity>(ctx, document_page::Column::Id, uuid, "node")
                    .await?;
            studio::get_document(app, &tctx, page.document_id).await.map_err(hidden)?;
            Node::DocumentPage(types::DocumentPage(page))
        }
        kind::DOCUMENT_SECTION => {
            let (section, tctx) =
                row_with_access::<document_section::Entity>(ctx, document_section::Column::Id, uuid, "node")
                    .await?;
            studio::get_document(app, &tctx, section.document_id).await.map_err(hidden)?;
            Node::DocumentSection(types::DocumentSection(section))
        }
        _ => {
            let tctx =
                row_access::<document_version::Entity>(ctx, document_version::Column::Id, uuid, "node")
                    .await?;
            let v = studio::versions::get_version(app, &tctx, uuid).await.map_err(hidden)?;
            Node::DocumentVersion(types::DocumentVersion(v))
        }
    })
}

/// An infrastructure object by ID: its tenant's access, then the service's read (which needs
/// `infrastructure.read`); without it, like an unknown ID.
async fn infrastructure_node(ctx: &Context<'_>, ty: &str, uuid: uuid::Uuid) -> AppResult<Node> {
    use crate::modules::infrastructure::{actions, dns, providers, servers, snapshots, types as t, volumes};
    use entity::{
        cloud_provider, cloud_server, cloud_snapshot, cloud_volume, dns_record, infrastructure_action,
    };
    let app = app(ctx);
    let hidden = |e: AppError| match e {
        AppError::NotFound(_) | AppError::Forbidden { .. } => AppError::NotFound("node"),
        e => e,
    };
    Ok(match ty {
        kind::CLOUD_PROVIDER => {
            let tctx =
                row_access::<cloud_provider::Entity>(ctx, cloud_provider::Column::Id, uuid, "node").await?;
            Node::CloudProvider(t::CloudProvider(providers::get(app, &tctx, uuid).await.map_err(hidden)?))
        }
        kind::SERVER => {
            let tctx =
                row_access::<cloud_server::Entity>(ctx, cloud_server::Column::Id, uuid, "node").await?;
            Node::Server(t::Server(servers::get(app, &tctx, uuid).await.map_err(hidden)?))
        }
        kind::VOLUME => {
            let tctx =
                row_access::<cloud_volume::Entity>(ctx, cloud_volume::Column::Id, uuid, "node").await?;
            Node::Volume(t::Volume(volumes::get(app, &tctx, uuid).await.map_err(hidden)?))
        }
        kind::SNAPSHOT => {
            let tctx =
                row_access::<cloud_snapshot::Entity>(ctx, cloud_snapshot::Column::Id, uuid, "node").await?;
            Node::Snapshot(t::Snapshot(snapshots::get(app, &tctx, uuid).await.map_err(hidden)?))
        }
        kind::FLOATING_IP => {
            use crate::modules::infrastructure::{floating_ips, floating_ips_schema::FloatingIp};
            let tctx = row_access::<entity::cloud_floating_ip::Entity>(
                ctx,
                entity::cloud_floating_ip::Column::Id,
                uuid,
                "node",
            )
            .await?;
            Node::FloatingIp(FloatingIp(floating_ips::get(app, &tctx, uuid).await.map_err(hidden)?))
        }
        kind::NETWORK | kind::FIREWALL | kind::LOAD_BALANCER => {
            use crate::modules::infrastructure::{networking, networking_schema as ns};
            use entity::cloud_network_resource::{self as net, NetworkResourceKind as K};
            let tctx = row_access::<net::Entity>(ctx, net::Column::Id, uuid, "node").await?;
            let k = match ty {
                kind::NETWORK => K::Network,
                kind::FIREWALL => K::Firewall,
                _ => K::LoadBalancer,
            };
            let row = networking::get(app, &tctx, uuid, k).await.map_err(hidden)?;
            match k {
                K::Network => Node::Network(ns::Network::of(row)),
                K::Firewall => Node::Firewall(ns::Firewall::of(row)),
                K::LoadBalancer => Node::LoadBalancer(ns::LoadBalancer::of(row)),
            }
        }
        kind::DNS_RECORD => {
            let tctx = row_access::<dns_record::Entity>(ctx, dns_record::Column::Id, uuid, "node").await?;
            Node::DnsRecord(t::DnsRecord(dns::record(app, &tctx, uuid).await.map_err(hidden)?))
        }
        _ => {
            let tctx = row_access::<infrastructure_action::Entity>(
                ctx,
                infrastructure_action::Column::Id,
                uuid,
                "node",
            )
            .await?;
            Node::InfrastructureAction(t::InfrastructureAction(
                actions::get(app, &tctx, uuid).await.map_err(hidden)?,
            ))
        }
    })
}

/// Most IDs a `nodes` call takes.
const MAX_NODES: usize = 100;

async fn resolve(ctx: &Context<'_>, id: &ID) -> AppResult<Node> {
    rctx(ctx).require_principal()?;
    let app = app(ctx);
    let (ty, uuid) = relay::from_global_id(id).ok_or_else(|| AppError::validation("id", "not a valid ID"))?;
    match ty.as_str() {
        kind::USER => {
            // Users are reachable by users only (an API key acts for a tenant, not a person).
            let Some(viewer) = rctx(ctx).viewer.as_ref() else { return Err(AppError::NotFound("node")) };
            if !tenancy::can_see_user(app, viewer, uuid).await? {
                return Err(AppError::NotFound("node"));
            }
            let user = loaders(ctx).users.load_one(uuid).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            Ok(Node::User(User::new(user.ok_or(AppError::NotFound("node"))?)))
        }
        kind::TENANT => {
            let tctx = loaders(ctx).tenant_access(uuid).await?;
            Ok(Node::Tenant(Tenant::new(tenancy::get_tenant(app, &tctx).await?)))
        }
        kind::INVITATION => {
            let tctx =
                row_access::<entity::invitation::Entity>(ctx, entity::invitation::Column::Id, uuid, "node")
                    .await?;
            let inv = crate::modules::members::service::get_invitation(app, &tctx, uuid).await?;
            Ok(Node::Invitation(crate::modules::members::types::Invitation(inv)))
        }
        kind::AUDIT_ENTRY => {
            let tctx =
                row_access::<entity::audit_entry::Entity>(ctx, entity::audit_entry::Column::Id, uuid, "node")
                    .await?;
            let entry = crate::modules::audit::service::get(app, &tctx, uuid)
                .await?
                .ok_or(AppError::NotFound("node"))?;
            Ok(Node::AuditEntry(crate::modules::audit::types::AuditEntry(entry)))
        }
        kind::WORKFLOW => {
            let tctx =
                row_access::<entity::workflow::Entity>(ctx, entity::workflow::Column::Id, uuid, "node")
                    .await?;
            let w = workflows::get_workflow(app, &tctx, uuid).await?;
            Ok(Node::Workflow(crate::modules::workflows::types::Workflow(w)))
        }
        kind::EXECUTION => {
            let tctx =
                row_access::<entity::execution::Entity>(ctx, entity::execution::Column::Id, uuid, "node")
                    .await?;
            let e = executions::get_execution(app, &tctx, uuid).await?;
            Ok(Node::Execution(crate::modules::workflows::types::Execution(e)))
        }
        kind::MEMBERSHIP => {
            let (m, tctx) = row_with_access::<entity::membership::Entity>(
                ctx,
                entity::membership::Column::Id,
                uuid,
                "node",
            )
            .await?;
            tenancy::may_read_membership(&tctx, &m)?;
            Ok(Node::Membership(Membership::new(m)))
        }
        // The rest are read as their lists are: the row once, then the permission its list
        // needs (`Tenant.teams`, `Tenant.apiKeys`, `Tenant.secrets`, `Workflow.versions`).
        kind::TEAM => {
            let (team, tctx) =
                row_with_access::<entity::team::Entity>(ctx, entity::team::Column::Id, uuid, "node").await?;
            tctx.require(Permission::TenantRead)?;
            Ok(Node::Team(crate::modules::teams::types::Team(team)))
        }
        kind::WEBHOOK_ENDPOINT => {
            let (e, tctx) = row_with_access::<entity::webhook_endpoint::Entity>(
                ctx,
                entity::webhook_endpoint::Column::Id,
                uuid,
                "node",
            )
            .await?;
            tctx.require(Permission::WebhooksManage)?;
            Ok(Node::WebhookEndpoint(crate::modules::webhooks::types::WebhookEndpoint(e)))
        }
        kind::WEBHOOK_DELIVERY => {
            let (d, tctx) = row_with_access::<entity::webhook_delivery::Entity>(
                ctx,
                entity::webhook_delivery::Column::Id,
                uuid,
                "node",
            )
            .await?;
            tctx.require(Permission::WebhooksManage)?;
            Ok(Node::WebhookDelivery(crate::modules::webhooks::types::WebhookDelivery(d)))
        }
        kind::API_KEY => {
            let (key, tctx) =
                row_with_access::<entity::api_key::Entity>(ctx, entity::api_key::Column::Id, uuid, "node")
                    .await?;
            tctx.require(Permission::ApiKeysManage)?;
            Ok(Node::ApiKey(crate::modules::api_keys::types::ApiKey(key)))
        }
        kind::SECRET => {
            let (secret, tctx) =
                row_with_access::<entity::secret::Entity>(ctx, entity::secret::Column::Id, uuid, "node")
                    .await?;
            if !tctx.has(Permission::SecretManage) {
                tctx.require(Permission::WorkflowRead)?;
            }
            Ok(Node::Secret(crate::modules::secrets::types::Secret(secret)))
        }
        kind::WORKFLOW_VERSION => {
            let (version, tctx) = row_with_access::<entity::workflow_version::Entity>(
                ctx,
                entity::workflow_version::Column::Id,
                uuid,
                "node",
            )
            .await?;
            tctx.require(Permission::WorkflowRead)?;
            Ok(Node::WorkflowVersion(crate::modules::workflows::types::WorkflowVersion(version)))
        }
        kind::ROLE => {
            let (role, tctx) =
                row_with_access::<entity::role::Entity>(ctx, entity::role::Column::Id, uuid, "node").await?;
            tctx.require(Permission::TenantRead)?;
            Ok(Node::Role(Role(role)))
        }
        kind::ENVIRONMENT_VARIABLE => {
            let (var, tctx) = row_with_access::<entity::environment_variable::Entity>(
                ctx,
                entity::environment_variable::Column::Id,
                uuid,
                "node",
            )
            .await?;
            tctx.require(Permission::WorkflowRead)?;
            Ok(Node::EnvironmentVariable(crate::modules::secrets::types::EnvironmentVariable(var)))
        }
        kind::EXECUTION_LOG => {
            let (line, tctx) = row_with_access::<entity::execution_log::Entity>(
                ctx,
                entity::execution_log::Column::Id,
                uuid,
                "node",
            )
            .await?;
            tctx.require(Permission::WorkflowRead)?;
            Ok(Node::ExecutionLog(crate::modules::workflows::types::ExecutionLog(line)))
        }
        kind::INVOICE => {
            let (invoice, tctx) =
                row_with_access::<entity::invoice::Entity>(ctx, entity::invoice::Column::Id, uuid, "node")
                    .await?;
            tctx.require(Permission::BillingRead)?;
            Ok(Node::Invoice(crate::modules::billing::types::Invoice(invoice)))
        }
        // Studio objects need `documents.read`, and a deleted document's parts are gone too.
        kind::DOCUMENT | kind::DOCUMENT_PAGE | kind::DOCUMENT_SECTION | kind::DOCUMENT_VERSION => {
            studio_node(ctx, ty.as_str(), uuid).await
        }
        // The viewer's own account records: another user's look exactly like missing ones.
        kind::SESSION | kind::SECURITY_EVENT | kind::CONNECTED_ACCOUNT => {
            let Some(viewer) = rctx(ctx).viewer.as_ref() else { return Err(AppError::NotFound("node")) };
            own_record(app, viewer, ty.as_str(), uuid).await?.ok_or(AppError::NotFound("node"))
        }
        kind::NOTIFICATION => {
            let Some(viewer) = rctx(ctx).viewer.as_ref() else { return Err(AppError::NotFound("node")) };
            crate::modules::notifications::service::get(app, viewer, uuid)
                .await?
                .map(|n| Node::Notification(crate::modules::notifications::types::Notification(n)))
                .ok_or(AppError::NotFound("node"))
        }
        kind::CLOUD_PROVIDER
        | kind::SERVER
        | kind::VOLUME
        | kind::SNAPSHOT
        | kind::DNS_RECORD
        | kind::FLOATING_IP
        | kind::NETWORK
        | kind::FIREWALL
        | kind::LOAD_BALANCER
        | kind::INFRASTRUCTURE_ACTION => infrastructure_node(ctx, ty.as_str(), uuid).await,
        kind::DATA_EXPORT => {
            let Some(viewer) = rctx(ctx).viewer.as_ref() else { return Err(AppError::NotFound("node")) };
            use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
            entity::data_export::Entity::find_by_id(uuid)
                .filter(entity::data_export::Column::UserId.eq(viewer.user_id))
                .one(&app.db)
                .await?
                .map(|e| Node::DataExport(crate::modules::privacy::types::DataExport(e)))
                .ok_or(AppError::NotFound("node"))
        }
        _ => Err(AppError::NotFound("node")),
    }
}

/// A session (open, as `viewer.sessions` lists them), security event or connected account
/// of the viewer, by id.
async fn own_record(
    app: &crate::startup::AppState,
    viewer: &crate::auth::Viewer,
    ty: &str,
    id: uuid::Uuid,
) -> AppResult<Option<Node>> {
    use entity::{oauth_identity, security_event, session};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

    use crate::modules::security::schema::{ConnectedAccount, SecurityEvent, Session};
    Ok(match ty {
        kind::SESSION => session::Entity::find_by_id(id)
            .filter(session::Column::UserId.eq(viewer.user_id))
            .filter(session::Column::RevokedAt.is_null())
            .filter(session::Column::ExpiresAt.gt(chrono::Utc::now()))
            .one(&app.db)
            .await?
            .map(|s| {
                let current = s.id == viewer.session_id;
                Node::Session(Session(s, current))
            }),
        kind::SECURITY_EVENT => security_event::Entity::find_by_id(id)
            .filter(security_event::Column::UserId.eq(viewer.user_id))
            .one(&app.db)
            .await?
            .map(|e| Node::SecurityEvent(SecurityEvent(e))),
        _ => oauth_identity::Entity::find_by_id(id)
            .filter(oauth_identity::Column::UserId.eq(viewer.user_id))
            .one(&app.db)
            .await?
            .map(|a| Node::ConnectedAccount(ConnectedAccount(a))),
    })
}

#[Object]
impl NodeQuery {
    /// Any object by global ID. Objects the viewer may not see are NOT_FOUND.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> Result<Node> {
        Ok(resolve(ctx, &id).await?)
    }

    /// Several objects by global ID (at most 100); unknown or hidden ones are null.
    async fn nodes(&self, ctx: &Context<'_>, ids: Vec<ID>) -> Result<Vec<Option<Node>>> {
        if ids.len() > MAX_NODES {
            return Err(AppError::validation("ids", format!("at most {MAX_NODES} IDs per call")).into());
        }
        rctx(ctx).require_principal()?;
        let mut out = Vec::with_capacity(ids.len());
        for id in &ids {
            out.push(match resolve(ctx, id).await {
                Ok(node) => Some(node),
                Err(AppError::NotFound(_)) | Err(AppError::Validation { .. }) => None,
                Err(e) => return Err(e.into()),
            });
        }
        Ok(out)
    }
}
