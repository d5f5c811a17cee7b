//! Tenant settings (general, branding, notification defaults) and plan features, as JSON.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261121_000005_tenant_settings"
    }
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Settings,
    Features,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter().table(Tenants::Table).add_column(json_null(Tenants::Settings)).to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter().table(Tenants::Table).add_column(json_null(Tenants::Features)).to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(Tenants::Table).drop_column(Tenants::Features).to_owned()).await?;
        m.alter_table(Table::alter().table(Tenants::Table).drop_column(Tenants::Settings).to_owned()).await
    }
}
