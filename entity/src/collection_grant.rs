use sea_orm::entity::prelude::*;

/// Who may use a platform service: every organisation on `plan`, or one organisation (an
/// override that wins over its plan's grant).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "collection_grants")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub service_id: Uuid,
    pub plan: Option<String>,
    pub organisation_id: Option<Uuid>,
    pub allowed: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
