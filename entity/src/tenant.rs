use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tenants")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    #[sea_orm(unique)]
    pub slug: String,
    /// `active` or `suspended`.
    pub status: String,
    /// General, branding and notification-default settings.
    pub settings: Option<Json>,
    /// What the plan turns on (`{"feature": true}`); billing fills it.
    pub features: Option<Json>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// A tenant row belongs to itself: scoping by tenant means `id = tenant`.
impl crate::TenantOwned for Entity {
    fn tenant_column() -> Column {
        Column::Id
    }
}
