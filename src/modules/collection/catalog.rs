//! The platform's catalog of collectors: platforms, platform services (a platform with a
//! service type, the provider and dataset that collect it, the JSON Schema of a job's
//! parameters and the output field mapping), grants by plan with per-organisation overrides,
//! and the provider's credentials per environment, sealed. Administered by platform
//! super administrators only ([`require_platform_admin`]); organisations see what they were granted
//! ([`available_collectors`]).

use entity::{
    collection_credential, collection_grant, collection_job::CollectionProvider, collection_platform,
    collection_service,
};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::Value;
use uuid::Uuid;

use crate::{
    access::TenantCtx,
    auth::Permission,
    ctx::Ctx,
    error::{AppError, AppResult},
};

/// FORBIDDEN unless `user_id` is a platform super administrator (MFA_REQUIRED without
/// two-factor authentication): the catalog's one rule, decided by [`crate::access::platform`].
pub async fn require_platform_admin(ctx: &Ctx, user_id: Uuid) -> AppResult<()> {
    crate::access::platform::require(&ctx.db, user_id, crate::access::platform::SUPER_ADMIN).await?;
    Ok(())
}

/// The service types the catalog knows, with how a normalised record reads for each.
pub const SERVICE_TYPES: &[(&str, &str)] =
    &[("posts", "Posts"), ("comments", "Comments"), ("reels", "Reels and videos"), ("profiles", "Profiles")];

fn checked_key(field: &str, key: &str) -> AppResult<String> {
    let key = key.trim().to_ascii_lowercase();
    if key.is_empty()
        || key.len() > 40
        || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(AppError::validation(field, "1 to 40 letters, digits, `-` or `_`"));
    }
    Ok(key)
}

fn checked_name(field: &str, name: &str) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::validation(field, "must be 1 to 100 characters"));
    }
    Ok(name.to_string())
}

/// What a platform is made of, as given.
pub struct PlatformFields {
    pub key: String,
    pub name: String,
    pub description: Option<String>,
    pub icon: Option<String>,
    pub colour: Option<String>,
    pub enabled: Option<bool>,
}

/// Adds a platform (its key is unique).
pub async fn create_platform(ctx: &Ctx, f: PlatformFields) -> AppResult<collection_platform::Model> {
    let key = checked_key("input.key", &f.key)?;
    let name = checked_name("input.name", &f.name)?;
    let colour = f.colour.unwrap_or_else(|| "#64748b".into());
    if !(colour.len() == 7 && colour.starts_with('#') && colour[1..].chars().all(|c| c.is_ascii_hexdigit())) {
        return Err(AppError::validation("input.colour", "a colour as #rrggbb"));
    }
    let now = ctx.now();
    collection_platform::ActiveModel {
        id: Set(Uuid::now_v7()),
        key: Set(key),
        name: Set(name),
        description: Set(f.description.unwrap_or_default().trim().chars().take(1000).collect()),
        icon: Set(f.icon.unwrap_or_default()),
        colour: Set(colour),
        enabled: Set(f.enabled.unwrap_or(true)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&ctx.db)
    .await
    .map_err(|e| AppError::from_db_unique(e, "input.key", "a platform with this key exists"))
}

/// What a platform service is made of, as given.
pub struct ServiceFields {
    pub platform_id: Uuid,
    pub service_type: String,
    pub name: String,
    pub provider: CollectionProvider,
    pub dataset_id: String,
    pub input_schema: Value,
    pub output_mapping: Value,
    pub enabled: Option<bool>,
}

/// A JSON Schema that compiles.
fn checked_schema(schema: &Value) -> AppResult<()> {
    if !schema.is_object() {
        return Err(AppError::validation("input.inputSchema", "must be a JSON Schema object"));
    }
    jsonschema::validator_for(schema)
        .map(|_| ())
        .map_err(|e| AppError::validation("input.inputSchema", format!("not a valid JSON Schema: {e}")))
}

/// An object of record field → provider field (both strings), naming only record fields.
fn checked_mapping(mapping: &Value) -> AppResult<()> {
    let Some(map) = mapping.as_object() else {
        return Err(AppError::validation("input.outputMapping", "must be an object of field names"));
    };
    for (k, v) in map {
        if !super::records::MAPPABLE.contains(&k.as_str()) {
            return Err(AppError::validation(
                "input.outputMapping",
                format!("`{k}` is not a record field ({})", super::records::MAPPABLE.join(", ")),
            ));
        }
        if !v.is_string() {
            return Err(AppError::validation(
                "input.outputMapping",
                format!("`{k}` must name a provider field"),
            ));
        }
    }
    Ok(())
}

/// Adds a platform service (one per platform and service type).
pub async fn create_service(ctx: &Ctx, f: ServiceFields) -> AppResult<collection_service::Model> {
    if !SERVICE_TYPES.iter().any(|(t, _)| *t == f.service_type) {
        let known: Vec<&str> = SERVICE_TYPES.iter().map(|(t, _)| *t).collect();
        return Err(AppError::validation("input.serviceType", format!("one of {}", known.join(", "))));
    }
    let name = checked_name("input.name", &f.name)?;
    let dataset_id = f.dataset_id.trim().to_string();
    if f.provider == CollectionProvider::Brightdata && !dataset_id.starts_with("gd_") {
        return Err(AppError::validation("input.datasetId", "a BrightData dataset id (`gd_…`)"));
    }
    checked_schema(&f.input_schema)?;
    checked_mapping(&f.output_mapping)?;
    collection_platform::Entity::find_by_id(f.platform_id)
        .one(&ctx.db)
        .await?
        .ok_or(AppError::NotFound("platform"))?;
    let now = ctx.now();
    collection_service::ActiveModel {
        id: Set(Uuid::now_v7()),
        platform_id: Set(f.platform_id),
        service_type: Set(f.service_type),
        name: Set(name),
        provider: Set(f.provider),
        dataset_id: Set(dataset_id),
        input_schema: Set(f.input_schema),
        output_mapping: Set(f.output_mapping),
        enabled: Set(f.enabled.unwrap_or(true)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&ctx.db)
    .await
    .map_err(|e| {
        AppError::from_db_unique(e, "input.serviceType", "the platform has this service type already")
    })
}

/// Switches platform services on or off in one statement (the matrix's bulk toggle).
pub async fn set_services_enabled(
    ctx: &Ctx,
    ids: &[Uuid],
    enabled: bool,
) -> AppResult<Vec<collection_service::Model>> {
    if ids.is_empty() {
        return Err(AppError::validation("input.serviceIds", "name at least one service"));
    }
    collection_service::Entity::update_many()
        .col_expr(collection_service::Column::Enabled, sea_orm::sea_query::Expr::value(enabled))
        .col_expr(collection_service::Column::UpdatedAt, sea_orm::sea_query::Expr::value(ctx.now()))
        .filter(collection_service::Column::Id.is_in(ids.iter().copied()))
        .exec(&ctx.db)
        .await?;
    Ok(collection_service::Entity::find()
        .filter(collection_service::Column::Id.is_in(ids.iter().copied()))
        .order_by_asc(collection_service::Column::Id)
        .all(&ctx.db)
        .await?)
}

/// Who a grant is for.
pub enum Grantee {
    /// Every organisation on the plan (`*`: every organisation).
    Plan(String),
    /// One organisation; wins over its plan's grant.
    Organisation(Uuid),
}

/// Grants (or refuses) a service to a plan or an organisation, replacing an earlier decision.
pub async fn set_grant(ctx: &Ctx, service_id: Uuid, who: Grantee, allowed: bool) -> AppResult<()> {
    collection_service::Entity::find_by_id(service_id)
        .one(&ctx.db)
        .await?
        .ok_or(AppError::NotFound("platform service"))?;
    let (plan, org) = match who {
        Grantee::Plan(p) => {
            let p = p.trim().to_string();
            if p.is_empty() {
                return Err(AppError::validation("input.plan", "name a plan, or `*` for every organisation"));
            }
            (Some(p), None)
        }
        Grantee::Organisation(o) => (None, Some(o)),
    };
    let txn = crate::db::begin_write(&ctx.db).await?;
    let mut del =
        collection_grant::Entity::delete_many().filter(collection_grant::Column::ServiceId.eq(service_id));
    del = match (&plan, org) {
        (Some(p), _) => del.filter(collection_grant::Column::Plan.eq(p.clone())),
        (None, Some(o)) => del.filter(collection_grant::Column::OrganisationId.eq(o)),
        (None, None) => del,
    };
    del.exec(&txn).await?;
    collection_grant::ActiveModel {
        id: Set(Uuid::now_v7()),
        service_id: Set(service_id),
        plan: Set(plan),
        organisation_id: Set(org),
        allowed: Set(allowed),
        created_at: Set(ctx.now()),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(())
}

fn sealed_aad(environment: &str, what: &str) -> String {
    format!("collection_credentials:{environment}:{what}")
}

/// Stores the BrightData credentials of `environment`, sealed under the platform's key
/// (the nil tenant's).
pub async fn set_credentials(
    ctx: &Ctx,
    environment: &str,
    api_token: &str,
    webhook_secret: &str,
) -> AppResult<()> {
    if !matches!(environment, "development" | "staging" | "production") {
        return Err(AppError::validation("input.environment", "one of development, staging, production"));
    }
    if api_token.trim().len() < 8 {
        return Err(AppError::validation("input.apiToken", "must be at least 8 characters"));
    }
    if webhook_secret.trim().len() < 16 {
        return Err(AppError::validation("input.webhookSecret", "must be at least 16 characters"));
    }
    let keys = &ctx.keys;
    let token = keys.encrypt(Uuid::nil(), &sealed_aad(environment, "token"), api_token.trim());
    let secret = keys.encrypt(Uuid::nil(), &sealed_aad(environment, "webhook"), webhook_secret.trim());
    let txn = crate::db::begin_write(&ctx.db).await?;
    collection_credential::Entity::delete_many()
        .filter(collection_credential::Column::Environment.eq(environment))
        .exec(&txn)
        .await?;
    collection_credential::ActiveModel {
        id: Set(Uuid::now_v7()),
        environment: Set(environment.to_string()),
        api_token: Set(token),
        webhook_secret: Set(secret),
        validated_at: Set(None),
        updated_at: Set(ctx.now()),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The API token and webhook secret of this instance's environment, opened.
pub async fn credentials(ctx: &Ctx) -> AppResult<Option<(String, String)>> {
    credentials_of(ctx, &ctx.config.collection.environment).await
}

/// The API token and webhook secret of `env`, opened.
pub async fn credentials_of(ctx: &Ctx, env: &str) -> AppResult<Option<(String, String)>> {
    let Some(row) = collection_credential::Entity::find()
        .filter(collection_credential::Column::Environment.eq(env))
        .one(&ctx.db)
        .await?
    else {
        return Ok(None);
    };
    let token = ctx.keys.decrypt(Uuid::nil(), &sealed_aad(env, "token"), &row.api_token)?;
    let secret = ctx.keys.decrypt(Uuid::nil(), &sealed_aad(env, "webhook"), &row.webhook_secret)?;
    Ok(Some((token, secret)))
}

/// Every platform, by key.
pub async fn platforms(ctx: &Ctx) -> AppResult<Vec<collection_platform::Model>> {
    Ok(collection_platform::Entity::find()
        .order_by_asc(collection_platform::Column::Key)
        .all(&ctx.db)
        .await?)
}

/// Every platform service, in creation order.
pub async fn services(ctx: &Ctx) -> AppResult<Vec<collection_service::Model>> {
    Ok(collection_service::Entity::find().order_by_asc(collection_service::Column::Id).all(&ctx.db).await?)
}

/// A service with its platform.
pub async fn service_with_platform(
    ctx: &Ctx,
    id: Uuid,
) -> AppResult<Option<(collection_service::Model, collection_platform::Model)>> {
    let Some(s) = collection_service::Entity::find_by_id(id).one(&ctx.db).await? else { return Ok(None) };
    let p = collection_platform::Entity::find_by_id(s.platform_id).one(&ctx.db).await?;
    Ok(p.map(|p| (s, p)))
}

/// Whether the organisation may use `service` now: its override if it has one, else a grant
/// to its plan or to every plan (`*`).
fn granted(grants: &[collection_grant::Model], service: Uuid, org: Uuid, plan: &str) -> bool {
    let of = grants.iter().filter(|g| g.service_id == service);
    if let Some(o) = of.clone().find(|g| g.organisation_id == Some(org)) {
        return o.allowed;
    }
    of.filter(|g| g.organisation_id.is_none())
        .any(|g| g.allowed && g.plan.as_deref().is_some_and(|p| p == plan || p == "*"))
}

/// The enabled services on enabled platforms the organisation was granted.
pub async fn available_collectors(
    ctx: &Ctx,
    tctx: &TenantCtx,
) -> AppResult<Vec<(collection_service::Model, collection_platform::Model)>> {
    tctx.require(Permission::CollectionRead)?;
    granted_collectors(ctx, tctx).await
}

/// The collectors the organisation of `tctx` is granted now, whoever asks (a scheduled run
/// acting as the system checks its collector is still granted).
pub async fn granted_collectors(
    ctx: &Ctx,
    tctx: &TenantCtx,
) -> AppResult<Vec<(collection_service::Model, collection_platform::Model)>> {
    let plan = crate::modules::billing::metering::granted_plan_cached(ctx, tctx).await?.key.clone();
    let grants = collection_grant::Entity::find().all(&ctx.db).await?;
    let platforms = platforms(ctx).await?;
    let services = services(ctx).await?;
    Ok(services
        .into_iter()
        .filter(|s| s.enabled && granted(&grants, s.id, tctx.tenant_id, &plan))
        .filter_map(|s| {
            let p = platforms.iter().find(|p| p.id == s.platform_id && p.enabled)?.clone();
            Some((s, p))
        })
        .collect())
}

/// The service if the organisation may start jobs with it now; NOT_FOUND otherwise.
pub async fn usable_service(
    ctx: &Ctx,
    tctx: &TenantCtx,
    id: Uuid,
) -> AppResult<(collection_service::Model, collection_platform::Model)> {
    available_collectors(ctx, tctx)
        .await?
        .into_iter()
        .find(|(s, _)| s.id == id)
        .ok_or(AppError::NotFound("collector"))
}

/// Checks a job's parameters against the service's JSON Schema, naming the first problem's
/// place.
pub fn check_parameters(service: &collection_service::Model, params: &Value) -> AppResult<()> {
    let validator = jsonschema::validator_for(&service.input_schema)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("stored schema does not compile: {e}")))?;
    if let Some(err) = validator.iter_errors(params).next() {
        let at = err.instance_path().to_string();
        return Err(AppError::validation(
            format!("input.parameters{}", at.replace('/', ".")),
            err.to_string(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_organisation_override_wins_over_its_plan_and_star_grants_every_plan() {
        let (svc, org, other) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let g = |plan: Option<&str>, o: Option<Uuid>, allowed| collection_grant::Model {
            id: Uuid::now_v7(),
            service_id: svc,
            plan: plan.map(str::to_string),
            organisation_id: o,
            allowed,
            created_at: chrono::Utc::now(),
        };
        let grants = vec![g(Some("pro"), None, true), g(None, Some(org), false)];
        assert!(!granted(&grants, svc, org, "pro"), "the override refuses");
        assert!(granted(&grants, svc, other, "pro"));
        assert!(!granted(&grants, svc, other, "free"));
        let star = vec![g(Some("*"), None, true)];
        assert!(granted(&star, svc, other, "free"));
        assert!(!granted(&star, Uuid::now_v7(), other, "free"), "another service is not granted");
    }
}
