//! Recording and reading audit entries.

use chrono::{DateTime, Utc};
use entity::audit_entry;
use sea_orm::{ColumnTrait, QueryFilter};
use uuid::Uuid;

pub use crate::access::audit::{Actor, Change, record, topic};

use crate::ctx::Ctx;
use crate::{access::TenantCtx, auth::Permission, db::page::PageArgs, db::page::Window, error::AppResult};

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
    ctx: &Ctx,
    tctx: &TenantCtx,
    filter: Filter,
    args: &PageArgs,
) -> AppResult<crate::db::page::Rows<audit_entry::Model>> {
    tctx.require(Permission::AuditRead)?;
    let window: Window = args.window(ctx.config.max_page_size)?;
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
    Ok(crate::db::page::page(&tctx.on(&ctx.db), select, audit_entry::Column::Id, window).await?)
}

/// One entry of the tenant's log (`audit.read`).
pub async fn get(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> AppResult<Option<audit_entry::Model>> {
    tctx.require(Permission::AuditRead)?;
    Ok(tctx.scope().find_by_id::<audit_entry::Entity, _>(&tctx.on(&ctx.db), id).await?)
}
