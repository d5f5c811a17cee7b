//! Tenant secrets and environment variables for workflows.
//!
//! Owns `secrets`, `secret_accesses` and `environment_variables`. A secret's value is
//! encrypted with AES-256-GCM under a key derived per tenant from the master key
//! ([`crate::crypto`]); it never leaves the server through the API. Workflow runs read values
//! through [`service::resolve_for_run`], which logs every read.

/// The key derivation and sealing, shared with other areas (TOTP seeds): `crate::crypto`.
pub use crate::crypto;
pub mod schema;
pub mod service;
pub mod types;

pub use schema::SecretsMutation;
