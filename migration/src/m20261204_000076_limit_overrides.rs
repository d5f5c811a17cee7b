//! An organisation's own limits, set by a platform operator over its plan's
//! (`{"servers": 20, "members": null}`: a number, or null for no limit). Absent: the plan's.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000076_limit_overrides"
    }
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    LimitOverrides,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Tenants::Table)
                    .add_column(json_null(Tenants::LimitOverrides))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(Tenants::Table).drop_column(Tenants::LimitOverrides).to_owned())
            .await
    }
}
