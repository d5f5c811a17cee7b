//! Organisation addresses: `{slug}.{ZYGO_BASE_DOMAIN}` subdomains and verified custom domains.
//!
//! Owns the `tenant_domains` table. [`hosts`] tells the HTTP layer which organisation a `Host`
//! names (and Caddy which names may get a certificate); [`service`] adds, verifies, re-checks,
//! promotes and removes custom domains; [`dns`] asks the configured resolver.

pub mod dns;
pub mod hosts;
pub mod schema;
pub mod service;
pub mod types;

pub use schema::DomainsMutation;

/// The re-check schedule.
pub fn register(registry: crate::jobs::Registry, every: std::time::Duration) -> crate::jobs::Registry {
    registry.handler(service::Recheck).every(service::RECHECK, every)
}
