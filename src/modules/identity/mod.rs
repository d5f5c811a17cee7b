//! Identity: users, e-mail verification, log-in sessions with rotating refresh tokens.
//!
//! Owns the `users`, `sessions`, `refresh_tokens` and `user_tokens` tables. It knows
//! nothing about tenants; the tenancy module builds on the viewer it authenticates.

pub mod account;
pub mod schema;
pub mod service;
pub mod types;
pub mod user_tokens;

pub use schema::{IdentityMutation, IdentityQuery};
