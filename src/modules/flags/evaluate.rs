//! Pure flag evaluation: a flag (boolean or variant, with a default) and its ordered rules —
//! per-organisation override, per plan, percentage rollout by a stable hash of (flag key,
//! organisation id), per platform role of the viewer — evaluated for one organisation. The
//! first rule that matches decides; none: the default. No I/O, no clock.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// A flag's value: on/off, or one of its variants.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FlagValue {
    Bool(bool),
    Variant(String),
}

/// One rule; rules are tried in order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Rule {
    /// This organisation gets `value`.
    Organisation { organisation_id: Uuid, value: FlagValue },
    /// Organisations on `plan` get `value`.
    Plan { plan: String, value: FlagValue },
    /// `percent` (0–100) of organisations, chosen by a stable hash, get `value`.
    Rollout { percent: u8, value: FlagValue },
    /// A viewer holding the platform role `role` (`super_admin`, `support`) gets `value`.
    PlatformRole { role: String, value: FlagValue },
}

/// Who and what the flag is evaluated for.
pub struct Subject<'a> {
    pub organisation_id: Uuid,
    pub plan: &'a str,
    pub platform_role: Option<&'a str>,
}

/// The bucket (0–99) of `organisation_id` for flag `key`: stable across instances and
/// releases (SHA-256), independent between flags.
pub fn bucket(key: &str, organisation_id: Uuid) -> u8 {
    let digest = Sha256::new()
        .chain_update(key.as_bytes())
        .chain_update(b":")
        .chain_update(organisation_id.as_bytes())
        .finalize();
    let n = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
    (n % 100) as u8
}

/// The value of flag `key` for `subject`: the first matching rule's, else `default`.
pub fn evaluate(key: &str, default: &FlagValue, rules: &[Rule], subject: &Subject<'_>) -> FlagValue {
    for rule in rules {
        let hit = match rule {
            Rule::Organisation { organisation_id, value } => {
                (*organisation_id == subject.organisation_id).then_some(value)
            }
            Rule::Plan { plan, value } => (plan == subject.plan).then_some(value),
            Rule::Rollout { percent, value } => {
                (bucket(key, subject.organisation_id) < *percent).then_some(value)
            }
            Rule::PlatformRole { role, value } => {
                (subject.platform_role == Some(role.as_str())).then_some(value)
            }
        };
        if let Some(v) = hit {
            return v.clone();
        }
    }
    default.clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ON: FlagValue = FlagValue::Bool(true);
    const OFF: FlagValue = FlagValue::Bool(false);

    fn org(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    #[test]
    fn the_first_matching_rule_decides_in_order() {
        let a = org(1);
        let rules = vec![
            Rule::Organisation { organisation_id: a, value: OFF },
            Rule::Plan { plan: "pro".into(), value: ON },
            Rule::Rollout { percent: 100, value: FlagValue::Variant("rolled".into()) },
        ];
        let cases: &[(Uuid, &str, Option<&str>, FlagValue)] = &[
            // The organisation's override beats its plan.
            (a, "pro", None, OFF),
            // The plan beats the rollout.
            (org(2), "pro", None, ON),
            // The rollout (everyone) beats the default.
            (org(2), "free", None, FlagValue::Variant("rolled".into())),
        ];
        for (id, plan, role, want) in cases {
            let s = Subject { organisation_id: *id, plan, platform_role: *role };
            assert_eq!(&evaluate("beta", &OFF, &rules, &s), want, "{id} on {plan}");
        }
    }

    #[test]
    fn nothing_matching_gives_the_default_and_roles_match_the_viewer() {
        let rules = vec![Rule::PlatformRole { role: "super_admin".into(), value: ON }];
        let s = Subject { organisation_id: org(3), plan: "free", platform_role: None };
        assert_eq!(evaluate("x", &OFF, &rules, &s), OFF);
        let s = Subject { organisation_id: org(3), plan: "free", platform_role: Some("super_admin") };
        assert_eq!(evaluate("x", &OFF, &rules, &s), ON);
        let s = Subject { organisation_id: org(3), plan: "free", platform_role: Some("support") };
        assert_eq!(evaluate("x", &OFF, &rules, &s), OFF);
    }

    #[test]
    fn rollout_is_stable_and_spreads_evenly() {
        // Stable: the same pair always lands in the same bucket.
        let id = Uuid::parse_str("0190f000-0000-7000-8000-000000000001").unwrap();
        assert_eq!(bucket("beta", id), bucket("beta", id));
        // Growing the percentage only adds organisations.
        let ids: Vec<Uuid> = (0..2000u128).map(|n| org(n * 7919 + 13)).collect();
        let on_at = |p: u8| -> Vec<bool> {
            let rules = [Rule::Rollout { percent: p, value: ON }];
            ids.iter()
                .map(|id| {
                    evaluate(
                        "beta",
                        &OFF,
                        &rules,
                        &Subject { organisation_id: *id, plan: "free", platform_role: None },
                    ) == ON
                })
                .collect()
        };
        let (ten, fifty) = (on_at(10), on_at(50));
        assert!(ten.iter().zip(&fifty).all(|(a, b)| !a || *b), "10% is inside 50%");
        // Distribution: about 10% and 50% of 2000 (well inside 4 standard deviations).
        let count = |v: &[bool]| v.iter().filter(|b| **b).count();
        assert!((150..=250).contains(&count(&ten)), "{}", count(&ten));
        assert!((910..=1090).contains(&count(&fifty)), "{}", count(&fifty));
        assert_eq!(count(&on_at(0)), 0);
        assert_eq!(count(&on_at(100)), ids.len());
        // Independent between flags: another key picks a different set.
        let other: Vec<bool> = ids.iter().map(|id| bucket("other", *id) < 50).collect();
        assert_ne!(other, fifty);
    }
}
