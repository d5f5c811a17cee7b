use sea_orm::entity::prelude::*;

/// Whether a flag is on/off or picks one of its variants.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum FlagKind {
    Boolean,
    Variant,
}

/// A platform feature flag. The platform's own table: no tenant owns it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "feature_flags")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `module.collection`, `newEditor`, …: unique, never changed.
    #[sea_orm(unique)]
    pub key: String,
    pub description: String,
    pub kind: FlagKind,
    /// The variants' names (a JSON array of strings; empty for a boolean flag).
    pub variants: Json,
    /// The value when no rule matches: a JSON boolean, or a variant's name.
    pub default_value: Json,
    /// The ordered rules (`modules::flags::evaluate::Rule`, as JSON).
    pub rules: Json,
    pub created_by: Option<Uuid>,
    pub updated_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
