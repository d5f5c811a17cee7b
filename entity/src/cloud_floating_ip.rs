use sea_orm::entity::prelude::*;

/// An address reserved through a provider account (Hetzner's floating IPs), assigned to one of
/// its servers or to none, with an optional reverse DNS name.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "cloud_floating_ips")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub provider_id: Uuid,
    /// The server it is assigned to.
    pub server_id: Option<Uuid>,
    pub name: String,
    /// `ipv4` or `ipv6`.
    pub ip_type: String,
    pub home_location: String,
    pub description: String,
    /// The address, once reserved (an IPv6 one is a /64 network).
    pub ip: Option<String>,
    /// The reverse DNS name of the address.
    pub dns_ptr: Option<String>,
    pub status: FloatingIpStatus,
    pub external_id: Option<String>,
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
pub enum FloatingIpStatus {
    /// Asked for; the provider does not have it yet.
    Pending,
    /// Reserved, and usable.
    Ready,
    /// An assignment or reverse DNS change is in progress.
    Busy,
    Deleting,
    Error,
}
