use sea_orm::entity::prelude::*;

/// Where a background job stands.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Waiting for `run_at` and a free worker (also: waiting for its next attempt).
    Queued,
    /// Held by the worker named in `lease_owner` until `lease_expires_at`; a lease that
    /// expires (the worker was lost) makes it due again.
    Running,
    Succeeded,
    /// Gave up: a permanent error, or its last attempt failed. Kept for the operator.
    Failed,
    /// A platform operator cancelled it before it ran (`adminCancelJob`).
    Cancelled,
}

/// One unit of background work (a renewal, a charge, a delivery…), run by `zygo::jobs`.
/// System jobs (schedules) have no tenant; the others belong to one and sit behind its wall.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "jobs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Option<Uuid>,
    /// The handler that runs it (`billing.collect`, …).
    pub kind: String,
    /// Unique per kind when set: enqueuing the same key again adds nothing, so a job named
    /// by what it does (`renewal:<subscription>:<period>`) is never done twice.
    pub key: Option<String>,
    pub payload: Json,
    pub status: JobStatus,
    pub run_at: DateTimeUtc,
    /// Attempts started so far (a claim counts one).
    pub attempts: i32,
    pub max_attempts: i32,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
