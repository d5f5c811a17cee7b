//! Authentication and authorisation primitives: password hashing, access tokens, opaque
//! one-time/refresh tokens, the request and tenant contexts, and the permission catalog.
//!
//! This module decides *who* is calling and *what a role may do*; it never touches domain
//! tables other than reading the caller's session. Business rules live in the services.

pub mod context;
pub mod password;
pub mod permissions;
pub mod session_cache;
pub mod tokens;

pub use context::{RequestCtx, Viewer};
pub use permissions::{Permission, Permissions};
