//! Tenancy: organisations, their built-in roles with permissions, memberships, and the
//! `tenantEvents` subscription.
//!
//! Owns the `tenants`, `roles`, `role_permissions` and `memberships` tables. Every read or
//! write of a tenant's rows goes through the scoped helpers of [`crate::db`] with a
//! [`crate::access::TenantCtx`] obtained from [`service::access`] — a non-member gets
//! NOT_FOUND, the same answer as for a tenant that does not exist.

pub mod admin;
pub mod deletion;
pub mod events;
pub mod loaders;
pub mod schema;
pub mod service;
pub mod types;

pub use schema::{TenancyMutation, TenancyQuery, TenancySubscription};
