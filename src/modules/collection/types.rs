//! GraphQL types of data collection: the catalog, collectors, projects, folders, records and
//! collection jobs, and the collection part of `Tenant`.

use async_graphql::{Context, Enum, ID, Json, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{
    collection_folder, collection_job, collection_job_input, collection_platform, collection_record,
    collection_service, project, project_member,
};
use uuid::Uuid;

use super::{
    folders, jobs, projects, records, saved,
    search::SearchWindow,
    search_schema::{RecordConn, RecordFilter, RecordSort, SavedSearch, to_conn},
};
use crate::{
    db::page::PageArgs,
    graphql::{app, loaders::loaders, relay, relay::kind},
};

fn gid(k: &str, id: Uuid) -> ID {
    relay::to_global_id(k, id)
}

/// A member's role in a project.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::project_member::ProjectRole")]
pub enum ProjectRole {
    /// Everything, including members and deleting the project.
    Owner,
    /// Folders, records and collection jobs.
    Editor,
    /// Reading only.
    Viewer,
}

/// Where a collection job runs.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::collection_job::CollectionProvider")]
pub enum CollectionProvider {
    /// BrightData's Datasets API.
    Brightdata,
    /// Realistic records made up locally, without an account.
    Sample,
}

/// A collection job's state.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::collection_job::CollectionJobStatus")]
pub enum CollectionJobStatus {
    Pending,
    Triggered,
    Running,
    Ingesting,
    Succeeded,
    Partial,
    Failed,
    Cancelled,
}

/// A social platform data is collected from.
pub struct CollectionPlatform(pub collection_platform::Model);

#[Object]
impl CollectionPlatform {
    async fn id(&self) -> ID {
        gid(kind::COLLECTION_PLATFORM, self.0.id)
    }
    /// Stable key (`instagram`).
    async fn key(&self) -> &str {
        &self.0.key
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    async fn icon(&self) -> &str {
        &self.0.icon
    }
    async fn colour(&self) -> &str {
        &self.0.colour
    }
    async fn enabled(&self) -> bool {
        self.0.enabled
    }
}

/// A platform with a service type and the provider dataset that collects it (catalog
/// administration).
pub struct PlatformService(pub collection_service::Model);

#[Object]
impl PlatformService {
    async fn id(&self) -> ID {
        gid(kind::PLATFORM_SERVICE, self.0.id)
    }
    async fn platform_id(&self) -> ID {
        gid(kind::COLLECTION_PLATFORM, self.0.platform_id)
    }
    /// `posts`, `comments`, `reels`, `profiles`.
    async fn service_type(&self) -> &str {
        &self.0.service_type
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn provider(&self) -> CollectionProvider {
        self.0.provider.into()
    }
    async fn dataset_id(&self) -> &str {
        &self.0.dataset_id
    }
    /// JSON Schema of a job's parameters.
    async fn input_schema(&self) -> Json<serde_json::Value> {
        Json(self.0.input_schema.clone())
    }
    /// Record field → provider output field.
    async fn output_mapping(&self) -> Json<serde_json::Value> {
        Json(self.0.output_mapping.clone())
    }
    async fn enabled(&self) -> bool {
        self.0.enabled
    }
}

/// A collector the organisation may start jobs with.
pub struct Collector(pub collection_service::Model, pub collection_platform::Model);

#[Object]
impl Collector {
    /// The platform service's ID (give it to `startCollectionJob`).
    async fn id(&self) -> ID {
        gid(kind::PLATFORM_SERVICE, self.0.id)
    }
    async fn platform(&self) -> CollectionPlatform {
        CollectionPlatform(self.1.clone())
    }
    async fn service_type(&self) -> &str {
        &self.0.service_type
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn provider(&self) -> CollectionProvider {
        self.0.provider.into()
    }
    /// JSON Schema of the job's parameters besides the URLs.
    async fn input_schema(&self) -> Json<serde_json::Value> {
        Json(self.0.input_schema.clone())
    }
}

/// An organisation's unit of collection work.
pub struct Project(pub project::Model, pub entity::project_member::ProjectRole);

#[Object]
impl Project {
    async fn id(&self) -> ID {
        gid(kind::PROJECT, self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// The project's settings (a JSON object its owners set).
    async fn settings(&self) -> Json<serde_json::Value> {
        Json(self.0.settings.clone())
    }
    /// The caller's role in it (OWNER for `COLLECTION_MANAGE`).
    async fn viewer_role(&self) -> ProjectRole {
        self.1.into()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn members(&self, ctx: &Context<'_>) -> Result<Vec<ProjectMember>> {
        let tctx = loaders(ctx).tenant_access(self.0.tenant_id).await?;
        Ok(projects::members(app(ctx), &tctx, self.0.id).await?.into_iter().map(ProjectMember).collect())
    }
    /// Every folder of the project's tree (build the tree from `parentId`).
    async fn folders(&self, ctx: &Context<'_>) -> Result<Vec<CollectionFolder>> {
        let tctx = loaders(ctx).tenant_access(self.0.tenant_id).await?;
        let list = folders::list_folders(app(ctx), &tctx, self.0.id).await?;
        let db = tctx.on(&app(ctx).db);
        let counts = folders::counts(&db, tctx.scope(), list.iter().map(|f| f.id).collect()).await?;
        Ok(list
            .into_iter()
            .map(|f| {
                let (n, last) = counts.get(&f.id).copied().unwrap_or((0, None));
                CollectionFolder(f, n, last)
            })
            .collect())
    }
    /// Records of the project (or of `folderId`) matching `filter`, in `sort` order; with
    /// search words each edge has a highlighted snippet and the words join the caller's
    /// search history.
    #[graphql(complexity = "crate::graphql::relay::cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn record_search(
        &self,
        ctx: &Context<'_>,
        folder_id: Option<ID>,
        filter: Option<RecordFilter>,
        sort: Option<RecordSort>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<RecordConn> {
        let app = app(ctx);
        let tctx = loaders(ctx).tenant_access(self.0.tenant_id).await?;
        let folder =
            folder_id.map(|f| relay::decode_id("folderId", &f, kind::COLLECTION_FOLDER)).transpose()?;
        let sort = sort.unwrap_or_default().into_sort();
        let window =
            SearchWindow::new(&PageArgs::new(after, before, first, last), sort, app.config.max_page_size)?;
        let filter = filter.map(|f| f.into_filter("filter")).transpose()?.unwrap_or_default();
        let hits = records::search_project(app, &tctx, self.0.id, folder, &filter, sort, &window).await?;
        Ok(to_conn(hits))
    }
    /// The project's saved searches, by name.
    async fn saved_searches(&self, ctx: &Context<'_>) -> Result<Vec<SavedSearch>> {
        let tctx = loaders(ctx).tenant_access(self.0.tenant_id).await?;
        Ok(saved::list(app(ctx), &tctx, self.0.id).await?.into_iter().map(SavedSearch).collect())
    }
    /// The caller's earlier searches in this project starting with `prefix`, most recent
    /// first (at most `first`, default 10).
    async fn search_suggestions(
        &self,
        ctx: &Context<'_>,
        prefix: Option<String>,
        first: Option<i32>,
    ) -> Result<Vec<String>> {
        let tctx = loaders(ctx).tenant_access(self.0.tenant_id).await?;
        let n = first.unwrap_or(10).max(1) as usize;
        Ok(saved::suggestions(app(ctx), &tctx, self.0.id, prefix.as_deref().unwrap_or(""), n).await?)
    }
    /// The project's collection jobs, newest first.
    async fn collection_jobs(&self, ctx: &Context<'_>) -> Result<Vec<CollectionJob>> {
        let tctx = loaders(ctx).tenant_access(self.0.tenant_id).await?;
        Ok(jobs::list_jobs(app(ctx), &tctx, self.0.id).await?.into_iter().map(CollectionJob).collect())
    }
}

/// A user's role in a project.
pub struct ProjectMember(pub project_member::Model);

#[Object]
impl ProjectMember {
    async fn user_id(&self) -> ID {
        gid(kind::USER, self.0.user_id)
    }
    async fn role(&self) -> ProjectRole {
        self.0.role.into()
    }
}

/// A folder of collected records, with how many it holds and when they last changed.
pub struct CollectionFolder(pub collection_folder::Model, pub i64, pub Option<DateTime<Utc>>);

#[Object]
impl CollectionFolder {
    async fn id(&self) -> ID {
        gid(kind::COLLECTION_FOLDER, self.0.id)
    }
    async fn project_id(&self) -> ID {
        gid(kind::PROJECT, self.0.project_id)
    }
    /// Null: a top-level folder.
    async fn parent_id(&self) -> Option<ID> {
        self.0.parent_id.map(|p| gid(kind::COLLECTION_FOLDER, p))
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The folder's metadata (a JSON object its editors set).
    async fn metadata(&self) -> Json<serde_json::Value> {
        Json(self.0.metadata.clone())
    }
    async fn tags(&self) -> Vec<String> {
        serde_json::from_value(self.0.tags.clone()).unwrap_or_default()
    }
    /// Records directly in the folder.
    async fn record_count(&self) -> i64 {
        self.1
    }
    /// When the folder or its last record changed.
    async fn last_updated_at(&self) -> DateTime<Utc> {
        self.2.map_or(self.0.updated_at, |r| r.max(self.0.updated_at))
    }
    /// The folder's records matching `filter`, in `sort` order (collection order by
    /// default); with search words each edge has a highlighted snippet.
    #[graphql(complexity = "crate::graphql::relay::cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn records(
        &self,
        ctx: &Context<'_>,
        filter: Option<RecordFilter>,
        sort: Option<RecordSort>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<RecordConn> {
        let app = app(ctx);
        let tctx = loaders(ctx).tenant_access(self.0.tenant_id).await?;
        let sort = sort.unwrap_or_default().into_sort();
        let window =
            SearchWindow::new(&PageArgs::new(after, before, first, last), sort, app.config.max_page_size)?;
        let filter = filter.map(|f| f.into_filter("filter")).transpose()?.unwrap_or_default();
        let hits = records::list(app, &tctx, self.0.id, &filter, sort, &window).await?;
        Ok(to_conn(hits))
    }
}

/// One collected item in the normalised shape.
pub struct CollectedRecord(pub collection_record::Model);

#[Object]
impl CollectedRecord {
    async fn id(&self) -> ID {
        gid(kind::COLLECTED_RECORD, self.0.id)
    }
    async fn folder_id(&self) -> ID {
        gid(kind::COLLECTION_FOLDER, self.0.folder_id)
    }
    async fn platform(&self) -> &str {
        &self.0.platform
    }
    async fn service_type(&self) -> &str {
        &self.0.service_type
    }
    /// The platform's own id of the item.
    async fn external_id(&self) -> &str {
        &self.0.external_id
    }
    async fn url(&self) -> &str {
        &self.0.url
    }
    async fn author(&self) -> &str {
        &self.0.author
    }
    async fn text(&self) -> &str {
        &self.0.text
    }
    async fn hashtags(&self) -> Vec<String> {
        serde_json::from_value(self.0.hashtags.clone()).unwrap_or_default()
    }
    async fn mentions(&self) -> Vec<String> {
        serde_json::from_value(self.0.mentions.clone()).unwrap_or_default()
    }
    async fn posted_at(&self) -> Option<DateTime<Utc>> {
        self.0.posted_at
    }
    async fn likes(&self) -> i64 {
        self.0.likes
    }
    async fn comments(&self) -> i64 {
        self.0.comments
    }
    async fn shares(&self) -> i64 {
        self.0.shares
    }
    async fn views(&self) -> i64 {
        self.0.views
    }
    /// The provider's payload as received.
    async fn raw(&self) -> Json<serde_json::Value> {
        Json(self.0.raw.clone())
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it was last seen (metrics updated).
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// One collection run.
pub struct CollectionJob(pub collection_job::Model);

#[Object]
impl CollectionJob {
    async fn id(&self) -> ID {
        gid(kind::COLLECTION_JOB, self.0.id)
    }
    async fn project_id(&self) -> ID {
        gid(kind::PROJECT, self.0.project_id)
    }
    /// Where its records go.
    async fn folder_id(&self) -> ID {
        gid(kind::COLLECTION_FOLDER, self.0.folder_id)
    }
    async fn service_id(&self) -> ID {
        gid(kind::PLATFORM_SERVICE, self.0.service_id)
    }
    async fn provider(&self) -> CollectionProvider {
        self.0.provider.into()
    }
    async fn status(&self) -> CollectionJobStatus {
        self.0.status.into()
    }
    /// BrightData's snapshot id, once triggered.
    async fn snapshot_id(&self) -> Option<&str> {
        self.0.snapshot_id.as_deref()
    }
    async fn parameters(&self) -> Json<serde_json::Value> {
        Json(self.0.parameters.clone())
    }
    async fn input_count(&self) -> i32 {
        self.0.input_count
    }
    /// Records saved (new and seen again).
    async fn record_count(&self) -> i32 {
        self.0.record_count
    }
    /// Inputs that gave no record.
    async fn error_count(&self) -> i32 {
        self.0.error_count
    }
    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn finished_at(&self) -> Option<DateTime<Utc>> {
        self.0.finished_at
    }

    /// Auto-update: hours between runs (null: collected once).
    async fn repeat_every_hours(&self) -> Option<i32> {
        self.0.repeat_every_hours
    }

    /// When the next run of its auto-update starts, once this run ended.
    async fn next_run_at(&self) -> Option<DateTime<Utc>> {
        self.0.next_run_at
    }

    /// The first job of its auto-update (null on that first one).
    async fn repeat_of_id(&self) -> Option<ID> {
        self.0.repeat_of.map(|id| gid(kind::COLLECTION_JOB, id))
    }
    /// The job's inputs, in order.
    async fn inputs(&self, ctx: &Context<'_>) -> Result<Vec<CollectionJobInput>> {
        let tctx = loaders(ctx).tenant_access(self.0.tenant_id).await?;
        Ok(jobs::job_inputs(app(ctx), &tctx, self.0.id).await?.into_iter().map(CollectionJobInput).collect())
    }
}

/// One input URL of a job and what came of it.
pub struct CollectionJobInput(pub collection_job_input::Model);

#[Object]
impl CollectionJobInput {
    async fn url(&self) -> &str {
        &self.0.url
    }
    /// `pending`, `collected` or `failed`.
    async fn status(&self) -> &str {
        &self.0.status
    }
    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }
}

/// A job changed state or progress.
pub struct CollectionJobEvent(pub collection_job::Model);

#[Object]
impl CollectionJobEvent {
    async fn job(&self) -> CollectionJob {
        CollectionJob(self.0.clone())
    }
}

#[derive(SimpleObject)]
pub struct ProjectPayload {
    pub project: Project,
}

#[derive(SimpleObject)]
pub struct CollectionFolderPayload {
    pub folder: CollectionFolder,
}

#[derive(SimpleObject)]
pub struct CollectionJobPayload {
    pub job: CollectionJob,
}

#[derive(SimpleObject)]
pub struct MoveRecordsPayload {
    /// Records moved.
    pub moved: i64,
}

#[derive(SimpleObject)]
pub struct ProjectMemberPayload {
    pub member: ProjectMember,
}

/// The collection part of `Tenant`.
#[derive(Clone)]
pub struct TenantCollection(pub crate::graphql::tenant::TenantRow);

#[Object]
impl TenantCollection {
    /// The collectors the organisation may use (needs `COLLECTION_READ`).
    async fn available_collectors(&self, ctx: &Context<'_>) -> Result<Vec<Collector>> {
        let tctx = loaders(ctx).tenant_access(self.0.id).await?;
        let list = super::catalog::available_collectors(app(ctx), &tctx).await?;
        Ok(list.into_iter().map(|(s, p)| Collector(s, p)).collect())
    }

    /// The projects the caller belongs to (every one with `COLLECTION_MANAGE`).
    async fn projects(&self, ctx: &Context<'_>) -> Result<Vec<Project>> {
        let tctx = loaders(ctx).tenant_access(self.0.id).await?;
        let list = projects::list_projects(app(ctx), &tctx).await?;
        Ok(list.into_iter().map(|(p, role)| Project(p, role)).collect())
    }
}
