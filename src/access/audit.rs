//! The audit trail's writing side, below the modules: who acted ([`Actor`]), what changed
//! ([`Change`]), the entry written in the caller's transaction ([`record`]) and the topic
//! live viewers follow. Reading the log is the audit module's.

use chrono::Utc;
use entity::audit_entry;
use sea_orm::{ConnectionTrait, Set};
use serde_json::Value;
use uuid::Uuid;

use crate::{auth::RequestCtx, db::TenantScope, error::AppResult, pubsub::Topic};

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

/// Writes an entry in `db` (the caller's transaction), dated `at` (the instance's clock).
pub async fn record(
    db: &impl ConnectionTrait,
    scope: TenantScope,
    actor: &Actor,
    change: Change<'_>,
    at: chrono::DateTime<Utc>,
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
                created_at: Set(at),
            },
        )
        .await?)
}

/// Announces committed entries: live viewers of each tenant's log hear of them, and an entry
/// of a change of access ([`super::cache::changes_access`]) makes every instance forget the
/// tenant's cached access. Call after the commit ([`super::TenantTx::commit`] does).
pub async fn announce(ctx: &crate::ctx::Ctx, entries: &[audit_entry::Model]) {
    let mut changed: Vec<Uuid> =
        entries.iter().filter(|e| super::cache::changes_access(&e.action)).map(|e| e.tenant_id).collect();
    changed.dedup();
    for tenant in changed {
        ctx.access_changed(super::AccessChanged::Tenant(tenant)).await;
    }
    for e in entries {
        // The whole entry, so live viewers need no read of their own.
        ctx.publish(&topic(e.tenant_id), e).await;
    }
}

/// `t:{tenant}:audit`.
pub fn topic(tenant_id: Uuid) -> Topic {
    Topic::tenant(tenant_id, "audit")
}

impl Actor {
    /// `user_id`, outside a request (their access read by a worker or a subscription).
    pub fn user(user_id: Uuid) -> Self {
        Self { kind: "user", id: Some(user_id), ip: None, user_agent: None, request_id: None }
    }

    /// Work the instance does on its own (workers, schedules).
    pub fn system() -> Self {
        Self { kind: "system", id: None, ip: None, user_agent: None, request_id: None }
    }
}
