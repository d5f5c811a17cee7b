//! GraphQL types of the studio: documents, pages, sections and their locks, versions and
//! comparisons, live events, mutation payloads, and the studio's part of `Tenant`.

use async_graphql::{Context, Enum, ID, Json, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{document, document_page, document_section, document_version};
use serde_json::Value;

use super::{
    loaders::DocumentFilter,
    service::{self, compare::SectionChangeKind},
};
use crate::{
    error::AppError,
    graphql::{
        app,
        loaders::{child_page, loader_err, loaders},
        relay::{self, kind},
    },
    modules::{identity::types::User, teams::types::Team},
};

/// Whether a document has been published (its draft keeps changing either way).
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::document::DocumentStatus")]
pub enum DocumentStatus {
    Draft,
    Published,
}

/// What a section holds.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::document_section::SectionKind")]
pub enum SectionKind {
    /// Rich text as structured JSON (a document tree).
    Text,
    /// An image: `{resourceVersionId, alt}`.
    Image,
    /// An embedded resource: `{resourceVersionId, alt}`.
    Embed,
    /// Code: `{language, source}`.
    Code,
}

async fn user(ctx: &Context<'_>, id: Option<uuid::Uuid>) -> Result<Option<User>> {
    let Some(id) = id else { return Ok(None) };
    Ok(loaders(ctx).users.load_one(id).await.map_err(loader_err)?.map(User::new))
}

/// A team's document: a title and ordered pages of ordered sections, edited with revisions.
pub struct Document(pub document::Model);

#[Object]
impl Document {
    /// Global ID.
    pub async fn id(&self) -> ID {
        relay::to_global_id(kind::DOCUMENT, self.0.id)
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn status(&self) -> DocumentStatus {
        self.0.status.into()
    }
    /// Advances with every edit; each edit names the revision it was based on.
    async fn revision(&self) -> i64 {
        self.0.revision
    }
    /// The revision last published, if any.
    async fn published_revision(&self) -> Option<i64> {
        self.0.published_revision
    }
    /// The draft differs from the last published version (or none was published).
    async fn has_unpublished_changes(&self) -> bool {
        self.0.published_revision != Some(self.0.revision)
    }
    /// The team the document belongs to.
    async fn team(&self, ctx: &Context<'_>) -> Result<Team> {
        let team = loaders(ctx)
            .studio
            .teams
            .load_one((self.0.tenant_id, self.0.team_id))
            .await
            .map_err(loader_err)?
            .ok_or(AppError::NotFound("team"))?;
        Ok(Team(team))
    }
    async fn created_by(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        user(ctx, self.0.created_by).await
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// The pages, in order.
    async fn pages(&self, ctx: &Context<'_>) -> Result<Vec<DocumentPage>> {
        let rows =
            loaders(ctx).studio.pages.load_one((self.0.tenant_id, self.0.id)).await.map_err(loader_err)?;
        Ok(rows.unwrap_or_default().into_iter().map(DocumentPage).collect())
    }
    /// The published versions, oldest first.
    #[graphql(complexity = "crate::graphql::relay::cost(first, last, child_complexity)")]
    async fn versions(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<relay::Conn<DocumentVersion>> {
        let args = relay::PageArgs::new(after, before, first, last);
        let window = args.window(app(ctx).config.max_page_size)?;
        let rows =
            child_page(ctx, &loaders(ctx).studio.versions, self.0.tenant_id, self.0.id, window, None).await?;
        Ok(relay::to_connection(rows, |v| v.id, DocumentVersion))
    }
}

/// A page of a document.
pub struct DocumentPage(pub document_page::Model);

#[Object]
impl DocumentPage {
    /// Global ID.
    pub async fn id(&self) -> ID {
        relay::to_global_id(kind::DOCUMENT_PAGE, self.0.id)
    }
    async fn document_id(&self) -> ID {
        relay::to_global_id(kind::DOCUMENT, self.0.document_id)
    }
    /// 0-based place among the document's pages.
    async fn position(&self) -> i32 {
        self.0.position
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// The sections, in order.
    async fn sections(&self, ctx: &Context<'_>) -> Result<Vec<DocumentSection>> {
        let rows =
            loaders(ctx).studio.sections.load_one((self.0.tenant_id, self.0.id)).await.map_err(loader_err)?;
        Ok(rows.unwrap_or_default().into_iter().map(DocumentSection).collect())
    }
}

/// A section of a page.
pub struct DocumentSection(pub document_section::Model);

#[Object]
impl DocumentSection {
    /// Global ID.
    pub async fn id(&self) -> ID {
        relay::to_global_id(kind::DOCUMENT_SECTION, self.0.id)
    }
    async fn page_id(&self) -> ID {
        relay::to_global_id(kind::DOCUMENT_PAGE, self.0.page_id)
    }
    /// 0-based place among the page's sections.
    async fn position(&self) -> i32 {
        self.0.position
    }
    async fn kind(&self) -> SectionKind {
        self.0.kind.into()
    }
    /// TEXT: structured rich text; CODE: `{language, source}`; IMAGE and EMBED:
    /// `{resourceVersionId, alt}` (the resource version is not checked until resources exist).
    async fn content(&self) -> Json<Value> {
        Json(self.0.content.clone())
    }
    /// Who is editing it and until when; null when free (an expired lock is free).
    async fn lock(&self, ctx: &Context<'_>) -> Option<SectionLock> {
        service::locks::live_lock(&self.0, app(ctx).now())
            .map(|(holder, expires_at)| SectionLock { holder, expires_at })
    }
    async fn updated_by(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        user(ctx, self.0.updated_by).await
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// A section's edit lock.
pub struct SectionLock {
    holder: uuid::Uuid,
    expires_at: DateTime<Utc>,
}

#[Object]
impl SectionLock {
    async fn holder_id(&self) -> ID {
        relay::to_global_id(kind::USER, self.holder)
    }
    async fn holder(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        user(ctx, Some(self.holder)).await
    }
    /// Free after this unless renewed (`renewSectionLock`).
    async fn expires_at(&self) -> DateTime<Utc> {
        self.expires_at
    }
}

/// An immutable published version of a document.
pub struct DocumentVersion(pub document_version::Model);

#[Object]
impl DocumentVersion {
    /// Global ID.
    pub async fn id(&self) -> ID {
        relay::to_global_id(kind::DOCUMENT_VERSION, self.0.id)
    }
    async fn document_id(&self) -> ID {
        relay::to_global_id(kind::DOCUMENT, self.0.document_id)
    }
    /// 1, 2, … per document.
    async fn number(&self) -> i32 {
        self.0.number
    }
    /// The draft's revision it was taken from.
    async fn revision(&self) -> i64 {
        self.0.revision
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn note(&self) -> &str {
        &self.0.note
    }
    /// The whole document as published: `{title, revision, pages: [{id, title, sections:
    /// [{id, kind, content}]}]}`.
    async fn snapshot(&self) -> Json<Value> {
        Json(self.0.snapshot.clone())
    }
    async fn published_by(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        user(ctx, self.0.created_by).await
    }
    async fn published_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// How one section differs between two versions (or a version and the draft).
#[derive(SimpleObject)]
pub struct SectionChange {
    pub section_id: ID,
    pub page_id: ID,
    pub change: SectionChangeKind,
    /// `{kind, content}` in the first; null when added.
    pub before: Option<Json<Value>>,
    /// `{kind, content}` in the second; null when removed.
    pub after: Option<Json<Value>>,
}

/// What differs between two versions of a document.
#[derive(SimpleObject)]
pub struct DocumentComparison {
    pub a: DocumentVersion,
    /// The second version; null when compared with the current draft.
    pub b: Option<DocumentVersion>,
    pub title_changed: bool,
    /// Sections added, removed, changed or moved (unchanged ones are left out).
    pub sections: Vec<SectionChange>,
}

impl DocumentComparison {
    pub fn new(
        a: document_version::Model,
        b: Option<document_version::Model>,
        diff: service::compare::Comparison,
    ) -> Self {
        Self {
            a: DocumentVersion(a),
            b: b.map(DocumentVersion),
            title_changed: diff.title_changed,
            sections: diff
                .sections
                .into_iter()
                .map(|s| SectionChange {
                    section_id: ID(s.section_id),
                    page_id: ID(s.page_id),
                    change: s.change,
                    before: s.before.map(Json),
                    after: s.after.map(Json),
                })
                .collect(),
        }
    }
}

/// A live event of a document (`documentEvents`).
pub struct DocumentEvent(pub service::DocumentEvent);

#[Object]
impl DocumentEvent {
    async fn kind(&self) -> service::DocumentEventKind {
        self.0.kind
    }
    async fn document_id(&self) -> ID {
        relay::to_global_id(kind::DOCUMENT, self.0.document_id)
    }
    /// The document's revision after the event.
    async fn revision(&self) -> i64 {
        self.0.revision
    }
    /// For EDITED: what changed (`section.updated`, `page.moved`, `version.restored`, …); for
    /// a force-released lock, `lock.force_released`.
    async fn change(&self) -> Option<&str> {
        self.0.change.as_deref()
    }
    async fn page_id(&self) -> Option<ID> {
        self.0.page_id.map(|id| relay::to_global_id(kind::DOCUMENT_PAGE, id))
    }
    async fn section_id(&self) -> Option<ID> {
        self.0.section_id.map(|id| relay::to_global_id(kind::DOCUMENT_SECTION, id))
    }
    /// Who acted; for lock events, whose lock it is or was.
    async fn user_id(&self) -> Option<ID> {
        self.0.user_id.map(|id| relay::to_global_id(kind::USER, id))
    }
    /// For LOCK_ACQUIRED: until when the lock holds.
    async fn lock_expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.lock_expires_at
    }
    /// For PUBLISHED (and a restore): the version's number.
    async fn version(&self) -> Option<i32> {
        self.0.version
    }
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
}

#[derive(SimpleObject)]
pub struct DocumentPayload {
    pub document: Document,
}

#[derive(SimpleObject)]
pub struct DeleteDocumentPayload {
    pub deleted_document_id: ID,
}

#[derive(SimpleObject)]
pub struct DocumentPagePayload {
    /// The document at its new revision.
    pub document: Document,
    pub page: DocumentPage,
}

#[derive(SimpleObject)]
pub struct DeleteDocumentPagePayload {
    pub document: Document,
    pub deleted_page_id: ID,
}

#[derive(SimpleObject)]
pub struct DocumentSectionPayload {
    /// The document at its new revision.
    pub document: Document,
    pub section: DocumentSection,
}

#[derive(SimpleObject)]
pub struct DeleteDocumentSectionPayload {
    pub document: Document,
    pub deleted_section_id: ID,
}

#[derive(SimpleObject)]
pub struct PublishDocumentPayload {
    pub document: Document,
    pub version: DocumentVersion,
}

#[derive(SimpleObject)]
pub struct SectionLockPayload {
    pub section: DocumentSection,
}

/// The studio's part of `Tenant`.
#[derive(Clone)]
pub struct TenantDocuments(pub crate::graphql::tenant::TenantRow);

#[Object]
impl TenantDocuments {
    /// The organisation's documents, oldest first, optionally of one team or one status.
    #[graphql(complexity = "crate::graphql::relay::cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn documents(
        &self,
        ctx: &Context<'_>,
        team_id: Option<ID>,
        status: Option<DocumentStatus>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<relay::Conn<Document>> {
        let tctx = loaders(ctx).tenant_access(self.0.id).await?;
        let args = relay::PageArgs::new(after, before, first, last);
        let window = service::documents_window(app(ctx), &tctx, &args)?;
        let team_id = team_id.map(|t| relay::decode_id("teamId", &t, kind::TEAM)).transpose()?;
        let filter = DocumentFilter { team_id, status: status.map(Into::into) };
        let rows = loaders(ctx)
            .studio
            .documents
            .load_one((self.0.id, crate::graphql::relay::counted(ctx, window), filter))
            .await
            .map_err(loader_err)?;
        Ok(relay::to_connection(rows.unwrap_or_else(crate::graphql::loaders::empty_rows), |d| d.id, Document))
    }
}
