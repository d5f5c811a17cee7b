//! Tenant API keys: secrets for third-party clients, shown once and stored as hashes.
//!
//! Owns the `api_keys` table. A key authenticates as `Authorization: Bearer zyk_…`, reaches
//! only its own tenant, and holds at most what its creator holds — checked when it is made
//! and again on every request. Audit entries of its requests name the key.

pub mod schema;
pub mod service;
pub mod types;

pub use schema::ApiKeysMutation;
