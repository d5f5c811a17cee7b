//! The feature flags' roots: `featureFlags` (any platform role) and `createFeatureFlag`,
//! `updateFeatureFlag`, `deleteFeatureFlag` (super administrators). Thin: check the
//! platform role, decode, call one service function.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use entity::platform_role::PlatformRoleKind;
use uuid::Uuid;

use super::{
    FEATURE_FLAG, service,
    types::{FeatureFlag, FlagKindGql, RuleKindGql},
    validate::{RuleInput, RuleKind, ValueInput},
};
use crate::{
    access::{Actor, platform},
    error::AppResult,
    graphql::{app, rctx, relay},
    modules::admin::types::PlatformRoleGql,
};

/// The caller's user id once their platform role is among `allowed` (and MFA is on).
async fn operator(ctx: &Context<'_>, allowed: &[PlatformRoleKind]) -> Result<Uuid> {
    let viewer = rctx(ctx).viewer()?;
    platform::require(&app(ctx).db, viewer.user_id, allowed).await?;
    Ok(viewer.user_id)
}

/// A value: `enabled` for a boolean flag, `variant` (one of its variants) for a variant flag.
#[derive(InputObject, Clone, Default)]
pub struct FeatureFlagValueInput {
    pub enabled: Option<bool>,
    pub variant: Option<String>,
}

impl From<FeatureFlagValueInput> for ValueInput {
    fn from(v: FeatureFlagValueInput) -> Self {
        ValueInput { enabled: v.enabled, variant: v.variant }
    }
}

/// A rule; give the field its kind needs.
#[derive(InputObject, Clone)]
pub struct FeatureFlagRuleInput {
    pub kind: RuleKindGql,
    /// ORGANISATION: the organisation (`Tenant` global ID).
    pub organisation_id: Option<ID>,
    /// PLAN: a plan key of the catalog.
    pub plan: Option<String>,
    /// ROLLOUT: 0 to 100.
    pub percent: Option<i32>,
    /// PLATFORM_ROLE: the viewer's platform role.
    pub role: Option<PlatformRoleGql>,
    pub value: FeatureFlagValueInput,
}

fn rules(input: Vec<FeatureFlagRuleInput>) -> AppResult<Vec<RuleInput>> {
    input
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let organisation_id = r
                .organisation_id
                .map(|id| {
                    relay::decode_id(&format!("input.rules[{i}].organisationId"), &id, relay::kind::TENANT)
                })
                .transpose()?;
            Ok(RuleInput {
                kind: match r.kind {
                    RuleKindGql::Organisation => RuleKind::Organisation,
                    RuleKindGql::Plan => RuleKind::Plan,
                    RuleKindGql::Rollout => RuleKind::Rollout,
                    RuleKindGql::PlatformRole => RuleKind::PlatformRole,
                },
                organisation_id,
                plan: r.plan,
                percent: r.percent,
                role: r.role.map(Into::into),
                value: r.value.into(),
            })
        })
        .collect()
}

#[derive(InputObject)]
pub struct CreateFeatureFlagInput {
    /// Unique: a letter, then letters, digits, `.`, `_` or `-`; `module.<name>` (BOOLEAN)
    /// gates a module (collection, infrastructure, resources, studio, workflows).
    pub key: String,
    #[graphql(default)]
    pub description: String,
    pub kind: FlagKindGql,
    /// A VARIANT flag's variants (2 to 20 names).
    #[graphql(default)]
    pub variants: Vec<String>,
    /// The value when no rule matches.
    pub default: FeatureFlagValueInput,
    /// Tried in order; the first that matches decides.
    #[graphql(default)]
    pub rules: Vec<FeatureFlagRuleInput>,
}

#[derive(InputObject)]
pub struct UpdateFeatureFlagInput {
    pub id: ID,
    pub description: Option<String>,
    /// Replaces the variants (the default and rules kept must still name one of them).
    pub variants: Option<Vec<String>>,
    pub default: Option<FeatureFlagValueInput>,
    /// Replaces every rule, in this order.
    pub rules: Option<Vec<FeatureFlagRuleInput>>,
}

/// A flag created or changed.
#[derive(SimpleObject)]
pub struct FeatureFlagPayload {
    pub flag: FeatureFlag,
}

/// A flag deleted.
#[derive(SimpleObject)]
pub struct DeleteFeatureFlagPayload {
    pub deleted_id: ID,
    pub key: String,
}

#[derive(Default)]
pub struct FlagsQuery;

#[Object]
impl FlagsQuery {
    /// Every platform feature flag with its rules, by key (platform operators only).
    async fn feature_flags(&self, ctx: &Context<'_>) -> Result<Vec<FeatureFlag>> {
        operator(ctx, platform::ANY).await?;
        Ok(service::list(app(ctx)).await?.into_iter().map(FeatureFlag).collect())
    }
}

#[derive(Default)]
pub struct FlagsMutation;

#[Object]
impl FlagsMutation {
    /// Creates a feature flag (super administrators). Audited; the organisations whose
    /// flags change hear FEATURES_CHANGED on `tenantEvents`.
    async fn create_feature_flag(
        &self,
        ctx: &Context<'_>,
        input: CreateFeatureFlagInput,
    ) -> Result<FeatureFlagPayload> {
        let user = operator(ctx, platform::SUPER_ADMIN).await?;
        let new = service::NewFlag {
            key: input.key,
            description: input.description,
            kind: input.kind.into(),
            variants: input.variants,
            default: input.default.into(),
            rules: rules(input.rules)?,
        };
        Ok(FeatureFlagPayload {
            flag: FeatureFlag(service::create(app(ctx), user, &Actor::from_request(rctx(ctx)), new).await?),
        })
    }

    /// Changes a flag's description, variants, default or rules (super administrators).
    /// Audited and live like `createFeatureFlag`.
    async fn update_feature_flag(
        &self,
        ctx: &Context<'_>,
        input: UpdateFeatureFlagInput,
    ) -> Result<FeatureFlagPayload> {
        let user = operator(ctx, platform::SUPER_ADMIN).await?;
        let id = relay::decode_id("input.id", &input.id, FEATURE_FLAG)?;
        let change = service::FlagChange {
            description: input.description,
            variants: input.variants,
            default: input.default.map(Into::into),
            rules: input.rules.map(rules).transpose()?,
        };
        Ok(FeatureFlagPayload {
            flag: FeatureFlag(
                service::update(app(ctx), user, &Actor::from_request(rctx(ctx)), id, change).await?,
            ),
        })
    }

    /// Deletes a flag (super administrators). Audited and live like `createFeatureFlag`.
    async fn delete_feature_flag(&self, ctx: &Context<'_>, id: ID) -> Result<DeleteFeatureFlagPayload> {
        let user = operator(ctx, platform::SUPER_ADMIN).await?;
        let id = relay::decode_id("id", &id, FEATURE_FLAG)?;
        let gone = service::delete(app(ctx), user, &Actor::from_request(rctx(ctx)), id).await?;
        Ok(DeleteFeatureFlagPayload { deleted_id: relay::to_global_id(FEATURE_FLAG, gone.id), key: gone.key })
    }
}
