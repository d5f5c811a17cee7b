use sea_orm::entity::prelude::*;

/// Where an invoice stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InvoiceStatus {
    #[sea_orm(string_value = "draft")]
    Draft,
    #[sea_orm(string_value = "open")]
    Open,
    #[sea_orm(string_value = "paid")]
    Paid,
    #[sea_orm(string_value = "void")]
    Void,
    #[sea_orm(string_value = "uncollectible")]
    Uncollectible,
}

/// An invoice: gapless number, amounts in minor units, its lines as JSON.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invoices")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub subscription_id: Option<Uuid>,
    /// e.g. `ZYG-2026-000042`: per issuer and year, without gaps.
    pub number: String,
    pub status: InvoiceStatus,
    pub currency: String,
    pub subtotal: i64,
    pub tax: i64,
    pub total: i64,
    /// Credit balance used to pay part of the total.
    pub credit_applied: i64,
    pub amount_due: i64,
    /// JSON array of lines (`description`, `kind`, `quantity`, `unitAmount`, `amount`).
    pub lines: String,
    pub period_start: DateTimeUtc,
    pub period_end: DateTimeUtc,
    pub issued_at: DateTimeUtc,
    pub due_at: DateTimeUtc,
    pub paid_at: Option<DateTimeUtc>,
    /// What the charge is sent with: a retry never charges twice.
    pub idempotency_key: String,
    pub provider_payment_id: Option<String>,
    /// The provider that took the payment (`provider_payment_id` is its id): refunds go there.
    pub payment_provider: Option<String>,
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
