use sea_orm::entity::prelude::*;

/// Who may see a resource besides its uploader.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Its uploader only.
    Private,
    /// Members of its team.
    Team,
    /// Every member of the organisation who may read resources.
    Organisation,
    /// Like `Organisation`, and anyone holding one of its share links.
    Link,
}

/// A file of an organisation (or of one of its teams): a name in a folder, tags, who may see
/// it, and its immutable versions (`resource_version`). Deleted softly (`deleted_at`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "resources")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    /// The owning team; none: the organisation owns it.
    pub team_id: Option<Uuid>,
    pub name: String,
    /// `/`-separated path, `/` at the root.
    pub folder: String,
    /// JSON array of strings.
    pub tags: Json,
    pub visibility: Visibility,
    /// The newest version.
    pub current_version_id: Option<Uuid>,
    pub version_count: i32,
    pub download_count: i64,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// In the bin since; restorable.
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
