//! Custom domains: adding one (it gets a verification token), checking its TXT record at
//! `{ZYGO_DOMAIN_CHALLENGE_PREFIX}.{domain}` (on demand and every
//! `ZYGO_DOMAIN_RECHECK_INTERVAL`), choosing the primary one, removing one. Managing them needs
//! `tenant.update`; each change is audited and announced on `tenantEvents`.

use chrono::Duration;
use entity::tenant_domain::{self, DomainStatus};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

use super::dns;
use crate::{
    access::{Change, TenantCtx, TenantTx},
    auth::Permission,
    ctx::Ctx,
    error::{AppError, AppResult},
    jobs::{Handler, JobResult},
};

/// The scheduled job that checks verified domains again.
pub const RECHECK: &str = "domains.recheck";

/// A domain as typed, checked and normalised (lower case, no trailing dot); errors name `field`.
pub fn normalise(ctx: &Ctx, field: &str, input: &str) -> AppResult<String> {
    let d = input.trim().trim_end_matches('.').to_ascii_lowercase();
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    let labels: Vec<&str> = d.split('.').collect();
    let tld_ok = labels.last().is_some_and(|t| t.chars().any(|c| c.is_ascii_alphabetic()));
    if d.len() > 253 || labels.len() < 2 || !labels.iter().all(|l| label_ok(l)) || !tld_ok {
        return Err(AppError::validation(field, "must be a domain name such as app.example.com"));
    }
    if let Some(base) = &ctx.config.domains.base_domain
        && (d == *base || d.ends_with(&format!(".{base}")))
    {
        return Err(AppError::validation(field, format!("addresses under {base} are the platform's own")));
    }
    Ok(d)
}

/// The name of `domain`'s verification record.
pub fn record_name(ctx: &Ctx, domain: &str) -> String {
    format!("{}.{domain}", ctx.config.domains.challenge_prefix)
}

/// The organisation's domains, primary first then by name (`tenant.read`).
pub async fn list(ctx: &Ctx, tctx: &TenantCtx) -> AppResult<Vec<tenant_domain::Model>> {
    tctx.require(Permission::TenantRead)?;
    Ok(tctx
        .scope()
        .find::<tenant_domain::Entity>()
        .order_by_desc(tenant_domain::Column::IsPrimary)
        .order_by_asc(tenant_domain::Column::Domain)
        .all(&tctx.on(&ctx.db))
        .await?)
}

fn summary(d: &tenant_domain::Model) -> serde_json::Value {
    serde_json::json!({ "domain": d.domain, "status": d.status, "isPrimary": d.is_primary })
}

async fn finish(
    mut tx: TenantTx<'_>,
    action: &'static str,
    before: Option<&tenant_domain::Model>,
    after: Option<&tenant_domain::Model>,
) -> AppResult<()> {
    let id = after.or(before).map(|d| d.id);
    tx.audit(Change {
        action,
        target_type: "TenantDomain",
        target_id: id,
        before: before.map(summary),
        after: after.map(summary),
    })
    .await?;
    let tenant = tx.scope().tenant_id();
    let now = tx.ctx().now();
    let actor = tx.tctx().acting_user();
    tx.emit(
        crate::modules::tenancy::events::topic(tenant),
        &crate::modules::tenancy::events::TenantEventPayload {
            kind: crate::modules::tenancy::events::TenantEventKind::TenantUpdated,
            tenant_id: tenant,
            membership_id: None,
            actor_id: actor,
            occurred_at: now,
        },
    );
    tx.commit().await
}

/// Adds `domain` (PENDING, with a fresh token); CONFLICT when any organisation has it already.
pub async fn add(ctx: &Ctx, tctx: &TenantCtx, domain: &str) -> AppResult<tenant_domain::Model> {
    tctx.require(Permission::TenantUpdate)?;
    let domain = normalise(ctx, "input.domain", domain)?;
    let tx = TenantTx::begin(ctx, tctx, Permission::TenantUpdate).await?;
    let scope = tx.scope();
    let row = scope
        .insert(
            &tx,
            tenant_domain::ActiveModel {
                id: Set(Uuid::now_v7()),
                tenant_id: Set(scope.tenant_id()),
                domain: Set(domain),
                status: Set(DomainStatus::Pending),
                verification_token: Set(format!("zygo-verify={}", crate::auth::tokens::random_token())),
                is_primary: Set(false),
                verified_at: Set(None),
                last_checked_at: Set(None),
                failing_since: Set(None),
                created_by: Set(tctx.acting_user()),
                created_at: Set(ctx.now()),
            },
        )
        .await
        .map_err(|e| AppError::from_db_unique(e, "input.domain", "this domain is already in use"))?;
    finish(tx, "domain.added", None, Some(&row)).await?;
    Ok(row)
}

async fn get(tx: &TenantTx<'_>, id: Uuid) -> AppResult<tenant_domain::Model> {
    tx.scope().find_by_id::<tenant_domain::Entity, _>(tx, id).await?.ok_or(AppError::NotFound("domain"))
}

/// What a check found.
pub struct Checked {
    pub domain: tenant_domain::Model,
    /// Why it is not verified, when it is not.
    pub problem: Option<String>,
}

/// Looks the verification record up now: VERIFIED when it holds the token (the first
/// verified domain becomes primary); otherwise it stays PENDING and the answer says why.
pub async fn verify(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> AppResult<Checked> {
    tctx.require(Permission::TenantUpdate)?;
    let current = {
        let db = tctx.on(&ctx.db);
        let found = tctx.scope().find_by_id::<tenant_domain::Entity, _>(&db, id).await?;
        tctx.reads.release().await;
        found.ok_or(AppError::NotFound("domain"))?
    };
    // Outside the transaction: a DNS answer can take seconds.
    let found = dns::txt_records(&ctx.config.domains, &record_name(ctx, &current.domain)).await;
    let tx = TenantTx::begin(ctx, tctx, Permission::TenantUpdate).await?;
    let before = get(&tx, id).await?;
    let mut am: tenant_domain::ActiveModel = before.clone().into();
    am.last_checked_at = Set(Some(ctx.now()));
    let problem = match &found {
        Ok(values) if values.iter().any(|v| v == &before.verification_token) => None,
        Ok(values) if values.is_empty() => {
            Some(format!("no TXT record at {}", record_name(ctx, &before.domain)))
        }
        Ok(_) => {
            Some(format!("the TXT record at {} does not hold the token", record_name(ctx, &before.domain)))
        }
        Err(e) => Some(format!("the DNS lookup failed: {e}")),
    };
    if problem.is_none() && before.status != DomainStatus::Verified {
        am.status = Set(DomainStatus::Verified);
        am.verified_at = Set(Some(ctx.now()));
        am.failing_since = Set(None);
        let has_primary = tx
            .scope()
            .find::<tenant_domain::Entity>()
            .filter(tenant_domain::Column::IsPrimary.eq(true))
            .one(&tx)
            .await?
            .is_some();
        am.is_primary = Set(!has_primary);
    }
    let after = am.update(&tx).await?;
    if after.status != before.status {
        finish(tx, "domain.verified", Some(&before), Some(&after)).await?;
    } else {
        tx.commit().await?;
    }
    Ok(Checked { domain: after, problem })
}

/// Makes a verified domain the primary one (the others redirect to it).
pub async fn set_primary(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> AppResult<tenant_domain::Model> {
    let tx = TenantTx::begin(ctx, tctx, Permission::TenantUpdate).await?;
    let before = get(&tx, id).await?;
    if before.status != DomainStatus::Verified {
        return Err(AppError::rejected("DOMAIN_NOT_VERIFIED", "id", "only a verified domain can be primary"));
    }
    tx.scope()
        .update_many::<tenant_domain::Entity>()
        .col_expr(tenant_domain::Column::IsPrimary, sea_orm::sea_query::Expr::value(false))
        .exec(&tx)
        .await?;
    let mut am: tenant_domain::ActiveModel = before.clone().into();
    am.is_primary = Set(true);
    let after = am.update(&tx).await?;
    finish(tx, "domain.primary_set", Some(&before), Some(&after)).await?;
    Ok(after)
}

/// Removes a domain; when it was primary, the oldest other verified one takes its place.
pub async fn remove(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> AppResult<tenant_domain::Model> {
    let tx = TenantTx::begin(ctx, tctx, Permission::TenantUpdate).await?;
    let before = get(&tx, id).await?;
    tx.scope()
        .delete_many::<tenant_domain::Entity>()
        .filter(tenant_domain::Column::Id.eq(id))
        .exec(&tx)
        .await?;
    if before.is_primary {
        promote_next(&tx).await?;
    }
    finish(tx, "domain.removed", Some(&before), None).await?;
    Ok(before)
}

async fn promote_next(tx: &TenantTx<'_>) -> AppResult<()> {
    let next = tx
        .scope()
        .find::<tenant_domain::Entity>()
        .filter(tenant_domain::Column::Status.eq(DomainStatus::Verified))
        .filter(tenant_domain::Column::IsPrimary.eq(false))
        .order_by_asc(tenant_domain::Column::VerifiedAt)
        .one(tx)
        .await?;
    if let Some(next) = next {
        let mut am: tenant_domain::ActiveModel = next.into();
        am.is_primary = Set(true);
        am.update(tx).await?;
    }
    Ok(())
}

/// Checks every verified domain again: a record found clears its failure; one missing for
/// longer than `ZYGO_DOMAIN_GRACE_HOURS` sends the domain back to PENDING (audited, and no
/// longer primary). Returns how many went back.
pub async fn recheck(ctx: &Ctx) -> AppResult<usize> {
    // Across tenants: the platform's periodic check of every organisation's domains.
    let verified = tenant_domain::Entity::find()
        .filter(tenant_domain::Column::Status.eq(DomainStatus::Verified))
        .all(&crate::db::across_tenants(&ctx.db))
        .await?;
    let grace = Duration::hours(ctx.config.domains.grace_hours);
    let mut lapsed = 0;
    for d in verified {
        let found = dns::txt_records(&ctx.config.domains, &record_name(ctx, &d.domain)).await;
        // A lookup that failed says nothing either way: try again next time.
        let Ok(values) = found else { continue };
        let holds = values.iter().any(|v| v == &d.verification_token);
        let tctx = TenantCtx::system(d.tenant_id);
        let tx = TenantTx::open(ctx, &tctx).await?;
        let Ok(before) = get(&tx, d.id).await else { continue };
        let mut am: tenant_domain::ActiveModel = before.clone().into();
        am.last_checked_at = Set(Some(ctx.now()));
        let now = ctx.now();
        let since = before.failing_since.unwrap_or(now);
        if holds {
            am.failing_since = Set(None);
        } else if since + grace <= now {
            am.status = Set(DomainStatus::Pending);
            am.failing_since = Set(None);
            am.is_primary = Set(false);
        } else {
            am.failing_since = Set(Some(since));
        }
        let after = am.update(&tx).await?;
        if after.status != before.status {
            if before.is_primary {
                promote_next(&tx).await?;
            }
            lapsed += 1;
            finish(tx, "domain.unverified", Some(&before), Some(&after)).await?;
        } else {
            tx.commit().await?;
        }
    }
    Ok(lapsed)
}

/// The [`RECHECK`] schedule's handler.
pub struct Recheck;

#[async_trait::async_trait]
impl Handler for Recheck {
    fn kind(&self) -> &'static str {
        RECHECK
    }

    async fn run(&self, ctx: &Ctx, _job: &entity::job::Model) -> JobResult {
        recheck(ctx).await.map_err(|e| crate::jobs::JobError::Retry(e.to_string()))?;
        Ok(())
    }
}
