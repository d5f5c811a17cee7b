//! GraphQL types of resources: the resource, its versions, share links and download log,
//! mutation payloads, and the resources part of `Tenant`.

use async_graphql::{Context, Enum, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{resource, resource_download, resource_share_link, resource_version};

use super::{service, sharing};
use crate::{
    auth::Permission,
    db::page::PageArgs,
    graphql::{
        app,
        loaders::{child_page, loader_err, loaders},
        relay::{self, kind},
    },
    modules::identity::types::User,
};

/// Who may see a resource besides its uploader.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::resource::Visibility")]
pub enum ResourceVisibility {
    /// Its uploader only.
    Private,
    /// The members of its team.
    Team,
    /// Every member who may read resources.
    Organisation,
    /// Like ORGANISATION, and anyone holding one of its share links.
    Link,
}

async fn user(ctx: &Context<'_>, id: Option<uuid::Uuid>) -> Result<Option<User>> {
    let Some(id) = id else { return Ok(None) };
    Ok(loaders(ctx).users.load_one(id).await.map_err(loader_err)?.map(User::new))
}

fn window(
    ctx: &Context<'_>,
    after: Option<String>,
    first: Option<i32>,
    last: Option<i32>,
) -> Result<crate::db::page::Window> {
    Ok(PageArgs::new(after, None, first, last).window(app(ctx).config.max_page_size)?)
}

/// A file of the organisation or of one of its teams, made of immutable versions.
pub struct Resource(pub resource::Model);

#[Object]
impl Resource {
    /// Global ID.
    pub async fn id(&self) -> ID {
        relay::to_global_id(kind::RESOURCE, self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// `/`-separated folder path (`/` is the root).
    async fn folder(&self) -> &str {
        &self.0.folder
    }
    async fn tags(&self) -> Vec<String> {
        serde_json::from_value(self.0.tags.clone()).unwrap_or_default()
    }
    async fn visibility(&self) -> ResourceVisibility {
        self.0.visibility.into()
    }
    /// The owning team's ID (none: the organisation's).
    async fn team_id(&self) -> Option<ID> {
        self.0.team_id.map(|t| relay::to_global_id(kind::TEAM, t))
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
    /// When it went to the bin (null: live).
    async fn deleted_at(&self) -> Option<DateTime<Utc>> {
        self.0.deleted_at
    }
    async fn version_count(&self) -> i32 {
        self.0.version_count
    }
    /// Downloads of any of its versions, by members and through links.
    async fn download_count(&self) -> i64 {
        self.0.download_count
    }
    /// The newest version.
    async fn current_version(&self, ctx: &Context<'_>) -> Result<Option<ResourceVersion>> {
        let Some(id) = self.0.current_version_id else { return Ok(None) };
        let v = loaders(ctx)
            .resources
            .version_by_id
            .load_one((self.0.tenant_id, id))
            .await
            .map_err(loader_err)?;
        Ok(v.map(ResourceVersion))
    }
    /// Every version, oldest first (`last: n` for the newest).
    #[graphql(complexity = "crate::graphql::relay::cost(first, last, child_complexity)")]
    async fn versions(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<relay::Conn<ResourceVersion>> {
        let w = window(ctx, after, first, last)?;
        let rows =
            child_page(ctx, &loaders(ctx).resources.versions, self.0.tenant_id, self.0.id, w, None).await?;
        Ok(relay::to_connection(rows, |v| v.id, ResourceVersion))
    }
    /// Its share links, revoked and expired ones too (needs `RESOURCES_SHARE`).
    #[graphql(complexity = "crate::graphql::relay::cost(first, last, child_complexity)")]
    async fn share_links(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<relay::Conn<ResourceShareLink>> {
        loaders(ctx).tenant_access(self.0.tenant_id).await?.require(Permission::ResourcesShare)?;
        let w = window(ctx, after, first, last)?;
        let rows = child_page(ctx, &loaders(ctx).resources.share_links, self.0.tenant_id, self.0.id, w, None)
            .await?;
        Ok(relay::to_connection(rows, |l| l.id, ResourceShareLink))
    }
    /// The download log, oldest first (`last: n` for the newest).
    #[graphql(complexity = "crate::graphql::relay::cost(first, last, child_complexity)")]
    async fn downloads(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<relay::Conn<ResourceDownload>> {
        let w = window(ctx, after, first, last)?;
        let rows =
            child_page(ctx, &loaders(ctx).resources.downloads, self.0.tenant_id, self.0.id, w, None).await?;
        Ok(relay::to_connection(rows, |d| d.id, ResourceDownload))
    }
}

/// One immutable upload of a resource.
pub struct ResourceVersion(pub resource_version::Model);

#[Object]
impl ResourceVersion {
    /// Global ID (what IMAGE and EMBED sections reference).
    pub async fn id(&self) -> ID {
        relay::to_global_id(kind::RESOURCE_VERSION, self.0.id)
    }
    /// 1 for the first upload.
    async fn number(&self) -> i32 {
        self.0.number
    }
    async fn filename(&self) -> &str {
        &self.0.filename
    }
    async fn size_bytes(&self) -> i64 {
        self.0.size_bytes
    }
    /// Hex SHA-256 of the bytes.
    async fn sha256(&self) -> &str {
        &self.0.sha256
    }
    /// Detected from the first bytes.
    async fn mime_type(&self) -> &str {
        &self.0.mime_type
    }
    async fn uploaded_by(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        user(ctx, self.0.uploaded_by).await
    }
    async fn uploaded_at(&self) -> DateTime<Utc> {
        self.0.uploaded_at
    }
    /// A download address for the viewer, valid 15 minutes (usable as an `<img src>`); the
    /// route also takes a bearer token at `/resources/versions/{uuid}/download`.
    async fn download_url(&self, ctx: &Context<'_>) -> Result<String> {
        let tctx = loaders(ctx).tenant_access(self.0.tenant_id).await?;
        Ok(sharing::download_path(app(ctx), self.0.id, tctx.acting_user()))
    }
}

/// A signed link through which anyone holding it downloads the resource.
pub struct ResourceShareLink(pub resource_share_link::Model);

#[Object]
impl ResourceShareLink {
    /// Global ID.
    pub async fn id(&self) -> ID {
        relay::to_global_id(kind::RESOURCE_SHARE_LINK, self.0.id)
    }
    /// The page in the web app that opens the link.
    async fn url(&self, ctx: &Context<'_>) -> String {
        sharing::share_url(app(ctx), self.0.id)
    }
    /// The signed token (the download itself is `GET /resources/share/{token}`).
    async fn token(&self, ctx: &Context<'_>) -> String {
        sharing::token(app(ctx), self.0.id)
    }
    /// A pinned version's ID (null: the newest at download time).
    async fn version_id(&self) -> Option<ID> {
        self.0.version_id.map(|v| relay::to_global_id(kind::RESOURCE_VERSION, v))
    }
    async fn password_protected(&self) -> bool {
        self.0.password_hash.is_some()
    }
    async fn expires_at(&self) -> DateTime<Utc> {
        self.0.expires_at
    }
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }
    /// Whether it opens now (neither revoked nor expired).
    async fn active(&self, ctx: &Context<'_>) -> bool {
        self.0.revoked_at.is_none() && self.0.expires_at > app(ctx).now()
    }
    async fn download_count(&self) -> i64 {
        self.0.download_count
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// One download: by a member or through a share link, when and from where.
pub struct ResourceDownload(pub resource_download::Model);

#[Object]
impl ResourceDownload {
    /// Global ID.
    pub async fn id(&self) -> ID {
        relay::to_global_id(kind::RESOURCE_DOWNLOAD, self.0.id)
    }
    /// The version downloaded.
    async fn version_id(&self) -> ID {
        relay::to_global_id(kind::RESOURCE_VERSION, self.0.version_id)
    }
    /// The member who downloaded (null through a share link).
    async fn user(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        user(ctx, self.0.user_id).await
    }
    /// The share link it came through.
    async fn share_link_id(&self) -> Option<ID> {
        self.0.share_link_id.map(|l| relay::to_global_id(kind::RESOURCE_SHARE_LINK, l))
    }
    async fn ip(&self) -> Option<&str> {
        self.0.ip.as_deref()
    }
    async fn user_agent(&self) -> Option<&str> {
        self.0.user_agent.as_deref()
    }
    async fn downloaded_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// What a share link opens, as its holder sees it before downloading.
#[derive(SimpleObject)]
pub struct SharedResource {
    pub name: String,
    pub filename: String,
    pub size_bytes: i64,
    pub mime_type: String,
    pub expires_at: DateTime<Utc>,
    /// Whether the download asks for the link's password.
    pub password_required: bool,
    /// `GET` this (with `x-share-password` when required) to download.
    pub download_path: String,
}

#[derive(SimpleObject)]
pub struct UploadResourcePayload {
    pub resource: Resource,
    /// The version just stored.
    pub version: ResourceVersion,
}

#[derive(SimpleObject)]
pub struct ResourcePayload {
    pub resource: Resource,
}

#[derive(SimpleObject)]
pub struct ResourceShareLinkPayload {
    pub share_link: ResourceShareLink,
}

/// The resources part of `Tenant`.
#[derive(Clone)]
pub struct TenantResources(pub crate::graphql::tenant::TenantRow);

#[Object]
impl TenantResources {
    /// The files the viewer may see (by visibility), oldest first; `folder` narrows to one
    /// folder, `tag` to one tag, `deleted: true` lists the bin instead (needs `RESOURCES_READ`).
    #[graphql(complexity = "crate::graphql::relay::cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn resources(
        &self,
        ctx: &Context<'_>,
        folder: Option<String>,
        tag: Option<String>,
        deleted: Option<bool>,
        after: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<Option<relay::Conn<Resource>>> {
        let tctx = loaders(ctx).tenant_access(self.0.id).await?;
        let w = window(ctx, after, first, last)?;
        let filter = service::ResourceFilter { folder, tag, deleted: deleted.unwrap_or(false) };
        let rows = service::list(app(ctx), &tctx, filter, w).await?;
        Ok(Some(relay::to_connection(rows, |r| r.id, Resource)))
    }
}
