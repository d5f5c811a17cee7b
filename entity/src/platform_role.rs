use sea_orm::entity::prelude::*;

/// What a platform operator may do: everything, or support (read the admin views).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum PlatformRoleKind {
    SuperAdmin,
    Support,
}

/// A user account's platform role, separate from any organisation role. The platform's own
/// table: no tenant owns it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "platform_roles")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub user_id: Uuid,
    pub role: PlatformRoleKind,
    /// The super admin who granted it; `None` when granted from the command line.
    pub granted_by: Option<Uuid>,
    pub granted_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
