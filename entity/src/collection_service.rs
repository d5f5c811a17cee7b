use sea_orm::entity::prelude::*;

/// A platform paired with a service type and the provider dataset that collects it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "collection_services")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub platform_id: Uuid,
    /// `posts`, `comments`, `reels`, `profiles`, …
    pub service_type: String,
    pub name: String,
    pub provider: crate::collection_job::CollectionProvider,
    /// The provider's dataset id (BrightData `gd_…`; the sample provider ignores it).
    pub dataset_id: String,
    /// JSON Schema of a job's parameters.
    pub input_schema: Json,
    /// Record field → provider output field (JSON object of strings).
    pub output_mapping: Json,
    pub enabled: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
