use sea_orm::entity::prelude::*;

/// A refund of (part of) a paid invoice, recorded once per idempotency key.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invoice_refunds")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub invoice_id: Uuid,
    /// The provider that paid the refund back (`manual`: recorded, nothing called).
    pub provider: String,
    /// Minor units.
    pub amount: i64,
    pub currency: String,
    /// What the refund was sent with: a retried request refunds once.
    pub idempotency_key: String,
    pub provider_refund_id: Option<String>,
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
