//! Cloud provider accounts: connecting one (credentials checked against the provider before
//! anything is saved, then sealed with the organisation's key like its secrets, and never
//! returned), checking it again, removing it (refused while servers, volumes or zones depend
//! on it), and reading them.

use entity::{
    cloud_provider::{self, CloudProviderKind},
    cloud_server, cloud_volume, dns_zone,
};
use sea_orm::{ColumnTrait, PaginatorTrait, QueryFilter, QueryOrder, Set};
use serde_json::json;
use uuid::Uuid;

use super::{
    InfraEvent,
    drivers::{self, Credentials},
    topic,
};
use crate::{
    access::{Change, TenantCtx, TenantTx},
    auth::Permission,
    ctx::Ctx,
    error::{AppError, AppResult},
};

/// What connecting an account takes.
pub struct Connect {
    pub kind: CloudProviderKind,
    pub name: String,
    pub credentials: Credentials,
}

/// Checks a display name of a provider account or resource: 1 to 64 characters.
pub(super) fn check_name(field: &str, name: &str) -> AppResult<String> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 64 {
        return Err(AppError::validation(field, "must be 1 to 64 characters"));
    }
    Ok(n.to_string())
}

/// Checks (and trims) the keys and region of an AWS account, naming the field at fault.
fn check_aws(creds: &mut Credentials) -> AppResult<()> {
    let trim = |v: &mut Option<String>| *v = v.take().map(|t| t.trim().to_string()).filter(|t| !t.is_empty());
    trim(&mut creds.access_key_id);
    trim(&mut creds.secret_access_key);
    trim(&mut creds.region);
    let key = creds.access_key_id.as_deref().unwrap_or_default();
    if key.len() < 16 || key.len() > 128 || !key.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(AppError::validation(
            "input.credentials.accessKeyId",
            "an AWS access key id (16 to 128 letters and digits) is required",
        ));
    }
    let secret = creds.secret_access_key.as_deref().unwrap_or_default();
    if secret.len() < 16 || secret.len() > 128 || !secret.chars().all(|c| c.is_ascii_graphic()) {
        return Err(AppError::validation(
            "input.credentials.secretAccessKey",
            "an AWS secret access key is required",
        ));
    }
    // `eu-central-1`, `us-gov-west-1`: lower-case words and a number.
    let region = creds.region.as_deref().unwrap_or_default();
    let parts: Vec<&str> = region.split('-').collect();
    let valid = parts.len() >= 3
        && parts.last().is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
        && parts[..parts.len() - 1]
            .iter()
            .all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase()));
    if !valid {
        return Err(AppError::validation("input.credentials.region", "an AWS region such as eu-central-1"));
    }
    // Only what AWS needs is kept.
    creds.api_token = None;
    creds.dns_api_token = None;
    Ok(())
}

/// Connects a provider account (`infrastructure.manage`) once the provider accepted its
/// credentials (`PROVIDER_ERROR` with the provider's code otherwise, nothing saved).
pub async fn connect(ctx: &Ctx, tctx: &TenantCtx, req: Connect) -> AppResult<cloud_provider::Model> {
    tctx.require(Permission::InfrastructureManage)?;
    let name = check_name("input.name", &req.name)?;
    let mut creds = req.credentials;
    creds.api_token = creds.api_token.map(|t| t.trim().to_string()).filter(|t| !t.is_empty());
    creds.dns_api_token = creds.dns_api_token.map(|t| t.trim().to_string()).filter(|t| !t.is_empty());
    match req.kind {
        CloudProviderKind::Hetzner if creds.api_token.is_none() => {
            return Err(AppError::validation(
                "input.credentials.apiToken",
                "a Hetzner API token is required",
            ));
        }
        CloudProviderKind::Aws => check_aws(&mut creds)?,
        _ => {}
    }
    let id = Uuid::now_v7();
    let tenant = tctx.tenant_id;
    drivers::driver(ctx, tenant, id, req.kind, &creds)?.validate().await?;
    let now = ctx.now();
    let mut tx = TenantTx::begin(ctx, tctx, Permission::InfrastructureManage).await?;
    // Counted under the organisation's write lock, as servers are.
    crate::modules::billing::usage::require_room(
        &mut tx,
        crate::modules::billing::plans::Limit::CloudProviders,
        1,
    )
    .await?;
    let scope = tx.scope();
    let sealed = ctx.keys.encrypt(
        tenant,
        &drivers::credentials_aad(id),
        &serde_json::to_string(&creds).unwrap_or_default(),
    );
    let row = scope
        .insert(
            &tx,
            cloud_provider::ActiveModel {
                id: Set(id),
                tenant_id: Set(tenant),
                kind: Set(req.kind),
                name: Set(name.clone()),
                credentials: Set(sealed),
                validated_at: Set(Some(now)),
                created_by: Set(tctx.acting_user()),
                created_at: Set(now),
                updated_at: Set(now),
            },
        )
        .await
        .map_err(|e| AppError::from_db_unique(e, "input.name", "a provider account with this name exists"))?;
    tx.emit(topic(tenant), &InfraEvent::resource("cloud_provider", id));
    tx.commit_with(Change {
        action: "cloud_provider.connected",
        target_type: "CloudProvider",
        target_id: Some(id),
        before: None,
        after: Some(json!({ "name": name, "kind": req.kind })),
    })
    .await?;
    Ok(row)
}

/// One account (`infrastructure.read`).
pub async fn get(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> AppResult<cloud_provider::Model> {
    tctx.require(Permission::InfrastructureRead)?;
    tctx.scope()
        .find_by_id::<cloud_provider::Entity, _>(&tctx.on(&ctx.db), id)
        .await?
        .ok_or(AppError::NotFound("cloud provider"))
}

/// The organisation's accounts, oldest first (`infrastructure.read`).
pub async fn list(ctx: &Ctx, tctx: &TenantCtx) -> AppResult<Vec<cloud_provider::Model>> {
    tctx.require(Permission::InfrastructureRead)?;
    Ok(tctx
        .scope()
        .find::<cloud_provider::Entity>()
        .order_by_asc(cloud_provider::Column::Id)
        .all(&tctx.on(&ctx.db))
        .await?)
}

/// Checks an account's credentials again (`infrastructure.manage`); on success its
/// `validatedAt` moves, on refusal `PROVIDER_ERROR`.
pub async fn validate(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> AppResult<cloud_provider::Model> {
    tctx.require(Permission::InfrastructureManage)?;
    let p = get(ctx, tctx, id).await?;
    tctx.reads.release().await;
    drivers::for_provider(ctx, &p)?.validate().await?;
    let mut tx = TenantTx::begin(ctx, tctx, Permission::InfrastructureManage).await?;
    let scope = tx.scope();
    let row = scope
        .find_by_id::<cloud_provider::Entity, _>(&tx, id)
        .await?
        .ok_or(AppError::NotFound("cloud provider"))?;
    let mut am: cloud_provider::ActiveModel = row.into();
    am.validated_at = Set(Some(ctx.now()));
    am.updated_at = Set(ctx.now());
    let row = scope.update(&tx, am).await?;
    tx.emit(topic(scope.tenant_id()), &InfraEvent::resource("cloud_provider", id));
    tx.commit_with(Change {
        action: "cloud_provider.validated",
        target_type: "CloudProvider",
        target_id: Some(id),
        before: None,
        after: None,
    })
    .await?;
    Ok(row)
}

/// Removes an account (`infrastructure.manage`): CONFLICT while servers, volumes, snapshots,
/// floating IPs, networks, firewalls, load balancers or DNS zones made through it remain.
pub async fn remove(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> AppResult<()> {
    let mut tx = TenantTx::begin(ctx, tctx, Permission::InfrastructureManage).await?;
    let scope = tx.scope();
    let row = scope
        .find_by_id::<cloud_provider::Entity, _>(&tx, id)
        .await?
        .ok_or(AppError::NotFound("cloud provider"))?;
    let servers = scope
        .find::<cloud_server::Entity>()
        .filter(cloud_server::Column::ProviderId.eq(id))
        .count(&tx)
        .await?;
    let volumes = scope
        .find::<cloud_volume::Entity>()
        .filter(cloud_volume::Column::ProviderId.eq(id))
        .count(&tx)
        .await?;
    let zones =
        scope.find::<dns_zone::Entity>().filter(dns_zone::Column::ProviderId.eq(id)).count(&tx).await?;
    let ips = scope
        .find::<entity::cloud_floating_ip::Entity>()
        .filter(entity::cloud_floating_ip::Column::ProviderId.eq(id))
        .count(&tx)
        .await?;
    let snapshots = scope
        .find::<entity::cloud_snapshot::Entity>()
        .filter(entity::cloud_snapshot::Column::ProviderId.eq(id))
        .count(&tx)
        .await?;
    let nets = scope
        .find::<entity::cloud_network_resource::Entity>()
        .filter(entity::cloud_network_resource::Column::ProviderId.eq(id))
        .count(&tx)
        .await?;
    if servers + volumes + zones + ips + snapshots + nets > 0 {
        return Err(AppError::conflict(
            "id",
            format!(
                "{servers} server(s), {volumes} volume(s), {snapshots} snapshot(s), {ips} floating IP(s), \
                 {nets} network(s), firewall(s) or load balancer(s) and {zones} DNS zone(s) still use this account"
            ),
        ));
    }
    scope.delete_many::<cloud_provider::Entity>().filter(cloud_provider::Column::Id.eq(id)).exec(&tx).await?;
    tx.emit(
        topic(scope.tenant_id()),
        &InfraEvent {
            action: None,
            resource_type: "cloud_provider".into(),
            resource_id: id,
            deleted: true,
            status: None,
        },
    );
    tx.commit_with(Change {
        action: "cloud_provider.removed",
        target_type: "CloudProvider",
        target_id: Some(id),
        before: Some(json!({ "name": row.name, "kind": row.kind })),
        after: None,
    })
    .await
}
