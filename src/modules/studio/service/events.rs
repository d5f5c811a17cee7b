//! What a document's live viewers hear (`documentEvents`), and its topic.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::pubsub::Topic;

/// What happened to a document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, async_graphql::Enum)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[graphql(name = "DocumentEventKind")]
pub enum DocumentEventKind {
    /// The draft changed (see `change`); `revision` is the new one.
    Edited,
    /// Someone took the lock of a section (or took over an expired one).
    LockAcquired,
    /// The holder released the lock, or it was force-released.
    LockReleased,
    /// A lock's time ran out (announced at its expiry by a job, or by the next lock or edit of
    /// the section if that comes first).
    LockExpired,
    /// A version was published.
    Published,
    /// The document was deleted.
    Deleted,
}

/// One event of a document, as it travels on the bus.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentEvent {
    pub kind: DocumentEventKind,
    pub document_id: Uuid,
    /// The document's revision after the event.
    pub revision: i64,
    /// For EDITED: what changed, e.g. `section.updated`, `page.moved`, `version.restored`.
    pub change: Option<String>,
    pub page_id: Option<Uuid>,
    pub section_id: Option<Uuid>,
    /// Who acted; for lock events, whose lock it is (or was).
    pub user_id: Option<Uuid>,
    /// For LOCK_ACQUIRED: until when.
    pub lock_expires_at: Option<DateTime<Utc>>,
    /// For PUBLISHED: the version's number.
    pub version: Option<i32>,
    pub at: DateTime<Utc>,
}

/// `t:{tenant}:document:{id}`.
pub fn document_topic(tenant_id: Uuid, document_id: Uuid) -> Topic {
    Topic::tenant(tenant_id, &format!("document:{document_id}"))
}
