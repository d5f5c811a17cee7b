use sea_orm::entity::prelude::*;

/// An organisation's receiver of signed event deliveries (Standard Webhooks).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_endpoints")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub url: String,
    pub description: String,
    /// The event types it receives (JSON array of strings; empty: none).
    pub event_types: Json,
    pub enabled: bool,
    /// Deliver one event at a time, in order (each after the previous one was delivered or given up).
    pub ordered: bool,
    /// Why it was switched off by the platform (repeated failures), if it was.
    pub disabled_reason: Option<String>,
    /// The signing secret (`whsec_…`), encrypted under the tenant's key.
    pub secret: String,
    /// The secret before the last rotation, still signing until `previous_secret_expires_at`.
    pub previous_secret: Option<String>,
    pub previous_secret_expires_at: Option<DateTimeUtc>,
    /// Deliveries that gave up in a row since the last success.
    pub consecutive_failures: i32,
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
