//! Resources (files): an organisation's or a team's files, each a name in a folder with tags
//! and a visibility (PRIVATE, TEAM, ORGANISATION, LINK), made of immutable versions whose
//! bytes live in [`crate::storage`]; signed share links with an expiry and an optional
//! password; a log of every download with counts; soft delete with restore; and the plan's
//! storage quota (metered by billing, `Limit::StorageBytes`).
//!
//! `purgeResource` deletes a file from the bin for good (its objects removed by a durable job,
//! [`purge`]).
//!
//! Owns the `resources`, `resource_versions`, `resource_share_links` and `resource_downloads`
//! tables. Uploads arrive through the GraphQL multipart request (the HTTP layer writes each
//! file to a temporary file as it arrives; [`upload`] streams it on to storage, hashing it on
//! the way); downloads leave through [`http`], streamed from storage.

pub mod access;
pub mod http;
pub mod loaders;
pub mod purge;
pub mod schema;
pub mod service;
pub mod sharing;
pub mod types;
pub mod upload;

pub use purge::register;
pub use schema::{ResourcesMutation, ResourcesQuery};
