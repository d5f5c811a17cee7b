//! Account security: MFA, sessions, sign-in throttling and lockout, the security log, and
//! OAuth / OpenID Connect sign-in.

pub mod events;
pub mod mfa;
pub mod oauth;
pub mod platform;
pub mod schema;
pub mod sessions;
pub mod throttle;
pub mod types;
