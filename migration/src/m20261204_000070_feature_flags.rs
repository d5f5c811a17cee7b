//! `feature_flags`: the platform's feature flags (key, description, BOOLEAN or VARIANT with
//! its variants, the default and the ordered rules as JSON). A platform table outside
//! row-level security: no organisation owns it; rules name organisations by id inside the
//! JSON, so a deleted organisation's rule simply never matches again.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000070_feature_flags"
    }
}

#[derive(DeriveIden)]
enum FeatureFlags {
    Table,
    Id,
    Key,
    Description,
    Kind,
    Variants,
    DefaultValue,
    Rules,
    CreatedBy,
    UpdatedBy,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(FeatureFlags::Table)
                .col(pk_uuid(FeatureFlags::Id))
                .col(string_uniq(FeatureFlags::Key))
                .col(text(FeatureFlags::Description))
                .col(string(FeatureFlags::Kind))
                .col(json(FeatureFlags::Variants))
                .col(json(FeatureFlags::DefaultValue))
                .col(json(FeatureFlags::Rules))
                // No foreign keys: the operators' accounts may go, the flag stays.
                .col(uuid_null(FeatureFlags::CreatedBy))
                .col(uuid_null(FeatureFlags::UpdatedBy))
                .col(timestamp_with_time_zone(FeatureFlags::CreatedAt))
                .col(timestamp_with_time_zone(FeatureFlags::UpdatedAt))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(FeatureFlags::Table).to_owned()).await
    }
}
