//! The platform's security log: events that belong to no user and no organisation (a
//! payment provider's webhook refused for a bad signature), kept in
//! `platform_security_events` and read by holders of a platform
//! role through `platformSecurityEvents`. Per-account events are
//! [`super::events`]'s.

use async_graphql::{Context, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::platform_security_event;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, QueryOrder, QuerySelect, Set};
use uuid::Uuid;

use crate::{
    error::{AppError, AppResult},
    graphql::{app, rctx},
};

pub use entity::platform_security_event::PlatformSecurityEventKind;

/// Records a platform event (and a structured line on the `zygo::security` target). `now`
/// is the instance's clock.
pub async fn record(
    db: &impl ConnectionTrait,
    kind: PlatformSecurityEventKind,
    source: &str,
    ip: Option<String>,
    details: serde_json::Value,
    now: DateTime<Utc>,
) -> AppResult<()> {
    tracing::warn!(
        target: "zygo::security",
        event = sea_orm::ActiveEnum::to_value(&kind),
        source,
        ip = ip.as_deref().unwrap_or(""),
        %details,
        "platform security event"
    );
    platform_security_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        kind: Set(kind),
        source: Set(source.into()),
        ip: Set(ip),
        details: Set(Some(details)),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The newest `limit` events, newest first.
pub async fn recent(db: &impl ConnectionTrait, limit: u64) -> AppResult<Vec<platform_security_event::Model>> {
    Ok(platform_security_event::Entity::find()
        .order_by_desc(platform_security_event::Column::CreatedAt)
        .order_by_desc(platform_security_event::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// Refuses unless the signed-in caller holds a platform role (see
/// [`crate::access::platform`]): UNAUTHENTICATED when anonymous, FORBIDDEN without a role,
/// MFA_REQUIRED without two-factor authentication.
pub async fn require_platform_admin(ctx: &Context<'_>) -> Result<()> {
    let viewer = rctx(ctx).viewer()?;
    crate::access::platform::require(&app(ctx).db, viewer.user_id, crate::access::platform::ANY).await?;
    Ok(())
}

/// One entry of the platform's security log.
#[derive(SimpleObject)]
pub struct PlatformSecurityEvent {
    pub kind: PlatformSecurityEventKindGql,
    /// Where it happened, e.g. `billing.webhook.stripe`.
    pub source: String,
    /// The address the request came from.
    pub ip: Option<String>,
    /// What was refused and why, e.g. `{"provider": "stripe", "reason": "…"}`.
    pub details: Option<async_graphql::Json<serde_json::Value>>,
    pub created_at: DateTime<Utc>,
}

/// What happened to the platform's security.
#[derive(async_graphql::Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(
    name = "PlatformSecurityEventKind",
    remote = "entity::platform_security_event::PlatformSecurityEventKind"
)]
pub enum PlatformSecurityEventKindGql {
    /// A payment provider's webhook whose signature did not verify was refused.
    WebhookSignatureRejected,
}

#[derive(Default)]
pub struct PlatformSecurityQuery;

#[Object]
impl PlatformSecurityQuery {
    /// The platform's security log, newest first (`first`: 1 to 200, default 50). Platform
    /// roles only.
    async fn platform_security_events(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
    ) -> Result<Vec<PlatformSecurityEvent>> {
        require_platform_admin(ctx).await?;
        let first = first.unwrap_or(50);
        if !(1..=200).contains(&first) {
            return Err(AppError::validation("first", "must be 1 to 200").into());
        }
        let rows = recent(&app(ctx).db, first as u64).await?;
        Ok(rows
            .into_iter()
            .map(|e| PlatformSecurityEvent {
                kind: e.kind.into(),
                source: e.source,
                ip: e.ip,
                details: e.details.map(async_graphql::Json),
                created_at: e.created_at,
            })
            .collect())
    }
}
