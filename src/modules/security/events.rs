//! The account's security log: sign-ins, failures, lockouts, MFA and session changes.
//!
//! Each event is a row of `security_events` (shown to the user as `viewer.securityEvents`)
//! and a structured log line on the `zygo::audit` target, written in the transaction of the
//! change it records where there is one.

use chrono::Utc;
use entity::security_event;
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use uuid::Uuid;

use crate::{auth::RequestCtx, error::AppResult};

pub use entity::security_event::SecurityEventKind;

/// Records an event for `user_id`; `rctx` supplies IP and user agent.
pub async fn record(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    kind: SecurityEventKind,
    rctx: Option<&RequestCtx>,
    session_id: Option<Uuid>,
    details: Option<serde_json::Value>,
) -> AppResult<()> {
    let ip = rctx.and_then(|r| r.ip.clone());
    let user_agent = rctx.and_then(|r| r.user_agent.clone());
    tracing::info!(
        target: "zygo::audit",
        user_id = %user_id,
        event = sea_orm::ActiveEnum::to_value(&kind),
        ip = ip.as_deref().unwrap_or(""),
        session_id = session_id.map(|s| s.to_string()).unwrap_or_default(),
        "security event"
    );
    security_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        kind: Set(kind),
        ip: Set(ip),
        user_agent: Set(user_agent),
        session_id: Set(session_id),
        details: Set(details),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    Ok(())
}
