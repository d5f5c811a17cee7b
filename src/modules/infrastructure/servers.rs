//! Servers: what members ask for (create, delete, start, stop, reboot, resize — each an
//! audited change recording a durable provider action, see `actions.rs`) and reading them
//! (a page filtered by provider, status and label).

use entity::{cloud_provider, cloud_server, cloud_server::ServerStatus, infrastructure_action as action};
use sea_orm::{ColumnTrait, QueryFilter, Set};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{actions, providers::check_name};
use crate::{
    access::{Change, TenantCtx, TenantTx},
    auth::Permission,
    ctx::Ctx,
    db::page::{Rows, Window},
    error::{AppError, AppResult},
};

/// A server to create.
pub struct NewServer {
    pub provider: Uuid,
    pub name: String,
    pub server_type: String,
    pub image: String,
    pub location: String,
    pub labels: Value,
    pub idempotency_key: Option<String>,
}

/// What narrows the server list.
#[derive(Default)]
pub struct ServerFilter {
    pub provider: Option<Uuid>,
    pub status: Option<ServerStatus>,
    /// `key` or `key=value`.
    pub label: Option<String>,
}

/// A power or size change.
pub enum ServerChange {
    Start,
    Stop,
    Reboot,
    /// A hard reset: the power cycled without a shutdown.
    Reset,
    Resize(String),
    /// Reinstall the disk.
    Rebuild(RebuildFrom),
    /// Boot into the provider's rescue system next; the action gets a root password for it.
    EnableRescue,
    DisableRescue,
    /// A new root password for the running system (the action gets it).
    ResetRootPassword,
}

/// What a rebuild reinstalls a server's disk from.
#[derive(Clone, Debug)]
pub enum RebuildFrom {
    /// A snapshot of the same account.
    Snapshot(Uuid),
    /// One of the provider's images, by name or id (`ubuntu-24.04`, `ami-…`).
    Image(String),
}

/// A server name as clouds take it: letters, digits, `-` and `.`, at most 63, starting and
/// ending with a letter or digit.
fn check_hostname(field: &str, name: &str) -> AppResult<String> {
    let n = name.trim();
    let ok = !n.is_empty()
        && n.len() <= 63
        && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        && n.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && n.chars().last().is_some_and(|c| c.is_ascii_alphanumeric());
    if !ok {
        return Err(AppError::validation(field, "must be a host name: letters, digits, - and ., at most 63"));
    }
    Ok(n.to_string())
}

/// Checks labels: an object of at most 20 string values, keys and values at most 63
/// characters of letters, digits, `-`, `_` and `.`; `zygo-` keys are Zygo's own.
pub(super) fn check_labels(field: &str, labels: &Value) -> AppResult<Value> {
    if labels.is_null() {
        return Ok(json!({}));
    }
    let Some(o) = labels.as_object() else { return Err(AppError::validation(field, "must be an object")) };
    if o.len() > 20 {
        return Err(AppError::validation(field, "at most 20 labels"));
    }
    let ok_part = |s: &str, empty_ok: bool| {
        (empty_ok || !s.is_empty())
            && s.len() <= 63
            && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    for (k, v) in o {
        let Some(v) = v.as_str() else {
            return Err(AppError::validation(format!("{field}.{k}"), "must be a string"));
        };
        if !ok_part(k, false) || !ok_part(v, true) {
            return Err(AppError::validation(
                format!("{field}.{k}"),
                "keys and values are letters, digits, -, _ and ., at most 63",
            ));
        }
        if k.starts_with("zygo-") {
            return Err(AppError::validation(format!("{field}.{k}"), "zygo- labels are set by Zygo"));
        }
    }
    Ok(labels.clone())
}

fn check_word(field: &str, v: &str) -> AppResult<String> {
    let v = v.trim();
    if v.is_empty()
        || v.len() > 64
        || !v.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(AppError::validation(field, "must be 1 to 64 letters, digits, -, _ or ."));
    }
    Ok(v.to_string())
}

/// The provider account `id`, for a change through it.
pub(super) async fn provider_in(tx: &TenantTx<'_>, id: Uuid) -> AppResult<cloud_provider::Model> {
    tx.scope()
        .find_by_id::<cloud_provider::Entity, _>(tx, id)
        .await?
        .ok_or_else(|| AppError::validation("input.providerId", "no such provider account"))
}

/// Asks for a server (`infrastructure.manage`): the row (PENDING) and its `server.create`
/// action. A repeated idempotency key returns what the first request made.
pub async fn create(
    ctx: &Ctx,
    tctx: &TenantCtx,
    req: NewServer,
) -> AppResult<(cloud_server::Model, action::Model)> {
    tctx.require(Permission::InfrastructureManage)?;
    let name = check_hostname("input.name", &req.name)?;
    let server_type = check_word("input.serverType", &req.server_type)?;
    let image = check_word("input.image", &req.image)?;
    let location = check_word("input.location", &req.location)?;
    let labels = check_labels("input.labels", &req.labels)?;
    if let Some(k) = &req.idempotency_key {
        check_name("input.idempotencyKey", k)?;
    }
    let mut tx = TenantTx::begin(ctx, tctx, Permission::InfrastructureManage).await?;
    let scope = tx.scope();
    if let Some(k) = &req.idempotency_key {
        if let Some(a) = actions::by_key(&tx, k).await? {
            let s = scope
                .find_by_id::<cloud_server::Entity, _>(&tx, a.target_id)
                .await?
                .filter(|_| a.kind == "server.create")
                .ok_or_else(|| {
                    AppError::conflict("input.idempotencyKey", "this key was used for something else")
                })?;
            return Ok((s, a));
        }
    }
    provider_in(&tx, req.provider).await?;
    // Counted under the organisation's write lock: two creations at once cannot both take
    // the plan's last server.
    crate::modules::billing::usage::require_room(&mut tx, crate::modules::billing::plans::Limit::Servers, 1)
        .await?;
    let id = Uuid::now_v7();
    let now = ctx.now();
    let server = scope
        .insert(
            &tx,
            cloud_server::ActiveModel {
                id: Set(id),
                tenant_id: Set(scope.tenant_id()),
                provider_id: Set(req.provider),
                name: Set(name.clone()),
                server_type: Set(server_type.clone()),
                image: Set(image.clone()),
                location: Set(location),
                status: Set(ServerStatus::Pending),
                external_id: Set(None),
                ipv4: Set(None),
                labels: Set(labels),
                rescue_enabled: Set(false),
                created_at: Set(now),
                updated_at: Set(now),
            },
        )
        .await
        .map_err(|e| {
            AppError::from_db_unique(e, "input.name", "this provider account has a server of this name")
        })?;
    let a = actions::request(
        &mut tx,
        req.provider,
        "server.create",
        "server",
        id,
        json!({}),
        req.idempotency_key,
    )
    .await?;
    tx.commit_with(Change {
        action: "server.created",
        target_type: "Server",
        target_id: Some(id),
        before: None,
        after: Some(json!({ "name": name, "serverType": server_type, "image": image })),
    })
    .await?;
    Ok((server, a))
}

async fn server_in(tx: &TenantTx<'_>, id: Uuid) -> AppResult<cloud_server::Model> {
    tx.scope().find_by_id::<cloud_server::Entity, _>(tx, id).await?.ok_or(AppError::NotFound("server"))
}

/// Asks for a server's deletion (`infrastructure.manage`).
pub async fn delete(
    ctx: &Ctx,
    tctx: &TenantCtx,
    id: Uuid,
) -> AppResult<(cloud_server::Model, action::Model)> {
    let mut tx = TenantTx::begin(ctx, tctx, Permission::InfrastructureManage).await?;
    let s = server_in(&tx, id).await?;
    if s.status == ServerStatus::Deleting {
        return Err(AppError::conflict("id", "the server is being deleted already"));
    }
    let mut am: cloud_server::ActiveModel = s.clone().into();
    am.status = Set(ServerStatus::Deleting);
    am.updated_at = Set(ctx.now());
    let s2 = tx.scope().update(&tx, am).await?;
    let a = actions::request(&mut tx, s.provider_id, "server.delete", "server", id, json!({}), None).await?;
    tx.commit_with(Change {
        action: "server.deleted",
        target_type: "Server",
        target_id: Some(id),
        before: Some(json!({ "name": s.name })),
        after: None,
    })
    .await?;
    Ok((s2, a))
}

/// Asks for a power, size, image or root access change (`infrastructure.manage`). A resize
/// needs the server off and another type; the server shows the transitional state until the
/// action ends. Enabling rescue mode or resetting the root password gets a root password from
/// the provider, kept sealed on the action until its requester reveals it
/// ([`super::insight::reveal_root_password`]).
pub async fn change(
    ctx: &Ctx,
    tctx: &TenantCtx,
    id: Uuid,
    what: ServerChange,
) -> AppResult<(cloud_server::Model, action::Model)> {
    tctx.require(Permission::InfrastructureManage)?;
    let resize_to = match &what {
        ServerChange::Resize(t) => Some(check_word("input.serverType", t)?),
        _ => None,
    };
    let mut tx = TenantTx::begin(ctx, tctx, Permission::InfrastructureManage).await?;
    let s = server_in(&tx, id).await?;
    let (kind, transitional) = match &what {
        ServerChange::Start => ("server.start", ServerStatus::Starting),
        ServerChange::Stop => ("server.stop", ServerStatus::Stopping),
        ServerChange::Reboot => ("server.reboot", ServerStatus::Rebooting),
        ServerChange::Reset => ("server.reset", ServerStatus::Rebooting),
        ServerChange::Resize(_) => ("server.resize", ServerStatus::Resizing),
        ServerChange::Rebuild(_) => ("server.rebuild", ServerStatus::Rebuilding),
        // The power state does not change.
        ServerChange::EnableRescue => ("server.enable_rescue", s.status),
        ServerChange::DisableRescue => ("server.disable_rescue", s.status),
        ServerChange::ResetRootPassword => ("server.reset_password", s.status),
    };
    let allowed = match &what {
        ServerChange::Start => s.status == ServerStatus::Off,
        ServerChange::Stop | ServerChange::Reboot | ServerChange::Reset => s.status == ServerStatus::Running,
        ServerChange::Resize(_) => s.status == ServerStatus::Off,
        ServerChange::Rebuild(_) => matches!(s.status, ServerStatus::Running | ServerStatus::Off),
        ServerChange::EnableRescue => {
            matches!(s.status, ServerStatus::Running | ServerStatus::Off) && !s.rescue_enabled
        }
        ServerChange::DisableRescue => {
            matches!(s.status, ServerStatus::Running | ServerStatus::Off) && s.rescue_enabled
        }
        // The provider sets it through the running system's guest agent.
        ServerChange::ResetRootPassword => s.status == ServerStatus::Running,
    };
    if !allowed {
        let need = match what {
            ServerChange::Start | ServerChange::Resize(_) => "off",
            ServerChange::Rebuild(_) => "running or off",
            ServerChange::EnableRescue => "running or off, without rescue mode enabled",
            ServerChange::DisableRescue => "running or off, with rescue mode enabled",
            _ => "running",
        };
        return Err(AppError::conflict(
            "input.action",
            format!("the server must be {need} (it is {:?})", s.status),
        ));
    }
    if resize_to.as_deref() == Some(s.server_type.as_str()) {
        return Err(AppError::validation("input.serverType", "the server has this type already"));
    }
    // A rebuild's image: a snapshot of the same account, made.
    let image = match &what {
        ServerChange::Rebuild(RebuildFrom::Snapshot(snapshot)) => {
            Some(super::snapshots::image_for(&tx, *snapshot, s.provider_id).await?)
        }
        ServerChange::Rebuild(RebuildFrom::Image(image)) => Some(check_word("input.image", image)?),
        _ => None,
    };
    let mut am: cloud_server::ActiveModel = s.clone().into();
    am.status = Set(transitional);
    am.updated_at = Set(ctx.now());
    let s2 = tx.scope().update(&tx, am).await?;
    let snapshot = match &what {
        ServerChange::Rebuild(RebuildFrom::Snapshot(id)) => Some(*id),
        _ => None,
    };
    let params =
        json!({ "previousStatus": s.status, "serverType": resize_to, "image": image, "snapshot": snapshot });
    let a = actions::request(&mut tx, s.provider_id, kind, "server", id, params.clone(), None).await?;
    tx.commit_with(Change {
        action: "server.action_requested",
        target_type: "Server",
        target_id: Some(id),
        before: Some(json!({ "status": s.status, "serverType": s.server_type })),
        after: Some(json!({ "action": kind, "serverType": resize_to, "snapshot": snapshot })),
    })
    .await?;
    Ok((s2, a))
}

/// One server (`infrastructure.read`).
pub async fn get(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> AppResult<cloud_server::Model> {
    tctx.require(Permission::InfrastructureRead)?;
    tctx.scope()
        .find_by_id::<cloud_server::Entity, _>(&tctx.on(&ctx.db), id)
        .await?
        .ok_or(AppError::NotFound("server"))
}

/// A page of the organisation's servers, oldest first (`infrastructure.read`).
pub async fn list(
    ctx: &Ctx,
    tctx: &TenantCtx,
    f: ServerFilter,
    w: Window,
) -> AppResult<Rows<cloud_server::Model>> {
    tctx.require(Permission::InfrastructureRead)?;
    let db = tctx.on(&ctx.db);
    let mut q = tctx.scope().find::<cloud_server::Entity>();
    if let Some(p) = f.provider {
        q = q.filter(cloud_server::Column::ProviderId.eq(p));
    }
    if let Some(s) = f.status {
        q = q.filter(cloud_server::Column::Status.eq(s));
    }
    let mut rows = crate::db::page::page(&db, q, cloud_server::Column::Id, w).await?;
    // Labels are a JSON object: filtered on the page, like resources' tags.
    if let Some(label) = f.label {
        let (k, v) = match label.split_once('=') {
            Some((k, v)) => (k.trim().to_string(), Some(v.trim().to_string())),
            None => (label.trim().to_string(), None),
        };
        rows.rows.retain(|s| match (&v, s.labels.get(&k)) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(v), Some(have)) => have.as_str() == Some(v.as_str()),
        });
    }
    Ok(rows)
}
