use sea_orm::entity::prelude::*;

/// A user's choice for one notification kind on one channel, everywhere (`organisation_id`
/// null) or in one organisation (which wins there). Kinds without a row use the catalog's
/// default.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notification_preferences")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub organisation_id: Option<Uuid>,
    pub kind: String,
    /// `IN_APP`, `EMAIL` or `DIGEST`.
    pub channel: String,
    pub enabled: bool,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
