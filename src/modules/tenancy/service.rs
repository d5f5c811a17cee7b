//! Business logic of organisations, memberships and roles.

use entity::{membership, role, tenant};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QuerySelect, QueryTrait, Set};
use uuid::Uuid;

use super::events::{self, TenantEventKind, TenantEventPayload};
use crate::{
    access::Change,
    access::{TenantCtx, TenantTx},
    auth::{Permission, RequestCtx, Viewer, permissions::BUILTIN_ROLES},
    ctx::Ctx,
    db::page::PageArgs,
    db::page::Window,
    error::{AppError, AppResult},
};

use entity::{membership::MembershipStatus, tenant::TenantStatus};

fn validate_tenant_name(field: &str, name: &str) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AppError::validation(field, "must not be empty"));
    }
    if name.chars().count() > 100 {
        return Err(AppError::validation(field, "must be at most 100 characters"));
    }
    Ok(name.to_string())
}

/// Slugs that cannot name an organisation: they are, or may become, the platform's own
/// subdomains (`{slug}.{ZYGO_BASE_DOMAIN}`).
pub const RESERVED_SLUGS: &[&str] = &[
    "www",
    "api",
    "admin",
    "app",
    "mail",
    "smtp",
    "static",
    "assets",
    "cdn",
    "status",
    "docs",
    "help",
    "support",
    "billing",
    "auth",
    "login",
    "signup",
    "graphql",
    "graphiql",
    "health",
    "metrics",
    "dev",
    "staging",
    "console",
    "dashboard",
    "blog",
];

/// Slugs: 3–40 characters of `a-z`, `0-9` and `-`, starting and ending with a letter or digit,
/// not one of [`RESERVED_SLUGS`].
pub fn validate_slug(field: &str, slug: &str) -> AppResult<String> {
    let slug = slug.trim();
    let ok_chars = slug.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    let ok_ends = !slug.starts_with('-') && !slug.ends_with('-');
    if !(3..=40).contains(&slug.len()) || !ok_chars || !ok_ends {
        return Err(AppError::validation(
            field,
            "must be 3 to 40 characters of a-z, 0-9 and '-', starting and ending with a letter or digit",
        ));
    }
    if RESERVED_SLUGS.contains(&slug) {
        return Err(AppError::validation(
            field,
            format!("`{slug}` is reserved for the platform's own addresses"),
        ));
    }
    Ok(slug.to_string())
}

/// A new organisation's name and slug, checked (`input.name`, `input.slug`).
pub fn checked_name_and_slug(name: &str, slug: &str) -> AppResult<(String, String)> {
    Ok((validate_tenant_name("input.name", name)?, validate_slug("input.slug", slug)?))
}

/// CONFLICT on `input.slug` when an organisation has `slug`: slugs are unique across all.
pub async fn slug_free(ctx: &Ctx, slug: &str) -> AppResult<()> {
    let taken = tenant::Entity::find()
        .filter(tenant::Column::Slug.eq(slug))
        .one(&crate::db::across_tenants(&ctx.db))
        .await?;
    match taken {
        Some(_) => Err(AppError::conflict("input.slug", "this slug is taken")),
        None => Ok(()),
    }
}

/// The built-in roles a new organisation gets, each with the id it will have.
pub fn builtin_roles() -> Vec<(Uuid, &'static crate::auth::permissions::BuiltinRole)> {
    BUILTIN_ROLES.iter().map(|b| (Uuid::now_v7(), b)).collect()
}

/// Writes organisation `tenant_id` (active) with its built-in `roles`, in `tx` (the new
/// organisation's): no member yet.
pub async fn seed_tenant(
    tx: &TenantTx<'_>,
    tenant_id: Uuid,
    name: String,
    slug: String,
    roles: Vec<(Uuid, &'static crate::auth::permissions::BuiltinRole)>,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<tenant::Model> {
    let tenant = tenant::ActiveModel {
        id: Set(tenant_id),
        name: Set(name),
        slug: Set(slug),
        status: Set(TenantStatus::Active),
        created_at: Set(now),
        updated_at: Set(now),
        settings: Set(None),
        features: Set(None),
        deletion_due_at: Set(None),
    }
    .insert(tx)
    .await
    .map_err(|e| AppError::from_db_unique(e, "input.slug", "this slug is taken"))?;
    let scope = tx.scope();
    for (id, builtin) in roles {
        scope
            .insert(
                tx,
                role::ActiveModel {
                    id: Set(id),
                    tenant_id: Set(tenant_id),
                    key: Set(builtin.key.into()),
                    name: Set(builtin.name.into()),
                    description: Set(builtin.description.into()),
                    is_builtin: Set(true),
                    parent_id: Set(None),
                    created_at: Set(now),
                },
            )
            .await?;
    }
    Ok(tenant)
}

/// What the audit log keeps of a new organisation.
pub fn created_summary(t: &tenant::Model) -> serde_json::Value {
    tenant_summary(t)
}

/// Creates an organisation with its built-in roles and makes the viewer its owner.
pub async fn create_tenant(ctx: &Ctx, rctx: &RequestCtx, name: &str, slug: &str) -> AppResult<tenant::Model> {
    let viewer = rctx.viewer()?;
    let (name, slug) = checked_name_and_slug(name, slug)?;
    let user = crate::modules::identity::service::viewer_user(ctx, viewer).await?;
    if user.email_verified_at.is_none() {
        return Err(AppError::EmailNotVerified);
    }
    slug_free(ctx, &slug).await?;
    let now = ctx.now();
    let tenant_id = Uuid::now_v7();
    let roles = builtin_roles();
    let owner_role = roles.iter().find(|(_, b)| b.key == "owner").map(|(id, _)| *id);
    // The founder acts as the owner they are about to become.
    let founder = TenantCtx::joining(
        viewer.user_id,
        tenant_id,
        Uuid::now_v7(),
        owner_role.ok_or_else(|| anyhow::anyhow!("no owner role defined"))?,
        crate::access::Actor::from_request(rctx),
    );
    // Creating an organisation needs no permission in it: any verified user may.
    let mut tx = TenantTx::open(ctx, &founder).await?;
    let scope = tx.scope();
    let tenant = seed_tenant(&tx, tenant_id, name, slug, roles, now).await?;
    let membership = scope
        .insert(
            &tx,
            membership::ActiveModel {
                id: Set(founder.membership_id),
                tenant_id: Set(tenant_id),
                user_id: Set(viewer.user_id),
                role_id: Set(founder.role_id),
                status: Set(MembershipStatus::Active),
                created_at: Set(now),
                updated_at: Set(now),
            },
        )
        .await?;
    tx.audit(Change {
        action: "tenant.created",
        target_type: "Tenant",
        target_id: Some(tenant_id),
        before: None,
        after: Some(tenant_summary(&tenant)),
    })
    .await?;
    tx.emit(
        events::topic(tenant_id),
        &event(TenantEventKind::MemberJoined, tenant_id, Some(membership.id), Some(viewer.user_id), now),
    );
    tx.commit().await?;
    Ok(tenant)
}

/// A tenant event, for [`TenantTx::emit`] on [`events::topic`].
pub(crate) fn event(
    kind: TenantEventKind,
    tenant_id: Uuid,
    membership_id: Option<Uuid>,
    actor_id: Option<Uuid>,
    occurred_at: chrono::DateTime<chrono::Utc>,
) -> TenantEventPayload {
    TenantEventPayload { kind, tenant_id, membership_id, actor_id, occurred_at }
}

/// What the audit log keeps of a tenant.
fn tenant_summary(t: &tenant::Model) -> serde_json::Value {
    serde_json::json!({ "name": t.name, "slug": t.slug, "status": t.status, "settings": t.settings })
}

/// The tenant row, for members with `tenant.read`.
pub async fn get_tenant(ctx: &Ctx, tctx: &TenantCtx) -> AppResult<tenant::Model> {
    tctx.require(Permission::TenantRead)?;
    let scope = tctx.scope();
    scope.find::<tenant::Entity>().one(&tctx.on(&ctx.db)).await?.ok_or(AppError::NotFound("tenant"))
}

/// The id behind a slug, if any. Says nothing about access: a lookup across tenants that
/// precedes the access check (and the slug uniqueness check).
pub async fn tenant_id_by_slug(
    across: &impl sea_orm::ConnectionTrait,
    slug: &str,
) -> AppResult<Option<Uuid>> {
    Ok(tenant::Entity::find()
        .select_only()
        .column(tenant::Column::Id)
        .filter(tenant::Column::Slug.eq(slug.trim()))
        .into_tuple::<Uuid>()
        .one(across)
        .await?)
}

/// Applies `edit` to the tenant row in one transaction with its audit entry, then tells
/// subscribers. The shared path of every change to the tenant itself.
pub(crate) async fn change_tenant(
    ctx: &Ctx,
    tctx: &TenantCtx,
    action: &str,
    edit: impl FnOnce(&tenant::Model, &mut tenant::ActiveModel) -> AppResult<()>,
) -> AppResult<tenant::Model> {
    // The callers checked the permission each change needs.
    let mut tx = TenantTx::open(ctx, tctx).await?;
    let scope = tx.scope();
    // Read-merge-write of the settings JSON: serialise concurrent changes.
    crate::db::lock_tenant(&tx, scope).await?;
    let current = scope.find::<tenant::Entity>().one(&tx).await?.ok_or(AppError::NotFound("tenant"))?;
    let before = tenant_summary(&current);
    let mut am: tenant::ActiveModel = current.clone().into();
    edit(&current, &mut am)?;
    let now = ctx.now();
    am.updated_at = Set(now);
    let updated =
        am.update(&tx).await.map_err(|e| AppError::from_db_unique(e, "input.slug", "this slug is taken"))?;
    tx.audit(Change {
        action,
        target_type: "Tenant",
        target_id: Some(updated.id),
        before: Some(before),
        after: Some(tenant_summary(&updated)),
    })
    .await?;
    tx.emit(
        events::topic(tctx.tenant_id),
        &event(TenantEventKind::TenantUpdated, tctx.tenant_id, None, Some(tctx.user_id), now),
    );
    tx.commit().await?;
    Ok(updated)
}

/// Renames the organisation or changes its slug (`tenant.update`).
pub async fn update_tenant(
    ctx: &Ctx,
    tctx: &TenantCtx,
    name: Option<&str>,
    slug: Option<&str>,
) -> AppResult<tenant::Model> {
    tctx.require(Permission::TenantUpdate)?;
    let name = name.map(|n| validate_tenant_name("input.name", n)).transpose()?;
    let slug = slug.map(|s| validate_slug("input.slug", s)).transpose()?;
    if let Some(slug) = &slug
        && tenant_id_by_slug(&tctx.reads.across(&ctx.db), slug).await?.is_some_and(|id| id != tctx.tenant_id)
    {
        return Err(AppError::conflict("input.slug", "this slug is taken"));
    }
    change_tenant(ctx, tctx, "tenant.updated", |_, am| {
        if let Some(name) = name {
            am.name = Set(name);
        }
        if let Some(slug) = slug {
            am.slug = Set(slug);
        }
        Ok(())
    })
    .await
}

/// A page of the organisations the viewer is an active member of.
pub async fn viewer_tenants(
    ctx: &Ctx,
    viewer: &Viewer,
    page: PageArgs,
) -> AppResult<crate::db::page::Rows<tenant::Model>> {
    let mine = membership::Entity::find()
        .select_only()
        .column(membership::Column::TenantId)
        .filter(membership::Column::UserId.eq(viewer.user_id))
        .filter(membership::Column::Status.eq(MembershipStatus::Active))
        .into_query();
    let select = tenant::Entity::find().filter(tenant::Column::Id.in_subquery(mine));
    // The viewer's own memberships, across tenants, decide which organisations are listed.
    let window = page.window(ctx.config.max_page_size)?;
    Ok(crate::db::page::page(&crate::db::across_tenants(&ctx.db), select, tenant::Column::Id, window).await?)
}

/// Validates a page request of the organisation's members (`members.read`).
pub fn members_window(ctx: &Ctx, tctx: &TenantCtx, args: &PageArgs) -> AppResult<Window> {
    tctx.require(Permission::MembersRead)?;
    args.window(ctx.config.max_page_size)
}

/// Validates a page request of the organisation's roles (`tenant.read`).
pub fn roles_window(ctx: &Ctx, tctx: &TenantCtx, args: &PageArgs) -> AppResult<Window> {
    tctx.require(Permission::TenantRead)?;
    args.window(ctx.config.max_page_size)
}

/// One membership of the tenant (`members.read`, or the viewer's own).
/// Whether the viewer may read membership `m` of their tenant: their own, or any with
/// `members.read`.
pub fn may_read_membership(tctx: &TenantCtx, m: &membership::Model) -> AppResult<()> {
    if m.id != tctx.membership_id {
        tctx.require(Permission::MembersRead)?;
    }
    Ok(())
}

pub async fn get_membership(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> AppResult<membership::Model> {
    if id != tctx.membership_id {
        tctx.require(Permission::MembersRead)?;
    }
    let scope = tctx.scope();
    scope
        .find_by_id::<membership::Entity, _>(&tctx.on(&ctx.db), id)
        .await?
        .ok_or(AppError::NotFound("membership"))
}

/// One role of the tenant (`tenant.read`).
pub async fn get_role(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> AppResult<role::Model> {
    tctx.require(Permission::TenantRead)?;
    let scope = tctx.scope();
    scope.find_by_id::<role::Entity, _>(&tctx.on(&ctx.db), id).await?.ok_or(AppError::NotFound("role"))
}

/// Whether `viewer` may see user `user_id`: themselves, or someone sharing an organisation
/// in which the viewer may read members.
pub async fn can_see_user(ctx: &Ctx, viewer: &Viewer, user_id: Uuid) -> AppResult<bool> {
    if viewer.user_id == user_id {
        return Ok(true);
    }
    // Their organisations, across tenants; the viewer's access to each then decides.
    let theirs: Vec<Uuid> = membership::Entity::find()
        .select_only()
        .column(membership::Column::TenantId)
        .filter(membership::Column::UserId.eq(user_id))
        .filter(membership::Column::Status.eq(MembershipStatus::Active))
        .into_tuple()
        .all(&crate::db::across_tenants(&ctx.db))
        .await?;
    let access = crate::access::access(ctx, viewer.user_id, &theirs).await?;
    Ok(access.values().any(|t| !t.mfa_missing && t.has(Permission::MembersRead)))
}
