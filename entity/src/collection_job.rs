use sea_orm::entity::prelude::*;

/// One collection run of a platform service over a list of inputs.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "collection_jobs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub project_id: Uuid,
    pub folder_id: Uuid,
    pub service_id: Uuid,
    pub provider: CollectionProvider,
    pub status: CollectionJobStatus,
    /// The provider's snapshot id, once triggered.
    pub snapshot_id: Option<String>,
    /// The parameters besides the URLs (date range, limits), as validated.
    pub parameters: Json,
    pub input_count: i32,
    pub record_count: i32,
    pub error_count: i32,
    pub error: Option<String>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
    /// Auto-update: collect the same inputs again every so many hours (`None`: once).
    pub repeat_every_hours: Option<i32>,
    /// When the next run of its schedule is due, once this run ended (`None`: none planned).
    pub next_run_at: Option<DateTimeUtc>,
    /// The first job of its schedule (`None` on that first job, or without a schedule).
    pub repeat_of: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl crate::TenantOwned for Entity {
    fn tenant_column() -> Column {
        Column::TenantId
    }
}

/// Where a job runs.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum CollectionProvider {
    /// BrightData's Datasets API.
    Brightdata,
    /// Realistic records made up locally, without an account (the embedded default).
    Sample,
}

/// A job's life: PENDING → TRIGGERED → RUNNING → INGESTING → SUCCEEDED / PARTIAL / FAILED,
/// or CANCELLED at any point before it ends.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum CollectionJobStatus {
    Pending,
    Triggered,
    Running,
    Ingesting,
    Succeeded,
    /// Some inputs produced records, some errors.
    Partial,
    Failed,
    Cancelled,
}

impl CollectionJobStatus {
    /// Ended: nothing changes it any more.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Succeeded | Self::Partial | Self::Failed | Self::Cancelled)
    }
}
