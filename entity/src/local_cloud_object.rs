use sea_orm::entity::prelude::*;

/// An object of the local provider's simulated cloud (a server, volume, zone, record or
/// action), as the local driver keeps it: what a real provider would hold on its side.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "local_cloud_objects")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub provider_id: Uuid,
    /// `server`, `volume`, `zone`, `record` or `action`.
    pub kind: String,
    /// The id the simulated cloud gives it.
    pub external_id: String,
    pub labels: Json,
    pub data: Json,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl crate::TenantOwned for Entity {
    fn tenant_column() -> Column {
        Column::TenantId
    }
}
