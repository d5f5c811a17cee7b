//! Developer mode (support access): a platform operator's time-limited, audited session in
//! one organisation (`support_sessions`). This module owns starting, approving, denying and
//! ending sessions and listing them (platform console, the organisation's owners, the
//! operator's own banner). What a live session grants is decided in
//! [`crate::access::support`] only; the organisation's approval rule is a tenancy setting
//! (`Settings.support`).

pub mod schema;
pub mod service;
pub mod types;

pub use schema::SupportMutation;
