use sea_orm::entity::prelude::*;

/// One attempt to deliver one event to one endpoint: what was sent and what came back.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub endpoint_id: Uuid,
    /// The message id (`webhook-id`), the same for every attempt of one event.
    pub message_id: String,
    pub event_type: String,
    /// 1 for the first attempt; a replay starts again at 1.
    pub attempt: i32,
    /// The JSON body sent.
    pub payload: Json,
    /// The receiver's HTTP status, if it answered.
    pub response_status: Option<i32>,
    /// The first KiB of its answer.
    pub response_excerpt: Option<String>,
    /// Why it failed without an answer (unreachable, timed out, refused address).
    pub error: Option<String>,
    pub duration_ms: i64,
    pub succeeded: bool,
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
