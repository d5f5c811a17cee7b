use sea_orm::entity::prelude::*;

/// An organisation's billing account: its provider customer, tax rate and address, and the
/// credit left over from plan changes (applied to the next invoices).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "billing_accounts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    /// `manual`, `stripe`, `paypal`, `revolut`.
    pub provider: String,
    pub provider_customer_id: Option<String>,
    /// The saved payment method charged for renewals (a provider token, never a card number).
    pub provider_payment_method_id: Option<String>,
    /// JSON: what the provider tells of that method (kind, brand, last4, expMonth, expYear,
    /// email); absent for a method saved before Zygo kept it.
    pub payment_method: Option<String>,
    /// ISO 4217.
    pub currency: String,
    /// Tax rate in basis points (2000 = 20 %).
    pub tax_rate_bps: i32,
    pub tax_id: Option<String>,
    /// JSON object: line1, line2, city, postalCode, country.
    pub billing_address: String,
    /// Minor units owed to the organisation, applied to its next invoices.
    pub credit_balance: i64,
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
