use sea_orm::entity::prelude::*;

/// The collection provider's credentials for one environment, sealed under the platform key.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "collection_credentials")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `development`, `staging` or `production`.
    pub environment: String,
    /// The API token, sealed.
    pub api_token: String,
    /// The secret BrightData sends back in the notify call's `Authorization` header, sealed.
    pub webhook_secret: String,
    pub validated_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
