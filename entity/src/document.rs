use sea_orm::entity::prelude::*;

/// Whether a document has a published version (its draft keeps changing either way).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum DocumentStatus {
    Draft,
    Published,
}

/// A team's document in the studio: its title, status and the revision every edit advances.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "documents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub team_id: Uuid,
    pub title: String,
    pub status: DocumentStatus,
    /// Advances by one with every edit of the draft (title, pages, sections, restore).
    pub revision: i64,
    /// The draft's revision when it was last published.
    pub published_revision: Option<i64>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Set when deleted: the document is gone for every reader.
    pub deleted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl crate::TenantOwned for Entity {
    fn tenant_column() -> Column {
        Column::TenantId
    }
}
