use sea_orm::entity::prelude::*;

/// One collected item in the one normalised shape, with the provider's raw payload.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "collection_records")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub folder_id: Uuid,
    pub job_id: Option<Uuid>,
    pub platform: String,
    pub service_type: String,
    pub external_id: String,
    pub url: String,
    pub author: String,
    pub text: String,
    pub hashtags: Json,
    pub mentions: Json,
    pub posted_at: Option<DateTimeUtc>,
    pub likes: i64,
    pub comments: i64,
    pub shares: i64,
    pub views: i64,
    pub raw: Json,
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
