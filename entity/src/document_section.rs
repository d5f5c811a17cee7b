use sea_orm::entity::prelude::*;

/// What a section holds, which decides the shape of its content.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum SectionKind {
    /// Rich text as structured JSON.
    Text,
    /// `{resourceVersionId, alt}`.
    Image,
    /// `{resourceVersionId, alt}`.
    Embed,
    /// `{language, source}`.
    Code,
}

/// A section of a page, at `position` (0-based) among the page's sections, with its edit lock.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "document_sections")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub document_id: Uuid,
    pub page_id: Uuid,
    pub position: i32,
    pub kind: SectionKind,
    pub content: Json,
    /// The user holding the edit lock, until `lock_expires_at`.
    pub lock_holder: Option<Uuid>,
    pub lock_expires_at: Option<DateTimeUtc>,
    pub updated_by: Option<Uuid>,
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
