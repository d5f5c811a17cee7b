//! Resource queries and mutations (thin: decode, check the tenant, call one service).

use async_graphql::{Context, ID, InputObject, Object, Result, Upload};
use chrono::{DateTime, Utc};
use entity::{resource, resource_share_link, resource_version};

use super::{
    service::{self, ResourceFields},
    sharing::{self, LinkRefusal, ShareLinkFields},
    types::{
        Resource, ResourcePayload, ResourceShareLink, ResourceShareLinkPayload, ResourceVersion,
        ResourceVisibility, SharedResource, UploadResourcePayload,
    },
    upload::{self, IncomingFile},
};
use crate::{
    error::AppError,
    graphql::{app, loaders::loaders, owned_row, rctx, relay},
};

#[derive(Default)]
pub struct ResourcesQuery;

#[Object]
impl ResourcesQuery {
    /// A file the viewer may see (by visibility; from the bin too).
    async fn resource(&self, ctx: &Context<'_>, id: ID) -> Result<Resource> {
        let (id, tctx) = resource_access(ctx, "id", &id).await?;
        Ok(Resource(service::get(app(ctx), &tctx, id).await?))
    }

    /// A file version the viewer may see (what IMAGE and EMBED sections name): its
    /// `downloadUrl` shows an image in a page.
    async fn resource_version(&self, ctx: &Context<'_>, id: ID) -> Result<ResourceVersion> {
        let (id, tctx) = owned_row::<resource_version::Entity>(
            ctx,
            "id",
            &id,
            relay::kind::RESOURCE_VERSION,
            "resource version",
            resource_version::Column::Id,
        )
        .await?;
        let db = tctx.on(&app(ctx).db);
        let (_, v) = service::visible_version(&db, &tctx, id).await?;
        Ok(ResourceVersion(v))
    }

    /// What a share link opens (anyone holding its token); null for a link that no longer
    /// opens (forged, expired, revoked, or its file is no longer shared).
    async fn shared_resource(&self, ctx: &Context<'_>, token: String) -> Result<Option<SharedResource>> {
        match sharing::open_link(app(ctx), &token, None, false).await? {
            Ok(s) => Ok(Some(SharedResource {
                name: s.resource.name,
                filename: s.version.filename,
                size_bytes: s.version.size_bytes,
                mime_type: s.version.mime_type,
                expires_at: s.link.expires_at,
                password_required: s.link.password_hash.is_some(),
                download_path: format!("/resources/share/{token}"),
            })),
            Err(LinkRefusal::Gone | LinkRefusal::Password) => Ok(None),
        }
    }
}

async fn resource_access(
    ctx: &Context<'_>,
    field: &str,
    id: &ID,
) -> Result<(uuid::Uuid, std::sync::Arc<crate::access::TenantCtx>)> {
    owned_row::<resource::Entity>(ctx, field, id, relay::kind::RESOURCE, "resource", resource::Column::Id)
        .await
}

fn incoming(ctx: &Context<'_>, file: &Upload) -> Result<IncomingFile> {
    let value = file.value(ctx).map_err(|e| AppError::validation("input.file", format!("no file: {e}")))?;
    Ok(IncomingFile { filename: value.filename, content_type: value.content_type, file: value.content })
}

#[derive(InputObject)]
pub struct UploadResourceInput {
    pub tenant_id: ID,
    /// The owning team (none: the organisation).
    pub team_id: Option<ID>,
    /// Default: the file's name.
    pub name: Option<String>,
    /// Default `/`.
    pub folder: Option<String>,
    pub tags: Option<Vec<String>>,
    /// Default ORGANISATION.
    pub visibility: Option<ResourceVisibility>,
    /// The file (GraphQL multipart request; send `apollo-require-preflight: true`).
    pub file: Upload,
}

#[derive(InputObject)]
pub struct UploadResourceVersionInput {
    pub resource_id: ID,
    pub file: Upload,
}

#[derive(InputObject)]
pub struct UpdateResourceInput {
    pub resource_id: ID,
    pub name: Option<String>,
    pub folder: Option<String>,
    pub tags: Option<Vec<String>>,
    pub visibility: Option<ResourceVisibility>,
    pub team_id: Option<ID>,
}

#[derive(InputObject)]
pub struct CreateResourceShareLinkInput {
    pub resource_id: ID,
    /// Pin one version (default: the newest at download time).
    pub version_id: Option<ID>,
    /// Default: in 7 days; at most `ZYGO_RESOURCE_SHARE_LINK_MAX_DAYS` away.
    pub expires_at: Option<DateTime<Utc>>,
    /// Asked for before the download.
    pub password: Option<String>,
}

#[derive(Default)]
pub struct ResourcesMutation;

#[Object]
impl ResourcesMutation {
    /// Uploads a file as a new resource (needs `RESOURCES_WRITE`; counts against the plan's
    /// storage: `QUOTA_EXCEEDED` and nothing stored when it does not fit).
    async fn upload_resource(
        &self,
        ctx: &Context<'_>,
        input: UploadResourceInput,
    ) -> Result<UploadResourcePayload> {
        rctx(ctx).require_principal()?;
        let tenant = relay::decode_id("input.tenantId", &input.tenant_id, relay::kind::TENANT)?;
        let tctx = loaders(ctx).tenant_access(tenant).await?;
        let team_id =
            input.team_id.map(|t| relay::decode_id("input.teamId", &t, relay::kind::TEAM)).transpose()?;
        let fields = ResourceFields {
            team_id,
            name: input.name,
            folder: input.folder,
            tags: input.tags,
            visibility: input.visibility.map(Into::into),
        };
        let file = incoming(ctx, &input.file)?;
        let (r, v) = upload::create(app(ctx), &tctx, fields, file).await?;
        Ok(UploadResourcePayload { resource: Resource(r), version: ResourceVersion(v) })
    }

    /// Uploads a new version of a resource (the older ones stay, immutable).
    async fn upload_resource_version(
        &self,
        ctx: &Context<'_>,
        input: UploadResourceVersionInput,
    ) -> Result<UploadResourcePayload> {
        let (id, tctx) = resource_access(ctx, "input.resourceId", &input.resource_id).await?;
        let file = incoming(ctx, &input.file)?;
        let (r, v) = upload::add_version(app(ctx), &tctx, id, file).await?;
        Ok(UploadResourcePayload { resource: Resource(r), version: ResourceVersion(v) })
    }

    /// Renames, moves, tags a resource or changes who may see it.
    async fn update_resource(
        &self,
        ctx: &Context<'_>,
        input: UpdateResourceInput,
    ) -> Result<ResourcePayload> {
        let (id, tctx) = resource_access(ctx, "input.resourceId", &input.resource_id).await?;
        let team_id =
            input.team_id.map(|t| relay::decode_id("input.teamId", &t, relay::kind::TEAM)).transpose()?;
        let fields = ResourceFields {
            team_id,
            name: input.name,
            folder: input.folder,
            tags: input.tags,
            visibility: input.visibility.map(Into::into),
        };
        Ok(ResourcePayload { resource: Resource(service::update(app(ctx), &tctx, id, fields).await?) })
    }

    /// Moves a resource to the bin (needs `RESOURCES_DELETE`); restorable.
    async fn delete_resource(&self, ctx: &Context<'_>, id: ID) -> Result<ResourcePayload> {
        let (id, tctx) = resource_access(ctx, "id", &id).await?;
        Ok(ResourcePayload { resource: Resource(service::set_deleted(app(ctx), &tctx, id, true).await?) })
    }

    /// Brings a resource back from the bin (needs `RESOURCES_DELETE`).
    async fn restore_resource(&self, ctx: &Context<'_>, id: ID) -> Result<ResourcePayload> {
        let (id, tctx) = resource_access(ctx, "id", &id).await?;
        Ok(ResourcePayload { resource: Resource(service::set_deleted(app(ctx), &tctx, id, false).await?) })
    }

    /// Deletes a file in the bin for good, with its versions, links and log (needs
    /// `RESOURCES_DELETE`); its stored bytes are removed and no longer count against the plan.
    async fn purge_resource(&self, ctx: &Context<'_>, id: ID) -> Result<ResourcePayload> {
        let (id, tctx) = resource_access(ctx, "id", &id).await?;
        Ok(ResourcePayload { resource: Resource(super::purge::purge(app(ctx), &tctx, id).await?) })
    }

    /// A share link of a LINK-visible resource (needs `RESOURCES_SHARE`).
    async fn create_resource_share_link(
        &self,
        ctx: &Context<'_>,
        input: CreateResourceShareLinkInput,
    ) -> Result<ResourceShareLinkPayload> {
        let (id, tctx) = resource_access(ctx, "input.resourceId", &input.resource_id).await?;
        let version_id = input
            .version_id
            .map(|v| relay::decode_id("input.versionId", &v, relay::kind::RESOURCE_VERSION))
            .transpose()?;
        let fields = ShareLinkFields { version_id, expires_at: input.expires_at, password: input.password };
        let link = sharing::create_link(app(ctx), &tctx, id, fields).await?;
        Ok(ResourceShareLinkPayload { share_link: ResourceShareLink(link) })
    }

    /// Revokes a share link at once (needs `RESOURCES_SHARE`).
    async fn revoke_resource_share_link(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<ResourceShareLinkPayload> {
        let (id, tctx) = owned_row::<resource_share_link::Entity>(
            ctx,
            "id",
            &id,
            relay::kind::RESOURCE_SHARE_LINK,
            "share link",
            resource_share_link::Column::Id,
        )
        .await?;
        let link = sharing::revoke_link(app(ctx), &tctx, id).await?;
        Ok(ResourceShareLinkPayload { share_link: ResourceShareLink(link) })
    }
}
