//! The account's security log: sign-ins, failures, lockouts, MFA and session changes.
//!
//! Each event is a row of `security_events` (shown to the user as `viewer.securityEvents`)
//! and a structured log line on the `zygo::audit` target, written in the transaction of the
//! change it records. The events a person should hear of (a password, two-factor or sign-in
//! method change, a lockout) also tell them through the notifications, queued in the same
//! transaction: whoever caused it may not have been them.

use entity::security_event;
use sea_orm::{ActiveModelTrait, DatabaseTransaction, Set};
use uuid::Uuid;

use crate::{
    auth::RequestCtx,
    error::AppResult,
    modules::notifications::service::{self as notifications, Notice, Recipients},
};

pub use entity::security_event::SecurityEventKind;

/// What the person is told of `kind`, if it is worth telling: (title, body).
fn notice_text(kind: SecurityEventKind) -> Option<(&'static str, &'static str)> {
    use SecurityEventKind as K;
    Some(match kind {
        K::PasswordChanged => ("Your password was changed", "The password of your account was changed"),
        K::PasswordReset => {
            ("Your password was reset", "The password of your account was reset through a mailed link")
        }
        K::AccountLocked => {
            ("Your account was locked", "Too many failed attempts locked your account for a while")
        }
        K::MfaEnabled => {
            ("Two-factor authentication is on", "Two-factor authentication was turned on for your account")
        }
        K::MfaDisabled => {
            ("Two-factor authentication is off", "Two-factor authentication was turned off for your account")
        }
        K::BackupCodesRegenerated => {
            ("New backup codes", "New two-factor backup codes were made; the old ones no longer work")
        }
        K::BackupCodeUsed => {
            ("A backup code was used", "A two-factor backup code was used to sign in to your account")
        }
        K::OauthAccountLinked => {
            ("A sign-in method was added", "An account of a sign-in provider was linked to yours")
        }
        K::OauthAccountUnlinked => {
            ("A sign-in method was removed", "An account of a sign-in provider was unlinked from yours")
        }
        K::LoginSucceeded
        | K::LoginFailed
        | K::AccountUnlocked
        | K::MfaChallengeFailed
        | K::SessionRevoked => return None,
    })
}

/// Records an event for `user_id` in `txn`; `rctx` supplies IP and user agent. For the kinds a
/// person is told of, a notification is queued in the same transaction: wake the job workers
/// after the commit (`crate::jobs::wake`).
pub async fn record(
    ctx: &crate::ctx::Ctx,
    db: &DatabaseTransaction,
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
    let id = Uuid::now_v7();
    let now = ctx.now();
    if let Some((title, body)) = notice_text(kind) {
        let device = super::sessions::describe_device(user_agent.as_deref());
        let from = match &ip {
            Some(ip) => format!("{device}, {ip}"),
            None => device,
        };
        let notice = Notice {
            kind: crate::modules::notifications::catalog::NotificationKind::SecurityEvent,
            organisation: None,
            recipients: Recipients::Users { ids: vec![user_id] },
            title: title.to_string(),
            body: format!(
                "{body} ({from}). If this was not you, change your password and review your sessions."
            ),
            link: Some("/settings/security".into()),
            data: serde_json::json!({ "event": sea_orm::ActiveEnum::to_value(&kind), "securityEventId": id }),
            except: None,
        };
        // A personal notice is a system job (no organisation): written across tenants for this
        // insert alone.
        crate::db::with_system_rows(db, None, async |txn| {
            notifications::notify(txn, now, &notice).await.map_err(|e| sea_orm::DbErr::Custom(e.to_string()))
        })
        .await?;
    }
    security_event::ActiveModel {
        id: Set(id),
        user_id: Set(user_id),
        kind: Set(kind),
        ip: Set(ip),
        user_agent: Set(user_agent),
        session_id: Set(session_id),
        details: Set(details),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(())
}
