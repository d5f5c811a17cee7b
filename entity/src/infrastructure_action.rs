use sea_orm::entity::prelude::*;

/// One change asked of a provider (create a server, resize a volume, upsert a record …),
/// carried out by the job machinery.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "infrastructure_actions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub provider_id: Uuid,
    /// `server.create`, `server.start`, `volume.attach`, `dns_record.upsert` …
    pub kind: String,
    /// `server`, `volume`, `dns_zone` or `dns_record`.
    pub target_type: String,
    pub target_id: Uuid,
    pub status: ActionStatus,
    /// 0 to 100.
    pub progress: i32,
    /// What the action needs besides its target (the new type, size, server …).
    pub params: Json,
    /// The provider's error code when it FAILED (`unauthorized`, `invalid_input` …).
    pub error_code: Option<String>,
    pub error: Option<String>,
    /// Unique per tenant: asking twice for the same change adds nothing.
    pub idempotency_key: String,
    pub requested_by: Option<Uuid>,
    /// A root password the provider returned (rescue, reset), sealed with the organisation's
    /// key until its requester reveals it once.
    pub sealed_secret: Option<String>,
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

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    Pending,
    Running,
    Succeeded,
    Failed,
}

impl ActionStatus {
    pub fn is_final(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed)
    }
}
