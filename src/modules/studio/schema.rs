//! The studio's queries and its subscription (thin resolvers; the services decide).

use async_graphql::{Context, ID, Object, Result, Subscription};
use entity::{document, document_version};
use futures::{Stream, StreamExt};
use uuid::Uuid;

use super::{
    service,
    types::{Document, DocumentComparison, DocumentEvent, DocumentVersion},
};
use crate::{
    access::TenantCtx,
    auth::Permission,
    error::AppError,
    graphql::{
        app,
        loaders::{child_page, loaders},
        owned_row, rctx,
        relay::{self, kind},
    },
};

#[derive(Default)]
pub struct StudioQuery;

pub(super) async fn document_ctx(
    ctx: &Context<'_>,
    field: &str,
    id: &ID,
) -> Result<(Uuid, std::sync::Arc<TenantCtx>)> {
    owned_row::<document::Entity>(ctx, field, id, kind::DOCUMENT, "document", document::Column::Id).await
}

async fn version_ctx(ctx: &Context<'_>, field: &str, id: &ID) -> Result<(Uuid, std::sync::Arc<TenantCtx>)> {
    owned_row::<document_version::Entity>(
        ctx,
        field,
        id,
        kind::DOCUMENT_VERSION,
        "version",
        document_version::Column::Id,
    )
    .await
}

#[Object]
impl StudioQuery {
    /// A document by ID (needs `DOCUMENTS_READ`).
    async fn document(&self, ctx: &Context<'_>, id: ID) -> Result<Document> {
        let (id, tctx) = document_ctx(ctx, "id", &id).await?;
        Ok(Document(service::get_document(app(ctx), &tctx, id).await?))
    }

    /// A document's published versions, oldest first (needs `DOCUMENTS_READ`).
    #[graphql(complexity = "crate::graphql::relay::cost(first, last, child_complexity)")]
    async fn document_versions(
        &self,
        ctx: &Context<'_>,
        document_id: ID,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<relay::Conn<DocumentVersion>> {
        let (id, tctx) = document_ctx(ctx, "documentId", &document_id).await?;
        let doc = service::get_document(app(ctx), &tctx, id).await?;
        let window =
            relay::PageArgs::new(after, before, first, last).window(app(ctx).config.max_page_size)?;
        let rows =
            child_page(ctx, &loaders(ctx).studio.versions, doc.tenant_id, doc.id, window, None).await?;
        Ok(relay::to_connection(rows, |v| v.id, DocumentVersion))
    }

    /// What differs, per section, between version `a` and version `b` of one document — or
    /// the current draft when `b` is null (needs `DOCUMENTS_READ`).
    async fn compare_document_versions(
        &self,
        ctx: &Context<'_>,
        a: ID,
        b: Option<ID>,
    ) -> Result<DocumentComparison> {
        let (a, tctx) = version_ctx(ctx, "a", &a).await?;
        let b = match b {
            Some(b) => {
                let (b, other) = version_ctx(ctx, "b", &b).await?;
                if other.tenant_id != tctx.tenant_id {
                    return Err(AppError::validation("b", "a version of another document").into());
                }
                Some(b)
            }
            None => None,
        };
        let (a, b, diff) = service::versions::compare_versions(app(ctx), &tctx, a, b).await?;
        Ok(DocumentComparison::new(a, b, diff))
    }
}

#[derive(Default)]
pub struct StudioSubscription;

#[Subscription]
impl StudioSubscription {
    /// A document's live events: edits (with the new revision), locks taken, released and
    /// expired, publications and its deletion (needs `DOCUMENTS_READ`; checked when it starts
    /// and with every event, and it ends when the viewer loses it).
    async fn document_events(
        &self,
        ctx: &Context<'_>,
        document_id: ID,
    ) -> Result<impl Stream<Item = DocumentEvent> + use<>> {
        let viewer = rctx(ctx).viewer()?.clone();
        let app = app(ctx).clone();
        let (tenant, id) = subscribed_document(&app, &viewer, &document_id).await?;
        let topic = service::document_topic(tenant, id);
        Ok(crate::graphql::live::guarded(app, viewer, tenant, Permission::DocumentsRead, topic)
            .filter_map(|(event, _)| async move {
                serde_json::from_value::<service::DocumentEvent>(event.payload.clone())
                    .ok()
                    .map(DocumentEvent)
            })
            // The document's deletion is its last event.
            .scan(false, |ended, e| {
                let out = if *ended { None } else { Some(e) };
                if let Some(e) = &out {
                    *ended = e.0.kind == service::DocumentEventKind::Deleted;
                }
                futures::future::ready(out)
            }))
    }
}

/// The document a subscription of `viewer` asks for (`documentEvents`, `documentPresence`):
/// its organisation and id, NOT_FOUND unless the viewer may read it.
pub async fn subscribed_document(
    app: &crate::startup::AppState,
    viewer: &crate::auth::Viewer,
    document_id: &ID,
) -> crate::error::AppResult<(Uuid, Uuid)> {
    let id = relay::decode_id("documentId", document_id, kind::DOCUMENT)?;
    let tenant = crate::db::owning_tenant::<document::Entity>(
        // By id, across tenants: the access check that follows decides.
        &crate::db::across_tenants(&app.db),
        document::Column::Id,
        id,
    )
    .await
    .map_err(AppError::from)?
    .ok_or(AppError::NotFound("document"))?;
    let tctx = crate::access::access_one(app, viewer.user_id, tenant)
        .await
        .map_err(|e| if matches!(e, AppError::NotFound(_)) { AppError::NotFound("document") } else { e })?;
    service::get_document(app, &tctx, id).await?;
    Ok((tenant, id))
}
