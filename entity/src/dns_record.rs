use sea_orm::entity::prelude::*;

pub use crate::dns_zone::DnsStatus;

/// A record of a DNS zone.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "dns_records")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub zone_id: Uuid,
    /// A, AAAA, CNAME, MX, TXT, NS, SRV or CAA.
    pub record_type: String,
    /// Relative to the zone (`@` for its apex).
    pub name: String,
    pub value: String,
    pub ttl: i32,
    pub status: DnsStatus,
    pub external_id: Option<String>,
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
