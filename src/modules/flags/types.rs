//! The GraphQL types of feature flags: `FeatureFlag` with its rules (the operators' view),
//! and the organisation's evaluated flags (`Tenant.featureFlags`, any member).

use async_graphql::{Context, Enum, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::feature_flag;

use super::{
    FEATURE_FLAG,
    evaluate::{FlagValue, Rule},
    store::Flag,
};
use crate::{
    error::AppError,
    graphql::{app, loaders::loaders, rctx, relay, tenant::TenantRow},
};

/// Whether a flag is on/off or picks one of its variants.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "FeatureFlagKind", remote = "entity::feature_flag::FlagKind")]
pub enum FlagKindGql {
    /// On or off (`enabled`).
    Boolean,
    /// One of the flag's variants (`variant`).
    Variant,
}

/// Which rule: who it matches.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(name = "FeatureFlagRuleKind")]
pub enum RuleKindGql {
    /// One organisation (`organisationId`).
    Organisation,
    /// Organisations on a plan (`plan`, a key of the catalog).
    Plan,
    /// `percent` of organisations, chosen by a stable hash of the flag's key and the
    /// organisation.
    Rollout,
    /// Viewers holding a platform role (`role`).
    PlatformRole,
}

/// A flag's value: `enabled` for a boolean flag, `variant` for a variant flag.
#[derive(SimpleObject, Clone)]
pub struct FeatureFlagValue {
    pub enabled: Option<bool>,
    pub variant: Option<String>,
}

impl From<&FlagValue> for FeatureFlagValue {
    fn from(v: &FlagValue) -> Self {
        match v {
            FlagValue::Bool(b) => Self { enabled: Some(*b), variant: None },
            FlagValue::Variant(s) => Self { enabled: None, variant: Some(s.clone()) },
        }
    }
}

/// One rule of a flag; the first that matches decides.
#[derive(SimpleObject)]
pub struct FeatureFlagRule {
    pub kind: RuleKindGql,
    /// The organisation (`Tenant` global ID) of an ORGANISATION rule.
    pub organisation_id: Option<ID>,
    /// The plan key of a PLAN rule.
    pub plan: Option<String>,
    /// The share (0–100) of a ROLLOUT rule.
    pub percent: Option<i32>,
    /// The platform role of a PLATFORM_ROLE rule.
    pub role: Option<crate::modules::admin::types::PlatformRoleGql>,
    pub value: FeatureFlagValue,
}

fn role_from(s: &str) -> Option<crate::modules::admin::types::PlatformRoleGql> {
    serde_json::from_value::<entity::platform_role::PlatformRoleKind>(serde_json::json!(s))
        .ok()
        .map(Into::into)
}

impl From<&Rule> for FeatureFlagRule {
    fn from(r: &Rule) -> Self {
        let empty = |kind, value: &FlagValue| FeatureFlagRule {
            kind,
            organisation_id: None,
            plan: None,
            percent: None,
            role: None,
            value: value.into(),
        };
        match r {
            Rule::Organisation { organisation_id, value } => FeatureFlagRule {
                organisation_id: Some(relay::to_global_id(relay::kind::TENANT, *organisation_id)),
                ..empty(RuleKindGql::Organisation, value)
            },
            Rule::Plan { plan, value } => {
                FeatureFlagRule { plan: Some(plan.clone()), ..empty(RuleKindGql::Plan, value) }
            }
            Rule::Rollout { percent, value } => {
                FeatureFlagRule { percent: Some(i32::from(*percent)), ..empty(RuleKindGql::Rollout, value) }
            }
            Rule::PlatformRole { role, value } => {
                FeatureFlagRule { role: role_from(role), ..empty(RuleKindGql::PlatformRole, value) }
            }
        }
    }
}

/// A platform feature flag (platform operators only).
pub struct FeatureFlag(pub feature_flag::Model);

impl FeatureFlag {
    fn decoded(&self) -> Option<Flag> {
        Flag::from_model(&self.0)
    }
}

#[Object]
impl FeatureFlag {
    /// The flag's ID (`FeatureFlag` global ID).
    async fn id(&self) -> ID {
        relay::to_global_id(FEATURE_FLAG, self.0.id)
    }
    /// Unique; `module.<name>` keys switch a module on and off.
    async fn key(&self) -> &str {
        &self.0.key
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    async fn kind(&self) -> FlagKindGql {
        self.0.kind.into()
    }
    /// The variants' names (empty for a boolean flag).
    async fn variants(&self) -> Vec<String> {
        self.decoded().map(|f| f.variants).unwrap_or_default()
    }
    /// The value when no rule matches.
    async fn default(&self) -> Option<FeatureFlagValue> {
        self.decoded().map(|f| (&f.default).into())
    }
    /// The rules, in the order they are tried.
    async fn rules(&self) -> Vec<FeatureFlagRule> {
        self.decoded().map(|f| f.rules.iter().map(Into::into).collect()).unwrap_or_default()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// One flag's value for the organisation (and the viewer).
#[derive(SimpleObject)]
pub struct TenantFeatureFlag {
    pub key: String,
    /// A boolean flag's value.
    pub enabled: Option<bool>,
    /// A variant flag's value.
    pub variant: Option<String>,
}

/// The feature-flag part of `Tenant`.
#[derive(Clone)]
pub struct TenantFlags(pub TenantRow);

#[Object]
impl TenantFlags {
    /// Every platform feature flag's value for this organisation and the viewer, variants
    /// included (any member); `features` has the boolean ones merged with the plan's.
    async fn feature_flags(&self, ctx: &Context<'_>) -> Result<Vec<TenantFeatureFlag>> {
        let tctx = loaders(ctx).tenant_access(self.0.id).await?;
        let app = app(ctx);
        let viewer = rctx(ctx).viewer.as_ref().map(|v| v.user_id);
        let flags =
            app.features.evaluate(app, &tctx.reads, self.0.id, None, viewer).await.map_err(AppError::from)?;
        Ok(flags
            .iter()
            .map(|(k, v)| TenantFeatureFlag {
                key: k.clone(),
                enabled: v.as_bool(),
                variant: v.as_str().map(str::to_string),
            })
            .collect())
    }
}
