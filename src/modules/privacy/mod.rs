//! Privacy (GDPR): data exports (articles 15 and 20: a person's data, or an owner's whole
//! organisation, as a ZIP of JSON files mailed as a signed link valid seven days) and account
//! deletion (article 17: a 30-day grace period, then the person's own rows deleted and their
//! address and name scrubbed from what stays).
//!
//! Consents ([`consents`]): the configured policy documents and who accepted which version.
//!
//! Owns `data_exports`, `policy_acceptances` and `users.deletion_scheduled_at`. Where a person's data lives is read
//! off the database ([`catalog`]), so a new area's tables are covered without being listed.

pub mod catalog;
pub mod consents;
pub mod erasure;
pub mod export;
pub mod schema;
pub mod types;

pub use consents::{ConsentsMutation, ConsentsQuery};
pub use schema::PrivacyMutation;

/// Privacy's job handlers.
pub fn register(registry: crate::jobs::Registry) -> crate::jobs::Registry {
    registry.handler(export::Export).handler(erasure::Erase)
}
