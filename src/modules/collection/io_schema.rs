//! GraphQL of importing and exporting records: `RecordExport` with its progress and signed
//! download link, `recordExport`, `startRecordExport`, `importRecords` (CSV given inline or as
//! a GraphQL multipart upload) and the `recordExportUpdated` subscription.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject, Subscription, Upload};
use chrono::{DateTime, Utc};
use entity::{collection_export, collection_folder};
use futures::{Stream, StreamExt};
use uuid::Uuid;

use super::{export, import, search_schema::RecordFilter};
use crate::{
    access::TenantCtx,
    auth::Permission,
    error::AppError,
    graphql::{app, owned_row, rctx, relay, relay::kind},
};

/// The file a record export writes.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::collection_export::ExportFormat")]
pub enum RecordExportFormat {
    /// CSV with a header row (UTF-8, RFC 4180); lists space-separated, dates RFC 3339 UTC.
    Csv,
    /// JSON Lines (`.jsonl`): one record object a line, with the provider's raw payload.
    Json,
    /// An Excel workbook: styled and frozen header, numbers and dates typed.
    Xlsx,
}

/// Where an export is.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::collection_export::ExportStatus")]
pub enum RecordExportState {
    /// Waiting for a worker.
    Pending,
    /// Writing: see `writtenRows` of `totalRows`.
    Running,
    /// Written: `downloadUrl` gives the file.
    Succeeded,
    /// See `error`.
    Failed,
}

/// An export of a folder's records to a file, built in the background.
pub struct RecordExport(pub collection_export::Model);

#[Object]
impl RecordExport {
    async fn id(&self) -> ID {
        relay::to_global_id(kind::RECORD_EXPORT, self.0.id)
    }
    async fn folder_id(&self) -> ID {
        relay::to_global_id(kind::COLLECTION_FOLDER, self.0.folder_id)
    }
    async fn project_id(&self) -> ID {
        relay::to_global_id(kind::PROJECT, self.0.project_id)
    }
    async fn format(&self) -> RecordExportFormat {
        self.0.format.into()
    }
    async fn state(&self) -> RecordExportState {
        self.0.status.into()
    }
    /// The records filter it applies.
    async fn filter(&self) -> RecordFilter {
        RecordFilter::from_filter(serde_json::from_value(self.0.filter.clone()).unwrap_or_default())
    }
    /// Records matching when it started (0 until it runs).
    async fn total_rows(&self) -> i64 {
        self.0.total_rows
    }
    /// Records written so far.
    async fn written_rows(&self) -> i64 {
        self.0.written_rows
    }
    /// From 0 to 1.
    async fn progress(&self) -> f64 {
        match self.0.status {
            entity::collection_export::ExportStatus::Succeeded => 1.0,
            _ if self.0.total_rows > 0 => (self.0.written_rows as f64 / self.0.total_rows as f64).min(1.0),
            _ => 0.0,
        }
    }
    /// The file's size, once written.
    async fn size_bytes(&self) -> Option<i64> {
        self.0.size_bytes
    }
    /// Why it failed.
    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }
    /// The name the file downloads as.
    async fn file_name(&self) -> String {
        export::file_name(&self.0)
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn finished_at(&self) -> Option<DateTime<Utc>> {
        self.0.finished_at
    }
    /// A signed link to the file once it is written, working for 15 minutes from this read
    /// (ask again for a fresh one); whoever holds it may download the file.
    async fn download_url(&self, ctx: &Context<'_>) -> Option<String> {
        let app = app(ctx);
        (self.0.status == entity::collection_export::ExportStatus::Succeeded)
            .then(|| export::download_link(app, &self.0, app.now()))
    }
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

async fn export_access(ctx: &Context<'_>, field: &str, id: &ID) -> Result<(Uuid, std::sync::Arc<TenantCtx>)> {
    owned_row::<collection_export::Entity>(
        ctx,
        field,
        id,
        kind::RECORD_EXPORT,
        "export",
        collection_export::Column::Id,
    )
    .await
}

#[derive(Default)]
pub struct IoQuery;

#[Object]
impl IoQuery {
    /// A record export of a folder the caller may read.
    async fn record_export(&self, ctx: &Context<'_>, id: ID) -> Result<RecordExport> {
        let (id, tctx) = export_access(ctx, "id", &id).await?;
        Ok(RecordExport(export::get_export(app(ctx), &tctx, id).await?))
    }
}

#[derive(InputObject)]
pub struct StartRecordExportInput {
    pub folder_id: ID,
    pub format: RecordExportFormat,
    /// Only the records matching (the filters of a records search); none: the whole folder.
    pub filter: Option<RecordFilter>,
}

#[derive(SimpleObject)]
pub struct RecordExportPayload {
    pub export: RecordExport,
}

#[derive(InputObject)]
pub struct ImportRecordsInput {
    pub folder_id: ID,
    /// The CSV itself (small files; longer than `ZYGO_MAX_STRING_LENGTH` needs `file`).
    pub csv: Option<String>,
    /// The CSV as a file (GraphQL multipart request; send `apollo-require-preflight: true`).
    pub file: Option<Upload>,
    /// Import the good rows and report the bad ones; by default one bad row imports nothing.
    pub skip_invalid: Option<bool>,
}

/// A row of an import that was left out.
#[derive(SimpleObject)]
pub struct ImportRowError {
    /// The line the row starts on (the column names are line 1).
    pub line: i64,
    /// The column at fault, when one is.
    pub column: Option<String>,
    pub message: String,
}

#[derive(SimpleObject)]
pub struct ImportRecordsPayload {
    /// New records.
    pub imported: i64,
    /// Records already in the organisation (same platform, service type and external id),
    /// updated where they are.
    pub updated: i64,
    /// Rows left out (`skipInvalid`).
    pub skipped: i64,
    pub errors: Vec<ImportRowError>,
}

#[derive(Default)]
pub struct IoMutation;

#[Object]
impl IoMutation {
    /// Starts exporting a folder's records (anyone who may read them); follow it with
    /// `recordExportUpdated`, then download it from `downloadUrl`.
    async fn start_record_export(
        &self,
        ctx: &Context<'_>,
        input: StartRecordExportInput,
    ) -> Result<RecordExportPayload> {
        let (folder, tctx) = folder_access(ctx, "input.folderId", &input.folder_id).await?;
        let filter = input.filter.unwrap_or_default().into_filter("input.filter")?;
        let e = export::start_export(app(ctx), &tctx, folder, input.format.into(), filter).await?;
        Ok(RecordExportPayload { export: RecordExport(e) })
    }

    /// Imports CSV records into a folder (project editors): every row checked first, errors
    /// by line; nothing imported when a row is bad unless `skipInvalid`.
    async fn import_records(
        &self,
        ctx: &Context<'_>,
        input: ImportRecordsInput,
    ) -> Result<ImportRecordsPayload> {
        let (folder, tctx) = folder_access(ctx, "input.folderId", &input.folder_id).await?;
        let skip = input.skip_invalid.unwrap_or(false);
        let app = app(ctx);
        // Who may import here is decided before the input is looked at.
        import::require_editor(app, &tctx, folder).await?;
        let report = match (input.csv, input.file) {
            (Some(csv), None) => {
                import::import_records(app, &tctx, folder, "input.csv", csv.as_bytes(), skip).await?
            }
            (None, Some(file)) => {
                let mut value = file
                    .value(ctx)
                    .map_err(|e| AppError::validation("input.file", format!("no file: {e}")))?;
                let bytes = read_upload(&mut value.content)?;
                import::import_records(app, &tctx, folder, "input.file", &bytes, skip).await?
            }
            _ => return Err(AppError::validation("input.csv", "give either `csv` or `file`").into()),
        };
        Ok(ImportRecordsPayload {
            imported: report.imported as i64,
            updated: report.updated as i64,
            skipped: report.skipped as i64,
            errors: report
                .errors
                .into_iter()
                .map(|e| ImportRowError { line: e.line as i64, column: e.field, message: e.message })
                .collect(),
        })
    }
}

/// An uploaded file's bytes, refused past [`import::MAX_BYTES`].
fn read_upload(file: &mut std::fs::File) -> Result<Vec<u8>, AppError> {
    use std::io::Read;
    let mut bytes = Vec::new();
    file.take(import::MAX_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| AppError::Internal(e.into()))?;
    if bytes.len() > import::MAX_BYTES {
        return Err(AppError::validation("input.file", format!("at most {} bytes", import::MAX_BYTES)));
    }
    Ok(bytes)
}

#[derive(Default)]
pub struct IoSubscription;

#[Subscription]
impl IoSubscription {
    /// An export as it is now, then each change of its state and progress (anyone who may
    /// read its folder; checked when it starts and with every event).
    async fn record_export_updated(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<impl Stream<Item = RecordExport> + use<>> {
        let (id, tctx) = export_access(ctx, "id", &id).await?;
        let app = app(ctx).clone();
        let viewer = rctx(ctx).viewer()?.clone();
        let tenant = tctx.tenant_id;
        // Listening before the first read: no change falls between the two.
        let updates = crate::graphql::live::guarded(
            app.clone(),
            viewer,
            tenant,
            Permission::CollectionRead,
            export::topic(tenant),
        );
        let now = export::get_export(&app, &tctx, id).await?;
        let updates = updates.filter_map(move |(event, tctx)| {
            let app = app.clone();
            async move {
                let e: export::ExportEvent = serde_json::from_value(event.payload.clone()).ok()?;
                if e.export_id != id {
                    return None;
                }
                // Read as the subscriber (a project they left shows nothing), as it was then.
                let mut now = export::get_export(&app, &tctx, id).await.ok()?;
                (now.status, now.written_rows, now.total_rows) = (e.status, e.written_rows, e.total_rows);
                Some(now)
            }
        });
        Ok(futures::stream::iter([now]).chain(updates).map(RecordExport))
    }
}
