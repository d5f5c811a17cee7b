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

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, async_graphql::Enum)]
pub enum SecurityEventKind {
    LoginSucceeded,
    LoginFailed,
    AccountLocked,
    AccountUnlocked,
    MfaEnabled,
    MfaDisabled,
    MfaChallengeFailed,
    BackupCodeUsed,
    BackupCodesRegenerated,
    SessionRevoked,
    PasswordChanged,
    PasswordReset,
    OauthAccountLinked,
    OauthAccountUnlinked,
}

impl SecurityEventKind {
    pub fn key(self) -> &'static str {
        match self {
            Self::LoginSucceeded => "login_succeeded",
            Self::LoginFailed => "login_failed",
            Self::AccountLocked => "account_locked",
            Self::AccountUnlocked => "account_unlocked",
            Self::MfaEnabled => "mfa_enabled",
            Self::MfaDisabled => "mfa_disabled",
            Self::MfaChallengeFailed => "mfa_challenge_failed",
            Self::BackupCodeUsed => "backup_code_used",
            Self::BackupCodesRegenerated => "backup_codes_regenerated",
            Self::SessionRevoked => "session_revoked",
            Self::PasswordChanged => "password_changed",
            Self::PasswordReset => "password_reset",
            Self::OauthAccountLinked => "oauth_account_linked",
            Self::OauthAccountUnlinked => "oauth_account_unlinked",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        use SecurityEventKind::*;
        [
            LoginSucceeded,
            LoginFailed,
            AccountLocked,
            AccountUnlocked,
            MfaEnabled,
            MfaDisabled,
            MfaChallengeFailed,
            BackupCodeUsed,
            BackupCodesRegenerated,
            SessionRevoked,
            PasswordChanged,
            PasswordReset,
            OauthAccountLinked,
            OauthAccountUnlinked,
        ]
        .into_iter()
        .find(|k| k.key() == key)
    }
}

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
        event = kind.key(),
        ip = ip.as_deref().unwrap_or(""),
        session_id = session_id.map(|s| s.to_string()).unwrap_or_default(),
        "security event"
    );
    security_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        kind: Set(kind.key().into()),
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
