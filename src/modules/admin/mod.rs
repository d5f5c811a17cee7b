//! The platform operators' area: platform roles (`platform_roles`: granted from the command
//! line or by a super admin, see [`roles`]), the platform audit log
//! (`platform_audit_entries`: every admin action, written through
//! [`crate::access::platform::audit`]), the `admin` query root (organisations, users,
//! statistics, the job dashboard, the audit log) and the operators' mutations. Whether a
//! caller may use a platform role is decided in [`crate::access::platform`] only; no
//! organisation path leads to one.

pub mod directory;
pub mod jobs;
pub mod organisations;
pub mod roles;
pub mod schema;
pub mod stats;
pub mod types;

pub use schema::{AdminMutation, AdminQuery};

/// Global-ID type of a background job.
pub const JOB: &str = "Job";
/// Global-ID type of a platform audit entry.
pub const PLATFORM_AUDIT_ENTRY: &str = "PlatformAuditEntry";
