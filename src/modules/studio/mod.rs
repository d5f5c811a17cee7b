//! The collaboration studio's documents (issue 18): a team's documents of ordered pages of
//! ordered sections, autosave with revisions (a stale edit is a CONFLICT carrying the current
//! content, never a silent overwrite), section locks with a heartbeat and an expiry read from
//! the injectable clock, immutable published versions that can be compared and restored, and
//! the live `documentEvents` of a document.
//!
//! Owns the `documents`, `document_pages`, `document_sections` and `document_versions`
//! tables. Files ("resources") and presence are other work: an IMAGE or EMBED section names a
//! resource version by id (`resourceVersionId`, nullable), which is not checked until
//! resources exist. Teams are read (a document belongs to one), never changed.
//!
//! - `service/`: documents (access, revisions, snapshots), structure (pages and sections),
//!   locks, versions (publish, restore, compare), events;
//! - `loaders.rs`: the per-request loaders of documents, pages, sections and versions;
//! - `types.rs`, `schema.rs`, `mutations.rs`: the GraphQL face.

pub mod loaders;
pub mod mutations;
pub mod schema;
pub mod service;
pub mod types;

pub use mutations::StudioMutation;
pub use schema::{StudioQuery, StudioSubscription};
