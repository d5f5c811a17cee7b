use sea_orm::entity::prelude::*;

/// An image of a server's disk made through a provider account (Hetzner's snapshot images);
/// it outlives its server and can be restored onto one.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "cloud_snapshots")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub provider_id: Uuid,
    /// The server it was taken of, while that server exists.
    pub server_id: Option<Uuid>,
    pub description: String,
    pub status: SnapshotStatus,
    pub external_id: Option<String>,
    /// The image's size as the provider reports it, once made.
    pub size_gb: Option<f64>,
    pub labels: Json,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
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
pub enum SnapshotStatus {
    Pending,
    Creating,
    Available,
    Deleting,
    Error,
}
