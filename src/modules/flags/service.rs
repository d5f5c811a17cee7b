//! Creating, changing and deleting flags (super administrators; the caller checked the
//! platform role) and listing them (any platform role). Each change is one transaction with
//! its platform audit entry (`admin.flag_created|updated|deleted`); once committed, every
//! instance forgets its flags and cached access decisions ([`super::store::topic`]) and each
//! organisation whose evaluated flags changed gets a `FEATURES_CHANGED` tenant event.

use chrono::{DateTime, Utc};
use entity::{
    feature_flag::{self, FlagKind},
    subscription,
};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use uuid::Uuid;

use super::{
    evaluate::{FlagValue, Subject},
    store::{self, Flag},
    validate::{self, RuleInput, ValueInput},
};
use crate::{
    access::{
        Actor, Change, TenantCtx, TenantTx,
        platform::{PlatformEntry, audit},
    },
    ctx::Ctx,
    db::{across_tenants, begin_write},
    error::{AppError, AppResult},
    modules::tenancy::events::{self, TenantEventKind, TenantEventPayload},
};

/// A new flag, as given.
pub struct NewFlag {
    pub key: String,
    pub description: String,
    pub kind: FlagKind,
    pub variants: Vec<String>,
    pub default: ValueInput,
    pub rules: Vec<RuleInput>,
}

/// The parts of a flag to replace (its key and kind never change).
#[derive(Default)]
pub struct FlagChange {
    pub description: Option<String>,
    pub variants: Option<Vec<String>>,
    pub default: Option<ValueInput>,
    pub rules: Option<Vec<RuleInput>>,
}

/// Every flag, by key.
pub async fn list(ctx: &Ctx) -> AppResult<Vec<feature_flag::Model>> {
    Ok(feature_flag::Entity::find().order_by_asc(feature_flag::Column::Key).all(&ctx.db).await?)
}

fn json<T: serde::Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or_default()
}

/// What the audit entry records of a flag.
fn summary(m: &feature_flag::Model) -> serde_json::Value {
    serde_json::json!({
        "key": m.key,
        "description": m.description,
        "kind": m.kind,
        "variants": m.variants,
        "default": m.default_value,
        "rules": m.rules,
    })
}

/// Creates a flag (`operator` acts).
pub async fn create(
    ctx: &Ctx,
    operator: Uuid,
    actor: &Actor,
    input: NewFlag,
) -> AppResult<feature_flag::Model> {
    let key = validate::key(&input.key, input.kind)?;
    let description = validate::description(&input.description)?;
    let variants = validate::variants(input.kind, &input.variants)?;
    let default = validate::value("input.default", input.kind, &variants, &input.default)?;
    let rules = validate::rules(ctx, input.kind, &variants, &input.rules).await?;
    let now = ctx.now();
    let txn = begin_write(&ctx.db).await?;
    let created = feature_flag::ActiveModel {
        id: Set(Uuid::now_v7()),
        key: Set(key),
        description: Set(description),
        kind: Set(input.kind),
        variants: Set(json(&variants)),
        default_value: Set(json(&default)),
        rules: Set(json(&rules)),
        created_by: Set(Some(operator)),
        updated_by: Set(Some(operator)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await
    .map_err(|e| AppError::from_db_unique(e, "input.key", "a flag with this key exists"))?;
    audit(
        &txn,
        PlatformEntry {
            actor_id: Some(operator),
            action: "admin.flag_created",
            organisation_id: None,
            target_type: "FeatureFlag",
            target_id: Some(created.id.to_string()),
            reason: None,
            metadata: Some(serde_json::json!({ "key": created.key, "after": summary(&created) })),
        },
        now,
    )
    .await?;
    txn.commit().await?;
    announce(ctx, operator, actor, None, Flag::from_model(&created).as_ref(), now).await?;
    Ok(created)
}

/// Replaces the parts of flag `id` that `change` gives.
pub async fn update(
    ctx: &Ctx,
    operator: Uuid,
    actor: &Actor,
    id: Uuid,
    change: FlagChange,
) -> AppResult<feature_flag::Model> {
    let txn = begin_write(&ctx.db).await?;
    let current =
        feature_flag::Entity::find_by_id(id).one(&txn).await?.ok_or(AppError::NotFound("feature flag"))?;
    let before = Flag::from_model(&current);
    let kind = current.kind;
    let variants = match &change.variants {
        Some(v) => validate::variants(kind, v)?,
        None => serde_json::from_value(current.variants.clone()).unwrap_or_default(),
    };
    let description = change.description.as_deref().map(validate::description).transpose()?;
    let default = match &change.default {
        Some(v) => validate::value("input.default", kind, &variants, v)?,
        None => {
            // New variants must still hold the default the flag keeps.
            let kept: FlagValue = serde_json::from_value(current.default_value.clone())
                .map_err(|e| AppError::Internal(e.into()))?;
            check_kept("input.default", &kept, &variants)?;
            kept
        }
    };
    let rules = match &change.rules {
        Some(r) => validate::rules(ctx, kind, &variants, r).await?,
        None => {
            let kept = before.as_ref().map(|f| f.rules.clone()).unwrap_or_default();
            for rule in &kept {
                check_kept("input.rules", rule_value(rule), &variants)?;
            }
            kept
        }
    };
    let now = ctx.now();
    let mut am: feature_flag::ActiveModel = current.clone().into();
    if let Some(d) = description {
        am.description = Set(d);
    }
    am.variants = Set(json(&variants));
    am.default_value = Set(json(&default));
    am.rules = Set(json(&rules));
    am.updated_by = Set(Some(operator));
    am.updated_at = Set(now);
    let updated = am.update(&txn).await?;
    audit(
        &txn,
        PlatformEntry {
            actor_id: Some(operator),
            action: "admin.flag_updated",
            organisation_id: None,
            target_type: "FeatureFlag",
            target_id: Some(updated.id.to_string()),
            reason: None,
            metadata: Some(serde_json::json!({
                "key": updated.key,
                "before": summary(&current),
                "after": summary(&updated),
            })),
        },
        now,
    )
    .await?;
    txn.commit().await?;
    announce(ctx, operator, actor, before.as_ref(), Flag::from_model(&updated).as_ref(), now).await?;
    Ok(updated)
}

/// Deletes flag `id`: every organisation gets the plan's features (and the default of
/// nothing) for its key again.
pub async fn delete(ctx: &Ctx, operator: Uuid, actor: &Actor, id: Uuid) -> AppResult<feature_flag::Model> {
    let txn = begin_write(&ctx.db).await?;
    let current =
        feature_flag::Entity::find_by_id(id).one(&txn).await?.ok_or(AppError::NotFound("feature flag"))?;
    feature_flag::Entity::delete_by_id(id).exec(&txn).await?;
    let now = ctx.now();
    audit(
        &txn,
        PlatformEntry {
            actor_id: Some(operator),
            action: "admin.flag_deleted",
            organisation_id: None,
            target_type: "FeatureFlag",
            target_id: Some(current.id.to_string()),
            reason: None,
            metadata: Some(serde_json::json!({ "key": current.key, "before": summary(&current) })),
        },
        now,
    )
    .await?;
    txn.commit().await?;
    announce(ctx, operator, actor, Flag::from_model(&current).as_ref(), None, now).await?;
    Ok(current)
}

fn rule_value(rule: &super::evaluate::Rule) -> &FlagValue {
    use super::evaluate::Rule::*;
    match rule {
        Organisation { value, .. }
        | Plan { value, .. }
        | Rollout { value, .. }
        | PlatformRole { value, .. } => value,
    }
}

/// A value the change keeps must still be one of the (new) variants.
fn check_kept(field: &str, value: &FlagValue, variants: &[String]) -> AppResult<()> {
    match value {
        FlagValue::Variant(v) if !variants.contains(v) => Err(AppError::validation(
            field,
            format!(
                "still uses the variant `{v}`, which the new variants drop: change it in the same update"
            ),
        )),
        _ => Ok(()),
    }
}

/// After a committed change from `before` to `after`: each organisation whose own override
/// changed gets an entry in its audit log ([`audit_overrides`]), every instance reads the
/// flags again and forgets its cached access decisions, and each organisation whose value of the flag changed hears
/// `FEATURES_CHANGED`. A platform change spans organisations, so it publishes here rather
/// than through one organisation's `TenantTx`.
async fn announce(
    ctx: &Ctx,
    operator: Uuid,
    actor: &Actor,
    before: Option<&Flag>,
    after: Option<&Flag>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    audit_overrides(ctx, operator, actor, before, after).await;
    // The change is committed: a failed read here is retried when the announcement below
    // reaches this instance's follower too.
    if let Err(e) = ctx.features.reload(ctx).await {
        tracing::warn!(error = %e, "reading the feature flags again failed");
    }
    ctx.access.clear();
    let key = after.or(before).map(|f| f.key.clone()).unwrap_or_default();
    ctx.publish(&store::topic(), &serde_json::json!({ "key": key })).await;
    for tenant in affected(ctx, before, after).await? {
        let payload = TenantEventPayload {
            kind: TenantEventKind::FeaturesChanged,
            tenant_id: tenant,
            membership_id: None,
            actor_id: Some(operator),
            occurred_at: now,
        };
        ctx.publish(&events::topic(tenant), &payload).await;
    }
    Ok(())
}

/// The organisations whose value of the flag differs between `before` and `after` (for a
/// viewer without a platform role; every organisation when the platform-role rules changed,
/// since their members' platform roles are not looked at here).
async fn affected(ctx: &Ctx, before: Option<&Flag>, after: Option<&Flag>) -> AppResult<Vec<Uuid>> {
    // Every organisation and its plan, for an operator's change: across tenants by design.
    let db = across_tenants(&ctx.db);
    let tenants: Vec<Uuid> = entity::tenant::Entity::find()
        .select_only()
        .column(entity::tenant::Column::Id)
        .into_tuple()
        .all(&db)
        .await?;
    let role_rules = |f: Option<&Flag>| -> Vec<super::evaluate::Rule> {
        f.map(|f| {
            f.rules
                .iter()
                .filter(|r| matches!(r, super::evaluate::Rule::PlatformRole { .. }))
                .cloned()
                .collect()
        })
        .unwrap_or_default()
    };
    if role_rules(before) != role_rules(after) {
        return Ok(tenants);
    }
    let needs_plan = before.is_some_and(Flag::has_plan_rule) || after.is_some_and(Flag::has_plan_rule);
    let plans: std::collections::HashMap<Uuid, String> = if needs_plan {
        let catalog = crate::modules::billing::plans::catalog(&ctx.config)?;
        let now = ctx.now();
        subscription::Entity::find()
            .filter(subscription::Column::CurrentFor.is_not_null())
            .all(&db)
            .await?
            .into_iter()
            .map(|s| {
                let plan =
                    crate::modules::billing::service::granted_plan(catalog, Some(&s), now, &ctx.config);
                (s.tenant_id, plan.key.clone())
            })
            .collect()
    } else {
        Default::default()
    };
    let free = crate::modules::billing::plans::FREE.to_string();
    Ok(tenants
        .into_iter()
        .filter(|t| {
            let plan = plans.get(t).unwrap_or(&free);
            let subject = Subject { organisation_id: *t, plan, platform_role: None };
            before.map(|f| f.value_for(&subject)) != after.map(|f| f.value_for(&subject))
        })
        .collect())
}

/// The value each organisation an ORGANISATION rule names gets from it (the first such rule:
/// the first match decides).
fn overrides(flag: Option<&Flag>) -> std::collections::BTreeMap<Uuid, FlagValue> {
    let mut out = std::collections::BTreeMap::new();
    for rule in flag.map(|f| f.rules.as_slice()).unwrap_or_default() {
        if let super::evaluate::Rule::Organisation { organisation_id, value } = rule {
            out.entry(*organisation_id).or_insert_with(|| value.clone());
        }
    }
    out
}

/// Writes `tenant.features_changed` (actor `platform_admin`) in the audit log of each
/// organisation whose own override changed from `before` to `after` — what concerns one
/// organisation is in its log too, which its webhooks and live audit view see. One
/// transaction per organisation after the flag's own: the flag change stands whatever
/// happens here (an organisation deleted meanwhile is skipped, logged).
async fn audit_overrides(
    ctx: &Ctx,
    operator: Uuid,
    actor: &Actor,
    before: Option<&Flag>,
    after: Option<&Flag>,
) {
    let Some(flag) = after.or(before) else { return };
    let (was, is) = (overrides(before), overrides(after));
    let concerned: std::collections::BTreeSet<Uuid> =
        was.keys().chain(is.keys()).copied().filter(|org| was.get(org) != is.get(org)).collect();
    for org in concerned {
        let tctx = TenantCtx::platform_operator(org, operator, actor);
        let value = |v: Option<&FlagValue>| v.map(|v| serde_json::json!({ "key": flag.key, "value": v }));
        let result = async {
            let mut tx = TenantTx::open(ctx, &tctx).await?;
            tx.audit(Change {
                action: "tenant.features_changed",
                target_type: "FeatureFlag",
                target_id: Some(flag.id),
                before: value(was.get(&org)),
                after: value(is.get(&org)),
            })
            .await?;
            tx.commit().await
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, organisation = %org, key = %flag.key, "the organisation's audit entry of a flag change failed");
        }
    }
}
