//! Domain areas, one folder each: `schema.rs` (thin resolvers), `types.rs` (GraphQL types),
//! `service.rs` (business logic and permission decisions), `loaders.rs`, `events.rs`.

pub mod admin;
pub mod api_keys;
pub mod audit;
pub mod billing;
pub mod collection;
pub mod domains;
pub mod flags;
pub mod identity;
pub mod infrastructure;
pub mod members;
pub mod notifications;
pub mod privacy;
pub mod resources;
pub mod retention;
pub mod roles;
pub mod secrets;
pub mod security;
pub mod studio;
pub mod support;
pub mod teams;
pub mod tenancy;
pub mod webhooks;
pub mod workflows;

/// Every area's background job handlers and schedules (see [`crate::jobs`]).
pub fn jobs(config: &crate::config::Config) -> crate::jobs::Registry {
    let registry = billing::jobs::register(crate::jobs::Registry::new(), config.billing.worker_interval);
    let registry = retention::register(registry, config.retention.interval);
    let registry = notifications::register(registry);
    let registry = privacy::register(registry);
    let registry = studio::jobs::register(registry, config);
    let registry = resources::register(registry);
    let registry = collection::register(registry);
    let registry = tenancy::deletion::register(registry);
    let registry = domains::register(registry, config.domains.recheck_interval);
    let registry = infrastructure::register(registry, config.infrastructure.reconcile_interval);
    webhooks::register(registry)
}
