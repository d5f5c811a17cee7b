//! GraphQL types of the audit log.

use async_graphql::{Context, ID, InputObject, Json, Object, Result};
use chrono::{DateTime, Utc};
use entity::audit_entry;

use crate::{
    error::AppError,
    graphql::{
        app,
        loaders::{loader_err, loaders},
        relay,
    },
    modules::identity::types::User,
};

/// One recorded change of tenant state.
pub struct AuditEntry(pub audit_entry::Model);

#[Object]
impl AuditEntry {
    /// Global ID.
    pub async fn id(&self) -> ID {
        relay::to_global_id(relay::kind::AUDIT_ENTRY, self.0.id)
    }
    /// `area.verb`, e.g. `member.role_changed`.
    async fn action(&self) -> &str {
        &self.0.action
    }
    /// `user`, `api_key` or `system`.
    async fn actor_type(&self) -> &str {
        &self.0.actor_type
    }
    /// Global ID of the actor: a `User`, or an `ApiKey` when a key acted.
    async fn actor_id(&self) -> Option<ID> {
        let ty = match self.0.actor_type.as_str() {
            "user" => relay::kind::USER,
            "api_key" => relay::kind::API_KEY,
            _ => return None,
        };
        self.0.actor_id.map(|id| relay::to_global_id(ty, id))
    }
    /// The acting user (null for other actors or a user since deleted).
    async fn actor(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        if self.0.actor_type != "user" {
            return Ok(None);
        }
        let Some(id) = self.0.actor_id else { return Ok(None) };
        Ok(loaders(ctx).users.load_one(id).await.map_err(loader_err)?.map(User::new))
    }
    /// Kind of the changed object, e.g. `Membership`.
    async fn target_type(&self) -> &str {
        &self.0.target_type
    }
    /// Global ID of the changed object.
    async fn target_id(&self) -> Option<ID> {
        let id = self.0.target_id.as_deref()?.parse().ok()?;
        Some(relay::to_global_id(&self.0.target_type, id))
    }
    /// Summary before the change (secrets redacted).
    async fn before(&self) -> Option<Json<serde_json::Value>> {
        self.0.before.clone().map(Json)
    }
    /// Summary after the change (secrets redacted).
    async fn after(&self) -> Option<Json<serde_json::Value>> {
        self.0.after.clone().map(Json)
    }
    async fn ip(&self) -> Option<&str> {
        self.0.ip.as_deref()
    }
    async fn user_agent(&self) -> Option<&str> {
        self.0.user_agent.as_deref()
    }
    /// The request that made the change, as in the server log and `x-request-id`.
    async fn request_id(&self) -> Option<&str> {
        self.0.request_id.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// Narrows `Tenant.auditLog`.
#[derive(InputObject, Default)]
pub struct AuditLogFilter {
    /// Global ID of the acting user.
    pub actor_id: Option<ID>,
    /// Exact action, e.g. `member.removed`.
    pub action: Option<String>,
    /// Kind of the changed object, e.g. `Membership`.
    pub target_type: Option<String>,
    /// Global ID of the changed object.
    pub target_id: Option<ID>,
    /// Entries at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Entries before this time.
    pub to: Option<DateTime<Utc>>,
}

impl AuditLogFilter {
    pub fn into_filter(self) -> Result<super::service::Filter, AppError> {
        let actor_id = self
            .actor_id
            .as_ref()
            .map(|id| relay::decode_id("filter.actorId", id, relay::kind::USER))
            .transpose()?;
        let target_id = match &self.target_id {
            None => None,
            Some(id) => Some(
                relay::from_global_id(id)
                    .ok_or_else(|| AppError::validation("filter.targetId", "not a valid ID"))?
                    .1
                    .to_string(),
            ),
        };
        Ok(super::service::Filter {
            actor_id,
            action: self.action,
            target_type: self.target_type,
            target_id,
            from: self.from,
            to: self.to,
        })
    }
}

/// The audit part of `Tenant`.
#[derive(Clone)]
pub struct TenantAuditLog(pub crate::graphql::tenant::TenantRow);

#[Object]
impl TenantAuditLog {
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
}
