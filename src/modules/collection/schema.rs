//! Data collection's queries, mutations and the `collectionJobUpdated` subscription.

use async_graphql::{Context, ID, InputObject, Object, Result, Subscription};
use entity::{collection_folder, collection_job, project};
use futures::{Stream, StreamExt};
use uuid::Uuid;

use super::{
    catalog, folders, jobs, projects, records, schedule,
    types::{
        CollectionFolder, CollectionFolderPayload, CollectionJob, CollectionJobEvent, CollectionJobPayload,
        CollectionPlatform, CollectionProvider, MoveRecordsPayload, PlatformService, Project, ProjectMember,
        ProjectMemberPayload, ProjectPayload, ProjectRole,
    },
};
use crate::{
    access::TenantCtx,
    auth::Permission,
    error::AppError,
    graphql::{app, loaders::loaders, owned_row, rctx, relay, relay::kind},
};

/// Refuses unless the signed-in caller is a platform super administrator.
pub(super) async fn platform_admin(ctx: &Context<'_>) -> Result<()> {
    let viewer = rctx(ctx).viewer()?;
    catalog::require_platform_admin(app(ctx), viewer.user_id).await?;
    Ok(())
}

async fn project_access(
    ctx: &Context<'_>,
    field: &str,
    id: &ID,
) -> Result<(Uuid, std::sync::Arc<TenantCtx>)> {
    owned_row::<project::Entity>(ctx, field, id, kind::PROJECT, "project", project::Column::Id).await
}

async fn folder_access(ctx: &Context<'_>, field: &str, id: &ID) -> Result<(Uuid, std::sync::Arc<TenantCtx>)> {
    owned_row::<collection_folder::Entity>(
        ctx,
        field,
        id,
        kind::COLLECTION_FOLDER,
        "folder",
        collection_folder::Column::Id,
    )
    .await
}

async fn job_access(ctx: &Context<'_>, field: &str, id: &ID) -> Result<(Uuid, std::sync::Arc<TenantCtx>)> {
    owned_row::<collection_job::Entity>(
        ctx,
        field,
        id,
        kind::COLLECTION_JOB,
        "collection job",
        collection_job::Column::Id,
    )
    .await
}

async fn folder_view(
    ctx: &Context<'_>,
    tctx: &TenantCtx,
    f: collection_folder::Model,
) -> Result<CollectionFolder> {
    let db = tctx.on(&app(ctx).db);
    let counts = folders::counts(&db, tctx.scope(), vec![f.id]).await?;
    let (n, last) = counts.get(&f.id).copied().unwrap_or((0, None));
    Ok(CollectionFolder(f, n, last))
}

#[derive(Default)]
pub struct CoreQuery;

#[Object]
impl CoreQuery {
    /// Every platform of the catalog (platform administrators only).
    async fn collection_platforms(&self, ctx: &Context<'_>) -> Result<Vec<CollectionPlatform>> {
        platform_admin(ctx).await?;
        Ok(catalog::platforms(app(ctx)).await?.into_iter().map(CollectionPlatform).collect())
    }

    /// Every platform service of the catalog (platform administrators only).
    async fn platform_services(&self, ctx: &Context<'_>) -> Result<Vec<PlatformService>> {
        platform_admin(ctx).await?;
        Ok(catalog::services(app(ctx)).await?.into_iter().map(PlatformService).collect())
    }

    /// A project the caller may see (`COLLECTION_READ` and a project role, or
    /// `COLLECTION_MANAGE`).
    async fn project(&self, ctx: &Context<'_>, id: ID) -> Result<Project> {
        let (id, tctx) = project_access(ctx, "id", &id).await?;
        let (p, role) = projects::get_project(app(ctx), &tctx, id).await?;
        Ok(Project(p, role))
    }

    /// A folder of a project the caller may see.
    async fn collection_folder(&self, ctx: &Context<'_>, id: ID) -> Result<CollectionFolder> {
        let (id, tctx) = folder_access(ctx, "id", &id).await?;
        let db = tctx.on(&app(ctx).db);
        let f = folders::folder_in(&db, tctx.scope(), id).await?;
        super::access::require_project(&db, &tctx, f.project_id, entity::project_member::ProjectRole::Viewer)
            .await?;
        folder_view(ctx, &tctx, f).await
    }

    /// A collection job of a project the caller may see.
    async fn collection_job(&self, ctx: &Context<'_>, id: ID) -> Result<CollectionJob> {
        let (id, tctx) = job_access(ctx, "id", &id).await?;
        Ok(CollectionJob(jobs::get_job(app(ctx), &tctx, id).await?))
    }
}

#[derive(InputObject)]
pub struct CreateCollectionPlatformInput {
    /// Stable key (`instagram`; letters, digits, `-`, `_`).
    pub key: String,
    pub name: String,
    pub description: Option<String>,
    pub icon: Option<String>,
    /// `#rrggbb`.
    pub colour: Option<String>,
    pub enabled: Option<bool>,
}

#[derive(InputObject)]
pub struct CreatePlatformServiceInput {
    pub platform_id: ID,
    /// `posts`, `comments`, `reels` or `profiles`.
    pub service_type: String,
    pub name: String,
    pub provider: CollectionProvider,
    /// BrightData's dataset id (`gd_…`); anything for SAMPLE.
    pub dataset_id: String,
    /// JSON Schema of a job's parameters (besides the URLs).
    pub input_schema: async_graphql::Json<serde_json::Value>,
    /// Record field → provider output field (dotted paths reach nested fields).
    pub output_mapping: Option<async_graphql::Json<serde_json::Value>>,
    pub enabled: Option<bool>,
}

#[derive(InputObject)]
pub struct SetPlatformServicesEnabledInput {
    pub service_ids: Vec<ID>,
    pub enabled: bool,
}

#[derive(InputObject)]
pub struct SetCollectorGrantInput {
    pub service_id: ID,
    /// A plan key, or `*` for every organisation (give this or `organisationId`).
    pub plan: Option<String>,
    /// One organisation: wins over its plan's grant.
    pub organisation_id: Option<ID>,
    pub allowed: bool,
}

#[derive(InputObject)]
pub struct SetBrightDataCredentialsInput {
    /// `development`, `staging` or `production`.
    pub environment: String,
    pub api_token: String,
    /// What BrightData sends back in the notification's `Authorization` header.
    pub webhook_secret: String,
}

#[derive(InputObject)]
pub struct CreateProjectInput {
    pub tenant_id: ID,
    pub name: String,
    pub description: Option<String>,
}

#[derive(InputObject)]
pub struct UpdateProjectInput {
    pub project_id: ID,
    pub name: Option<String>,
    pub description: Option<String>,
    /// The project's settings, replaced (a JSON object of at most 16 KiB).
    pub settings: Option<async_graphql::Json<serde_json::Value>>,
}

#[derive(InputObject)]
pub struct SetProjectMemberInput {
    pub project_id: ID,
    pub user_id: ID,
    pub role: ProjectRole,
}

#[derive(InputObject)]
pub struct RemoveProjectMemberInput {
    pub project_id: ID,
    pub user_id: ID,
}

#[derive(InputObject)]
pub struct CreateCollectionFolderInput {
    pub project_id: ID,
    /// Null: a top-level folder.
    pub parent_folder_id: Option<ID>,
    pub name: String,
    pub tags: Option<Vec<String>>,
}

#[derive(InputObject)]
pub struct UpdateCollectionFolderInput {
    pub folder_id: ID,
    pub name: Option<String>,
    /// Moves the folder under this one (never under itself or its subfolders).
    pub parent_folder_id: Option<ID>,
    /// Moves the folder to the top of the tree.
    pub to_top: Option<bool>,
    pub tags: Option<Vec<String>>,
    /// The folder's metadata, replaced (a JSON object of at most 16 KiB).
    pub metadata: Option<async_graphql::Json<serde_json::Value>>,
}

#[derive(InputObject)]
pub struct MoveRecordsInput {
    pub record_ids: Vec<ID>,
    /// A folder of the same project.
    pub folder_id: ID,
}

#[derive(InputObject)]
pub struct StartCollectionJobInput {
    pub project_id: ID,
    /// A collector from `Tenant.availableCollectors`.
    pub collector_id: ID,
    /// One URL a line, or CSV rows (the first URL of each row); bad lines are named.
    pub urls: String,
    /// Parameters besides the URLs, checked against the collector's input schema.
    pub parameters: Option<async_graphql::Json<serde_json::Value>>,
    /// Collect into this folder instead of a new one.
    pub folder_id: Option<ID>,
    /// Auto-update: collect the same inputs again every so many hours (1–720) into the same
    /// folder, records seen again updated.
    pub repeat_every_hours: Option<i32>,
}

#[derive(Default)]
pub struct CoreMutation;

#[Object]
impl CoreMutation {
    /// Adds a platform to the catalog (platform administrators only).
    async fn create_collection_platform(
        &self,
        ctx: &Context<'_>,
        input: CreateCollectionPlatformInput,
    ) -> Result<CollectionPlatform> {
        platform_admin(ctx).await?;
        let p = catalog::create_platform(
            app(ctx),
            catalog::PlatformFields {
                key: input.key,
                name: input.name,
                description: input.description,
                icon: input.icon,
                colour: input.colour,
                enabled: input.enabled,
            },
        )
        .await?;
        Ok(CollectionPlatform(p))
    }

    /// Adds a platform service (platform administrators only).
    async fn create_platform_service(
        &self,
        ctx: &Context<'_>,
        input: CreatePlatformServiceInput,
    ) -> Result<PlatformService> {
        platform_admin(ctx).await?;
        let platform_id =
            relay::decode_id("input.platformId", &input.platform_id, kind::COLLECTION_PLATFORM)?;
        let s = catalog::create_service(
            app(ctx),
            catalog::ServiceFields {
                platform_id,
                service_type: input.service_type,
                name: input.name,
                provider: input.provider.into(),
                dataset_id: input.dataset_id,
                input_schema: input.input_schema.0,
                output_mapping: input.output_mapping.map(|m| m.0).unwrap_or_else(|| serde_json::json!({})),
                enabled: input.enabled,
            },
        )
        .await?;
        Ok(PlatformService(s))
    }

    /// Switches platform services on or off together (platform administrators only).
    async fn set_platform_services_enabled(
        &self,
        ctx: &Context<'_>,
        input: SetPlatformServicesEnabledInput,
    ) -> Result<Vec<PlatformService>> {
        platform_admin(ctx).await?;
        let ids = input
            .service_ids
            .iter()
            .map(|i| relay::decode_id("input.serviceIds", i, kind::PLATFORM_SERVICE))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(catalog::set_services_enabled(app(ctx), &ids, input.enabled)
            .await?
            .into_iter()
            .map(PlatformService)
            .collect())
    }

    /// Grants or refuses a collector to a plan or one organisation (platform administrators).
    async fn set_collector_grant(&self, ctx: &Context<'_>, input: SetCollectorGrantInput) -> Result<bool> {
        platform_admin(ctx).await?;
        let service = relay::decode_id("input.serviceId", &input.service_id, kind::PLATFORM_SERVICE)?;
        let who = match (input.plan, input.organisation_id) {
            (Some(p), None) => catalog::Grantee::Plan(p),
            (None, Some(o)) => {
                catalog::Grantee::Organisation(relay::decode_id("input.organisationId", &o, kind::TENANT)?)
            }
            _ => {
                return Err(
                    AppError::validation("input.plan", "give either a plan or an organisation").into()
                );
            }
        };
        catalog::set_grant(app(ctx), service, who, input.allowed).await?;
        Ok(true)
    }

    /// Stores BrightData's credentials for an environment, sealed (platform administrators).
    async fn set_bright_data_credentials(
        &self,
        ctx: &Context<'_>,
        input: SetBrightDataCredentialsInput,
    ) -> Result<bool> {
        platform_admin(ctx).await?;
        catalog::set_credentials(app(ctx), &input.environment, &input.api_token, &input.webhook_secret)
            .await?;
        Ok(true)
    }

    /// Creates a project (needs `PROJECTS_MANAGE`); the caller becomes its owner.
    async fn create_project(&self, ctx: &Context<'_>, input: CreateProjectInput) -> Result<ProjectPayload> {
        rctx(ctx).require_principal()?;
        let tenant = relay::decode_id("input.tenantId", &input.tenant_id, kind::TENANT)?;
        let tctx = loaders(ctx).tenant_access(tenant).await?;
        let p = projects::create_project(app(ctx), &tctx, &input.name, input.description.as_deref()).await?;
        Ok(ProjectPayload { project: Project(p, entity::project_member::ProjectRole::Owner) })
    }

    /// Renames a project or changes its description (project owners).
    async fn update_project(&self, ctx: &Context<'_>, input: UpdateProjectInput) -> Result<ProjectPayload> {
        let (id, tctx) = project_access(ctx, "input.projectId", &input.project_id).await?;
        let p = projects::update_project(
            app(ctx),
            &tctx,
            id,
            input.name.as_deref(),
            input.description.as_deref(),
            input.settings.map(|s| s.0),
        )
        .await?;
        Ok(ProjectPayload { project: Project(p, entity::project_member::ProjectRole::Owner) })
    }

    /// Deletes a project with its folders, records and jobs (project owners).
    async fn delete_project(&self, ctx: &Context<'_>, id: ID) -> Result<ProjectPayload> {
        let (id, tctx) = project_access(ctx, "id", &id).await?;
        let p = projects::delete_project(app(ctx), &tctx, id).await?;
        Ok(ProjectPayload { project: Project(p, entity::project_member::ProjectRole::Owner) })
    }

    /// Gives a member of the organisation a role in the project (project owners).
    async fn set_project_member(
        &self,
        ctx: &Context<'_>,
        input: SetProjectMemberInput,
    ) -> Result<ProjectMemberPayload> {
        let (id, tctx) = project_access(ctx, "input.projectId", &input.project_id).await?;
        let user = relay::decode_id("input.userId", &input.user_id, kind::USER)?;
        let m = projects::set_member(app(ctx), &tctx, id, user, input.role.into()).await?;
        Ok(ProjectMemberPayload { member: ProjectMember(m) })
    }

    /// Takes someone out of a project (project owners; the last owner stays).
    async fn remove_project_member(
        &self,
        ctx: &Context<'_>,
        input: RemoveProjectMemberInput,
    ) -> Result<bool> {
        let (id, tctx) = project_access(ctx, "input.projectId", &input.project_id).await?;
        let user = relay::decode_id("input.userId", &input.user_id, kind::USER)?;
        projects::remove_member(app(ctx), &tctx, id, user).await?;
        Ok(true)
    }

    /// Creates a folder (project editors).
    async fn create_collection_folder(
        &self,
        ctx: &Context<'_>,
        input: CreateCollectionFolderInput,
    ) -> Result<CollectionFolderPayload> {
        let (project, tctx) = project_access(ctx, "input.projectId", &input.project_id).await?;
        let parent = input
            .parent_folder_id
            .map(|p| relay::decode_id("input.parentFolderId", &p, kind::COLLECTION_FOLDER))
            .transpose()?;
        let f = folders::create_folder(
            app(ctx),
            &tctx,
            project,
            parent,
            &input.name,
            &input.tags.unwrap_or_default(),
        )
        .await?;
        Ok(CollectionFolderPayload { folder: folder_view(ctx, &tctx, f).await? })
    }

    /// Renames, moves or re-tags a folder (project editors).
    async fn update_collection_folder(
        &self,
        ctx: &Context<'_>,
        input: UpdateCollectionFolderInput,
    ) -> Result<CollectionFolderPayload> {
        let (id, tctx) = folder_access(ctx, "input.folderId", &input.folder_id).await?;
        let parent = match (input.parent_folder_id, input.to_top) {
            (Some(p), _) => {
                Some(Some(relay::decode_id("input.parentFolderId", &p, kind::COLLECTION_FOLDER)?))
            }
            (None, Some(true)) => Some(None),
            (None, _) => None,
        };
        let f = folders::update_folder(
            app(ctx),
            &tctx,
            id,
            input.name.as_deref(),
            parent,
            input.tags.as_deref(),
            input.metadata.map(|m| m.0),
        )
        .await?;
        Ok(CollectionFolderPayload { folder: folder_view(ctx, &tctx, f).await? })
    }

    /// Deletes a folder; one holding folders or records only `withContents` (project editors).
    async fn delete_collection_folder(
        &self,
        ctx: &Context<'_>,
        id: ID,
        with_contents: Option<bool>,
    ) -> Result<CollectionFolderPayload> {
        let (id, tctx) = folder_access(ctx, "id", &id).await?;
        let f = folders::delete_folder(app(ctx), &tctx, id, with_contents.unwrap_or(false)).await?;
        Ok(CollectionFolderPayload { folder: CollectionFolder(f, 0, None) })
    }

    /// Moves records into another folder of their project (project editors).
    async fn move_collected_records(
        &self,
        ctx: &Context<'_>,
        input: MoveRecordsInput,
    ) -> Result<MoveRecordsPayload> {
        let (folder, tctx) = folder_access(ctx, "input.folderId", &input.folder_id).await?;
        let ids = input
            .record_ids
            .iter()
            .map(|i| relay::decode_id("input.recordIds", i, kind::COLLECTED_RECORD))
            .collect::<Result<Vec<_>, _>>()?;
        let moved = records::move_records(app(ctx), &tctx, &ids, folder).await?;
        Ok(MoveRecordsPayload { moved: moved as i64 })
    }

    /// Copies records into a further folder of their project, where they show besides their
    /// home folder (project editors); `moved` counts the copies added.
    async fn copy_collected_records(
        &self,
        ctx: &Context<'_>,
        input: MoveRecordsInput,
    ) -> Result<MoveRecordsPayload> {
        let (folder, tctx) = folder_access(ctx, "input.folderId", &input.folder_id).await?;
        let ids = input
            .record_ids
            .iter()
            .map(|i| relay::decode_id("input.recordIds", i, kind::COLLECTED_RECORD))
            .collect::<Result<Vec<_>, _>>()?;
        let added = records::copy_records(app(ctx), &tctx, &ids, folder).await?;
        Ok(MoveRecordsPayload { moved: added as i64 })
    }

    /// Starts collecting (project editors, a collector the organisation was granted).
    async fn start_collection_job(
        &self,
        ctx: &Context<'_>,
        input: StartCollectionJobInput,
    ) -> Result<CollectionJobPayload> {
        let (project, tctx) = project_access(ctx, "input.projectId", &input.project_id).await?;
        let service = relay::decode_id("input.collectorId", &input.collector_id, kind::PLATFORM_SERVICE)?;
        let folder = input
            .folder_id
            .map(|f| relay::decode_id("input.folderId", &f, kind::COLLECTION_FOLDER))
            .transpose()?;
        let job = jobs::start_job(
            app(ctx),
            &tctx,
            jobs::StartJob {
                project,
                service,
                urls: input.urls,
                parameters: input.parameters.map(|p| p.0).unwrap_or(serde_json::Value::Null),
                folder,
                repeat_every_hours: input.repeat_every_hours,
            },
        )
        .await?;
        Ok(CollectionJobPayload { job: CollectionJob(job) })
    }

    /// Sets how often a job collects again (`everyHours`, 1–720) or stops its auto-update
    /// (null) — project editors. On a job that ended, its next run is planned at once.
    async fn set_collection_job_schedule(
        &self,
        ctx: &Context<'_>,
        id: ID,
        every_hours: Option<i32>,
    ) -> Result<CollectionJobPayload> {
        let (id, tctx) = job_access(ctx, "id", &id).await?;
        let job = schedule::set_schedule(app(ctx), &tctx, id, every_hours).await?;
        Ok(CollectionJobPayload { job: CollectionJob(job) })
    }

    /// Makes what a job waits for happen now — its planned next run, or a step waiting to be
    /// tried again (`collection.manage`; CONFLICT when nothing waits).
    async fn run_collection_job_now(&self, ctx: &Context<'_>, id: ID) -> Result<CollectionJobPayload> {
        let (id, tctx) = job_access(ctx, "id", &id).await?;
        Ok(CollectionJobPayload { job: CollectionJob(schedule::run_now(app(ctx), &tctx, id).await?) })
    }

    /// Cancels a job that has not ended (project editors).
    async fn cancel_collection_job(&self, ctx: &Context<'_>, id: ID) -> Result<CollectionJobPayload> {
        let (id, tctx) = job_access(ctx, "id", &id).await?;
        Ok(CollectionJobPayload { job: CollectionJob(jobs::cancel_job(app(ctx), &tctx, id).await?) })
    }
}

#[derive(Default)]
pub struct CoreSubscription;

#[Subscription]
impl CoreSubscription {
    /// A project's collection jobs as they change state and progress (anyone who may see the
    /// project; checked when it starts and with every event).
    async fn collection_job_updated(
        &self,
        ctx: &Context<'_>,
        project_id: ID,
    ) -> Result<impl Stream<Item = CollectionJobEvent> + use<>> {
        let (project, tctx) = project_access(ctx, "projectId", &project_id).await?;
        let app = app(ctx).clone();
        projects::get_project(&app, &tctx, project).await?;
        let viewer = rctx(ctx).viewer()?.clone();
        let tenant = tctx.tenant_id;
        Ok(crate::graphql::live::guarded(
            app.clone(),
            viewer,
            tenant,
            Permission::CollectionRead,
            jobs::topic(tenant),
        )
        .filter_map(move |(event, tctx)| {
            let app = app.clone();
            async move {
                let e: jobs::JobEvent = serde_json::from_value(event.payload.clone()).ok()?;
                if e.project_id != project {
                    return None;
                }
                // Read as the subscriber: a project they left shows nothing.
                jobs::get_job(&app, &tctx, e.job_id).await.ok().map(CollectionJobEvent)
            }
        }))
    }
}
