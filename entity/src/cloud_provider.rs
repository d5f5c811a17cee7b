use sea_orm::entity::prelude::*;

/// A cloud account an organisation connected: its kind, name and sealed credentials.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cloud_providers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub kind: CloudProviderKind,
    pub name: String,
    /// The credentials as JSON, sealed with the organisation's key; never returned.
    pub credentials: String,
    pub validated_at: Option<DateTimeUtc>,
    pub created_by: Option<Uuid>,
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

/// Which cloud a provider account is on.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum CloudProviderKind {
    /// Hetzner Cloud and Hetzner DNS.
    Hetzner,
    /// Amazon Web Services (EC2, EBS, Elastic IPs, Route 53).
    Aws,
    /// The simulated cloud inside Zygo (the embedded default; no account needed).
    Local,
}
