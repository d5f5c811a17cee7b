use sea_orm::entity::prelude::*;

/// A server made through a provider account.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cloud_servers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub provider_id: Uuid,
    pub name: String,
    pub server_type: String,
    pub image: String,
    pub location: String,
    pub status: ServerStatus,
    /// The provider's id once created.
    pub external_id: Option<String>,
    pub ipv4: Option<String>,
    /// Labels as a JSON object of strings (besides `zygo-tenant`/`zygo-id`, which the
    /// provider copy always has).
    pub labels: Json,
    /// Rescue mode was enabled: the server boots into the provider's rescue system next.
    pub rescue_enabled: bool,
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

/// A server's state as last seen (the provider's states, plus PENDING before the provider has
/// it, DELETED after, and ERROR when its creation failed).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum ServerStatus {
    Pending,
    Initializing,
    Starting,
    Running,
    Stopping,
    Off,
    Rebooting,
    Resizing,
    Rebuilding,
    Deleting,
    Deleted,
    Error,
}
