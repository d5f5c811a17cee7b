use sea_orm::entity::prelude::*;

/// An immutable published version of a document: a snapshot of its title, pages and sections.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "document_versions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub document_id: Uuid,
    /// 1, 2, … per document.
    pub number: i32,
    /// The draft's revision it was taken from.
    pub revision: i64,
    pub title: String,
    pub snapshot: Json,
    pub note: String,
    pub created_by: Option<Uuid>,
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
