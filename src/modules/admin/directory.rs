//! The admin API's directory: every organisation (search, status, plan, member count, usage,
//! last activity) and every user account (search, platform role), and the platform audit
//! log. Reads across tenants by design: the caller checked the platform role (see
//! [`super::require`]); these functions never decide access themselves.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{
    audit_entry, collection_record, execution, membership, platform_audit_entry, platform_role, subscription,
    tenant, tenant::TenantStatus, user,
};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, ExprTrait, Func},
};
use uuid::Uuid;

use crate::{
    ctx::Ctx,
    db::{
        across_tenants,
        page::{PageArgs, Rows, page},
    },
    error::AppResult,
};

/// One organisation as the operators see it.
pub struct OrganisationRow {
    pub tenant: tenant::Model,
    /// The current subscription's plan key; `None`: Free without a subscription row.
    pub plan_key: Option<String>,
    pub member_count: u64,
    pub workflow_executions: u64,
    pub collected_records: u64,
    /// The newest entry of its audit log.
    pub last_activity: Option<DateTime<Utc>>,
}

/// `%text%` for a case-insensitive LIKE, with the pattern characters escaped away.
fn pattern(text: &str) -> String {
    let cleaned: String =
        text.trim().to_lowercase().chars().filter(|c| !matches!(c, '%' | '_' | '\\')).collect();
    format!("%{cleaned}%")
}

fn lower_like<C: ColumnTrait>(col: C, pat: &str) -> sea_orm::sea_query::SimpleExpr {
    Expr::expr(Func::lower(Expr::col(col))).like(pat)
}

/// Counts per tenant of `E` rows among `ids`, in one statement.
async fn count_by_tenant<E: EntityTrait>(
    db: &impl sea_orm::ConnectionTrait,
    tenant_col: E::Column,
    extra: Condition,
    ids: &[Uuid],
) -> AppResult<HashMap<Uuid, u64>> {
    let rows: Vec<(Uuid, i64)> = E::find()
        .select_only()
        .column(tenant_col)
        .column_as(Expr::col(tenant_col).count(), "n")
        .filter(tenant_col.is_in(ids.iter().copied()))
        .filter(extra)
        .group_by(tenant_col)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|(t, n)| (t, u64::try_from(n).unwrap_or(0))).collect())
}

/// A page of organisations, oldest first, optionally matching `search` (name or slug) and
/// `status`. A constant number of statements whatever the page size.
pub async fn organisations(
    ctx: &Ctx,
    search: Option<&str>,
    status: Option<TenantStatus>,
    args: &PageArgs,
) -> AppResult<Rows<OrganisationRow>> {
    // The platform's view of every organisation: the caller holds a platform role.
    let db = across_tenants(&ctx.db);
    let window = args.window(ctx.config.max_page_size)?;
    let mut select = tenant::Entity::find();
    if let Some(q) = search.filter(|q| !q.trim().is_empty()) {
        let pat = pattern(q);
        select = select.filter(
            Condition::any()
                .add(lower_like(tenant::Column::Name, &pat))
                .add(lower_like(tenant::Column::Slug, &pat)),
        );
    }
    if let Some(s) = status {
        select = select.filter(tenant::Column::Status.eq(s));
    }
    let rows = page(&db, select, tenant::Column::Id, window).await?;
    let ids: Vec<Uuid> = rows.rows.iter().map(|t| t.id).collect();
    let members = count_by_tenant::<membership::Entity>(
        &db,
        membership::Column::TenantId,
        Condition::all().add(membership::Column::Status.eq(membership::MembershipStatus::Active)),
        &ids,
    )
    .await?;
    let executions =
        count_by_tenant::<execution::Entity>(&db, execution::Column::TenantId, Condition::all(), &ids)
            .await?;
    let records = count_by_tenant::<collection_record::Entity>(
        &db,
        collection_record::Column::TenantId,
        Condition::all(),
        &ids,
    )
    .await?;
    let plans: HashMap<Uuid, String> = subscription::Entity::find()
        .filter(subscription::Column::CurrentFor.is_in(ids.iter().copied()))
        .all(&db)
        .await?
        .into_iter()
        .filter_map(|s| s.current_for.map(|t| (t, s.plan_key)))
        .collect();
    let last: Vec<(Uuid, Option<DateTime<Utc>>)> = audit_entry::Entity::find()
        .select_only()
        .column(audit_entry::Column::TenantId)
        .column_as(Expr::col(audit_entry::Column::CreatedAt).max(), "last")
        .filter(audit_entry::Column::TenantId.is_in(ids.iter().copied()))
        .group_by(audit_entry::Column::TenantId)
        .into_tuple()
        .all(&db)
        .await?;
    let last: HashMap<Uuid, Option<DateTime<Utc>>> = last.into_iter().collect();
    Ok(Rows {
        total: rows.total,
        has_previous: rows.has_previous,
        has_next: rows.has_next,
        rows: rows
            .rows
            .into_iter()
            .map(|t| OrganisationRow {
                plan_key: plans.get(&t.id).cloned(),
                member_count: members.get(&t.id).copied().unwrap_or(0),
                workflow_executions: executions.get(&t.id).copied().unwrap_or(0),
                collected_records: records.get(&t.id).copied().unwrap_or(0),
                last_activity: last.get(&t.id).copied().flatten(),
                tenant: t,
            })
            .collect(),
    })
}

/// One user account as the operators see it.
pub struct UserRow {
    pub user: user::Model,
    pub platform_role: Option<platform_role::PlatformRoleKind>,
    pub organisation_count: u64,
}

/// A page of user accounts, oldest first, optionally matching `search` (e-mail or name).
pub async fn users(ctx: &Ctx, search: Option<&str>, args: &PageArgs) -> AppResult<Rows<UserRow>> {
    // Accounts and memberships of every organisation: the caller holds a platform role.
    let db = across_tenants(&ctx.db);
    let window = args.window(ctx.config.max_page_size)?;
    let mut select = user::Entity::find();
    if let Some(q) = search.filter(|q| !q.trim().is_empty()) {
        let pat = pattern(q);
        select = select.filter(
            Condition::any()
                .add(lower_like(user::Column::Email, &pat))
                .add(lower_like(user::Column::Name, &pat)),
        );
    }
    let rows = page(&db, select, user::Column::Id, window).await?;
    let ids: Vec<Uuid> = rows.rows.iter().map(|u| u.id).collect();
    let roles: HashMap<Uuid, platform_role::PlatformRoleKind> = platform_role::Entity::find()
        .filter(platform_role::Column::UserId.is_in(ids.iter().copied()))
        .all(&db)
        .await?
        .into_iter()
        .map(|r| (r.user_id, r.role))
        .collect();
    let orgs: Vec<(Uuid, i64)> = membership::Entity::find()
        .select_only()
        .column(membership::Column::UserId)
        .column_as(Expr::col(membership::Column::UserId).count(), "n")
        .filter(membership::Column::UserId.is_in(ids.iter().copied()))
        .filter(membership::Column::Status.eq(membership::MembershipStatus::Active))
        .group_by(membership::Column::UserId)
        .into_tuple()
        .all(&db)
        .await?;
    let orgs: HashMap<Uuid, i64> = orgs.into_iter().collect();
    Ok(Rows {
        total: rows.total,
        has_previous: rows.has_previous,
        has_next: rows.has_next,
        rows: rows
            .rows
            .into_iter()
            .map(|u| UserRow {
                platform_role: roles.get(&u.id).copied(),
                organisation_count: orgs.get(&u.id).copied().unwrap_or(0).clamp(0, i64::MAX) as u64,
                user: u,
            })
            .collect(),
    })
}

/// A page of the platform audit log, optionally about one organisation. Newest last (ids are
/// time-ordered); page backwards with `last`.
pub async fn audit_log(
    ctx: &Ctx,
    organisation: Option<Uuid>,
    args: &PageArgs,
) -> AppResult<Rows<platform_audit_entry::Model>> {
    let window = args.window(ctx.config.max_page_size)?;
    let mut select = platform_audit_entry::Entity::find();
    if let Some(o) = organisation {
        select = select.filter(platform_audit_entry::Column::OrganisationId.eq(o));
    }
    // The platform's own table: no tenant wall applies.
    Ok(page(&ctx.db, select, platform_audit_entry::Column::Id, window).await?)
}
