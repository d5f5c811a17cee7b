//! Feature flags (issue 21): the platform's flags (`feature_flags`, a platform table: key,
//! description, BOOLEAN or VARIANT, default, ordered rules), evaluated per organisation
//! ([`evaluate`]: organisation override, plan, percentage rollout, platform role, the first
//! match deciding). Operators list and change them through the admin API ([`schema`],
//! [`service`], checked by [`validate`]); every change is audited in the platform log (and in
//! an organisation's own log when its override changed), and announced so each instance
//! reads the flags again ([`store`]) and the organisations whose flags changed hear
//! FEATURES_CHANGED on `tenantEvents`. The evaluated set reaches
//! `Tenant.features`, `Tenant.featureFlags`, billing's feature gate and, for the module gates
//! (`module.<name>` set false), the access check: that module's operations answer
//! FEATURE_DISABLED (see `access::features`).

pub mod evaluate;
pub mod schema;
pub mod service;
pub mod store;
pub mod types;
pub mod validate;

pub use schema::{FlagsMutation, FlagsQuery};

/// Global-ID type of a feature flag.
pub const FEATURE_FLAG: &str = "FeatureFlag";
