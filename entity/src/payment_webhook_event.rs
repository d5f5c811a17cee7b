use sea_orm::entity::prelude::*;

/// A payment provider's webhook event, kept by its id so it is applied exactly once.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payment_webhook_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub provider: String,
    pub event_id: String,
    pub event_type: String,
    /// The organisation it concerned, once known.
    pub for_tenant_id: Option<Uuid>,
    /// What applying it did (`applied`, `ignored: …`, `failed: …`).
    pub outcome: String,
    pub received_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
