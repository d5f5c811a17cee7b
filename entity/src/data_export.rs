use sea_orm::entity::prelude::*;

/// A person's request for their data (or, with `organisation_id`, an owner's for the whole
/// organisation): the ZIP once built, kept until `expires_at`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "data_exports")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub organisation_id: Option<Uuid>,
    /// `PENDING`, `READY`, `FAILED` or `EXPIRED`.
    pub status: String,
    pub archive: Option<Vec<u8>>,
    pub size_bytes: Option<i64>,
    pub error: Option<String>,
    pub requested_at: DateTimeUtc,
    pub ready_at: Option<DateTimeUtc>,
    pub expires_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
