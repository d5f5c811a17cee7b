use sea_orm::entity::prelude::*;

/// A tenant API key. The secret is shown once at creation; only its hash is kept, with a
/// visible prefix to tell keys apart.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub name: String,
    /// The first characters of the secret, e.g. `zyk_3fA9`, shown in lists.
    pub prefix: String,
    #[sea_orm(unique)]
    pub key_hash: String,
    /// Permission keys the key holds (a JSON array of strings).
    pub permissions: Json,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    pub expires_at: Option<DateTimeUtc>,
    pub last_used_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl crate::TenantOwned for Entity {
    fn tenant_column() -> Column {
        Column::TenantId
    }
}
