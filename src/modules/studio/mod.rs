//! The collaboration studio's documents (issue 18): a team's documents of ordered pages of
//! ordered sections, autosave with revisions (a stale edit is a CONFLICT carrying the current
//! content, never a silent overwrite), section locks with a heartbeat and an expiry read from
//! the injectable clock, immutable published versions that can be compared and restored, and
//! the live `documentEvents` of a document.
//!
//! Owns the `documents`, `document_pages`, `document_sections` and `document_versions`
//! tables, and presence (who is in a document, their cursors), which is never in the database
//! but in the instance's presence store (`service/presence.rs`, `presence.rs`; the sweep and
//! the lock expiry run as jobs, `jobs.rs`). Files ("resources") are other work: an IMAGE or EMBED section names a
//! resource version by id (`resourceVersionId`, nullable), which is not checked until
//! resources exist. Teams are read (a document belongs to one), never changed.
//!
//! - `service/`: documents (access, revisions, snapshots), structure (pages and sections),
//!   locks, versions (publish, restore, compare), events;
//! - `loaders.rs`: the per-request loaders of documents, pages, sections and versions;
//! - `types.rs`, `schema.rs`, `mutations.rs`: the GraphQL face;
//! - `presence.rs`: presence's GraphQL face (`documentPresence`, `updatePresence`) and the
//!   projection of an event through a subscriber's selection; `rooms.rs`: the per-document
//!   task that serves WebSocket `documentPresence` subscribers as entries, not operations.

pub mod jobs;
pub mod loaders;
pub mod mutations;
pub mod presence;
pub mod rooms;
pub mod schema;
pub mod service;
pub mod types;

pub use mutations::StudioMutation;
pub use presence::{PresenceMutation, PresenceSubscription};
pub use schema::{StudioQuery, StudioSubscription};
