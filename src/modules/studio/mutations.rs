//! The studio's mutations (thin resolvers: decode IDs, call one service function, wrap).
//! Every edit of the draft carries `baseRevision`, the document revision it was based on: a
//! stale one is refused with CONFLICT (extensions `currentRevision` and `current`, the whole
//! current content), never applied over someone else's change.

use async_graphql::{Context, ID, InputObject, Json, Object, Result};
use entity::{document, document_page, document_section, document_version};
use serde_json::Value;
use uuid::Uuid;

use super::{
    service::{self, locks, sections, structure, versions},
    types::*,
};
use crate::{
    access::TenantCtx,
    graphql::{
        app, owned_row,
        relay::{self, kind},
    },
};

#[derive(InputObject)]
pub struct CreateDocumentInput {
    /// The team the document belongs to (you must be its owner or editor, or hold
    /// `DOCUMENTS_MANAGE`).
    pub team_id: ID,
    /// 1–200 characters.
    pub title: String,
}

#[derive(InputObject)]
pub struct UpdateDocumentInput {
    pub id: ID,
    /// The document revision this edit is based on.
    pub base_revision: i64,
    pub title: String,
}

#[derive(InputObject)]
pub struct AddDocumentPageInput {
    pub document_id: ID,
    pub base_revision: i64,
    pub title: String,
    /// 0-based place; the end when omitted.
    pub position: Option<i32>,
}

#[derive(InputObject)]
pub struct UpdateDocumentPageInput {
    pub id: ID,
    pub base_revision: i64,
    pub title: String,
}

#[derive(InputObject)]
pub struct MoveDocumentPageInput {
    pub id: ID,
    pub base_revision: i64,
    /// 0-based place among the pages (past the end: the end).
    pub position: i32,
}

/// Names a page or section and the revision the edit is based on.
#[derive(InputObject)]
pub struct DocumentPartInput {
    pub id: ID,
    pub base_revision: i64,
}

#[derive(InputObject)]
pub struct AddDocumentSectionInput {
    pub page_id: ID,
    pub base_revision: i64,
    pub kind: SectionKind,
    /// The kind's empty content when omitted.
    pub content: Option<Json<Value>>,
    /// 0-based place; the end when omitted.
    pub position: Option<i32>,
}

#[derive(InputObject)]
pub struct UpdateDocumentSectionInput {
    pub id: ID,
    pub base_revision: i64,
    /// Changes the kind (the content must then fit it).
    pub kind: Option<SectionKind>,
    pub content: Json<Value>,
}

#[derive(InputObject)]
pub struct MoveDocumentSectionInput {
    pub id: ID,
    pub base_revision: i64,
    /// Another page of the same document; its own page when omitted.
    pub page_id: Option<ID>,
    /// 0-based place in the page (past the end: the end).
    pub position: i32,
}

#[derive(InputObject)]
pub struct PublishDocumentInput {
    pub id: ID,
    /// The revision being published: CONFLICT if the draft has moved on since.
    pub base_revision: i64,
    /// What changed, for the history (at most 500 characters).
    #[graphql(default)]
    pub note: String,
}

#[derive(InputObject)]
pub struct RestoreDocumentVersionInput {
    pub version_id: ID,
    pub base_revision: i64,
}

#[derive(Default)]
pub struct StudioMutation;

async fn document_ctx(ctx: &Context<'_>, field: &str, id: &ID) -> Result<(Uuid, std::sync::Arc<TenantCtx>)> {
    owned_row::<document::Entity>(ctx, field, id, kind::DOCUMENT, "document", document::Column::Id).await
}

async fn page_ctx(ctx: &Context<'_>, field: &str, id: &ID) -> Result<(Uuid, std::sync::Arc<TenantCtx>)> {
    owned_row::<document_page::Entity>(ctx, field, id, kind::DOCUMENT_PAGE, "page", document_page::Column::Id)
        .await
}

async fn section_ctx(ctx: &Context<'_>, field: &str, id: &ID) -> Result<(Uuid, std::sync::Arc<TenantCtx>)> {
    owned_row::<document_section::Entity>(
        ctx,
        field,
        id,
        kind::DOCUMENT_SECTION,
        "section",
        document_section::Column::Id,
    )
    .await
}

fn page_payload((doc, page): (document::Model, document_page::Model)) -> DocumentPagePayload {
    DocumentPagePayload { document: Document(doc), page: DocumentPage(page) }
}

fn section_payload((doc, section): (document::Model, document_section::Model)) -> DocumentSectionPayload {
    DocumentSectionPayload { document: Document(doc), section: DocumentSection(section) }
}

#[Object]
impl StudioMutation {
    /// Creates a document with one empty page (needs `DOCUMENTS_WRITE`, as an owner or editor
    /// of the team, or `DOCUMENTS_MANAGE`).
    async fn create_document(
        &self,
        ctx: &Context<'_>,
        input: CreateDocumentInput,
    ) -> Result<DocumentPayload> {
        let team = relay::decode_id("input.teamId", &input.team_id, kind::TEAM)?;
        // The team's organisation decides whose access applies; a team the caller cannot
        // reach is NOT_FOUND like one that does not exist.
        let (_, tctx) = owned_row::<entity::team::Entity>(
            ctx,
            "input.teamId",
            &input.team_id,
            kind::TEAM,
            "team",
            entity::team::Column::Id,
        )
        .await?;
        let doc = service::create_document(app(ctx), &tctx, team, &input.title).await?;
        Ok(DocumentPayload { document: Document(doc) })
    }

    /// Renames a document (an edit: needs `DOCUMENTS_WRITE` in its team).
    async fn update_document(
        &self,
        ctx: &Context<'_>,
        input: UpdateDocumentInput,
    ) -> Result<DocumentPayload> {
        let (id, tctx) = document_ctx(ctx, "input.id", &input.id).await?;
        let doc = service::update_document(app(ctx), &tctx, id, input.base_revision, &input.title).await?;
        Ok(DocumentPayload { document: Document(doc) })
    }

    /// Deletes a document (needs `DOCUMENTS_MANAGE`).
    async fn delete_document(&self, ctx: &Context<'_>, id: ID) -> Result<DeleteDocumentPayload> {
        let (id, tctx) = document_ctx(ctx, "id", &id).await?;
        let doc = service::delete_document(app(ctx), &tctx, id).await?;
        Ok(DeleteDocumentPayload { deleted_document_id: relay::to_global_id(kind::DOCUMENT, doc.id) })
    }

    /// Adds a page (an edit).
    async fn add_page(&self, ctx: &Context<'_>, input: AddDocumentPageInput) -> Result<DocumentPagePayload> {
        let (id, tctx) = document_ctx(ctx, "input.documentId", &input.document_id).await?;
        let r = structure::add_page(app(ctx), &tctx, id, input.base_revision, &input.title, input.position)
            .await?;
        Ok(page_payload(r))
    }

    /// Renames a page (an edit).
    async fn update_page(
        &self,
        ctx: &Context<'_>,
        input: UpdateDocumentPageInput,
    ) -> Result<DocumentPagePayload> {
        let (id, tctx) = page_ctx(ctx, "input.id", &input.id).await?;
        Ok(page_payload(
            structure::update_page(app(ctx), &tctx, id, input.base_revision, &input.title).await?,
        ))
    }

    /// Moves a page (an edit).
    async fn move_page(
        &self,
        ctx: &Context<'_>,
        input: MoveDocumentPageInput,
    ) -> Result<DocumentPagePayload> {
        let (id, tctx) = page_ctx(ctx, "input.id", &input.id).await?;
        Ok(page_payload(
            structure::move_page(app(ctx), &tctx, id, input.base_revision, input.position).await?,
        ))
    }

    /// Copies a page and its sections right after it (an edit); the payload's page is the copy.
    async fn duplicate_page(
        &self,
        ctx: &Context<'_>,
        input: DocumentPartInput,
    ) -> Result<DocumentPagePayload> {
        let (id, tctx) = page_ctx(ctx, "input.id", &input.id).await?;
        Ok(page_payload(structure::duplicate_page(app(ctx), &tctx, id, input.base_revision).await?))
    }

    /// Deletes a page and its sections (an edit; LOCKED while someone else holds a lock in it).
    async fn delete_page(
        &self,
        ctx: &Context<'_>,
        input: DocumentPartInput,
    ) -> Result<DeleteDocumentPagePayload> {
        let (id, tctx) = page_ctx(ctx, "input.id", &input.id).await?;
        let (doc, page) = structure::delete_page(app(ctx), &tctx, id, input.base_revision).await?;
        Ok(DeleteDocumentPagePayload {
            document: Document(doc),
            deleted_page_id: relay::to_global_id(kind::DOCUMENT_PAGE, page.id),
        })
    }

    /// Adds a section to a page (an edit).
    async fn add_section(
        &self,
        ctx: &Context<'_>,
        input: AddDocumentSectionInput,
    ) -> Result<DocumentSectionPayload> {
        let (id, tctx) = page_ctx(ctx, "input.pageId", &input.page_id).await?;
        let r = sections::add_section(
            app(ctx),
            &tctx,
            id,
            input.base_revision,
            input.kind.into(),
            input.content.map(|c| c.0),
            input.position,
        )
        .await?;
        Ok(section_payload(r))
    }

    /// Replaces a section's content — the autosave (an edit; LOCKED while someone else holds
    /// its lock).
    async fn update_section(
        &self,
        ctx: &Context<'_>,
        input: UpdateDocumentSectionInput,
    ) -> Result<DocumentSectionPayload> {
        let (id, tctx) = section_ctx(ctx, "input.id", &input.id).await?;
        let r = sections::update_section(
            app(ctx),
            &tctx,
            id,
            input.base_revision,
            input.kind.map(Into::into),
            &input.content.0,
        )
        .await?;
        Ok(section_payload(r))
    }

    /// Moves a section within its page or to another page of the document (an edit).
    async fn move_section(
        &self,
        ctx: &Context<'_>,
        input: MoveDocumentSectionInput,
    ) -> Result<DocumentSectionPayload> {
        let (id, tctx) = section_ctx(ctx, "input.id", &input.id).await?;
        let page =
            input.page_id.map(|p| relay::decode_id("input.pageId", &p, kind::DOCUMENT_PAGE)).transpose()?;
        let r =
            sections::move_section(app(ctx), &tctx, id, input.base_revision, page, input.position).await?;
        Ok(section_payload(r))
    }

    /// Copies a section right after it (an edit); the payload's section is the copy.
    async fn duplicate_section(
        &self,
        ctx: &Context<'_>,
        input: DocumentPartInput,
    ) -> Result<DocumentSectionPayload> {
        let (id, tctx) = section_ctx(ctx, "input.id", &input.id).await?;
        Ok(section_payload(sections::duplicate_section(app(ctx), &tctx, id, input.base_revision).await?))
    }

    /// Deletes a section (an edit; LOCKED while someone else holds its lock).
    async fn delete_section(
        &self,
        ctx: &Context<'_>,
        input: DocumentPartInput,
    ) -> Result<DeleteDocumentSectionPayload> {
        let (id, tctx) = section_ctx(ctx, "input.id", &input.id).await?;
        let (doc, section) = sections::delete_section(app(ctx), &tctx, id, input.base_revision).await?;
        Ok(DeleteDocumentSectionPayload {
            document: Document(doc),
            deleted_section_id: relay::to_global_id(kind::DOCUMENT_SECTION, section.id),
        })
    }

    /// Publishes the draft as an immutable version (needs `DOCUMENTS_PUBLISH` in its team).
    async fn publish_document(
        &self,
        ctx: &Context<'_>,
        input: PublishDocumentInput,
    ) -> Result<PublishDocumentPayload> {
        let (id, tctx) = document_ctx(ctx, "input.id", &input.id).await?;
        let (doc, version) =
            versions::publish_document(app(ctx), &tctx, id, input.base_revision, &input.note).await?;
        Ok(PublishDocumentPayload { document: Document(doc), version: DocumentVersion(version) })
    }

    /// Puts a version's content back into the draft as a new revision (needs
    /// `DOCUMENTS_PUBLISH` in its team).
    async fn restore_document_version(
        &self,
        ctx: &Context<'_>,
        input: RestoreDocumentVersionInput,
    ) -> Result<DocumentPayload> {
        let (id, tctx) = owned_row::<document_version::Entity>(
            ctx,
            "input.versionId",
            &input.version_id,
            kind::DOCUMENT_VERSION,
            "version",
            document_version::Column::Id,
        )
        .await?;
        let doc = versions::restore_document_version(app(ctx), &tctx, id, input.base_revision).await?;
        Ok(DocumentPayload { document: Document(doc) })
    }

    /// Takes a section's edit lock for the configured time (60 s by default); renew it with
    /// `renewSectionLock`. LOCKED (naming the holder and expiry) while someone else holds it.
    async fn acquire_section_lock(&self, ctx: &Context<'_>, section_id: ID) -> Result<SectionLockPayload> {
        let (id, tctx) = section_ctx(ctx, "sectionId", &section_id).await?;
        Ok(SectionLockPayload {
            section: DocumentSection(locks::acquire_section_lock(app(ctx), &tctx, id).await?),
        })
    }

    /// The lock's heartbeat: holds it for the configured time from now.
    async fn renew_section_lock(&self, ctx: &Context<'_>, section_id: ID) -> Result<SectionLockPayload> {
        let (id, tctx) = section_ctx(ctx, "sectionId", &section_id).await?;
        Ok(SectionLockPayload {
            section: DocumentSection(locks::renew_section_lock(app(ctx), &tctx, id).await?),
        })
    }

    /// Gives up one's lock of a section.
    async fn release_section_lock(&self, ctx: &Context<'_>, section_id: ID) -> Result<SectionLockPayload> {
        let (id, tctx) = section_ctx(ctx, "sectionId", &section_id).await?;
        Ok(SectionLockPayload {
            section: DocumentSection(locks::release_section_lock(app(ctx), &tctx, id).await?),
        })
    }

    /// Releases anyone's lock of a section (the document's creator, or `DOCUMENTS_MANAGE`).
    async fn force_release_section_lock(
        &self,
        ctx: &Context<'_>,
        section_id: ID,
    ) -> Result<SectionLockPayload> {
        let (id, tctx) = section_ctx(ctx, "sectionId", &section_id).await?;
        Ok(SectionLockPayload {
            section: DocumentSection(locks::force_release_section_lock(app(ctx), &tctx, id).await?),
        })
    }
}
