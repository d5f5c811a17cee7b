//! Business logic of organisations, memberships and roles.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use entity::{membership, role, tenant};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QuerySelect,
    QueryTrait, Set,
};
use uuid::Uuid;

use super::{
    events::{self, TenantEventKind, TenantEventPayload},
    types::Tenant,
};
use crate::{
    access::TenantCtx,
    auth::{Permission, RequestCtx, Viewer, permissions::BUILTIN_ROLES},
    db::page::Window,
    db::{TenantScope, begin_tenant_txn},
    error::{AppError, AppResult},
    graphql::relay::{Conn, PageArgs, paginate},
    modules::audit::service::{self as audit, Change},
    startup::AppState,
};

pub const ACTIVE: &str = "active";
pub const SUSPENDED: &str = "suspended";

/// The viewer's access to each of `tenant_ids` they are an active member of: three
/// statements whatever the number of tenants. Tenants missing from the result are
/// NOT_FOUND for this user.
pub async fn access(
    pool: &DatabaseConnection,
    user_id: Uuid,
    tenant_ids: &[Uuid],
) -> Result<HashMap<Uuid, TenantCtx>, DbErr> {
    // The membership lookup *is* the access check, so it filters by user, not by a scope,
    // and looks across tenants.
    let memberships = membership::Entity::find()
        .filter(membership::Column::UserId.eq(user_id))
        .filter(membership::Column::TenantId.is_in(tenant_ids.iter().copied()))
        .filter(membership::Column::Status.eq(ACTIVE))
        .all(&crate::db::across_tenants(pool))
        .await?;
    if memberships.is_empty() {
        return Ok(HashMap::new());
    }
    let tenants: Vec<Uuid> = memberships.iter().map(|m| m.tenant_id).collect();
    // From here on only the tenants the user is a member of.
    let db = &crate::db::tenants_conn(pool, tenants.iter().copied());
    let mut graphs = crate::modules::roles::service::role_graphs(db, &tenants).await?;
    let states: Vec<(Uuid, String, Option<serde_json::Value>)> = tenant::Entity::find()
        .select_only()
        .column(tenant::Column::Id)
        .column(tenant::Column::Status)
        .column(tenant::Column::Settings)
        .filter(tenant::Column::Id.is_in(tenants.iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    let suspended: HashSet<Uuid> =
        states.iter().filter(|(_, status, _)| status == SUSPENDED).map(|(id, _, _)| *id).collect();
    let requiring_mfa: HashSet<Uuid> = states
        .iter()
        .filter(|(_, _, settings)| {
            settings.as_ref().and_then(|s| s.pointer("/security/requireMfa")).and_then(|v| v.as_bool())
                == Some(true)
        })
        .map(|(id, _, _)| *id)
        .collect();
    // Only asked when some organisation requires MFA.
    let has_mfa = if requiring_mfa.is_empty() {
        true
    } else {
        entity::user::Entity::find_by_id(user_id).one(db).await?.is_some_and(|u| u.mfa_enabled())
    };
    Ok(memberships
        .into_iter()
        .filter_map(|m| {
            let graph = std::sync::Arc::new(graphs.remove(&m.tenant_id)?);
            let role = graph.roles.get(&m.role_id)?;
            Some((
                m.tenant_id,
                TenantCtx {
                    user_id,
                    tenant_id: m.tenant_id,
                    membership_id: m.id,
                    role_id: role.id,
                    role_key: role.key.clone(),
                    permissions: graph.effective(role.id),
                    suspended: suspended.contains(&m.tenant_id),
                    roles: graph.clone(),
                    mfa_missing: !has_mfa && requiring_mfa.contains(&m.tenant_id),
                    actor: std::sync::Arc::new(crate::access::Actor::user(user_id)),
                },
            ))
        })
        .collect())
}

/// One tenant's access for `viewer`, or NOT_FOUND.
pub async fn access_one(app: &AppState, viewer: &Viewer, tenant_id: Uuid) -> AppResult<TenantCtx> {
    access(&app.db, viewer.user_id, &[tenant_id])
        .await?
        .remove(&tenant_id)
        .ok_or(AppError::NotFound("tenant"))
        .and_then(require_mfa_met)
}

/// MFA_REQUIRED when the organisation requires two-factor authentication the member lacks.
pub fn require_mfa_met(tctx: TenantCtx) -> AppResult<TenantCtx> {
    if tctx.mfa_missing {
        return Err(AppError::rejected(
            "MFA_REQUIRED",
            "tenant",
            "this organisation requires two-factor authentication: turn it on in your account \
             (startTotpEnrollment) to reach its data",
        ));
    }
    Ok(tctx)
}

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

/// Slugs: 3–40 characters of `a-z`, `0-9` and `-`, starting and ending with a letter or digit.
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
    Ok(slug.to_string())
}

/// Creates an organisation with its built-in roles and makes the viewer its owner.
pub async fn create_tenant(
    app: &AppState,
    rctx: &RequestCtx,
    name: &str,
    slug: &str,
) -> AppResult<tenant::Model> {
    let viewer = rctx.viewer()?;
    let name = validate_tenant_name("input.name", name)?;
    let slug = validate_slug("input.slug", slug)?;
    let user = crate::modules::identity::service::viewer_user(app, viewer).await?;
    if user.email_verified_at.is_none() {
        return Err(AppError::EmailNotVerified);
    }
    // Slugs are unique across all organisations.
    if tenant::Entity::find()
        .filter(tenant::Column::Slug.eq(&slug))
        .one(&crate::db::across_tenants(&app.db))
        .await?
        .is_some()
    {
        return Err(AppError::conflict("input.slug", "this slug is taken"));
    }
    let now = Utc::now();
    let tenant_id = Uuid::now_v7();
    let scope = TenantScope::new(tenant_id);
    let txn = begin_tenant_txn(&app.db, scope).await?;
    let tenant = tenant::ActiveModel {
        id: Set(tenant_id),
        name: Set(name),
        slug: Set(slug),
        status: Set(ACTIVE.into()),
        created_at: Set(now),
        updated_at: Set(now),
        settings: Set(None),
        features: Set(None),
    }
    .insert(&txn)
    .await
    .map_err(|e| AppError::from_db_unique(e, "input.slug", "this slug is taken"))?;
    let mut owner_role = None;
    for builtin in BUILTIN_ROLES {
        let role = scope
            .insert(
                &txn,
                role::ActiveModel {
                    id: Set(Uuid::now_v7()),
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
        if builtin.key == "owner" {
            owner_role = Some(role.id);
        }
    }
    let membership = scope
        .insert(
            &txn,
            membership::ActiveModel {
                id: Set(Uuid::now_v7()),
                tenant_id: Set(tenant_id),
                user_id: Set(viewer.user_id),
                role_id: Set(owner_role.ok_or_else(|| anyhow::anyhow!("no owner role defined"))?),
                status: Set(ACTIVE.into()),
                created_at: Set(now),
                updated_at: Set(now),
            },
        )
        .await?;
    audit::commit(
        app,
        txn,
        scope,
        rctx,
        Change {
            action: "tenant.created",
            target_type: "Tenant",
            target_id: Some(tenant_id),
            before: None,
            after: Some(tenant_summary(&tenant)),
        },
    )
    .await?;
    publish(app, TenantEventKind::MemberJoined, tenant_id, Some(membership.id), Some(viewer.user_id)).await;
    Ok(tenant)
}

pub(crate) async fn publish(
    app: &AppState,
    kind: TenantEventKind,
    tenant_id: Uuid,
    membership_id: Option<Uuid>,
    actor_id: Option<Uuid>,
) {
    let payload = TenantEventPayload { kind, tenant_id, membership_id, actor_id, occurred_at: Utc::now() };
    app.publish(&events::topic(tenant_id), &payload).await;
}

/// What the audit log keeps of a tenant.
fn tenant_summary(t: &tenant::Model) -> serde_json::Value {
    serde_json::json!({ "name": t.name, "slug": t.slug, "status": t.status, "settings": t.settings })
}

/// The tenant row, for members with `tenant.read`.
pub async fn get_tenant(app: &AppState, tctx: &TenantCtx) -> AppResult<tenant::Model> {
    tctx.require(Permission::TenantRead)?;
    let scope = tctx.scope();
    scope.find::<tenant::Entity>().one(&scope.on(&app.db)).await?.ok_or(AppError::NotFound("tenant"))
}

/// The id behind a slug, if any. Says nothing about access: a lookup across tenants that
/// precedes the access check (and the slug uniqueness check).
pub async fn tenant_id_by_slug(app: &AppState, slug: &str) -> AppResult<Option<Uuid>> {
    Ok(tenant::Entity::find()
        .select_only()
        .column(tenant::Column::Id)
        .filter(tenant::Column::Slug.eq(slug.trim()))
        .into_tuple::<Uuid>()
        .one(&crate::db::across_tenants(&app.db))
        .await?)
}

/// Applies `edit` to the tenant row in one transaction with its audit entry, then tells
/// subscribers. The shared path of every change to the tenant itself.
pub(crate) async fn change_tenant(
    app: &AppState,
    rctx: &RequestCtx,
    tctx: &TenantCtx,
    action: &str,
    edit: impl FnOnce(&tenant::Model, &mut tenant::ActiveModel) -> AppResult<()>,
) -> AppResult<tenant::Model> {
    let scope = tctx.scope();
    let txn = begin_tenant_txn(&app.db, scope).await?;
    // Read-merge-write of the settings JSON: serialise concurrent changes.
    crate::db::lock_tenant(&txn, scope).await?;
    let current = scope.find::<tenant::Entity>().one(&txn).await?.ok_or(AppError::NotFound("tenant"))?;
    let before = tenant_summary(&current);
    let mut am: tenant::ActiveModel = current.clone().into();
    edit(&current, &mut am)?;
    am.updated_at = Set(Utc::now());
    let updated =
        am.update(&txn).await.map_err(|e| AppError::from_db_unique(e, "input.slug", "this slug is taken"))?;
    audit::commit(
        app,
        txn,
        scope,
        rctx,
        Change {
            action,
            target_type: "Tenant",
            target_id: Some(updated.id),
            before: Some(before),
            after: Some(tenant_summary(&updated)),
        },
    )
    .await?;
    publish(app, TenantEventKind::TenantUpdated, tctx.tenant_id, None, Some(tctx.user_id)).await;
    Ok(updated)
}

/// Renames the organisation or changes its slug (`tenant.update`).
pub async fn update_tenant(
    app: &AppState,
    rctx: &RequestCtx,
    tctx: &TenantCtx,
    name: Option<&str>,
    slug: Option<&str>,
) -> AppResult<tenant::Model> {
    tctx.require(Permission::TenantUpdate)?;
    let name = name.map(|n| validate_tenant_name("input.name", n)).transpose()?;
    let slug = slug.map(|s| validate_slug("input.slug", s)).transpose()?;
    if let Some(slug) = &slug
        && tenant_id_by_slug(app, slug).await?.is_some_and(|id| id != tctx.tenant_id)
    {
        return Err(AppError::conflict("input.slug", "this slug is taken"));
    }
    change_tenant(app, rctx, tctx, "tenant.updated", |_, am| {
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

/// Organisations the viewer is an active member of.
pub async fn viewer_tenants(app: &AppState, viewer: &Viewer, page: PageArgs) -> AppResult<Conn<Tenant>> {
    let mine = membership::Entity::find()
        .select_only()
        .column(membership::Column::TenantId)
        .filter(membership::Column::UserId.eq(viewer.user_id))
        .filter(membership::Column::Status.eq(ACTIVE))
        .into_query();
    let select = tenant::Entity::find().filter(tenant::Column::Id.in_subquery(mine));
    // The viewer's own memberships, across tenants, decide which organisations are listed.
    paginate(
        &crate::db::across_tenants(&app.db),
        select,
        tenant::Column::Id,
        |t| t.id,
        page,
        app.config.max_page_size,
        Tenant,
    )
    .await
}

/// Validates a page request of the organisation's members (`members.read`).
pub fn members_window(app: &AppState, tctx: &TenantCtx, args: &PageArgs) -> AppResult<Window> {
    tctx.require(Permission::MembersRead)?;
    args.window(app.config.max_page_size)
}

/// Validates a page request of the organisation's roles (`tenant.read`).
pub fn roles_window(app: &AppState, tctx: &TenantCtx, args: &PageArgs) -> AppResult<Window> {
    tctx.require(Permission::TenantRead)?;
    args.window(app.config.max_page_size)
}

/// One membership of the tenant (`members.read`, or the viewer's own).
pub async fn get_membership(app: &AppState, tctx: &TenantCtx, id: Uuid) -> AppResult<membership::Model> {
    if id != tctx.membership_id {
        tctx.require(Permission::MembersRead)?;
    }
    let scope = tctx.scope();
    scope
        .find_by_id::<membership::Entity, _>(&scope.on(&app.db), id)
        .await?
        .ok_or(AppError::NotFound("membership"))
}

/// One role of the tenant (`tenant.read`).
pub async fn get_role(app: &AppState, tctx: &TenantCtx, id: Uuid) -> AppResult<role::Model> {
    tctx.require(Permission::TenantRead)?;
    let scope = tctx.scope();
    scope.find_by_id::<role::Entity, _>(&scope.on(&app.db), id).await?.ok_or(AppError::NotFound("role"))
}

/// Whether `viewer` may see user `user_id`: themselves, or someone sharing an organisation
/// in which the viewer may read members.
pub async fn can_see_user(app: &AppState, viewer: &Viewer, user_id: Uuid) -> AppResult<bool> {
    if viewer.user_id == user_id {
        return Ok(true);
    }
    // Their organisations, across tenants; the viewer's access to each then decides.
    let theirs: Vec<Uuid> = membership::Entity::find()
        .select_only()
        .column(membership::Column::TenantId)
        .filter(membership::Column::UserId.eq(user_id))
        .filter(membership::Column::Status.eq(ACTIVE))
        .into_tuple()
        .all(&crate::db::across_tenants(&app.db))
        .await?;
    let access = access(&app.db, viewer.user_id, &theirs).await?;
    Ok(access.values().any(|t| !t.mfa_missing && t.has(Permission::MembersRead)))
}
