//! Business logic of the studio, by topic. Every edit goes through [`documents::begin_edit`]:
//! the permission and team rule, then the revision check-and-advance, in one `TenantTx`.

pub mod compare;
pub mod documents;
pub mod events;
pub mod locks;
pub mod mentions;
pub mod presence;
pub mod sections;
pub mod structure;
pub mod versions;

pub use documents::*;
pub use events::{DocumentEvent, DocumentEventKind, document_topic};
