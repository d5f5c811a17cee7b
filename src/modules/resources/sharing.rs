//! Share links and downloads: a link is signed (`<link id>.<HMAC of it>` under a key derived
//! from the master key, so nothing secret is stored and a forged or altered token fails
//! before any lookup), expires, may be revoked, and may ask for a password (hashed like
//! account passwords). Every download — by a member or through a link — is logged with who
//! or which link, when, and from where, and counted on the resource and the link.

use chrono::{DateTime, Duration, Utc};
use entity::{
    resource::{self, Visibility},
    resource_download, resource_share_link, resource_version,
};
use sea_orm::{
    ColumnTrait, QueryFilter, Set,
    sea_query::{Expr, ExprTrait},
};
use serde_json::json;
use uuid::Uuid;

use super::access::visible_resource;
use crate::{
    access::{Change, TenantCtx, TenantTx},
    auth::Permission,
    ctx::Ctx,
    error::{AppError, AppResult},
    startup::AppState,
};

const PURPOSE: &str = "resource-share-link";
const DOWNLOAD_PURPOSE: &str = "resource-download";

/// The token of share link `id`.
pub fn token(ctx: &Ctx, id: Uuid) -> String {
    let id = id.simple().to_string();
    format!("{id}.{}", ctx.keys.sign(PURPOSE, &id))
}

/// The link id a token names, if its signature holds.
pub fn verify_token(ctx: &Ctx, token: &str) -> Option<Uuid> {
    let (id, sig) = token.split_once('.')?;
    ctx.keys.verify(PURPOSE, id, sig).then(|| Uuid::parse_str(id).ok()).flatten()
}

/// Where a share link opens in the web app.
pub fn share_url(ctx: &Ctx, id: Uuid) -> String {
    format!("{}/share/{}", ctx.config.public_url.trim_end_matches('/'), token(ctx, id))
}

/// A short-lived download address of version `version` for `user` (an `<img src>` or a plain
/// link cannot carry a bearer token): signed, valid for 15 minutes.
pub fn download_path(ctx: &Ctx, version: Uuid, user: Option<Uuid>) -> String {
    let expires = (ctx.now() + Duration::minutes(15)).timestamp();
    let user = user.map(|u| u.simple().to_string()).unwrap_or_default();
    let sig = ctx.keys.sign(DOWNLOAD_PURPOSE, &format!("{version}.{user}.{expires}"));
    format!("/resources/versions/{version}/download?user={user}&expires={expires}&sig={sig}")
}

/// The user a signed download address was made for, if it holds and has not expired.
pub fn verify_download(ctx: &Ctx, version: Uuid, user: &str, expires: i64, sig: &str) -> Option<Uuid> {
    if expires < ctx.now().timestamp()
        || !ctx.keys.verify(DOWNLOAD_PURPOSE, &format!("{version}.{user}.{expires}"), sig)
    {
        return None;
    }
    Uuid::parse_str(user).ok()
}

/// A share link as asked for.
pub struct ShareLinkFields {
    pub version_id: Option<Uuid>,
    pub expires_at: Option<DateTime<Utc>>,
    pub password: Option<String>,
}

/// Creates a share link of a LINK-visible resource (needs `resources.share`).
pub async fn create_link(
    app: &AppState,
    tctx: &TenantCtx,
    resource_id: Uuid,
    f: ShareLinkFields,
) -> AppResult<resource_share_link::Model> {
    tctx.require(Permission::ResourcesShare)?;
    let now = app.now();
    let max = app.config.storage.share_link_max_days;
    let expires_at = f.expires_at.unwrap_or(now + Duration::days(7));
    if expires_at <= now {
        return Err(AppError::validation("input.expiresAt", "must be in the future"));
    }
    if expires_at > now + Duration::days(max) {
        return Err(AppError::validation(
            "input.expiresAt",
            format!("a link lives at most {max} days (ZYGO_RESOURCE_SHARE_LINK_MAX_DAYS)"),
        ));
    }
    let password_hash = match f.password {
        Some(p) if p.chars().count() < 4 || p.len() > 200 => {
            return Err(AppError::validation("input.password", "4 to 200 characters"));
        }
        Some(p) => Some(app.passwords.hash(p).await?),
        None => None,
    };
    let tx = TenantTx::begin(app, tctx, Permission::ResourcesShare).await?;
    let r = visible_resource(&tx, tctx, resource_id, false).await?;
    if r.visibility != Visibility::Link {
        return Err(AppError::rejected(
            "NOT_SHAREABLE",
            "input.resourceId",
            "only a resource of LINK visibility has share links; change its visibility first",
        ));
    }
    if let Some(v) = f.version_id {
        let found = tx.scope().find_by_id::<resource_version::Entity, _>(&tx, v).await?;
        if found.is_none_or(|found| found.resource_id != resource_id) {
            return Err(AppError::validation("input.versionId", "not a version of this resource"));
        }
    }
    let id = Uuid::now_v7();
    let link = tx
        .scope()
        .insert(
            &tx,
            resource_share_link::ActiveModel {
                id: Set(id),
                tenant_id: Set(tctx.tenant_id),
                resource_id: Set(resource_id),
                version_id: Set(f.version_id),
                password_hash: Set(password_hash),
                expires_at: Set(expires_at),
                revoked_at: Set(None),
                download_count: Set(0),
                created_by: Set(tctx.acting_user()),
                created_at: Set(now),
            },
        )
        .await?;
    tx.commit_with(Change {
        action: "resource.share_link_created",
        target_type: "Resource",
        target_id: Some(resource_id),
        before: None,
        after: Some(json!({ "shareLinkId": id, "expiresAt": expires_at, "passwordProtected": link.password_hash.is_some(), "versionId": f.version_id })),
    })
    .await?;
    Ok(link)
}

/// Revokes a share link (at once: the next download through it is refused).
pub async fn revoke_link(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> AppResult<resource_share_link::Model> {
    let tx = TenantTx::begin(ctx, tctx, Permission::ResourcesShare).await?;
    let link = tx
        .scope()
        .find_by_id::<resource_share_link::Entity, _>(&tx, id)
        .await?
        .ok_or(AppError::NotFound("share link"))?;
    visible_resource(&tx, tctx, link.resource_id, true)
        .await
        .map_err(|_| AppError::NotFound("share link"))?;
    if link.revoked_at.is_some() {
        return Ok(link);
    }
    let mut am: resource_share_link::ActiveModel = link.into();
    am.revoked_at = Set(Some(ctx.now()));
    let link = tx.scope().update(&tx, am).await?;
    tx.commit_with(Change {
        action: "resource.share_link_revoked",
        target_type: "Resource",
        target_id: Some(link.resource_id),
        before: None,
        after: Some(json!({ "shareLinkId": id })),
    })
    .await?;
    Ok(link)
}

/// What a share link opens, for its holder.
pub struct Shared {
    pub tenant: Uuid,
    pub link: resource_share_link::Model,
    pub resource: resource::Model,
    pub version: resource_version::Model,
}

/// Why a share link opens nothing.
#[derive(Debug, PartialEq, Eq)]
pub enum LinkRefusal {
    /// Unknown, forged, revoked, expired, or its resource is gone or no longer LINK-visible.
    Gone,
    /// A password is required and the one given (if any) is wrong.
    Password,
}

/// Opens the share link of `token` (checking `password` when it has one).
pub async fn open_link(
    app: &AppState,
    token: &str,
    password: Option<String>,
    check_password: bool,
) -> AppResult<Result<Shared, LinkRefusal>> {
    let Some(id) = verify_token(app, token) else { return Ok(Err(LinkRefusal::Gone)) };
    // The signed token names the link; its organisation is found across tenants, then
    // everything is read behind that organisation's wall.
    let across = crate::db::across_tenants(&app.db);
    let Some(tenant) =
        crate::db::owning_tenant::<resource_share_link::Entity>(&across, resource_share_link::Column::Id, id)
            .await?
    else {
        return Ok(Err(LinkRefusal::Gone));
    };
    let tctx = TenantCtx::system(tenant);
    let db = tctx.on(&app.db);
    let scope = tctx.scope();
    let Some(link) = scope.find_by_id::<resource_share_link::Entity, _>(&db, id).await? else {
        return Ok(Err(LinkRefusal::Gone));
    };
    let now = app.now();
    if link.revoked_at.is_some() || link.expires_at <= now {
        return Ok(Err(LinkRefusal::Gone));
    }
    let Some(r) = scope.find_by_id::<resource::Entity, _>(&db, link.resource_id).await? else {
        return Ok(Err(LinkRefusal::Gone));
    };
    if r.deleted_at.is_some() || r.visibility != Visibility::Link {
        return Ok(Err(LinkRefusal::Gone));
    }
    let Some(version_id) = link.version_id.or(r.current_version_id) else {
        return Ok(Err(LinkRefusal::Gone));
    };
    let Some(version) = scope.find_by_id::<resource_version::Entity, _>(&db, version_id).await? else {
        return Ok(Err(LinkRefusal::Gone));
    };
    tctx.reads.release().await;
    if check_password && link.password_hash.is_some() {
        let ok = match password {
            Some(p) => app.passwords.verify(p, link.password_hash.clone()).await?,
            None => false,
        };
        if !ok {
            return Ok(Err(LinkRefusal::Password));
        }
    }
    Ok(Ok(Shared { tenant, link, resource: r, version }))
}

/// Who downloaded, and from where.
pub struct Downloader {
    pub user_id: Option<Uuid>,
    pub share_link_id: Option<Uuid>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// Logs one download of `version` and counts it on the resource (and the link).
pub async fn record_download(
    ctx: &Ctx,
    tenant: Uuid,
    version: &resource_version::Model,
    who: Downloader,
) -> AppResult<()> {
    let tctx = TenantCtx::system(tenant);
    // The log is the record of this write; it is not an audited change of the resource.
    let tx = TenantTx::open(ctx, &tctx).await?;
    let scope = tx.scope();
    scope
        .insert(
            &tx,
            resource_download::ActiveModel {
                id: Set(Uuid::now_v7()),
                tenant_id: Set(tenant),
                resource_id: Set(version.resource_id),
                version_id: Set(version.id),
                user_id: Set(who.user_id),
                share_link_id: Set(who.share_link_id),
                ip: Set(who.ip),
                user_agent: Set(who.user_agent.map(|u| u.chars().take(512).collect())),
                created_at: Set(ctx.now()),
            },
        )
        .await?;
    scope
        .update_many::<resource::Entity>()
        .col_expr(resource::Column::DownloadCount, Expr::col(resource::Column::DownloadCount).add(1))
        .filter(resource::Column::Id.eq(version.resource_id))
        .exec(&tx)
        .await?;
    if let Some(link) = who.share_link_id {
        scope
            .update_many::<resource_share_link::Entity>()
            .col_expr(
                resource_share_link::Column::DownloadCount,
                Expr::col(resource_share_link::Column::DownloadCount).add(1),
            )
            .filter(resource_share_link::Column::Id.eq(link))
            .exec(&tx)
            .await?;
    }
    tx.commit().await
}
