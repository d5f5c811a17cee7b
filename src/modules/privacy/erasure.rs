//! Account deletion (GDPR article 17): asked for with the password, held for `GRACE_DAYS` days
//! during which the person can cancel, then done by the `privacy.erase` job: the rows that are
//! the person's own go, their address and name are scrubbed from what stays (audit entries keep
//! the actor as a bare id, a pseudonym once the account row is anonymised). Being the only owner
//! of an organisation blocks it until ownership is passed on or the organisation is deleted.

use chrono::{DateTime, Duration, Utc};
use entity::{membership, role, user};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, Set,
    Statement, Value,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::catalog;
use crate::{
    auth::Viewer,
    ctx::Ctx,
    error::{AppError, AppResult},
    jobs::{Handler, JobError, JobResult, NewJob},
    startup::AppState,
};

pub const ERASE: &str = "privacy.erase";

/// Days between asking and erasing.
pub const GRACE_DAYS: i64 = 30;

/// Tables whose rows are the person's own and go with them (by `user_id`); every other table
/// keeps its rows with the person as a bare id.
const OWN_TABLES: &[&str] = &[
    "sessions",
    "refresh_tokens",
    "user_tokens",
    "security_events",
    "oauth_identities",
    "backup_codes",
    "mfa_challenges",
    "notifications",
    "notification_preferences",
    "data_exports",
    "policy_acceptances",
    "memberships",
];

#[derive(Serialize, Deserialize)]
struct EraseJob {
    user: Uuid,
}

/// The organisations `user` is the only active owner of (their names).
pub async fn sole_ownerships(db: &impl ConnectionTrait, user: Uuid) -> AppResult<Vec<String>> {
    let mine = membership::Entity::find()
        .filter(membership::Column::UserId.eq(user))
        .filter(membership::Column::Status.eq(membership::MembershipStatus::Active))
        .all(db)
        .await?;
    let mut names = Vec::new();
    for m in mine {
        let Some(r) = role::Entity::find_by_id(m.role_id).one(db).await? else { continue };
        if r.key != "owner" {
            continue;
        }
        let owners = membership::Entity::find()
            .filter(membership::Column::TenantId.eq(m.tenant_id))
            .filter(membership::Column::RoleId.eq(r.id))
            .filter(membership::Column::Status.eq(membership::MembershipStatus::Active))
            .count(db)
            .await?;
        if owners <= 1 {
            let org = entity::tenant::Entity::find_by_id(m.tenant_id).one(db).await?;
            names.push(org.map(|o| o.name).unwrap_or_default());
        }
    }
    Ok(names)
}

fn blocked(orgs: &[String]) -> AppError {
    AppError::Rejected {
        code: "SOLE_OWNER",
        field: None,
        message: format!(
            "you are the only owner of {}: make someone else owner or delete the organisation first",
            orgs.join(", ")
        ),
    }
}

/// Schedules the viewer's account for deletion in `GRACE_DAYS` days.
pub async fn schedule(
    app: &AppState,
    viewer: &Viewer,
    confirm_email: &str,
    password: Option<String>,
) -> AppResult<DateTime<Utc>> {
    let ctx = &app.ctx;
    let person =
        user::Entity::find_by_id(viewer.user_id).one(&ctx.db).await?.ok_or(AppError::NotFound("user"))?;
    if !confirm_email.trim().eq_ignore_ascii_case(&person.email) {
        return Err(AppError::validation("input.confirmEmail", "type your e-mail address to confirm"));
    }
    if let Some(hash) = person.password_hash() {
        let ok = match password {
            Some(p) => app.passwords.verify(p, Some(hash.to_string())).await?,
            None => false,
        };
        if !ok {
            return Err(AppError::validation("input.password", "the password is not correct"));
        }
    }
    // Across tenants: the person's own memberships, to find organisations only they own.
    let txn = crate::db::begin_across_tenants_txn(&ctx.db).await?;
    let sole = sole_ownerships(&txn, person.id).await?;
    if !sole.is_empty() {
        return Err(blocked(&sole));
    }
    let at = ctx.now() + Duration::days(GRACE_DAYS);
    let mut am: user::ActiveModel = person.clone().into();
    am.deletion_scheduled_at = Set(Some(at));
    am.updated_at = Set(ctx.now());
    am.update(&txn).await?;
    let job = NewJob::new(ERASE, &EraseJob { user: person.id })
        .key(format!("{}:{}", person.id, at.timestamp()))
        .at(at)
        .attempts(60);
    crate::jobs::enqueue(&txn, ctx.now(), None, job).await?;
    let link = format!("{}/settings/privacy", ctx.config.public_url);
    crate::mail::enqueue(
        &txn,
        &person.email,
        crate::mail::templates::account_deletion_scheduled(&person.name, at, &link),
    )
    .await?;
    txn.commit().await?;
    ctx.mail.wake();
    Ok(at)
}

/// Takes the viewer's scheduled deletion back.
pub async fn cancel(ctx: &Ctx, viewer: &Viewer) -> AppResult<()> {
    let person =
        user::Entity::find_by_id(viewer.user_id).one(&ctx.db).await?.ok_or(AppError::NotFound("user"))?;
    if person.deletion_scheduled_at.is_none() {
        return Err(AppError::validation("viewer", "no deletion is scheduled"));
    }
    let mut am: user::ActiveModel = person.into();
    am.deletion_scheduled_at = Set(None);
    am.updated_at = Set(ctx.now());
    am.update(&ctx.db).await?;
    Ok(())
}

/// Erases an account whose grace period is over.
pub struct Erase;

#[async_trait::async_trait]
impl Handler for Erase {
    fn kind(&self) -> &'static str {
        ERASE
    }

    async fn run(&self, ctx: &Ctx, job: &entity::job::Model) -> JobResult {
        let p: EraseJob =
            serde_json::from_value(job.payload.clone()).map_err(|e| JobError::Fail(e.to_string()))?;
        let erased = erase(ctx, p.user).await.map_err(|e| JobError::Retry(e.to_string()))?;
        match erased {
            Erased::Done { sessions } => {
                if !sessions.is_empty() {
                    // Every instance forgets the sessions at once, and their WebSockets close.
                    let forget =
                        crate::auth::session_cache::Ended { user_id: p.user, sessions: None, except: None };
                    ctx.publish(&crate::auth::session_cache::topic(), &forget).await;
                    let ended = crate::modules::security::sessions::SessionsEnded {
                        sessions: None,
                        except: None,
                        reason: "account deleted".into(),
                    };
                    ctx.publish(&crate::modules::security::sessions::topic(p.user), &ended).await;
                }
                Ok(())
            }
            Erased::NotDue => Ok(()),
            // Owners must pass their organisations on first: look again tomorrow.
            Erased::Blocked(orgs) => Err(JobError::RetryAfter(Duration::days(1), blocked(&orgs).to_string())),
        }
    }
}

enum Erased {
    Done { sessions: Vec<Uuid> },
    NotDue,
    Blocked(Vec<String>),
}

async fn erase(ctx: &Ctx, id: Uuid) -> AppResult<Erased> {
    // Across tenants: the person's rows are in every organisation they were in.
    let txn = crate::db::begin_across_tenants_txn(&ctx.db).await?;
    let Some(person) = user::Entity::find_by_id(id).one(&txn).await? else { return Ok(Erased::NotDue) };
    if person.deletion_scheduled_at.is_none_or(|at| at > ctx.now()) {
        return Ok(Erased::NotDue);
    }
    let sole = sole_ownerships(&txn, id).await?;
    if !sole.is_empty() {
        return Ok(Erased::Blocked(sole));
    }
    let sessions: Vec<Uuid> = entity::session::Entity::find()
        .filter(entity::session::Column::UserId.eq(id))
        .all(&txn)
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect();
    let backend = txn.get_database_backend();
    let p = |n: usize| if backend == DbBackend::Postgres { format!("${n}") } else { format!("?{n}") };
    let tables = catalog::tables(&txn).await?;
    let memberships: Vec<Uuid> = membership::Entity::find()
        .filter(membership::Column::UserId.eq(id))
        .all(&txn)
        .await?
        .into_iter()
        .map(|m| m.id)
        .collect();
    // Team seats hang off memberships.
    if tables.contains_key("team_members") && !memberships.is_empty() {
        entity::team_member::Entity::delete_many()
            .filter(entity::team_member::Column::MembershipId.is_in(memberships))
            .exec(&txn)
            .await?;
    }
    for table in OWN_TABLES {
        if tables.get(*table).is_some_and(|cols| cols.iter().any(|c| c == "user_id")) {
            let sql = format!(
                "DELETE FROM {} WHERE {} = {}",
                catalog::ident(table),
                catalog::ident("user_id"),
                p(1)
            );
            txn.execute_raw(Statement::from_sql_and_values(backend, sql, [Value::from(id)])).await?;
        }
    }
    let email = person.email.to_lowercase();
    // Mail to them is theirs; invitations to their address are anonymised below.
    txn.execute_raw(Statement::from_sql_and_values(
        backend,
        format!("DELETE FROM mail_outbox WHERE lower(to_address) = {}", p(1)),
        [Value::from(email.clone())],
    ))
    .await?;
    // Their address (and, where people write about people, their name) is scrubbed from every
    // text column that still holds it.
    let mut scrub = vec![email.clone()];
    if person.name.chars().count() >= 3 {
        scrub.push(person.name.clone());
    }
    for (table, columns) in &tables {
        if table == "users" {
            continue;
        }
        for column in columns {
            for (i, needle) in scrub.iter().enumerate() {
                // The name only where free text about people lives.
                if i == 1 && !matches!(table.as_str(), "audit_entries" | "mail_outbox" | "invitations") {
                    continue;
                }
                scrub_column(&txn, table, column, needle).await?;
            }
        }
    }
    let mut am: user::ActiveModel = person.into();
    am.email = Set(format!("erased-{id}@erased.invalid"));
    am.name = Set("Deleted user".into());
    am.password_hash = Set(String::new());
    am.avatar_url = Set(None);
    am.locale = Set(None);
    am.time_zone = Set(None);
    am.preferences = Set(None);
    am.email_verified_at = Set(None);
    am.totp_secret = Set(None);
    am.totp_pending_secret = Set(None);
    am.totp_enabled_at = Set(None);
    am.totp_last_step = Set(None);
    am.deletion_scheduled_at = Set(None);
    am.updated_at = Set(ctx.now());
    am.update(&txn).await?;
    txn.commit().await?;
    Ok(Erased::Done { sessions })
}

/// Replaces `needle` by `[erased]` in `table.column` wherever it occurs (text and JSON columns;
/// others are skipped by the database's own type check in the condition).
async fn scrub_column(txn: &impl ConnectionTrait, table: &str, column: &str, needle: &str) -> AppResult<()> {
    let backend = txn.get_database_backend();
    let (t, c) = (catalog::ident(table), catalog::ident(column));
    let sql = match backend {
        DbBackend::Postgres => {
            // Only text-like columns: the catalog says which.
            let kind: Option<String> = txn
                .query_one_raw(Statement::from_sql_and_values(
                    backend,
                    "SELECT data_type::text AS k FROM information_schema.columns
                     WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2",
                    [Value::from(table.to_string()), Value::from(column.to_string())],
                ))
                .await?
                .and_then(|r| r.try_get::<String>("", "k").ok());
            match kind.as_deref() {
                Some("text" | "character varying") => {
                    format!("UPDATE {t} SET {c} = replace({c}, $1, '[erased]') WHERE strpos({c}, $1) > 0")
                }
                Some(k @ ("json" | "jsonb")) => format!(
                    "UPDATE {t} SET {c} = replace({c}::text, $1, '[erased]')::{k} WHERE strpos({c}::text, $1) > 0"
                ),
                _ => return Ok(()),
            }
        }
        _ => format!(
            "UPDATE {t} SET {c} = replace({c}, ?1, '[erased]') WHERE typeof({c}) = 'text' AND instr({c}, ?1) > 0"
        ),
    };
    txn.execute_raw(Statement::from_sql_and_values(backend, sql, [Value::from(needle.to_string())])).await?;
    Ok(())
}
