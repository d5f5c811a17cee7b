//! Domain areas, one folder each: `schema.rs` (thin resolvers), `types.rs` (GraphQL types),
//! `service.rs` (business logic and permission decisions), `loaders.rs`, `events.rs`.

pub mod api_keys;
pub mod audit;
pub mod billing;
pub mod identity;
pub mod members;
pub mod roles;
pub mod secrets;
pub mod security;
pub mod studio;
pub mod teams;
pub mod tenancy;
pub mod workflows;
