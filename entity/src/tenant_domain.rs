use sea_orm::entity::prelude::*;

/// Whether a custom domain is proven to be the organisation's.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum DomainStatus {
    /// Waiting for its TXT record (or lost it for longer than the grace period).
    Pending,
    /// Its TXT record was found.
    Verified,
}

/// A custom domain of an organisation (`app.example.com`), proven by a TXT record at
/// `{prefix}.{domain}` holding `verification_token`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tenant_domains")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    /// Lower-case, no trailing dot; unique across organisations.
    #[sea_orm(unique)]
    pub domain: String,
    pub status: DomainStatus,
    pub verification_token: String,
    /// The one address the others redirect to.
    pub is_primary: bool,
    pub verified_at: Option<DateTimeUtc>,
    pub last_checked_at: Option<DateTimeUtc>,
    /// Since when a verified domain's record has been missing (it goes back to pending after
    /// the grace period).
    pub failing_since: Option<DateTimeUtc>,
    pub created_by: Option<Uuid>,
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
