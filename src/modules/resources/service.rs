//! Resources' details and life: listing what the member may see, renaming, moving between
//! folders, tagging, changing the visibility, soft delete and restore.

use entity::{
    resource::{self, Visibility},
    resource_version, team,
};
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter, Set};
use serde_json::{Value, json};
use uuid::Uuid;

use super::access::{my_teams, visible_condition, visible_resource};
use crate::{
    access::{Change, TenantCtx, TenantTx},
    auth::Permission,
    ctx::Ctx,
    db::page::{Rows, Window},
    error::{AppError, AppResult},
};

/// A resource's details as given (none: unchanged, or the default on creation).
#[derive(Default)]
pub struct ResourceFields {
    pub team_id: Option<Uuid>,
    pub name: Option<String>,
    pub folder: Option<String>,
    pub tags: Option<Vec<String>>,
    pub visibility: Option<Visibility>,
}

/// Most tags one resource carries.
pub const MAX_TAGS: usize = 20;

/// Checks and normalises `f`: a name of 1–255 characters, a folder path of `/`-separated
/// names (`/` the root), at most [`MAX_TAGS`] tags of 1–50 characters each once, and TEAM
/// visibility only for a team's resource.
pub fn check_fields(mut f: ResourceFields) -> AppResult<ResourceFields> {
    if let Some(name) = &f.name {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 255 || name.chars().any(char::is_control) {
            return Err(AppError::validation("input.name", "1 to 255 characters, no control characters"));
        }
        f.name = Some(name.to_string());
    }
    if let Some(folder) = &f.folder {
        f.folder = Some(normalise_folder(folder)?);
    }
    if let Some(tags) = &f.tags {
        let mut out: Vec<String> = Vec::new();
        for t in tags {
            let t = t.trim().to_lowercase();
            if t.is_empty() || t.chars().count() > 50 {
                return Err(AppError::validation("input.tags", "each tag holds 1 to 50 characters"));
            }
            if !out.contains(&t) {
                out.push(t);
            }
        }
        if out.len() > MAX_TAGS {
            return Err(AppError::validation("input.tags", format!("at most {MAX_TAGS} tags")));
        }
        f.tags = Some(out);
    }
    if f.visibility == Some(Visibility::Team) && f.team_id.is_none() {
        return Err(AppError::validation(
            "input.visibility",
            "TEAM visibility needs the resource's team (teamId)",
        ));
    }
    Ok(f)
}

/// `/a/b` from `a/b/`, ` / a //b`; `/` for the root. Names of 1–100 characters, without
/// `..`, at most 10 deep.
pub fn normalise_folder(raw: &str) -> AppResult<String> {
    let parts: Vec<&str> = raw.split('/').map(str::trim).filter(|p| !p.is_empty()).collect();
    let bad = |why: &str| AppError::validation("input.folder", why.to_string());
    if parts.len() > 10 {
        return Err(bad("at most 10 folders deep"));
    }
    if parts
        .iter()
        .any(|p| *p == "." || *p == ".." || p.chars().count() > 100 || p.chars().any(char::is_control))
    {
        return Err(bad("folder names hold 1 to 100 characters and are not `.` or `..`"));
    }
    Ok(format!("/{}", parts.join("/")))
}

/// Refuses a team the organisation does not have.
pub async fn require_team(db: &impl ConnectionTrait, tctx: &TenantCtx, team: Uuid) -> AppResult<()> {
    match tctx.scope().find_by_id::<team::Entity, _>(db, team).await? {
        Some(_) => Ok(()),
        None => Err(AppError::validation("input.teamId", "no such team in this organisation")),
    }
}

/// What an audit entry says of a resource (and of the version just added).
pub fn summary(r: &resource::Model, v: Option<&resource_version::Model>) -> Value {
    let mut out = json!({
        "name": r.name, "folder": r.folder, "tags": r.tags, "visibility": r.visibility,
        "teamId": r.team_id, "versions": r.version_count, "deleted": r.deleted_at.is_some(),
    });
    if let Some(v) = v {
        out["version"] = json!({ "number": v.number, "filename": v.filename, "sizeBytes": v.size_bytes, "sha256": v.sha256, "mimeType": v.mime_type });
    }
    out
}

/// Narrows a list of resources.
#[derive(Clone, Debug, Default)]
pub struct ResourceFilter {
    /// Only this folder (not its subfolders).
    pub folder: Option<String>,
    pub tag: Option<String>,
    /// The bin instead of the live resources.
    pub deleted: bool,
}

/// One page of the resources the member may see.
pub async fn list(
    ctx: &Ctx,
    tctx: &TenantCtx,
    filter: ResourceFilter,
    window: Window,
) -> AppResult<Rows<resource::Model>> {
    tctx.require(Permission::ResourcesRead)?;
    let db = tctx.on(&ctx.db);
    let teams = my_teams(&db, tctx).await?;
    let mut select = tctx.scope().find::<resource::Entity>().filter(visible_condition(tctx, &teams));
    select = if filter.deleted {
        select.filter(resource::Column::DeletedAt.is_not_null())
    } else {
        select.filter(resource::Column::DeletedAt.is_null())
    };
    if let Some(folder) = &filter.folder {
        select = select.filter(resource::Column::Folder.eq(normalise_folder(folder)?));
    }
    let mut rows = crate::db::page::page(&db, select, resource::Column::Id, window).await?;
    // Tags are a JSON array: filtered here, on the page (a tag filter narrows what is shown).
    if let Some(tag) = filter.tag.map(|t| t.trim().to_lowercase()) {
        rows.rows.retain(|r| r.tags.as_array().is_some_and(|a| a.iter().any(|t| t.as_str() == Some(&tag))));
    }
    Ok(rows)
}

/// Resource `id` if the member may see it (from the bin too).
pub async fn get(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> AppResult<resource::Model> {
    visible_resource(&tctx.on(&ctx.db), tctx, id, true).await
}

/// Changes the details given. Only the uploader, or a holder of `resources.delete`, may make
/// a resource PRIVATE again or change another's visibility.
pub async fn update(
    ctx: &Ctx,
    tctx: &TenantCtx,
    id: Uuid,
    fields: ResourceFields,
) -> AppResult<resource::Model> {
    tctx.require(Permission::ResourcesWrite)?;
    let tx = TenantTx::begin(ctx, tctx, Permission::ResourcesWrite).await?;
    let before = visible_resource(&tx, tctx, id, false).await?;
    let fields = check_fields(ResourceFields { team_id: fields.team_id.or(before.team_id), ..fields })?;
    let mine = before.created_by.is_some() && before.created_by == tctx.acting_user();
    if fields.visibility.is_some_and(|v| v != before.visibility)
        && !mine
        && !tctx.has(Permission::ResourcesDelete)
    {
        return Err(AppError::ForbiddenWith(
            "only the uploader (or a holder of resources.delete) changes who may see a file".into(),
        ));
    }
    if let Some(team) = fields.team_id.filter(|t| Some(*t) != before.team_id) {
        require_team(&tx, tctx, team).await?;
    }
    let mut am: resource::ActiveModel = before.clone().into();
    if let Some(n) = fields.name {
        am.name = Set(n);
    }
    if let Some(f) = fields.folder {
        am.folder = Set(f);
    }
    if let Some(t) = fields.tags {
        am.tags = Set(json!(t));
    }
    if let Some(v) = fields.visibility {
        am.visibility = Set(v);
    }
    am.team_id = Set(fields.team_id);
    am.updated_at = Set(ctx.now());
    let after = tx.scope().update(&tx, am).await?;
    tx.commit_with(Change {
        action: "resource.updated",
        target_type: "Resource",
        target_id: Some(id),
        before: Some(summary(&before, None)),
        after: Some(summary(&after, None)),
    })
    .await?;
    Ok(after)
}

/// Moves a resource to the bin (`deleted`) or back out of it. Its versions stay stored (and
/// counted against the quota) so it can be restored.
pub async fn set_deleted(ctx: &Ctx, tctx: &TenantCtx, id: Uuid, deleted: bool) -> AppResult<resource::Model> {
    let tx = TenantTx::begin(ctx, tctx, Permission::ResourcesDelete).await?;
    let before = visible_resource(&tx, tctx, id, true).await?;
    if before.deleted_at.is_some() == deleted {
        return Err(AppError::rejected(
            if deleted { "ALREADY_DELETED" } else { "NOT_DELETED" },
            "id",
            if deleted { "the resource is already in the bin" } else { "the resource is not in the bin" },
        ));
    }
    let mut am: resource::ActiveModel = before.clone().into();
    am.deleted_at = Set(deleted.then(|| ctx.now()));
    am.updated_at = Set(ctx.now());
    let after = tx.scope().update(&tx, am).await?;
    tx.commit_with(Change {
        action: if deleted { "resource.deleted" } else { "resource.restored" },
        target_type: "Resource",
        target_id: Some(id),
        before: Some(summary(&before, None)),
        after: Some(summary(&after, None)),
    })
    .await?;
    Ok(after)
}

/// The versions of resources by id, for callers in other areas (studio sections): the
/// version and its resource when the member may see them.
pub async fn visible_version(
    db: &impl ConnectionTrait,
    tctx: &TenantCtx,
    version: Uuid,
) -> AppResult<(resource::Model, resource_version::Model)> {
    let v = tctx
        .scope()
        .find_by_id::<resource_version::Entity, _>(db, version)
        .await?
        .ok_or(AppError::NotFound("resource version"))?;
    let r = visible_resource(db, tctx, v.resource_id, false)
        .await
        .map_err(|_| AppError::NotFound("resource version"))?;
    Ok((r, v))
}

/// Checks the resource version an IMAGE or EMBED section names (`content.resourceVersionId`,
/// a `ResourceVersion` global ID, or null for none yet): a version of this organisation that
/// the editor may see, of a file not in the bin; an image for an IMAGE section. Errors name
/// `field.resourceVersionId`.
pub async fn check_section_reference(
    db: &impl ConnectionTrait,
    tctx: &TenantCtx,
    field: &str,
    image: bool,
    content: &Value,
) -> AppResult<()> {
    let field = format!("{field}.resourceVersionId");
    let Some(raw) = content.get("resourceVersionId").and_then(Value::as_str) else { return Ok(()) };
    let id = match crate::graphql::relay::from_global_id(&async_graphql::ID(raw.to_string())) {
        Some((kind, id)) if kind == crate::graphql::relay::kind::RESOURCE_VERSION => id,
        _ => return Err(AppError::validation(field, "not a ResourceVersion ID")),
    };
    let (_, version) = visible_version(db, tctx, id)
        .await
        .map_err(|_| AppError::validation(field.clone(), "no such file version that you may see"))?;
    if image && !version.mime_type.starts_with("image/") {
        return Err(AppError::validation(
            field,
            format!("an IMAGE section shows images; this is {}", version.mime_type),
        ));
    }
    Ok(())
}
