//! Recording and reading audit entries.

use chrono::{DateTime, Utc};
use entity::audit_entry;
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter, Set};
use serde_json::Value;
use uuid::Uuid;

use crate::{
    auth::{Permission, RequestCtx, TenantCtx},
    db::{TenantScope, page::Window},
    error::AppResult,
    graphql::relay::PageArgs,
    pubsub::Topic,
    startup::AppState,
};

/// Who acted, and from where: taken from the request.
#[derive(Clone, Debug)]
pub struct Actor {
    pub kind: &'static str,
    pub id: Option<Uuid>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
}

impl Actor {
    /// The signed-in user of `rctx` (or `system` when there is none).
    pub fn from_request(rctx: &RequestCtx) -> Self {
        let (kind, id) = match (&rctx.viewer, &rctx.api_key) {
            (Some(v), _) => ("user", Some(v.user_id)),
            (None, Some(k)) => ("api_key", Some(k.id)),
            (None, None) => ("system", None),
        };
        Self {
            kind,
            id,
            ip: rctx.ip.clone(),
            user_agent: rctx.user_agent.clone(),
            request_id: Some(rctx.request_id.clone()).filter(|s| !s.is_empty()),
        }
    }
}

/// One change to record.
pub struct Change<'a> {
    /// `area.verb`, e.g. `member.role_changed`.
    pub action: &'a str,
    pub target_type: &'a str,
    pub target_id: Option<Uuid>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// Keys whose values never enter the log.
const SECRET_KEYS: &[&str] = &["password", "secret", "token", "key_hash", "token_hash", "password_hash"];

fn redact(value: Option<Value>) -> Option<Value> {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    let lower = k.to_lowercase();
                    if SECRET_KEYS.iter().any(|s| lower.contains(s)) {
                        *v = Value::String("[redacted]".into());
                    } else {
                        walk(v);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    value.map(|mut v| {
        walk(&mut v);
        v
    })
}

/// Writes an entry in `db` (the caller's transaction).
pub async fn record(
    db: &impl ConnectionTrait,
    scope: TenantScope,
    actor: &Actor,
    change: Change<'_>,
) -> AppResult<audit_entry::Model> {
    Ok(scope
        .insert(
            db,
            audit_entry::ActiveModel {
                id: Set(Uuid::now_v7()),
                tenant_id: Set(scope.tenant_id()),
                actor_type: Set(actor.kind.into()),
                actor_id: Set(actor.id),
                action: Set(change.action.into()),
                target_type: Set(change.target_type.into()),
                target_id: Set(change.target_id.map(|id| id.to_string())),
                before: Set(redact(change.before)),
                after: Set(redact(change.after)),
                ip: Set(actor.ip.clone()),
                user_agent: Set(actor.user_agent.clone()),
                request_id: Set(actor.request_id.clone()),
                created_at: Set(Utc::now()),
            },
        )
        .await?)
}

/// `t:{tenant}:audit`.
pub fn topic(tenant_id: Uuid) -> Topic {
    Topic::tenant(tenant_id, "audit")
}

/// Tells live viewers about entries; call after the commit.
pub async fn publish(app: &AppState, entries: &[audit_entry::Model]) {
    for e in entries {
        app.publish(&topic(e.tenant_id), &e.id).await;
    }
}

/// Filters of `Tenant.auditLog`.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub actor_id: Option<Uuid>,
    pub action: Option<String>,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// A page of the tenant's audit log, newest last (`audit.read`).
pub async fn list(
    app: &AppState,
    tctx: &TenantCtx,
    filter: Filter,
    args: &PageArgs,
) -> AppResult<crate::db::page::Rows<audit_entry::Model>> {
    tctx.require(Permission::AuditRead)?;
    let window: Window = args.window(app.config.max_page_size)?;
    let mut select = tctx.scope().find::<audit_entry::Entity>();
    if let Some(a) = filter.actor_id {
        select = select.filter(audit_entry::Column::ActorId.eq(a));
    }
    if let Some(a) = filter.action {
        select = select.filter(audit_entry::Column::Action.eq(a));
    }
    if let Some(t) = filter.target_type {
        select = select.filter(audit_entry::Column::TargetType.eq(t));
    }
    if let Some(t) = filter.target_id {
        select = select.filter(audit_entry::Column::TargetId.eq(t));
    }
    if let Some(from) = filter.from {
        select = select.filter(audit_entry::Column::CreatedAt.gte(from));
    }
    if let Some(to) = filter.to {
        select = select.filter(audit_entry::Column::CreatedAt.lt(to));
    }
    Ok(crate::db::page::page(&tctx.on(&app.db), select, audit_entry::Column::Id, window).await?)
}

/// One entry of the tenant's log (`audit.read`).
pub async fn get(app: &AppState, tctx: &TenantCtx, id: Uuid) -> AppResult<Option<audit_entry::Model>> {
    tctx.require(Permission::AuditRead)?;
    Ok(tctx.scope().find_by_id::<audit_entry::Entity, _>(&tctx.on(&app.db), id).await?)
}

/// The usual end of a tenant mutation: records `change` in `txn`, commits, and tells live
/// viewers. The entry exists exactly when the change does.
pub async fn commit(
    app: &AppState,
    txn: sea_orm::DatabaseTransaction,
    scope: TenantScope,
    rctx: &RequestCtx,
    change: Change<'_>,
) -> AppResult<()> {
    let entry = record(&txn, scope, &Actor::from_request(rctx), change).await?;
    txn.commit().await?;
    publish(app, &[entry]).await;
    Ok(())
}
