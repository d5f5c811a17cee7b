use sea_orm::entity::prelude::*;

/// Whether an organisation can be used.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum TenantStatus {
    Active,
    Suspended,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tenants")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    #[sea_orm(unique)]
    pub slug: String,
    /// `active` or `suspended`.
    pub status: TenantStatus,
    /// General, branding and notification-default settings.
    pub settings: Option<Json>,
    /// What the plan turns on (`{"feature": true}`); billing fills it.
    pub features: Option<Json>,
    /// Limits a platform operator set over the plan's (`{"servers": 20, "members": null}`;
    /// null: no limit). Absent keys: the plan's.
    pub limit_overrides: Option<Json>,
    /// When an owner deleted it: the moment its data is removed (the `tenancy.purge` job),
    /// unless an owner takes the deletion back before. Until then it is read-only.
    pub deletion_due_at: Option<DateTimeUtc>,
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
