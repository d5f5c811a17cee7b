use sea_orm::entity::prelude::*;

/// Where a support session stands. EXPIRED is not stored: an ACTIVE session past its
/// `expires_at` reads as expired (see [`Model::effective_status`]).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum SupportSessionStatus {
    /// The organisation requires its owners' approval and none has answered yet.
    PendingApproval,
    /// The operator acts in the organisation until `expires_at`.
    Active,
    /// The operator or the organisation ended it.
    Ended,
    /// An owner refused it.
    Denied,
    /// Its time ran out.
    Expired,
}

/// A platform operator's time-limited access to one organisation (developer mode).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "support_sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    /// The operator (a user holding a platform role).
    pub user_id: Uuid,
    pub reason: String,
    /// Only reading: no mutation of the organisation succeeds.
    pub read_only: bool,
    /// How long the session lasts once active.
    pub minutes: i32,
    pub status: SupportSessionStatus,
    pub requested_at: DateTimeUtc,
    pub approved_by: Option<Uuid>,
    pub approved_at: Option<DateTimeUtc>,
    pub denied_by: Option<Uuid>,
    pub denied_at: Option<DateTimeUtc>,
    pub started_at: Option<DateTimeUtc>,
    pub expires_at: Option<DateTimeUtc>,
    pub ended_by: Option<Uuid>,
    pub ended_at: Option<DateTimeUtc>,
}

impl Model {
    /// The status as of `now`: an active session past its end is EXPIRED.
    pub fn effective_status(&self, now: DateTimeUtc) -> SupportSessionStatus {
        match (self.status, self.expires_at) {
            (SupportSessionStatus::Active, Some(end)) if end <= now => SupportSessionStatus::Expired,
            (status, _) => status,
        }
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl crate::TenantOwned for Entity {
    fn tenant_column() -> Column {
        Column::TenantId
    }
}
