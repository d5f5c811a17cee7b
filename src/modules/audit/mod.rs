//! The audit log: who changed what in a tenant, when and from where.
//!
//! Owns the append-only `audit_entries` table. Services of other modules call
//! [`service::record`] inside the transaction of their change, so an entry exists exactly
//! when the change committed, and [`service::publish`] after the commit for live viewers.
//! Nothing in the API updates or deletes entries.

pub mod schema;
pub mod service;
pub mod types;

pub use schema::AuditSubscription;
