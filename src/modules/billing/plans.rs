//! The plan catalog: plans are data (key, prices per currency and interval in minor units,
//! trial days, limits, features). The defaults below ship with Zygo; an operator replaces
//! them with a JSON file (`ZYGO_BILLING_PLANS_FILE`, same shape as [`Plan`]). Subscriptions
//! keep the price and plan version they signed up for, so changing the catalog never
//! changes what an existing subscription pays.

use std::{collections::BTreeMap, path::PathBuf, sync::RwLock};

use entity::subscription::BillingInterval;
use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};

/// A limited resource of a plan.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, async_graphql::Enum,
)]
#[serde(rename_all = "camelCase")]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum Limit {
    Members,
    Teams,
    Workflows,
    ExecutionsPerMonth,
    ApiOperationsPerMonth,
    StorageBytes,
    CollectedRecordsPerMonth,
    Servers,
    OutboundMailsPerDay,
    /// Cloud provider accounts connected (infrastructure).
    CloudProviders,
}

/// How a limit is counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Period {
    /// Rows that exist now (members, teams, workflows, servers, bytes).
    Current,
    Month,
    Day,
}

impl Limit {
    pub const ALL: &'static [Limit] = &[
        Limit::Members,
        Limit::Teams,
        Limit::Workflows,
        Limit::ExecutionsPerMonth,
        Limit::ApiOperationsPerMonth,
        Limit::StorageBytes,
        Limit::CollectedRecordsPerMonth,
        Limit::Servers,
        Limit::OutboundMailsPerDay,
        Limit::CloudProviders,
    ];

    /// The stable key used in counters and error extensions.
    pub fn key(self) -> &'static str {
        match self {
            Limit::Members => "members",
            Limit::Teams => "teams",
            Limit::Workflows => "workflows",
            Limit::ExecutionsPerMonth => "executionsPerMonth",
            Limit::ApiOperationsPerMonth => "apiOperationsPerMonth",
            Limit::StorageBytes => "storageBytes",
            Limit::CollectedRecordsPerMonth => "collectedRecordsPerMonth",
            Limit::Servers => "servers",
            Limit::OutboundMailsPerDay => "outboundMailsPerDay",
            Limit::CloudProviders => "cloudProviders",
        }
    }

    /// What the limit counts, in words (mails to owners).
    pub fn label(self) -> &'static str {
        match self {
            Limit::Members => "member seats",
            Limit::Teams => "teams",
            Limit::Workflows => "workflows",
            Limit::ExecutionsPerMonth => "workflow executions this month",
            Limit::ApiOperationsPerMonth => "API operations this month",
            Limit::StorageBytes => "storage",
            Limit::CollectedRecordsPerMonth => "collected records this month",
            Limit::Servers => "servers",
            Limit::OutboundMailsPerDay => "outbound mails today",
            Limit::CloudProviders => "cloud provider accounts",
        }
    }

    pub fn period(self) -> Period {
        match self {
            Limit::ExecutionsPerMonth | Limit::ApiOperationsPerMonth | Limit::CollectedRecordsPerMonth => {
                Period::Month
            }
            Limit::OutboundMailsPerDay => Period::Day,
            _ => Period::Current,
        }
    }
}

/// One price of a plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Price {
    /// ISO 4217, upper case.
    pub currency: String,
    pub interval: BillingInterval,
    /// Minor units per interval.
    pub amount: i64,
}

/// A plan of the catalog.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub key: String,
    pub name: String,
    pub description: String,
    /// Bumped when the operator changes the plan's prices.
    pub version: i32,
    /// Order from cheapest to most capable (decides upgrade or downgrade).
    pub rank: i32,
    pub prices: Vec<Price>,
    #[serde(default)]
    pub trial_days: i32,
    /// `None`: unlimited.
    pub limits: BTreeMap<Limit, Option<i64>>,
    pub features: BTreeMap<String, bool>,
    /// Sold by the sales team (no self-serve checkout).
    #[serde(default)]
    pub contact_sales: bool,
    /// Operations per minute (and burst) an organisation's API keys share; `None`: the
    /// instance's `ZYGO_RATE_LIMIT_PER_MINUTE`.
    #[serde(default)]
    pub requests_per_minute: Option<u32>,
    /// Prices of use beyond a per-period limit, billed on the renewal after the period.
    #[serde(default)]
    pub overage: Vec<OveragePrice>,
}

/// What use beyond a per-period limit costs: `amount` minor units of `currency` per
/// `per_units` units over the allowance (e.g. 10 cents per 1000 API operations). A part of
/// `per_units` is charged pro rata, rounded half up to the minor unit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OveragePrice {
    pub limit: Limit,
    pub currency: String,
    pub amount: i64,
    #[serde(default = "one")]
    pub per_units: i64,
}

fn one() -> i64 {
    1
}

impl OveragePrice {
    /// The charge for `units` over the allowance, in minor units.
    pub fn charge(&self, units: i64) -> i64 {
        if units <= 0 {
            return 0;
        }
        let n = units as i128 * self.amount as i128;
        let d = self.per_units.max(1) as i128;
        ((2 * n + d) / (2 * d)) as i64
    }
}

/// An organisation's own limits over its plan's, set by a platform operator
/// (`tenants.limit_overrides`): a number, or none for no limit. A limit not overridden is
/// the plan's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overrides(BTreeMap<Limit, Option<i64>>);

impl Overrides {
    /// From the stored JSON object (unknown keys and non-numbers are ignored).
    pub fn from_json(v: Option<&serde_json::Value>) -> Self {
        let mut out = BTreeMap::new();
        if let Some(serde_json::Value::Object(map)) = v {
            for &limit in Limit::ALL {
                match map.get(limit.key()) {
                    Some(serde_json::Value::Null) => {
                        out.insert(limit, None);
                    }
                    Some(n) => {
                        if let Some(n) = n.as_i64() {
                            out.insert(limit, Some(n));
                        }
                    }
                    None => {}
                }
            }
        }
        Self(out)
    }

    pub fn new(values: BTreeMap<Limit, Option<i64>>) -> Self {
        Self(values)
    }

    pub fn to_json(&self) -> Option<serde_json::Value> {
        (!self.0.is_empty()).then(|| {
            serde_json::Value::Object(
                self.0.iter().map(|(l, v)| (l.key().to_string(), serde_json::json!(v))).collect(),
            )
        })
    }

    /// `limit` for an organisation on `plan`: the override, else the plan's (`None`: no limit).
    pub fn limit(&self, plan: &Plan, limit: Limit) -> Option<i64> {
        match self.0.get(&limit) {
            Some(v) => *v,
            None => plan.limit(limit),
        }
    }

    pub fn is_overridden(&self, limit: Limit) -> bool {
        self.0.contains_key(&limit)
    }

    /// The override of `limit` (`None`: not overridden, or overridden to no limit).
    pub fn get(&self, limit: Limit) -> Option<i64> {
        self.0.get(&limit).copied().flatten()
    }
}

impl Plan {
    pub fn price(&self, currency: &str, interval: BillingInterval) -> Option<&Price> {
        self.prices.iter().find(|p| p.currency == currency && p.interval == interval)
    }

    /// The plan's limit of `limit` (`None`: unlimited).
    pub fn limit(&self, limit: Limit) -> Option<i64> {
        self.limits.get(&limit).copied().flatten()
    }

    pub fn has_feature(&self, feature: &str) -> bool {
        self.features.get(feature).copied().unwrap_or(false)
    }

    /// The overage price of `limit` in `currency`, if the plan sells use beyond it.
    pub fn overage_price(&self, limit: Limit, currency: &str) -> Option<&OveragePrice> {
        self.overage.iter().find(|o| o.limit == limit && o.currency == currency)
    }
}

/// The catalog: plans from cheapest to most capable.
#[derive(Clone, Debug)]
pub struct Catalog {
    pub plans: Vec<Plan>,
}

/// The plan every organisation is on without a paid subscription.
pub const FREE: &str = "free";

impl Catalog {
    pub fn plan(&self, key: &str) -> Option<&Plan> {
        self.plans.iter().find(|p| p.key == key)
    }

    /// The free plan (the catalog must have one).
    pub fn free(&self) -> &Plan {
        self.plan(FREE).expect("the catalog has a free plan (checked when loaded)")
    }

    /// The cheapest plan that turns `feature` on.
    pub fn cheapest_with(&self, feature: &str) -> Option<&Plan> {
        self.plans.iter().filter(|p| p.has_feature(feature)).min_by_key(|p| p.rank)
    }

    /// Checks an operator's catalog: a free plan, unique keys, ISO currencies, no negative
    /// amounts.
    pub fn validate(&self) -> Result<(), String> {
        if self.plan(FREE).is_none() {
            return Err(format!("the catalog needs a plan with key `{FREE}`"));
        }
        let mut keys = std::collections::HashSet::new();
        for p in &self.plans {
            if !keys.insert(&p.key) {
                return Err(format!("plan `{}` appears twice", p.key));
            }
            for price in &p.prices {
                if price.currency.len() != 3 || !price.currency.chars().all(|c| c.is_ascii_uppercase()) {
                    return Err(format!("plan `{}`: currency `{}` is not ISO 4217", p.key, price.currency));
                }
                if price.amount < 0 {
                    return Err(format!("plan `{}`: a negative price", p.key));
                }
            }
            for o in &p.overage {
                if o.limit.period() != Period::Month {
                    return Err(format!(
                        "plan `{}`: overage is for per-month limits, not `{}`",
                        p.key,
                        o.limit.key()
                    ));
                }
                if o.amount < 0 || o.per_units < 1 {
                    return Err(format!(
                        "plan `{}`: overage of `{}` needs amount ≥ 0 and perUnits ≥ 1",
                        p.key,
                        o.limit.key()
                    ));
                }
            }
        }
        Ok(())
    }

    /// Loads `path` (a JSON array of plans) or, with no path, the defaults.
    pub fn load(path: Option<&std::path::Path>) -> Result<Self, String> {
        let catalog = match path {
            None => Self::defaults(),
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
                let plans: Vec<Plan> =
                    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
                Self { plans }
            }
        };
        catalog.validate()?;
        Ok(catalog)
    }

    /// The plans Zygo ships with.
    pub fn defaults() -> Self {
        use BillingInterval::{Month, Year};
        let prices = |monthly: i64| {
            let mut out = Vec::new();
            for currency in ["EUR", "USD", "GBP"] {
                out.push(Price { currency: currency.into(), interval: Month, amount: monthly });
                out.push(Price { currency: currency.into(), interval: Year, amount: monthly * 10 });
            }
            out
        };
        let limits = |l: [Option<i64>; 10]| Limit::ALL.iter().copied().zip(l).collect();
        let features = |f: &[&str]| f.iter().map(|k| (k.to_string(), true)).collect();
        // Per 1000 API operations and per 100 executions beyond the allowance, in each currency.
        let overage = |per_thousand_ops: i64, per_hundred_runs: i64| {
            let mut out = Vec::new();
            for currency in ["EUR", "USD", "GBP"] {
                out.push(OveragePrice {
                    limit: Limit::ApiOperationsPerMonth,
                    currency: currency.into(),
                    amount: per_thousand_ops,
                    per_units: 1_000,
                });
                out.push(OveragePrice {
                    limit: Limit::ExecutionsPerMonth,
                    currency: currency.into(),
                    amount: per_hundred_runs,
                    per_units: 100,
                });
            }
            out
        };
        const GIB: i64 = 1 << 30;
        Self {
            plans: vec![
                Plan {
                    key: FREE.into(),
                    name: "Free".into(),
                    description: "For trying Zygo with a small team".into(),
                    version: 1,
                    rank: 0,
                    prices: prices(0),
                    trial_days: 0,
                    limits: limits([
                        Some(5),
                        Some(3),
                        Some(10),
                        Some(1_000),
                        Some(10_000),
                        Some(GIB),
                        Some(1_000),
                        Some(0),
                        Some(50),
                        Some(1),
                    ]),
                    features: features(&[]),
                    contact_sales: false,
                    requests_per_minute: Some(120),
                    overage: vec![],
                },
                Plan {
                    key: "pro".into(),
                    name: "Pro".into(),
                    description: "For growing teams".into(),
                    version: 1,
                    rank: 1,
                    prices: prices(2_900),
                    trial_days: 14,
                    limits: limits([
                        Some(20),
                        Some(10),
                        Some(50),
                        Some(20_000),
                        Some(500_000),
                        Some(50 * GIB),
                        Some(50_000),
                        Some(5),
                        Some(1_000),
                        Some(3),
                    ]),
                    features: features(&["apiKeys", "webhooks", "customRoles"]),
                    contact_sales: false,
                    requests_per_minute: Some(600),
                    overage: overage(10, 2),
                },
                Plan {
                    key: "business".into(),
                    name: "Business".into(),
                    description: "For organisations with many teams".into(),
                    version: 1,
                    rank: 2,
                    prices: prices(9_900),
                    trial_days: 14,
                    limits: limits([
                        Some(100),
                        Some(50),
                        Some(500),
                        Some(200_000),
                        Some(5_000_000),
                        Some(500 * GIB),
                        Some(500_000),
                        Some(50),
                        Some(10_000),
                        Some(20),
                    ]),
                    features: features(&["apiKeys", "webhooks", "customRoles", "auditExport", "sso"]),
                    contact_sales: false,
                    requests_per_minute: Some(3_000),
                    overage: overage(5, 1),
                },
                Plan {
                    key: "enterprise".into(),
                    name: "Enterprise".into(),
                    description: "Unlimited use, invoicing and support terms; contact sales".into(),
                    version: 1,
                    rank: 3,
                    prices: vec![],
                    trial_days: 0,
                    limits: limits([None, None, None, None, None, None, None, None, None, None]),
                    features: features(&["apiKeys", "webhooks", "customRoles", "auditExport", "sso", "sla"]),
                    contact_sales: true,
                    requests_per_minute: None,
                    overage: vec![],
                },
            ],
        }
    }
}

/// Catalogs loaded by this process, by file (`None`: the shipped defaults). Loaded once and
/// kept for the process's life; tests run instances with different catalogs side by side.
static CATALOGS: RwLock<BTreeMap<Option<PathBuf>, &'static Catalog>> = RwLock::new(BTreeMap::new());

/// The instance's catalog: the file named by `ZYGO_BILLING_PLANS_FILE`, or the defaults.
pub fn catalog(config: &crate::config::Config) -> AppResult<&'static Catalog> {
    // Read on every gate and plan field: a shared lock, taken for writing only to load.
    if let Some(c) = CATALOGS.read().expect("catalog lock").get(&config.billing.plans_file) {
        return Ok(c);
    }
    let key = config.billing.plans_file.clone();
    let mut loaded = CATALOGS.write().expect("catalog lock");
    if let Some(c) = loaded.get(&key) {
        return Ok(c);
    }
    let catalog = Catalog::load(key.as_deref())
        .map_err(|e| AppError::Internal(anyhow::anyhow!("billing catalog: {e}")))?;
    let catalog: &'static Catalog = Box::leak(Box::new(catalog));
    loaded.insert(key, catalog);
    Ok(catalog)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_catalog_is_valid_and_ordered() {
        let c = Catalog::defaults();
        c.validate().unwrap();
        let ranks: Vec<i32> = c.plans.iter().map(|p| p.rank).collect();
        assert_eq!(ranks, vec![0, 1, 2, 3]);
        assert_eq!(c.free().limit(Limit::Teams), Some(3));
        assert_eq!(c.plan("enterprise").unwrap().limit(Limit::Members), None);
        assert_eq!(c.cheapest_with("sso").unwrap().key, "business");
        assert_eq!(c.plan("pro").unwrap().price("EUR", BillingInterval::Year).unwrap().amount, 29_000);
    }

    #[test]
    fn overage_is_charged_pro_rata_rounded_half_up_to_the_minor_unit() {
        let o = OveragePrice {
            limit: Limit::ApiOperationsPerMonth,
            currency: "EUR".into(),
            amount: 10,
            per_units: 1_000,
        };
        assert_eq!(o.charge(0), 0);
        assert_eq!(o.charge(-5), 0);
        assert_eq!(o.charge(1_000), 10);
        assert_eq!(o.charge(2_549), 25); // 25.49
        assert_eq!(o.charge(2_550), 26); // 25.5 rounds up
        assert_eq!(o.charge(49), 0); // 0.49
        assert_eq!(o.charge(50), 1);
        let per_unit = OveragePrice { per_units: 1, amount: 3, ..o };
        assert_eq!(per_unit.charge(7), 21);
    }

    #[test]
    fn a_catalog_with_overage_on_a_counted_now_limit_is_refused() {
        let mut c = Catalog::defaults();
        c.plans[1].overage.push(OveragePrice {
            limit: Limit::Teams,
            currency: "EUR".into(),
            amount: 1,
            per_units: 1,
        });
        assert!(c.validate().unwrap_err().contains("per-month"));
    }

    #[test]
    fn a_catalog_without_free_or_with_a_bad_currency_is_refused() {
        let mut c = Catalog::defaults();
        c.plans.retain(|p| p.key != FREE);
        assert!(c.validate().unwrap_err().contains("free"));
        let mut c = Catalog::defaults();
        c.plans[1].prices[0].currency = "euro".into();
        assert!(c.validate().unwrap_err().contains("ISO 4217"));
    }
}
