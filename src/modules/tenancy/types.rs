//! GraphQL types of the tenancy module.

use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};
use entity::{membership, role, tenant};

use super::{events::TenantEventKind, service};
use crate::{
    auth::Permission,
    error::AppError,
    graphql::{app, loaders::loaders, relay},
    modules::identity::types::User,
};

/// An organisation: the unit of tenancy. Everything it owns is visible to its members only.
#[derive(Clone)]
pub struct Tenant(pub tenant::Model);

#[Object]
impl Tenant {
    /// Global ID.
    pub async fn id(&self) -> ID {
        relay::to_global_id(relay::kind::TENANT, self.0.id)
    }
    /// The database id (a time-ordered UUID), e.g. for correlating with logs and exports.
    async fn database_id(&self) -> uuid::Uuid {
        self.0.id
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// URL-friendly unique name.
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    /// `active` or `suspended`.
    async fn status(&self) -> &str {
        &self.0.status
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// General settings, branding and notification defaults.
    async fn settings(&self) -> TenantSettings {
        TenantSettings(super::admin::settings(&self.0))
    }
    /// What the organisation's plan turns on (`{"feature": true, …}`; empty until billing
    /// sets it).
    async fn features(&self) -> async_graphql::Json<serde_json::Value> {
        async_graphql::Json(super::admin::features(&self.0))
    }
    /// The viewer's role in this organisation.
    async fn viewer_role(&self, ctx: &Context<'_>) -> Result<Role> {
        let tctx = loaders(ctx).tenant_access(self.0.id).await?;
        let role = loaders(ctx).role(self.0.id, tctx.role_id).await?.ok_or(AppError::NotFound("role"))?;
        Ok(Role(role))
    }
    /// What the viewer may do in this organisation, so a client can render by permission.
    async fn viewer_permissions(&self, ctx: &Context<'_>) -> Result<Vec<Permission>> {
        let tctx = loaders(ctx).tenant_access(self.0.id).await?;
        Ok(Permission::ALL.iter().copied().filter(|p| tctx.has(*p)).collect())
    }
    /// Members of the organisation (needs `MEMBERS_READ`; null with a FORBIDDEN error
    /// otherwise), narrowed by a `search` in names and e-mails, a `role` and a `status`.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "crate::graphql::relay::cost(first, last, child_complexity)")]
    async fn members(
        &self,
        ctx: &Context<'_>,
        search: Option<String>,
        role: Option<ID>,
        status: Option<MemberStatus>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<Option<relay::Conn<Membership>>> {
        let tctx = loaders(ctx).tenant_access(self.0.id).await?;
        let args = relay::PageArgs::new(after, before, first, last);
        let window = service::members_window(app(ctx), &tctx, &args)?;
        let search = search.map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty());
        if search.as_ref().is_some_and(|s| s.chars().count() > 100) {
            return Err(AppError::validation("search", "must be at most 100 characters").into());
        }
        let role_id = role
            .as_ref()
            .map(|r| relay::decode_id("role", r, relay::kind::ROLE))
            .transpose()
            .map_err(|_| AppError::validation("role", "not a role of this organisation"))?;
        let filter = super::loaders::MemberFilter {
            search,
            search_emails: tctx.has(Permission::MembersManage),
            role_id,
            status: status.map(|s| s.as_str().to_string()),
        };
        let rows =
            loaders(ctx).member_pages.load_one((self.0.id, window, filter)).await.map_err(loader_err)?;
        Ok(Some(relay::to_connection(rows.unwrap_or_else(empty_rows), |r| r.id, Membership)))
    }
    /// Invitations sent by the organisation, oldest first (needs `MEMBERS_MANAGE`; null with a
    /// FORBIDDEN error otherwise).
    #[graphql(complexity = "crate::graphql::relay::cost(first, last, child_complexity)")]
    async fn invitations(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<Option<relay::Conn<crate::modules::members::types::Invitation>>> {
        let tctx = loaders(ctx).tenant_access(self.0.id).await?;
        let args = relay::PageArgs::new(after, before, first, last);
        let window = crate::modules::members::service::invitations_window(app(ctx), &tctx, &args)?;
        let rows = loaders(ctx).invitation_pages.load_one((self.0.id, window)).await.map_err(loader_err)?;
        Ok(Some(relay::to_connection(
            rows.unwrap_or_else(empty_rows),
            |r| r.id,
            crate::modules::members::types::Invitation,
        )))
    }
    /// Roles × permissions in one query, for the matrix screen.
    async fn permission_matrix(
        &self,
        ctx: &Context<'_>,
    ) -> Result<crate::modules::roles::types::PermissionMatrix> {
        use crate::modules::roles::types::{PermissionMatrix, PermissionMatrixRow, to_permissions};
        let tctx = loaders(ctx).tenant_access(self.0.id).await?;
        let graph = crate::modules::roles::service::matrix(app(ctx), &tctx).await?;
        let mut roles: Vec<_> = graph.roles.values().cloned().collect();
        roles.sort_by_key(|r| (!r.is_builtin, r.id));
        let rows = roles
            .into_iter()
            .map(|r| PermissionMatrixRow {
                granted: to_permissions(graph.grants.get(&r.id).copied().unwrap_or_default()),
                effective: to_permissions(graph.effective(r.id)),
                role: Role(r),
            })
            .collect();
        Ok(PermissionMatrix { rows })
    }
    /// The organisation's teams.
    #[graphql(complexity = "crate::graphql::relay::cost(first, last, child_complexity)")]
    async fn teams(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<relay::Conn<crate::modules::teams::types::Team>> {
        let tctx = loaders(ctx).tenant_access(self.0.id).await?;
        let args = relay::PageArgs::new(after, before, first, last);
        let window = crate::modules::teams::service::teams_window(app(ctx), &tctx, &args)?;
        let rows = loaders(ctx).team_pages.load_one((self.0.id, window)).await.map_err(loader_err)?;
        Ok(relay::to_connection(
            rows.unwrap_or_else(empty_rows),
            |t| t.id,
            crate::modules::teams::types::Team,
        ))
    }
    /// The organisation's workflows, oldest first (needs `WORKFLOW_READ`). `search` matches
    /// names; archived ones only with `includeArchived`.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "crate::graphql::relay::cost(first, last, child_complexity)")]
    async fn workflows(
        &self,
        ctx: &Context<'_>,
        search: Option<String>,
        #[graphql(default)] include_archived: bool,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<relay::Conn<crate::modules::workflows::types::Workflow>> {
        use entity::workflow;
        use sea_orm::{ColumnTrait, QueryFilter, sea_query::ExprTrait};
        let tctx = loaders(ctx).tenant_access(self.0.id).await?;
        tctx.require(crate::auth::Permission::WorkflowRead)?;
        let mut select = tctx.scope().find::<workflow::Entity>();
        if !include_archived {
            select = select.filter(workflow::Column::Status.eq(crate::modules::workflows::service::ACTIVE));
        }
        if let Some(s) = search.filter(|s| !s.trim().is_empty()) {
            if s.chars().count() > 100 {
                return Err(
                    crate::error::AppError::validation("search", "must be at most 100 characters").into()
                );
            }
            let pattern = format!("%{}%", s.trim().to_lowercase().replace('%', "\\%").replace('_', "\\_"));
            select = select.filter(
                sea_orm::sea_query::Expr::expr(sea_orm::sea_query::Func::lower(
                    sea_orm::sea_query::Expr::col(workflow::Column::Name),
                ))
                .like(sea_orm::sea_query::LikeExpr::new(pattern).escape('\\')),
            );
        }
        Ok(relay::paginate(
            &tctx.on(&app(ctx).db),
            select,
            workflow::Column::Id,
            |w| w.id,
            relay::PageArgs::new(after, before, first, last),
            app(ctx).config.max_page_size,
            crate::modules::workflows::types::Workflow,
        )
        .await?)
    }
    /// The organisation's secrets: names and metadata, never values (needs `WORKFLOW_READ`
    /// or `SECRET_MANAGE`).
    #[graphql(complexity = "crate::graphql::relay::cost(first, last, child_complexity)")]
    async fn secrets(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<relay::Conn<crate::modules::secrets::types::Secret>> {
        use crate::auth::Permission;
        let tctx = loaders(ctx).tenant_access(self.0.id).await?;
        if !tctx.has(Permission::SecretManage) {
            tctx.require(Permission::WorkflowRead)?;
        }
        Ok(relay::paginate(
            &tctx.on(&app(ctx).db),
            tctx.scope().find::<entity::secret::Entity>(),
            entity::secret::Column::Id,
            |s| s.id,
            relay::PageArgs::new(after, before, first, last),
            app(ctx).config.max_page_size,
            crate::modules::secrets::types::Secret,
        )
        .await?)
    }
    /// The organisation's environment variables by name (needs `WORKFLOW_READ`).
    async fn environment_variables(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Vec<crate::modules::secrets::types::EnvironmentVariable>> {
        use sea_orm::QueryOrder;
        let tctx = loaders(ctx).tenant_access(self.0.id).await?;
        tctx.require(crate::auth::Permission::WorkflowRead)?;
        let rows = tctx
            .scope()
            .find::<entity::environment_variable::Entity>()
            .order_by_asc(entity::environment_variable::Column::Name)
            .all(&tctx.on(&app(ctx).db))
            .await
            .map_err(crate::error::AppError::from)?;
        Ok(rows.into_iter().map(crate::modules::secrets::types::EnvironmentVariable).collect())
    }
    /// The organisation's API keys (needs `API_KEYS_MANAGE`; null with a FORBIDDEN error
    /// otherwise).
    #[graphql(complexity = "crate::graphql::relay::cost(first, last, child_complexity)")]
    async fn api_keys(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<Option<relay::Conn<crate::modules::api_keys::types::ApiKey>>> {
        let tctx = loaders(ctx).tenant_access(self.0.id).await?;
        let args = relay::PageArgs::new(after, before, first, last);
        let window = crate::modules::api_keys::service::keys_window(app(ctx), &tctx, &args)?;
        let rows = loaders(ctx).api_key_pages.load_one((self.0.id, window)).await.map_err(loader_err)?;
        Ok(Some(relay::to_connection(
            rows.unwrap_or_else(empty_rows),
            |k| k.id,
            crate::modules::api_keys::types::ApiKey,
        )))
    }
    /// The organisation's audit log, oldest first (needs `AUDIT_READ`; null with a FORBIDDEN
    /// error otherwise).
    #[graphql(complexity = "crate::graphql::relay::cost(first, last, child_complexity)")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        filter: Option<crate::modules::audit::types::AuditLogFilter>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<Option<relay::Conn<crate::modules::audit::types::AuditEntry>>> {
        let tctx = loaders(ctx).tenant_access(self.0.id).await?;
        let filter = filter.unwrap_or_default().into_filter()?;
        let args = relay::PageArgs::new(after, before, first, last);
        let rows = crate::modules::audit::service::list(app(ctx), &tctx, filter, &args).await?;
        Ok(Some(relay::to_connection(rows, |e| e.id, crate::modules::audit::types::AuditEntry)))
    }
    /// Roles defined in the organisation, built-in ones first.
    #[graphql(complexity = "crate::graphql::relay::cost(first, last, child_complexity)")]
    async fn roles(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<relay::Conn<Role>> {
        let tctx = loaders(ctx).tenant_access(self.0.id).await?;
        let args = relay::PageArgs::new(after, before, first, last);
        let window = service::roles_window(app(ctx), &tctx, &args)?;
        let rows = loaders(ctx).role_pages.load_one((self.0.id, window)).await.map_err(loader_err)?;
        Ok(relay::to_connection(rows.unwrap_or_else(empty_rows), |r| r.id, Role))
    }
}

fn empty_rows<M>() -> crate::db::page::Rows<M> {
    crate::db::page::Rows { rows: Vec::new(), total: 0, has_previous: false, has_next: false }
}

pub(crate) fn loader_err(e: std::sync::Arc<sea_orm::DbErr>) -> async_graphql::Error {
    AppError::Internal(anyhow::anyhow!("{e}")).into()
}

/// Whether a member can use the organisation.
#[derive(async_graphql::Enum, Clone, Copy, PartialEq, Eq)]
pub enum MemberStatus {
    Active,
    Suspended,
}

impl MemberStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "suspended",
        }
    }
}

/// A user's membership in an organisation, with their role.
#[derive(Clone)]
pub struct Membership(pub membership::Model);

#[Object]
impl Membership {
    /// Global ID.
    pub async fn id(&self) -> ID {
        relay::to_global_id(relay::kind::MEMBERSHIP, self.0.id)
    }
    /// The database id (a time-ordered UUID), e.g. for correlating with logs and exports.
    async fn database_id(&self) -> uuid::Uuid {
        self.0.id
    }
    async fn status(&self) -> MemberStatus {
        if self.0.status == "suspended" { MemberStatus::Suspended } else { MemberStatus::Active }
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn user(&self, ctx: &Context<'_>) -> Result<User> {
        let user = loaders(ctx).users.load_one(self.0.user_id).await.map_err(loader_err)?;
        Ok(User::new(user.ok_or(AppError::NotFound("user"))?))
    }
    async fn role(&self, ctx: &Context<'_>) -> Result<Role> {
        let role = loaders(ctx).role(self.0.tenant_id, self.0.role_id).await?;
        Ok(Role(role.ok_or(AppError::NotFound("role"))?))
    }
}

/// A role: a named set of permissions inside one organisation.
#[derive(Clone)]
pub struct Role(pub role::Model);

#[Object]
impl Role {
    /// Global ID.
    pub async fn id(&self) -> ID {
        relay::to_global_id(relay::kind::ROLE, self.0.id)
    }
    /// The database id (a time-ordered UUID), e.g. for correlating with logs and exports.
    async fn database_id(&self) -> uuid::Uuid {
        self.0.id
    }
    /// Stable key: `owner`, `admin`, `member`, `viewer`, or a custom role's key.
    async fn key(&self) -> &str {
        &self.0.key
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// Built-in roles cannot be deleted.
    async fn is_builtin(&self) -> bool {
        self.0.is_builtin
    }
    /// Permissions the role holds: its own and those inherited from its parent roles.
    async fn permissions(&self, ctx: &Context<'_>) -> Result<Vec<Permission>> {
        let graph = loaders(ctx).role_graph(self.0.tenant_id).await?;
        Ok(crate::modules::roles::types::to_permissions(graph.effective(self.0.id)))
    }
    /// Permissions granted to this role directly.
    async fn granted_permissions(&self, ctx: &Context<'_>) -> Result<Vec<Permission>> {
        let graph = loaders(ctx).role_graph(self.0.tenant_id).await?;
        Ok(crate::modules::roles::types::to_permissions(
            graph.grants.get(&self.0.id).copied().unwrap_or_default(),
        ))
    }
    /// The role whose permissions this one inherits.
    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<Role>> {
        let Some(parent) = self.0.parent_id else { return Ok(None) };
        Ok(loaders(ctx).role(self.0.tenant_id, parent).await?.map(Role))
    }
}

/// Something that happened in an organisation, delivered by `tenantEvents`.
pub struct TenantEvent {
    pub payload: super::events::TenantEventPayload,
    pub tctx: crate::access::TenantCtx,
}

#[Object]
impl TenantEvent {
    async fn kind(&self) -> TenantEventKind {
        self.payload.kind
    }
    async fn tenant_id(&self) -> ID {
        relay::to_global_id(relay::kind::TENANT, self.payload.tenant_id)
    }
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.payload.occurred_at
    }
    /// Global ID of the user who caused the event, if any.
    async fn actor_id(&self) -> Option<ID> {
        self.payload.actor_id.map(|id| relay::to_global_id(relay::kind::USER, id))
    }
    /// The organisation as it is now; null in the `TENANT_DELETED` event.
    async fn tenant(&self, ctx: &Context<'_>) -> Result<Option<Tenant>> {
        if self.payload.kind == TenantEventKind::TenantDeleted {
            return Ok(None);
        }
        Ok(Some(Tenant(service::get_tenant(app(ctx), &self.tctx).await?)))
    }
    /// The membership concerned, for member events (null once it no longer exists).
    async fn membership(&self, ctx: &Context<'_>) -> Result<Option<Membership>> {
        let Some(id) = self.payload.membership_id else {
            return Ok(None);
        };
        match service::get_membership(app(ctx), &self.tctx, id).await {
            Ok(m) => Ok(Some(Membership(m))),
            Err(AppError::NotFound(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

/// An organisation's settings.
pub struct TenantSettings(pub super::admin::Settings);

/// Security rules of an organisation.
#[derive(async_graphql::SimpleObject)]
pub struct TenantSecuritySettings {
    /// Members need two-factor authentication to reach the organisation's data (others get
    /// MFA_REQUIRED until they turn it on).
    pub require_mfa: bool,
}

#[Object]
impl TenantSettings {
    async fn general(&self) -> TenantGeneralSettings {
        TenantGeneralSettings(self.0.general.clone())
    }
    async fn branding(&self) -> TenantBranding {
        TenantBranding(self.0.branding.clone())
    }
    /// Security rules for the members.
    async fn security(&self) -> TenantSecuritySettings {
        TenantSecuritySettings { require_mfa: self.0.security.require_mfa }
    }
    /// Notification defaults for new members (a JSON object).
    async fn notification_defaults(&self) -> async_graphql::Json<serde_json::Value> {
        async_graphql::Json(if self.0.notification_defaults.is_null() {
            serde_json::json!({})
        } else {
            self.0.notification_defaults.clone()
        })
    }
}

pub struct TenantGeneralSettings(pub super::admin::General);

#[Object]
impl TenantGeneralSettings {
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    async fn website(&self) -> Option<&str> {
        self.0.website.as_deref()
    }
    async fn default_locale(&self) -> Option<&str> {
        self.0.default_locale.as_deref()
    }
    async fn default_time_zone(&self) -> Option<&str> {
        self.0.default_time_zone.as_deref()
    }
}

pub struct TenantBranding(pub super::admin::Branding);

#[Object]
impl TenantBranding {
    async fn logo_url(&self) -> Option<&str> {
        self.0.logo_url.as_deref()
    }
    /// `#rrggbb`.
    async fn primary_color(&self) -> Option<&str> {
        self.0.primary_color.as_deref()
    }
    /// `#rrggbb`.
    async fn accent_color(&self) -> Option<&str> {
        self.0.accent_color.as_deref()
    }
}
