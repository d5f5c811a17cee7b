//! GraphQL of searching records: the filter and sort types, the record connection whose
//! edges carry a highlighted snippet, saved searches and their mutations. The project's
//! `recordSearch`, `savedSearches` and `searchSuggestions` fields live on `Project`
//! (types.rs) and call the helpers here.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject, connection::Edge};
use chrono::{DateTime, Utc};
use entity::collection_saved_search;

use super::{
    saved,
    search::{self, Hits},
    types::CollectedRecord,
};
use crate::{
    error::AppResult,
    graphql::{app, owned_row, relay, relay::ConnectionFields, relay::kind},
};

/// Filters of records (all given ones apply).
#[derive(SimpleObject, InputObject, Clone, Default)]
#[graphql(input_name = "RecordFilterInput")]
pub struct RecordFilter {
    /// Words that must each appear in the text, the author or the hashtags (full-text; a
    /// word ending in `*` matches as a prefix).
    pub search: Option<String>,
    pub platform: Option<String>,
    pub service_type: Option<String>,
    pub author: Option<String>,
    /// With or without `#`.
    pub hashtag: Option<String>,
    /// Part of the record's URL.
    pub url: Option<String>,
    pub job_id: Option<ID>,
    /// Posted at or after.
    pub posted_from: Option<DateTime<Utc>>,
    /// Posted before.
    pub posted_to: Option<DateTime<Utc>>,
    pub min_likes: Option<i64>,
    pub max_likes: Option<i64>,
    pub min_comments: Option<i64>,
    pub max_comments: Option<i64>,
    pub min_shares: Option<i64>,
    pub max_shares: Option<i64>,
    pub min_views: Option<i64>,
    pub max_views: Option<i64>,
}

impl RecordFilter {
    /// The service's filter; a bad job ID is named under `prefix`.
    pub fn into_filter(self, prefix: &str) -> AppResult<search::RecordFilter> {
        Ok(search::RecordFilter {
            search: self.search,
            platform: self.platform,
            service_type: self.service_type,
            author: self.author,
            hashtag: self.hashtag,
            url: self.url,
            job: self
                .job_id
                .map(|j| relay::decode_id(&format!("{prefix}.jobId"), &j, kind::COLLECTION_JOB))
                .transpose()?,
            posted_from: self.posted_from,
            posted_to: self.posted_to,
            min_likes: self.min_likes,
            max_likes: self.max_likes,
            min_comments: self.min_comments,
            max_comments: self.max_comments,
            min_shares: self.min_shares,
            max_shares: self.max_shares,
            min_views: self.min_views,
            max_views: self.max_views,
        })
    }

    pub fn from_filter(f: search::RecordFilter) -> Self {
        Self {
            search: f.search,
            platform: f.platform,
            service_type: f.service_type,
            author: f.author,
            hashtag: f.hashtag,
            url: f.url,
            job_id: f.job.map(|j| relay::to_global_id(kind::COLLECTION_JOB, j)),
            posted_from: f.posted_from,
            posted_to: f.posted_to,
            min_likes: f.min_likes,
            max_likes: f.max_likes,
            min_comments: f.min_comments,
            max_comments: f.max_comments,
            min_shares: f.min_shares,
            max_shares: f.max_shares,
            min_views: f.min_views,
            max_views: f.max_views,
        }
    }
}

/// What records are ordered by.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Default)]
#[graphql(remote = "search::SortField")]
pub enum RecordSortField {
    /// Collection order.
    #[default]
    Collected,
    PostedAt,
    Likes,
    Comments,
    Shares,
    Views,
    /// How well the record matches the search words (needs `filter.search`).
    Relevance,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum RecordSortDirection {
    Asc,
    Desc,
}

/// A sort of records; the direction defaults to ASC, and to DESC for RELEVANCE (best first).
#[derive(SimpleObject, InputObject, Clone, Copy, Default)]
#[graphql(input_name = "RecordSortInput")]
pub struct RecordSort {
    pub field: RecordSortField,
    pub direction: Option<RecordSortDirection>,
}

impl RecordSort {
    pub fn into_sort(self) -> search::Sort {
        let descending = match self.direction {
            Some(d) => d == RecordSortDirection::Desc,
            None => self.field == RecordSortField::Relevance,
        };
        search::Sort { field: self.field.into(), descending }
    }

    pub fn from_sort(s: search::Sort) -> Self {
        Self {
            field: s.field.into(),
            direction: Some(if s.descending { RecordSortDirection::Desc } else { RecordSortDirection::Asc }),
        }
    }
}

/// A piece of a snippet: matched words are `highlighted`.
#[derive(SimpleObject, Clone)]
pub struct HighlightPart {
    pub text: String,
    pub highlighted: bool,
}

/// What a record's edge carries besides the record.
pub struct HitFields(Option<String>);

#[Object]
impl HitFields {
    /// An extract of the text around the search words, the words highlighted (null without
    /// search words).
    async fn snippet(&self) -> Option<Vec<HighlightPart>> {
        self.0.as_deref().map(|s| {
            search::parts(s)
                .into_iter()
                .map(|(text, highlighted)| HighlightPart { text, highlighted })
                .collect()
        })
    }
}

/// A page of records with `totalCount`; the edges' cursors carry the sort key.
pub type RecordConn =
    async_graphql::connection::Connection<String, CollectedRecord, ConnectionFields, HitFields>;

pub fn to_conn(h: Hits) -> RecordConn {
    let mut conn = RecordConn::with_additional_fields(
        h.has_previous,
        h.has_next,
        ConnectionFields { total_count: h.total },
    );
    conn.edges.extend(h.hits.into_iter().map(|hit| {
        Edge::with_additional_fields(hit.cursor.encode(), CollectedRecord(hit.record), HitFields(hit.snippet))
    }));
    conn
}

/// A named search of a project's records.
pub struct SavedSearch(pub collection_saved_search::Model);

#[Object]
impl SavedSearch {
    async fn id(&self) -> ID {
        relay::to_global_id(kind::SAVED_SEARCH, self.0.id)
    }
    async fn project_id(&self) -> ID {
        relay::to_global_id(kind::PROJECT, self.0.project_id)
    }
    /// Null: the whole project.
    async fn folder_id(&self) -> Option<ID> {
        self.0.folder_id.map(|f| relay::to_global_id(kind::COLLECTION_FOLDER, f))
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn filter(&self) -> RecordFilter {
        RecordFilter::from_filter(saved::spec(&self.0).0)
    }
    async fn sort(&self) -> RecordSort {
        RecordSort::from_sort(saved::spec(&self.0).1)
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

#[derive(SimpleObject)]
pub struct SavedSearchPayload {
    pub saved_search: SavedSearch,
}

#[derive(InputObject)]
pub struct CreateSavedSearchInput {
    pub project_id: ID,
    pub name: String,
    /// Search one folder (else the whole project).
    pub folder_id: Option<ID>,
    pub filter: Option<RecordFilter>,
    pub sort: Option<RecordSort>,
}

#[derive(InputObject)]
pub struct UpdateSavedSearchInput {
    pub saved_search_id: ID,
    pub name: Option<String>,
    pub folder_id: Option<ID>,
    /// Search the whole project instead of one folder.
    pub whole_project: Option<bool>,
    pub filter: Option<RecordFilter>,
    pub sort: Option<RecordSort>,
}

fn folder_arg(folder: Option<ID>, whole: Option<bool>) -> Result<Option<Option<uuid::Uuid>>> {
    Ok(match (folder, whole) {
        (Some(f), _) => Some(Some(relay::decode_id("input.folderId", &f, kind::COLLECTION_FOLDER)?)),
        (None, Some(true)) => Some(None),
        (None, _) => None,
    })
}

#[derive(Default)]
pub struct SearchMutation;

#[Object]
impl SearchMutation {
    /// Saves a search of a project's records (project editors).
    async fn create_saved_search(
        &self,
        ctx: &Context<'_>,
        input: CreateSavedSearchInput,
    ) -> Result<SavedSearchPayload> {
        let (project, tctx) = owned_row::<entity::project::Entity>(
            ctx,
            "input.projectId",
            &input.project_id,
            kind::PROJECT,
            "project",
            entity::project::Column::Id,
        )
        .await?;
        let fields = saved::SavedFields {
            name: Some(input.name),
            folder: folder_arg(input.folder_id, None)?,
            filter: input.filter.map(|f| f.into_filter("input.filter")).transpose()?,
            sort: input.sort.map(RecordSort::into_sort),
        };
        let s = saved::create(app(ctx), &tctx, project, fields).await?;
        Ok(SavedSearchPayload { saved_search: SavedSearch(s) })
    }

    /// Changes a saved search (project editors).
    async fn update_saved_search(
        &self,
        ctx: &Context<'_>,
        input: UpdateSavedSearchInput,
    ) -> Result<SavedSearchPayload> {
        let (id, tctx) = saved_access(ctx, "input.savedSearchId", &input.saved_search_id).await?;
        let fields = saved::SavedFields {
            name: input.name,
            folder: folder_arg(input.folder_id, input.whole_project)?,
            filter: input.filter.map(|f| f.into_filter("input.filter")).transpose()?,
            sort: input.sort.map(RecordSort::into_sort),
        };
        let s = saved::update(app(ctx), &tctx, id, fields).await?;
        Ok(SavedSearchPayload { saved_search: SavedSearch(s) })
    }

    /// Deletes a saved search (project editors).
    async fn delete_saved_search(&self, ctx: &Context<'_>, id: ID) -> Result<SavedSearchPayload> {
        let (id, tctx) = saved_access(ctx, "id", &id).await?;
        let s = saved::delete(app(ctx), &tctx, id).await?;
        Ok(SavedSearchPayload { saved_search: SavedSearch(s) })
    }
}

#[derive(Default)]
pub struct SearchQuery;

#[Object]
impl SearchQuery {
    /// A saved search of a project the caller may see.
    async fn saved_search(&self, ctx: &Context<'_>, id: ID) -> Result<SavedSearch> {
        let (id, tctx) = saved_access(ctx, "id", &id).await?;
        Ok(SavedSearch(saved::get(app(ctx), &tctx, id).await?))
    }
}

async fn saved_access(
    ctx: &Context<'_>,
    field: &str,
    id: &ID,
) -> Result<(uuid::Uuid, std::sync::Arc<crate::access::TenantCtx>)> {
    owned_row::<collection_saved_search::Entity>(
        ctx,
        field,
        id,
        kind::SAVED_SEARCH,
        "saved search",
        collection_saved_search::Column::Id,
    )
    .await
}
