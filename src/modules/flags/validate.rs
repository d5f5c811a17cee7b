//! What an operator may write into a flag: its key, description, variants, default and
//! rules, checked field by field — every refusal names the input field (`input.key`,
//! `input.rules[2].percent`, …) and nothing is written. Organisation ids must exist, plan
//! keys must be in the catalog, values must fit the flag's kind (a boolean, or one of its
//! variants), percentages are 0–100 and module gates (`module.<name>`) are boolean flags of
//! a known module.

use std::collections::{BTreeSet, HashSet};

use entity::{feature_flag::FlagKind, platform_role::PlatformRoleKind};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::{
    evaluate::{FlagValue, Rule},
    store::MODULE_PREFIX,
};
use crate::{
    auth::permissions::MODULES,
    ctx::Ctx,
    error::{AppError, AppResult},
};

/// Rules a flag holds at most.
pub const MAX_RULES: usize = 50;
/// Variants a variant flag holds at most.
pub const MAX_VARIANTS: usize = 20;

/// A value as given: `enabled` for a boolean flag, `variant` for a variant flag.
#[derive(Clone, Debug, Default)]
pub struct ValueInput {
    pub enabled: Option<bool>,
    pub variant: Option<String>,
}

/// Which rule a [`RuleInput`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleKind {
    Organisation,
    Plan,
    Rollout,
    PlatformRole,
}

/// A rule as given; the fields its kind needs must be there.
#[derive(Clone, Debug)]
pub struct RuleInput {
    pub kind: RuleKind,
    pub organisation_id: Option<Uuid>,
    pub plan: Option<String>,
    pub percent: Option<i32>,
    pub role: Option<PlatformRoleKind>,
    pub value: ValueInput,
}

fn bad(field: impl Into<String>, message: impl Into<String>) -> AppError {
    AppError::validation(field, message)
}

/// A flag's key: a letter, then letters, digits, `.`, `_` or `-`, at most 100 characters; a
/// module gate names a known module and is boolean.
pub fn key(key: &str, kind: FlagKind) -> AppResult<String> {
    let key = key.trim();
    let ok = (1..=100).contains(&key.chars().count())
        && key.starts_with(|c: char| c.is_ascii_alphabetic())
        && key.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !ok {
        return Err(bad("input.key", "1 to 100 characters: a letter, then letters, digits, `.`, `_` or `-`"));
    }
    if let Some(module) = key.strip_prefix(MODULE_PREFIX) {
        if !MODULES.contains(&module) {
            return Err(bad(
                "input.key",
                format!("`{key}` gates no module; module gates are {}", module_keys()),
            ));
        }
        if kind != FlagKind::Boolean {
            return Err(bad("input.kind", "a module gate is a BOOLEAN flag"));
        }
    }
    Ok(key.to_string())
}

fn module_keys() -> String {
    MODULES.iter().map(|m| format!("{MODULE_PREFIX}{m}")).collect::<Vec<_>>().join(", ")
}

/// At most 500 characters.
pub fn description(text: &str) -> AppResult<String> {
    let text = text.trim();
    if text.chars().count() > 500 {
        return Err(bad("input.description", "at most 500 characters"));
    }
    Ok(text.to_string())
}

/// None for a boolean flag; 2 to 20 distinct names (1 to 50 letters, digits, `_` or `-`)
/// for a variant flag.
pub fn variants(kind: FlagKind, variants: &[String]) -> AppResult<Vec<String>> {
    let field = "input.variants";
    match kind {
        FlagKind::Boolean if variants.is_empty() => Ok(Vec::new()),
        FlagKind::Boolean => Err(bad(field, "a BOOLEAN flag has no variants")),
        FlagKind::Variant => {
            if !(2..=MAX_VARIANTS).contains(&variants.len()) {
                return Err(bad(field, format!("a VARIANT flag has 2 to {MAX_VARIANTS} variants")));
            }
            let mut seen = HashSet::new();
            let mut out = Vec::new();
            for (i, v) in variants.iter().enumerate() {
                let v = v.trim();
                let ok = (1..=50).contains(&v.chars().count())
                    && v.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'));
                if !ok {
                    return Err(bad(
                        format!("{field}[{i}]"),
                        "1 to 50 characters: letters, digits, `_` or `-`",
                    ));
                }
                if !seen.insert(v.to_string()) {
                    return Err(bad(format!("{field}[{i}]"), format!("`{v}` is given twice")));
                }
                out.push(v.to_string());
            }
            Ok(out)
        }
    }
}

/// The value `input` gives, fitting a flag of `kind` with `variants`.
pub fn value(field: &str, kind: FlagKind, variants: &[String], input: &ValueInput) -> AppResult<FlagValue> {
    match (kind, input.enabled, input.variant.as_deref()) {
        (FlagKind::Boolean, Some(on), None) => Ok(FlagValue::Bool(on)),
        (FlagKind::Boolean, _, _) => {
            Err(bad(field, "a BOOLEAN flag's value is `enabled` (and no `variant`)"))
        }
        (FlagKind::Variant, None, Some(v)) if variants.iter().any(|x| x == v.trim()) => {
            Ok(FlagValue::Variant(v.trim().to_string()))
        }
        (FlagKind::Variant, None, Some(v)) => Err(bad(
            format!("{field}.variant"),
            format!("`{v}` is not among the flag's variants ({})", variants.join(", ")),
        )),
        (FlagKind::Variant, _, _) => {
            Err(bad(field, "a VARIANT flag's value is `variant`, one of its variants (and no `enabled`)"))
        }
    }
}

/// The rules, in order, checked against the flag's kind, the organisations that exist and
/// the plan catalog.
pub async fn rules(
    ctx: &Ctx,
    kind: FlagKind,
    variants: &[String],
    input: &[RuleInput],
) -> AppResult<Vec<Rule>> {
    if input.len() > MAX_RULES {
        return Err(bad("input.rules", format!("at most {MAX_RULES} rules")));
    }
    let catalog = crate::modules::billing::plans::catalog(&ctx.config)?;
    let wanted: BTreeSet<Uuid> = input.iter().filter_map(|r| r.organisation_id).collect();
    let existing: HashSet<Uuid> = if wanted.is_empty() {
        HashSet::new()
    } else {
        // Whether organisations exist, for an operator (whose platform role the caller
        // checked): a lookup across tenants by design.
        entity::tenant::Entity::find()
            .select_only()
            .column(entity::tenant::Column::Id)
            .filter(entity::tenant::Column::Id.is_in(wanted))
            .into_tuple::<Uuid>()
            .all(&crate::db::across_tenants(&ctx.db))
            .await?
            .into_iter()
            .collect()
    };
    let mut out = Vec::with_capacity(input.len());
    for (i, r) in input.iter().enumerate() {
        let at = |f: &str| format!("input.rules[{i}].{f}");
        let value = value(&at("value"), kind, variants, &r.value)?;
        let rule = match r.kind {
            RuleKind::Organisation => {
                let id = r
                    .organisation_id
                    .ok_or_else(|| bad(at("organisationId"), "required for an ORGANISATION rule"))?;
                if !existing.contains(&id) {
                    return Err(bad(at("organisationId"), "no organisation has this id"));
                }
                Rule::Organisation { organisation_id: id, value }
            }
            RuleKind::Plan => {
                let plan = r.plan.as_deref().map(str::trim).unwrap_or_default();
                if plan.is_empty() {
                    return Err(bad(at("plan"), "required for a PLAN rule"));
                }
                if catalog.plan(plan).is_none() {
                    let keys: Vec<&str> = catalog.plans.iter().map(|p| p.key.as_str()).collect();
                    return Err(bad(at("plan"), format!("`{plan}` is not a plan ({})", keys.join(", "))));
                }
                Rule::Plan { plan: plan.to_string(), value }
            }
            RuleKind::Rollout => {
                let percent = r.percent.ok_or_else(|| bad(at("percent"), "required for a ROLLOUT rule"))?;
                let percent = u8::try_from(percent)
                    .ok()
                    .filter(|p| *p <= 100)
                    .ok_or_else(|| bad(at("percent"), "a percentage from 0 to 100"))?;
                Rule::Rollout { percent, value }
            }
            RuleKind::PlatformRole => {
                let role = r.role.ok_or_else(|| bad(at("role"), "required for a PLATFORM_ROLE rule"))?;
                let role = serde_json::to_value(role)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .ok_or_else(|| bad(at("role"), "an unknown platform role"))?;
                Rule::PlatformRole { role, value }
            }
        };
        out.push(rule);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(e: AppError) -> String {
        match e {
            AppError::Validation { field, .. } => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn keys_and_module_gates_are_checked() {
        assert_eq!(key(" newEditor ", FlagKind::Boolean).unwrap(), "newEditor");
        assert_eq!(key("module.collection", FlagKind::Boolean).unwrap(), "module.collection");
        assert_eq!(field(key("1abc", FlagKind::Boolean).unwrap_err()), "input.key");
        assert_eq!(field(key("module.nothing", FlagKind::Boolean).unwrap_err()), "input.key");
        assert_eq!(field(key("module.studio", FlagKind::Variant).unwrap_err()), "input.kind");
    }

    #[test]
    fn values_fit_the_kind_and_the_variants() {
        let vs = vec!["a".to_string(), "b".to_string()];
        let on = ValueInput { enabled: Some(true), variant: None };
        let b = ValueInput { enabled: None, variant: Some("b".into()) };
        let c = ValueInput { enabled: None, variant: Some("c".into()) };
        assert_eq!(value("input.default", FlagKind::Boolean, &[], &on).unwrap(), FlagValue::Bool(true));
        assert_eq!(
            value("input.default", FlagKind::Variant, &vs, &b).unwrap(),
            FlagValue::Variant("b".into())
        );
        assert_eq!(
            field(value("input.default", FlagKind::Variant, &vs, &c).unwrap_err()),
            "input.default.variant"
        );
        assert_eq!(field(value("input.default", FlagKind::Boolean, &[], &b).unwrap_err()), "input.default");
        assert_eq!(field(variants(FlagKind::Variant, &["a".into()]).unwrap_err()), "input.variants");
        assert_eq!(
            field(variants(FlagKind::Variant, &["a".into(), "a".into()]).unwrap_err()),
            "input.variants[1]"
        );
        assert_eq!(field(variants(FlagKind::Boolean, &["a".into()]).unwrap_err()), "input.variants");
    }
}
