//! The viewer's sessions: listing, revoking, and telling every instance to close the
//! WebSockets of sessions that ended (through the event bus, topic `u:{user}:sessions`).

use chrono::Utc;
use entity::session;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, sea_query::Expr,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::events::{self, SecurityEventKind};
use crate::ctx::Ctx;
use crate::{
    auth::{RequestCtx, Viewer},
    error::{AppError, AppResult},
    pubsub::Topic,
    startup::AppState,
};

/// Sessions listed at most.
const LIST_LIMIT: u64 = 200;

pub fn topic(user_id: Uuid) -> Topic {
    Topic::user(user_id, "sessions")
}

/// Published when sessions end or a user's access changed: WebSockets of the covered
/// sessions close, on every instance.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionsEnded {
    /// `None`: every session of the user.
    pub sessions: Option<Vec<Uuid>>,
    /// A session that stays open (the one that asked to end the others).
    pub except: Option<Uuid>,
    pub reason: String,
}

impl SessionsEnded {
    pub fn covers(&self, session: Uuid) -> bool {
        self.except != Some(session) && self.sessions.as_ref().is_none_or(|ids| ids.contains(&session))
    }
}

/// Tells every instance to close the covered WebSockets and to forget the covered sessions
/// (this instance's cache at once, the others' through the bus). Call after commit.
pub async fn notify(app: &AppState, user_id: Uuid, ended: SessionsEnded) {
    let forget =
        crate::auth::session_cache::Ended { user_id, sessions: ended.sessions.clone(), except: ended.except };
    app.sessions.forget(&forget);
    app.publish(&crate::auth::session_cache::topic(), &forget).await;
    app.publish(&topic(user_id), &ended).await;
}

/// Ends one session; true when it was still open.
pub async fn revoke_one(db: &impl ConnectionTrait, session_id: Uuid, reason: &str) -> AppResult<bool> {
    let r = session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(Utc::now()))
        .col_expr(session::Column::RevokedReason, Expr::value(reason))
        .filter(session::Column::Id.eq(session_id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

/// Ends every open session of `user_id` except `keep`; returns how many ended.
pub async fn revoke_all(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    keep: Option<Uuid>,
    reason: &str,
) -> AppResult<u64> {
    let mut q = session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(Utc::now()))
        .col_expr(session::Column::RevokedReason, Expr::value(reason))
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::RevokedAt.is_null());
    if let Some(keep) = keep {
        q = q.filter(session::Column::Id.ne(keep));
    }
    Ok(q.exec(db).await?.rows_affected)
}

/// The viewer's open sessions, most recently used first.
pub async fn list(ctx: &Ctx, viewer: &Viewer) -> AppResult<Vec<session::Model>> {
    Ok(session::Entity::find()
        .filter(session::Column::UserId.eq(viewer.user_id))
        .filter(session::Column::RevokedAt.is_null())
        .filter(session::Column::ExpiresAt.gt(Utc::now()))
        .order_by_desc(session::Column::LastUsedAt)
        .limit(LIST_LIMIT)
        .all(&ctx.db)
        .await?)
}

/// Ends one of the viewer's sessions (any of them, the current one included).
pub async fn revoke(app: &AppState, rctx: &RequestCtx, viewer: &Viewer, id: Uuid) -> AppResult<()> {
    let txn = crate::db::begin_write(&app.db).await?;
    // Another user's session is reported exactly like one that does not exist.
    let found = session::Entity::find_by_id(id)
        .filter(session::Column::UserId.eq(viewer.user_id))
        .filter(session::Column::RevokedAt.is_null())
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("Session"))?;
    revoke_one(&txn, found.id, "revoked by the user").await?;
    events::record(
        app,
        &txn,
        viewer.user_id,
        SecurityEventKind::SessionRevoked,
        Some(rctx),
        Some(viewer.session_id),
        Some(serde_json::json!({ "revokedSession": found.id })),
    )
    .await?;
    txn.commit().await?;
    notify(
        app,
        viewer.user_id,
        SessionsEnded { sessions: Some(vec![found.id]), except: None, reason: "session revoked".into() },
    )
    .await;
    Ok(())
}

/// Ends every session of the viewer but the current one; returns how many ended.
pub async fn revoke_others(app: &AppState, rctx: &RequestCtx, viewer: &Viewer) -> AppResult<u64> {
    let txn = crate::db::begin_write(&app.db).await?;
    let n = revoke_all(&txn, viewer.user_id, Some(viewer.session_id), "revoked by the user").await?;
    if n > 0 {
        events::record(
            app,
            &txn,
            viewer.user_id,
            SecurityEventKind::SessionRevoked,
            Some(rctx),
            Some(viewer.session_id),
            Some(serde_json::json!({ "others": n })),
        )
        .await?;
    }
    txn.commit().await?;
    notify(
        app,
        viewer.user_id,
        SessionsEnded { sessions: None, except: Some(viewer.session_id), reason: "session revoked".into() },
    )
    .await;
    Ok(n)
}

/// How recent a sign-in must be for changes that could lock the owner out (a first
/// password, turning on MFA): a stolen access token alone must not be enough.
const RECENT_SIGN_IN_MINUTES: i64 = 10;

/// REAUTHENTICATION_REQUIRED unless the viewer's session began within the last minutes.
pub async fn require_recent_sign_in(ctx: &Ctx, viewer: &Viewer, field: &str) -> AppResult<()> {
    let session = session::Entity::find_by_id(viewer.session_id).one(&ctx.db).await?;
    let recent = session
        .is_some_and(|s| s.created_at > Utc::now() - chrono::Duration::minutes(RECENT_SIGN_IN_MINUTES));
    if !recent {
        return Err(AppError::rejected(
            "REAUTHENTICATION_REQUIRED",
            field,
            format!("sign in again (within {RECENT_SIGN_IN_MINUTES} minutes) to make this change"),
        ));
    }
    Ok(())
}

/// "Firefox on Linux"-style description of a user agent.
pub fn describe_device(user_agent: Option<&str>) -> String {
    let Some(ua) = user_agent.filter(|u| !u.trim().is_empty()) else { return "Unknown device".into() };
    match woothee::parser::Parser::new().parse(ua) {
        Some(r) if r.name != "UNKNOWN" => {
            if r.os != "UNKNOWN" {
                format!("{} on {}", r.name, r.os)
            } else {
                r.name.to_string()
            }
        }
        _ => ua.chars().take(60).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covers_respects_except_and_list() {
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let all_but_a = SessionsEnded { sessions: None, except: Some(a), reason: String::new() };
        assert!(!all_but_a.covers(a) && all_but_a.covers(b));
        let only_a = SessionsEnded { sessions: Some(vec![a]), except: None, reason: String::new() };
        assert!(only_a.covers(a) && !only_a.covers(b));
    }

    #[test]
    fn devices_are_described() {
        let ua = "Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0";
        assert_eq!(describe_device(Some(ua)), "Firefox on Linux");
        assert_eq!(describe_device(None), "Unknown device");
    }
}
