//! Roles and permissions defined by each tenant: the permission catalog query, custom roles
//! with inheritance, their permissions, and the roles × permissions matrix.
//!
//! Owns changes to `roles` and `role_permissions` after a tenant's creation, and the
//! [`service::RoleGraph`] every access check uses to compute a role's effective permissions
//! (its own grants plus those of its ancestors). Built-in roles are fixed; custom roles obey
//! the hierarchy rules in [`service`].

pub mod schema;
pub mod service;
pub mod types;

pub use schema::{RolesMutation, RolesQuery};
