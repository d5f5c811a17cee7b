//! An export of a folder's collected records to a file.
use sea_orm::entity::prelude::*;

/// One export: the folder and filters it reads, its format, its progress and, once written,
/// the stored file.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "collection_exports")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub project_id: Uuid,
    pub folder_id: Uuid,
    pub format: ExportFormat,
    /// The records filter (the search filter's shape), as validated.
    pub filter: Json,
    pub status: ExportStatus,
    /// Records matching when the export started.
    pub total_rows: i64,
    /// Records written so far.
    pub written_rows: i64,
    /// Where the file is in the file store, once written.
    pub storage_key: Option<String>,
    pub size_bytes: Option<i64>,
    pub error: Option<String>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl crate::TenantOwned for Entity {
    fn tenant_column() -> Column {
        Column::TenantId
    }
}

/// The file an export writes.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    /// RFC 4180 CSV with a header row.
    Csv,
    /// JSON Lines: one record object a line.
    Json,
    /// An Excel workbook (`.xlsx`).
    Xlsx,
}

/// An export's life: PENDING → RUNNING → SUCCEEDED or FAILED.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum ExportStatus {
    Pending,
    Running,
    Succeeded,
    Failed,
}

impl ExportStatus {
    /// Ended: nothing changes it any more.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed)
    }
}
